/**
 * `cordon incidents list` and `cordon incidents show <id>`: what happened, newest first, and one
 * incident's summary with its timeline of steps.
 */
import type { Command } from 'commander';
import type { StoredIncident } from '#shared/audit';
import type { Step } from '#shared/domain';
import { IncidentNotFoundError, ValidationError } from '#shared/errors';
import type { LifecycleVerb } from '../../functions/lifecycle/core.ts';
import { withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  formatOf,
  parseIncidentId,
  parseLimit,
  parseStatus,
  withCommonOptions,
} from '../context.ts';
import { rehearsalLabel, statusLabel, timeline } from '../format.ts';
import {
  assignIncident,
  closeIncident,
  httpLifecycle,
  type LifecycleBody,
  lifecycleApiUrl,
  localOperator,
  noteIncident,
} from '../lifecycle.ts';
import { type Column, csv, json, printList } from '../output.ts';
import type { IncidentFilter, IncidentPlan } from '../queries/plan.ts';
import type { ReadStats } from '../queries.ts';
import { describeStep } from '../step-detail.ts';
import { parseTime } from '../time.ts';

/** How far back `incidents list` looks when nothing else narrows it. */
export const DEFAULT_LIST_SINCE = '365d';

/** The columns of an incident list (JSON keeps every field). */
export const INCIDENT_COLUMNS: readonly Column<StoredIncident>[] = [
  { header: 'id', cell: (i) => i.id },
  { header: 'opened', cell: (i) => i.openedAt },
  { header: 'status', cell: (i) => i.status },
  // Not a real incident: a sample finding's, a dry run's or a rehearsal's (the local runtime's).
  { header: 'rehearsal', cell: (i) => i.rehearsal ?? '' },
  { header: 'severity', cell: (i) => i.severity },
  { header: 'type', cell: (i) => i.findingType },
  { header: 'resources', cell: (i) => i.resources.map((r) => r.id).join(' ') },
  { header: 'account', cell: (i) => i.account },
  { header: 'region', cell: (i) => i.region },
  { header: 'playbook', cell: (i) => i.playbook ?? '' },
  { header: 'title', cell: (i) => i.title },
];

/** The columns of a list of steps. */
export const STEP_COLUMNS: readonly Column<Step>[] = [
  { header: 'incident', cell: (s) => s.incidentId },
  { header: 'seq', cell: (s) => s.seq },
  { header: 'started', cell: (s) => s.startedAt },
  { header: 'recorded', cell: (s) => s.recordedAt },
  { header: 'phase', cell: (s) => s.phase },
  { header: 'action', cell: (s) => s.action },
  { header: 'status', cell: (s) => (s.dryRun ? `${s.status} (dry run)` : s.status) },
  { header: 'actor', cell: (s) => s.actor },
  { header: 'detail', cell: (s) => describeStep(s) },
];

interface ListFlags extends CommonFlags {
  status?: string;
  since?: string;
  until?: string;
  resource?: string;
  type?: string;
  minSeverity?: string;
  account?: string;
  inRegion?: string;
  limit?: string;
  nextToken?: string;
  explain?: boolean;
}

/** Turns `incidents list` flags into a filter, or says which flag is wrong. */
export function incidentFilter(flags: ListFlags, now: Date): IncidentFilter {
  const narrowed = flags.status !== undefined || flags.type !== undefined || flags.resource !== undefined;
  const since =
    flags.since !== undefined
      ? parseTime('--since', flags.since, now)
      : narrowed
        ? '0000'
        : parseTime('--since', DEFAULT_LIST_SINCE, now);
  const until = flags.until !== undefined ? parseTime('--until', flags.until, now, true) : now.toISOString();
  if (since > until) throw new ValidationError('--since', [`${since} is after --until ${until}`]);
  let minSeverity: number | undefined;
  if (flags.minSeverity !== undefined) {
    minSeverity = Number(flags.minSeverity);
    if (
      flags.minSeverity.trim() === '' ||
      !Number.isFinite(minSeverity) ||
      minSeverity < 0 ||
      minSeverity > 10
    ) {
      throw new ValidationError('--min-severity', [
        `must be a number from 0 to 10, got "${flags.minSeverity}"`,
      ]);
    }
  }
  const place = parsePlace(flags);
  const status = parseStatus(flags.status);
  return {
    since,
    until,
    ...(status ? { status } : {}),
    ...(flags.type !== undefined ? { type: flags.type } : {}),
    ...(flags.resource !== undefined ? { resource: flags.resource } : {}),
    ...(minSeverity !== undefined ? { minSeverity } : {}),
    ...place,
  };
}

