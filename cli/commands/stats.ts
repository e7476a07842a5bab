/**
 * `cordon stats --since 30d`: counts by finding type, status, playbook, account and region; median and 90th
 * percentile of time to detect, contain and recover; the approvers' median response time; automatic against
 * approved actions. It reads the incidents opened in the range (by-time; by-place with `--account` or
 * `--in-region`) and each counted one's steps (its partition). Rehearsals, dry runs and sample findings'
 * incidents are left out unless `--include-rehearsals`, and how many were is said.
 */
import type { Command } from 'commander';
import type { StoredIncident } from '#shared/audit';
import type { Step } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  formatOf,
  withCommonOptions,
} from '../context.ts';
import { type Column, csv, json, textTable } from '../output.ts';
import { approvalsOf } from '../report/model.ts';
import { between, formatDuration, parseTime } from '../time.ts';
import { parsePlace, withPlaceOptions } from './incidents.ts';

/** Steps that record the machinery rather than an action on a resource. */
const NOT_ACTIONS = new Set([
  'approval-request',
  'approval-email',
  'approval-decision',
  'start-playbook',
  'record-note',
  'notify',
  'mark-incident',
]);

/** The median and 90th percentile of some durations (nearest rank), and how many there were. */
export interface Spread {
  readonly count: number;
  readonly p50Ms?: number;
  readonly p90Ms?: number;
}

/** What `stats` reports. */
export interface Stats {
  readonly since: string;
  readonly until: string;
  /** The account the figures are of (`--account`); every account when absent. */
  readonly account?: string;
  /** The region the figures are of (`--in-region`); every region when absent. */
  readonly region?: string;
  readonly incidents: number;
  /**
   * The rehearsals, dry runs and sample findings' incidents in the range (`rehearsal` set at opening): left
   * out of every figure unless `included` (`--include-rehearsals`).
   */
  readonly rehearsals: { readonly count: number; readonly included: boolean };
  readonly byType: Record<string, number>;
  readonly byStatus: Record<string, number>;
  readonly byPlaybook: Record<string, number>;
  readonly byAccount: Record<string, number>;
  readonly byRegion: Record<string, number>;
  readonly timeToDetect: Spread;
  readonly timeToContain: Spread;
  readonly timeToRecover: Spread;
  /** Each approver's decisions and median response (request to decision), and everyone's. */
  readonly approvers: Record<string, Spread>;
  readonly approvalResponse: Spread;
  /** Actions that ran without a person, and actions that ran after a person approved them. */
  readonly actions: { readonly automatic: number; readonly approved: number };
}

/** The value at percentile `p` (0-100) of sorted values, by nearest rank. */
export function percentile(sorted: readonly number[], p: number): number | undefined {
  if (sorted.length === 0) return undefined;
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[Math.min(sorted.length, rank) - 1];
}

function spread(values: readonly (number | undefined)[]): Spread {
  const sorted = values.filter((v): v is number => v !== undefined).sort((a, b) => a - b);
  const p50Ms = percentile(sorted, 50);
  const p90Ms = percentile(sorted, 90);
  return {
    count: sorted.length,
    ...(p50Ms !== undefined ? { p50Ms } : {}),
    ...(p90Ms !== undefined ? { p90Ms } : {}),
  };
}

function count(values: readonly string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of [...values].sort()) out[v] = (out[v] ?? 0) + 1;
  return out;
}

/**
 * Classifies an incident's finished actions (succeeded or already done, not dry runs): approved when an
 * approval in the same phase said approve before it, automatic otherwise.
 */
export function classifyActions(steps: readonly Step[]): { automatic: number; approved: number } {
  let automatic = 0;
  let approved = 0;
  const approvedPhases = new Set<string>();
  for (const s of steps) {
    if (s.action === 'approval-decision') {
      const decision = (s.changes as { decision?: unknown } | undefined)?.decision;
      if (decision === 'approve') approvedPhases.add(s.phase);
      continue;
    }
    if (NOT_ACTIONS.has(s.action) || s.dryRun || (s.status !== 'succeeded' && s.status !== 'already-done'))
      continue;
    if (approvedPhases.has(s.phase)) approved++;
    else automatic++;
  }
  return { automatic, approved };
}

/**
 * Computes the stats of incidents and their steps. Rehearsals, dry runs and sample findings' incidents
 * are left out (and counted as such) unless `includeRehearsals`.
 */
export function computeStats(
  since: string,
  until: string,
  all: readonly StoredIncident[],
  stepsOf: ReadonlyMap<string, readonly Step[]>,
  options: { readonly includeRehearsals?: boolean; readonly account?: string; readonly region?: string } = {},
): Stats {
  const included = options.includeRehearsals === true;
  const rehearsals = all.filter((i) => i.rehearsal !== undefined).length;
  const incidents = included ? all : all.filter((i) => i.rehearsal === undefined);
  const approvals = incidents.flatMap((i) => approvalsOf(stepsOf.get(i.id) ?? []));
  const byApprover = new Map<string, (number | undefined)[]>();
  for (const a of approvals)
    byApprover.set(a.decidedBy, [...(byApprover.get(a.decidedBy) ?? []), a.responseMs]);
  const actions = { automatic: 0, approved: 0 };
  for (const i of incidents) {
    const c = classifyActions(stepsOf.get(i.id) ?? []);
    actions.automatic += c.automatic;
    actions.approved += c.approved;
  }
  return {
    since,
    until,
    ...(options.account !== undefined ? { account: options.account } : {}),
    ...(options.region !== undefined ? { region: options.region } : {}),
    incidents: incidents.length,
    rehearsals: { count: rehearsals, included },
    byType: count(incidents.map((i) => i.findingType)),
    byStatus: count(incidents.map((i) => i.status)),
    byPlaybook: count(incidents.map((i) => i.playbook ?? 'none')),
    byAccount: count(incidents.map((i) => i.account)),
    byRegion: count(incidents.map((i) => i.region)),
    timeToDetect: spread(incidents.map((i) => between(i.firstSeen, i.openedAt))),
    timeToContain: spread(incidents.map((i) => between(i.openedAt, i.containedAt))),
    timeToRecover: spread(incidents.map((i) => between(i.openedAt, i.recoveredAt))),
    approvers: Object.fromEntries(
      [...byApprover.entries()]
        .sort(([a], [b]) => a.localeCompare(b))
        .map(([who, values]) => [who, spread(values)]),
    ),
    approvalResponse: spread(approvals.map((a) => a.responseMs)),
    actions,
  };
}

