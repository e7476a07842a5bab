/** `cordon steps`: who did what, from the steps an actor took (or one incident's), newest first. */
import type { Command } from 'commander';
import { withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  formatOf,
  parseIncidentId,
  parseLimit,
  withCommonOptions,
} from '../context.ts';
import { printList } from '../output.ts';
import type { StepFilter } from '../queries/plan.ts';
import { parseTime } from '../time.ts';
import { STEP_COLUMNS } from './incidents.ts';

interface StepsFlags extends CommonFlags {
  actor?: string;
  action?: string;
  incident?: string;
  since?: string;
  until?: string;
  limit?: string;
  nextToken?: string;
}

/** Turns `steps` flags into a filter. */
export function stepFilter(flags: StepsFlags, now: Date): StepFilter {
  return {
    ...(flags.actor !== undefined ? { actor: flags.actor } : {}),
    ...(flags.action !== undefined ? { action: flags.action } : {}),
    ...(flags.incident !== undefined ? { incident: parseIncidentId(flags.incident) } : {}),
    ...(flags.since !== undefined ? { since: parseTime('--since', flags.since, now) } : {}),
    ...(flags.until !== undefined ? { until: parseTime('--until', flags.until, now, true) } : {}),
  };
}

/** Adds `steps` to the console. */
export function registerStepsCommand(cli: Command, ctx: ConsoleContext): Command {
  return withCommonOptions(
    cli
      .command('steps')
      .description(
        'Who did what: the steps an actor took (automation, or an approver), newest first, from the by-ref index; or the steps of one incident with --incident.',
      ),
  )
    .option('--actor <who>', 'automation, or the address or IAM principal of a person (e.g. who approved)')
    .option('--action <action>', 'only this action, e.g. approval-decision or ec2-isolate')
    .option('--incident <id>', "only this incident's steps")
    .option('--since <when>', 'a date or a duration back from now such as 7d')
    .option('--until <when>', 'a date or a duration back from now')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--next-token <token>', 'continue a list from where it stopped')
    .action(async (flags: StepsFlags) => {
      const format = formatOf(ctx, flags);
      const filter = stepFilter(flags, ctx.now());
      const limit = parseLimit(flags.limit, 50);
      await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const page = await c.queries.listSteps(filter, {
          limit,
          ...(flags.nextToken ? { nextToken: flags.nextToken } : {}),
        });
        printList(ctx.io, format, {
          key: 'steps',
          rows: page.items,
          columns: STEP_COLUMNS,
          ...(page.nextToken ? { nextToken: page.nextToken } : {}),
          empty: 'No steps.',
        });
      });
    });
}