/** An AWS region's name, as the record keeps the finding's (`local` is the local runtime's). */
const REGION = /^[a-z]{2}(-[a-z]+)+-\d$|^local$/;

/**
 * Checks `--account` and `--in-region`, the place flags of `incidents list` and `stats` (`--region` is the
 * console's own AWS region, as on every command).
 */
export function parsePlace(flags: { account?: string; inRegion?: string }): {
  account?: string;
  region?: string;
} {
  if (flags.account !== undefined && !/^\d{12}$/.test(flags.account)) {
    throw new ValidationError('--account', [`must be a 12-digit AWS account id, got "${flags.account}"`]);
  }
  if (flags.inRegion !== undefined && !REGION.test(flags.inRegion)) {
    throw new ValidationError('--in-region', [
      `must be an AWS region such as eu-west-1, got "${flags.inRegion}"`,
    ]);
  }
  return {
    ...(flags.account !== undefined ? { account: flags.account } : {}),
    ...(flags.inRegion !== undefined ? { region: flags.inRegion } : {}),
  };
}

/** The flags `--account` and `--in-region`, with the help that says which index serves them. */
export function withPlaceOptions(command: Command, what: string): Command {
  return command
    .option(
      '--account <id>',
      `${what} in this AWS account (the 12-digit id): read from the by-place index, by account`,
    )
    .option(
      '--in-region <region>',
      `${what} in this AWS region, e.g. eu-west-1 (the finding's region; --region is where the console connects): read from the by-place index, by region; with --account, the account's incidents filtered on the region`,
    );
}

/** What `--explain` prints of a plan and what its reads cost. */
export function explainPlan(plan: IncidentPlan, stats: ReadStats): string {
  const via = plan.via ? ` (the items it selects point at incidents, got ${plan.via})` : '';
  const filtered = plan.filters.length
    ? `, filtered on ${plan.filters.join(', ')}${plan.via ? ' (in memory, on the incidents got)' : ''}`
    : '';
  return `plan: ${plan.index} ${plan.key}${via}${filtered}; ${stats.queries} queries read ${stats.read} items and returned ${stats.returned} (${stats.got} by BatchGet)`;
}

/**
 * Prints an incident's summary (as `key: value` lines), its rehearsal mark and assignee, and its timeline,
 * each step's row saying what it changed (cli/step-detail.ts).
 */
export function formatIncident(incident: StoredIncident, steps: readonly Step[]): string {
  const mark = rehearsalLabel(incident.rehearsal);
  const lines = [
    `Incident ${incident.id}: ${incident.title}`,
    ...(mark ? [`  ${mark}`] : []),
    `  status     ${statusLabel(incident.status)}`,
    `  assignee   ${incident.assignee ?? 'nobody'}`,
    `  type       ${incident.findingType} (severity ${incident.severity})`,
    `  account    ${incident.account} ${incident.region}`,
    `  resources  ${incident.resources.map((r) => `${r.type} ${r.id}`).join(', ')}`,
    `  playbook   ${incident.playbook ?? 'none'}`,
    `  first seen ${incident.firstSeen}`,
    `  opened     ${incident.openedAt}`,
    ...(incident.containedAt ? [`  contained  ${incident.containedAt}`] : []),
    ...(incident.recoveredAt ? [`  recovered  ${incident.recoveredAt}`] : []),
    ...(incident.closedAt ? [`  closed     ${incident.closedAt}`] : []),
    '',
    steps.length === 0 ? 'No steps recorded.' : timeline(steps),
  ];
  return lines.join('\n');
}

