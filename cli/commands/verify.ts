/**
 * `cordon verify <id>` or `--all`: checks each incident's record (its hash chain, every step's anchor or
 * MAC, the incident item against its opening and its steps: functions/shared/audit-verify.ts) and names the
 * first break and its kind. Exits with status 2 when a record is broken (1 is for bad input and errors).
 */
import type { Command } from 'commander';
import type { VerifyResult } from '#shared/audit';
import { ValidationError } from '#shared/errors';
import { withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  formatOf,
  parseIncidentId,
  withCommonOptions,
} from '../context.ts';
import { type Column, printList } from '../output.ts';
import { parseTime } from '../time.ts';

/** The exit status of `verify` when a chain is broken. */
export const CHAIN_BROKEN_EXIT = 2;

const COLUMNS: readonly Column<VerifyResult>[] = [
  { header: 'incident', cell: (r) => r.incidentId },
  { header: 'chain', cell: (r) => (r.ok ? 'ok' : 'BROKEN') },
  { header: 'steps', cell: (r) => r.steps },
  { header: 'broken step', cell: (r) => (r.ok ? '' : r.brokenSeq) },
  { header: 'break', cell: (r) => (r.ok ? '' : r.kind) },
  {
    header: 'detail',
    cell: (r) =>
      r.ok
        ? `head ${r.lastHash.slice(0, 16)}, anchored through step ${r.anchoredThrough}${r.unconfirmed.length > 0 ? `; not yet anchored, MAC valid: ${r.unconfirmed.join(', ')}` : ''}`
        : r.reason,
  },
];

interface VerifyFlags extends CommonFlags {
  all?: boolean;
  since?: string;
  until?: string;
}

/** Adds `verify` to the console; the action sets `process.exitCode` to {@link CHAIN_BROKEN_EXIT} on a break. */
export function registerVerifyCommand(
  cli: Command,
  ctx: ConsoleContext,
  setExit: (code: number) => void,
): Command {
  return withCommonOptions(
    cli
      .command('verify [id]')
      .description(
        "Check an incident's record (or every incident's with --all): its hash chain, every step's anchor or MAC, and the incident against its steps; name the first break; exit status 2 when one is broken",
      ),
  )
    .option('--all', 'every incident (of all time, or opened in --since/--until)')
    .option('--since <when>', 'with --all: incidents opened since (a date or a duration such as 30d)')
    .option('--until <when>', 'with --all: incidents opened until')
    .action(async (id: string | undefined, flags: VerifyFlags) => {
      const format = formatOf(ctx, flags);
      if ((id === undefined) === (flags.all !== true)) {
        throw new ValidationError('verify', ['give an incident id or --all (not both)']);
      }
      const now = ctx.now();
      const since = flags.since !== undefined ? parseTime('--since', flags.since, now) : undefined;
      const until =
        flags.until !== undefined ? parseTime('--until', flags.until, now, true) : now.toISOString();
      await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const ids =
          id !== undefined
            ? [parseIncidentId(id)]
            : (since !== undefined || flags.until !== undefined
                ? await c.queries.allIncidents(since ?? '0000', until)
                : await c.queries.everyIncident()
              ).map((i) => i.id);
        const results: VerifyResult[] = [];
        for (const incidentId of ids) results.push(await c.recorder.verify(incidentId));
        printList(ctx.io, format, {
          key: 'results',
          rows: results,
          columns: COLUMNS,
          empty: 'No incidents to verify.',
        });
        const broken = results.filter((r) => !r.ok).length;
        if (format === 'table') {
          ctx.io.err(
            broken === 0
              ? `${results.length} chain${results.length === 1 ? '' : 's'} verified`
              : `${broken} of ${results.length} chains BROKEN`,
          );
        }
        if (broken > 0) setExit(CHAIN_BROKEN_EXIT);
      });
    });
}