interface Row {
  readonly section: string;
  readonly key: string;
  readonly value: string;
}

/** The stats as rows of section, key and value (for the table and CSV). */
export function statsRows(stats: Stats): Row[] {
  const rows: Row[] = [
    { section: 'range', key: 'since', value: stats.since },
    { section: 'range', key: 'until', value: stats.until },
    ...(stats.account !== undefined ? [{ section: 'range', key: 'account', value: stats.account }] : []),
    ...(stats.region !== undefined ? [{ section: 'range', key: 'region', value: stats.region }] : []),
    { section: 'incidents', key: 'total', value: String(stats.incidents) },
  ];
  if (stats.rehearsals.count > 0) {
    rows.push(
      stats.rehearsals.included
        ? { section: 'incidents', key: 'rehearsals included', value: String(stats.rehearsals.count) }
        : {
            section: 'incidents',
            key: 'rehearsals left out',
            value: `${stats.rehearsals.count} (rehearsals, dry runs, sample findings: --include-rehearsals counts them)`,
          },
    );
  }
  const counts = (section: string, record: Record<string, number>) => {
    for (const [key, n] of Object.entries(record)) rows.push({ section, key, value: String(n) });
  };
  counts('by type', stats.byType);
  counts('by status', stats.byStatus);
  counts('by playbook', stats.byPlaybook);
  counts('by account', stats.byAccount);
  counts('by region', stats.byRegion);
  const times = (section: string, key: string, s: Spread) =>
    rows.push({
      section,
      key,
      value:
        s.count === 0
          ? 'n/a'
          : `median ${formatDuration(s.p50Ms)}, p90 ${formatDuration(s.p90Ms)} (${s.count})`,
    });
  times('times', 'time to detect', stats.timeToDetect);
  times('times', 'time to contain', stats.timeToContain);
  times('times', 'time to recover', stats.timeToRecover);
  times('approvals', 'all approvers', stats.approvalResponse);
  for (const [who, s] of Object.entries(stats.approvers)) times('approvals', who, s);
  rows.push(
    { section: 'actions', key: 'automatic', value: String(stats.actions.automatic) },
    { section: 'actions', key: 'approved', value: String(stats.actions.approved) },
  );
  return rows;
}

const COLUMNS: readonly Column<Row>[] = [
  { header: 'section', cell: (r) => r.section },
  { header: 'measure', cell: (r) => r.key },
  { header: 'value', cell: (r) => r.value },
];

interface StatsFlags extends CommonFlags {
  since: string;
  until?: string;
  includeRehearsals?: boolean;
  account?: string;
  inRegion?: string;
}

/** Adds `stats` to the console. */
export function registerStatsCommand(cli: Command, ctx: ConsoleContext): Command {
  const command = withCommonOptions(
    cli
      .command('stats')
      .description(
        'Counts by finding type, status, playbook, account and region; median and p90 time to detect, contain and recover; approvers’ median response; automatic against approved actions. --account and --in-region count one account or region.',
      ),
  );
  return withPlaceOptions(command, 'count the incidents')
    .option('--since <when>', 'incidents opened since (a date or a duration such as 30d)', '30d')
    .option('--until <when>', 'incidents opened until (default: now)')
    .option(
      '--include-rehearsals',
      "count rehearsals, dry runs and sample findings' incidents too (left out by default, and counted as left out)",
    )
    .action(async (flags: StatsFlags) => {
      const format = formatOf(ctx, flags);
      const now = ctx.now();
      const since = parseTime('--since', flags.since, now);
      const until =
        flags.until !== undefined ? parseTime('--until', flags.until, now, true) : now.toISOString();
      if (since > until) throw new ValidationError('--since', [`${since} is after --until ${until}`]);
      const place = parsePlace(flags);
      await withConnection(ctx.connect, connectionFlags(flags), async (c) => {
        const incidents = await c.queries.allIncidents(since, until, place);
        const counted = flags.includeRehearsals
          ? incidents
          : incidents.filter((i) => i.rehearsal === undefined);
        const stepsOf = new Map<string, Step[]>();
        const queue = [...counted];
        await Promise.all(
          Array.from({ length: 8 }, async () => {
            for (let next = queue.shift(); next; next = queue.shift())
              stepsOf.set(next.id, await c.queries.steps(next.id));
          }),
        );
        const stats = computeStats(since, until, incidents, stepsOf, {
          includeRehearsals: flags.includeRehearsals === true,
          ...place,
        });
        if (format === 'json') ctx.io.out(json(stats));
        else if (format === 'csv') ctx.io.out(csv(statsRows(stats), COLUMNS));
        else ctx.io.out(textTable(statsRows(stats), COLUMNS, ''));
      });
    });
}