/** Adds `incidents list|show` to the console. */
export function registerIncidentsCommands(cli: Command, ctx: ConsoleContext): Command {
  const incidents = cli
    .command('incidents')
    .description('Incidents in the audit record: list them, show one, close, note or assign one');
  const list = withCommonOptions(
    incidents
      .command('list')
      .description(
        'List incidents, newest first, with the account and region of each. The first of --resource, --account, --in-region, --type, --status (else the time range) picks the index; the other filters and --min-severity filter what it reads.',
      ),
  )
    .option('--status <status>', 'open, contained, recovered, failed or closed')
    .option(
      '--since <when>',
      `a date or a duration back from now such as 7d (default: ${DEFAULT_LIST_SINCE}, or all time with --status, --type or --resource)`,
    )
    .option('--until <when>', 'a date or a duration back from now (default: now)')
    .option('--resource <id>', 'incidents naming this instance id, access key, role or bucket')
    .option('--type <finding-type>', 'incidents of this finding type, e.g. Backdoor:EC2/C&CActivity.B!DNS')
    .option('--min-severity <n>', 'incidents of at least this severity (0-10)');
  withPlaceOptions(list, 'incidents')
    .option('--limit <n>', 'at most this many (1-1000)', '50')
    .option('--next-token <token>', 'continue a list from where it stopped')
    .option('--explain', 'print the index used and the items read against returned to stderr')
    .action(async (flags: ListFlags) => {
      const format = formatOf(ctx, flags);
      const filter = incidentFilter(flags, ctx.now());
      const limit = parseLimit(flags.limit, 50);
      await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const page = await c.queries.listIncidents(filter, {
          limit,
          ...(flags.nextToken ? { nextToken: flags.nextToken } : {}),
        });
        printList(ctx.io, format, {
          key: 'incidents',
          rows: page.items,
          columns: INCIDENT_COLUMNS,
          ...(page.nextToken ? { nextToken: page.nextToken } : {}),
          empty: 'No incidents.',
        });
        if (flags.explain) ctx.io.err(explainPlan(page.plan, c.queries.stats));
      });
    });
  withCommonOptions(
    incidents.command('show <id>').description("An incident's summary and its timeline of steps"),
  ).action(async (id: string, flags: CommonFlags) => {
    const format = formatOf(ctx, flags);
    const incidentId = parseIncidentId(id);
    await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
      const incident = await c.recorder.findIncident(incidentId);
      if (!incident) throw new IncidentNotFoundError(`incident ${incidentId} does not exist in ${c.where}`);
      const steps = await c.queries.steps(incidentId);
      if (format === 'json') ctx.io.out(json({ incident, steps }));
      else if (format === 'csv') ctx.io.out(csv(steps, STEP_COLUMNS));
      else ctx.io.out(formatIncident(incident, steps));
    });
  });
  registerLifecycleCommands(incidents, ctx);
  return incidents;
}

interface LifecycleFlags extends CommonFlags {
  apiUrl?: string;
  reason?: string;
}

/**
 * Adds `incidents close|note|assign`: each a step in the incident's chain with its actor. `--local` writes
 * the state folder's record in-process as the local operator; otherwise the deployed lifecycle function
 * records it as the caller's IAM principal (cli/lifecycle.ts).
 */
function registerLifecycleCommands(incidents: Command, ctx: ConsoleContext): void {
  const verb = (name: string, description: string) =>
    withCommonOptions(incidents.command(name).description(description)).option(
      '--api-url <url>',
      'the approval API, for the deployed stack (default: $CORDON_APPROVAL_URL or the ApprovalUrl output in cdk-outputs.json)',
    );
  const run = async (
    kind: LifecycleVerb,
    id: string,
    body: LifecycleBody,
    flags: LifecycleFlags,
  ): Promise<void> => {
    const format = formatOf(ctx, flags);
    const incidentId = parseIncidentId(id);
    let step: Step;
    if (flags.local) {
      step = await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const record = { recorder: c.recorder, documents: c.documents };
        const actor = localOperator();
        if ('reason' in body) return closeIncident(record, incidentId, { reason: body.reason, actor });
        if ('text' in body) return noteIncident(record, incidentId, { text: body.text, actor });
        return assignIncident(record, incidentId, { assignee: body.assignee, actor });
      });
    } else {
      const send = httpLifecycle(lifecycleApiUrl(flags.apiUrl), {
        ...(flags.region ? { region: flags.region } : {}),
        ...(flags.profile ? { profile: flags.profile } : {}),
      });
      step = await send(kind, incidentId, body);
    }
    if (format === 'json') ctx.io.out(json({ step }));
    else if (format === 'csv') ctx.io.out(csv([step], STEP_COLUMNS));
    else
      ctx.io.out(
        `Incident ${incidentId}, step ${step.seq} (${step.phase}, by ${step.actor}): ${step.note ?? kind}`,
      );
  };
  verb(
    'close <id>',
    'Close an incident (lessons learned): its status becomes closed and its open markers are released, so a later finding on its resources opens a new incident. Refused on a closed incident or a record that does not verify.',
  )
    .requiredOption('--reason <text>', 'why it is closed (required)')
    .action((id: string, flags: LifecycleFlags) => run('close', id, { reason: flags.reason ?? '' }, flags));
  verb('note <id> <text>', "Add a note to an incident's record, as a step with you as its actor").action(
    (id: string, text: string, flags: LifecycleFlags) => run('note', id, { text }, flags),
  );
  verb(
    'assign <id> <who>',
    'Assign an incident to someone (its assignee), as a step with you as its actor',
  ).action((id: string, who: string, flags: LifecycleFlags) => run('assign', id, { assignee: who }, flags));
}
