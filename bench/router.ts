/**
 * The router's figures against DynamoDB Local:
 * - per delivery, one at a time, counted by the bench's middleware (bench/counting.ts): the calls and
 *   sequential rounds of a new finding, of an identical repeat delivery of it, and of a distinct finding
 *   on the same instance (correlated). Each delivery is routed by a recorder of its own, as a new
 *   invocation of the router would (it knows no incident's head); the figure is the most of any sample;
 * - findings a second through `routeEvent` (distinct GuardDuty findings on distinct instances, 8 at a
 *   time, each starting a playbook on the local engine), over bare conditional PutItems a second at the
 *   same concurrency on the same DynamoDB Local, measured before and after it in the same run;
 * - what 1,000 concurrent deliveries of one finding come to (the goal: exactly one incident and one
 *   execution), and correlation: distinct findings on a few instances, each joining its instance's open
 *   incident (the router verifies the incident's record before it correlates).
 *
 * The playbooks are stand-ins named as Cordon's whose only state waits, so that an execution shows it was
 * started and acts on nothing: what is measured is the router and its record.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditRecorder } from '#shared/audit';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { makeSeal } from '#shared/record';
import { parseSettings, type SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { type RouteOutcome, type RouterDeps, routeEvent } from '../functions/router/core.ts';
import { fromRoot } from '../infra/paths.ts';
import { LocalRuntime } from '../local/runtime.ts';
import { createAuditTable, type LocalStore } from '../local/store.ts';
import { stubPlaybooksStack } from '../local/stub-playbooks.ts';
import type { CallCounter, CallCounts } from './counting.ts';
import {
  type ByService,
  barePuts,
  countBy,
  type PerDelivery,
  perDelivery,
  routerWritesOnly,
  SERVICES,
} from './router-counts.ts';

export type { ByService, PerDelivery } from './router-counts.ts';

export interface RouterFigures {
  readonly perDelivery: {
    readonly newFinding: PerDelivery;
    readonly repeat: PerDelivery;
    readonly correlated: PerDelivery;
  };
  /** Bare conditional PutItems on the same DynamoDB Local, before and after the throughput, together. */
  /**
   * The router's writes for a new finding made with none of its code, the same concurrency, the same
   * DynamoDB Local, between the router's run and the second bare run: the most the router could reach here.
   */
  readonly writesOnly: {
    readonly findings: number;
    readonly seconds: number;
    readonly findingsPerSecond: number;
    /** Over the bare conditional PutItem rate: the ceiling of {@link RouterFigures.throughputRatio}. */
    readonly ratio: number;
  };
  readonly barePuts: {
    readonly puts: number;
    readonly concurrency: number;
    readonly seconds: number;
    readonly putsPerSecond: number;
  };
  /** Findings a second over bare conditional PutItems a second. */
  readonly throughputRatio: number;
  readonly throughput: {
    readonly findings: number;
    readonly concurrency: number;
    readonly seconds: number;
    readonly findingsPerSecond: number;
    /** Milliseconds per finding. */
    readonly latency: { readonly p50: number; readonly p95: number; readonly max: number };
    /** Outcomes by kind: every finding should be `started`. */
    readonly outcomes: Readonly<Record<string, number>>;
    readonly executions: number;
  };
  readonly correlation: {
    readonly findings: number;
    /** Instances the findings are spread over: one incident each. */
    readonly instances: number;
    readonly concurrency: number;
    readonly seconds: number;
    readonly findingsPerSecond: number;
    /** Milliseconds per correlated finding. */
    readonly latency: { readonly p50: number; readonly p95: number; readonly max: number };
    /** Outcomes by kind: one `started` per instance, the rest `correlated`. */
    readonly outcomes: Readonly<Record<string, number>>;
  };
  readonly duplicates: {
    readonly deliveries: number;
    readonly seconds: number;
    readonly outcomes: Readonly<Record<string, number>>;
    /** Incidents recorded for the instance: the goal is 1. */
    readonly incidents: number;
    /** Executions started for them: the goal is 1. */
    readonly executions: number;
    /** Deliveries the finding's record counted. */
    readonly recordedDeliveries: number;
    readonly exactlyOne: boolean;
  };
}

export interface RouterBenchOptions {
  /** Distinct findings routed for the throughput. Default 400. */
  readonly findings?: number;
  /** Findings in flight at once. Default 8. */
  readonly concurrency?: number;
  /** Concurrent deliveries of one finding. Default 1,000. */
  readonly duplicates?: number;
  /** Distinct findings routed onto {@link RouterBenchOptions.instances} instances. Default 200. */
  readonly correlated?: number;
  /** Instances the correlated findings are spread over. Default 4. */
  readonly instances?: number;
  /** Deliveries of each kind routed one at a time and counted. Default 10. */
  readonly samples?: number;
  /** Bare conditional PutItems before the throughput, and as many after. Default 1,500. */
  readonly puts?: number;
}

interface GuardDutyEc2Finding {
  id: string;
  accountId: string;
  resource: { instanceDetails: { instanceId: string } };
  service: { resourceRole: string };
}

const FIXTURE = readFileSync(
  fromRoot('test/fixtures/events/guardduty/ec2-canary-stateless.detail.json'),
  'utf8',
);

/** The account of the bench's findings (the fixture's region, us-east-1). */
const BENCH_ACCOUNT = '123456789012';

/** The real GuardDuty EC2 finding, the instance its actor, with the id and instance given. */
function ec2Finding(id: string, instanceId: string): GuardDutyEc2Finding {
  const finding = JSON.parse(FIXTURE) as GuardDutyEc2Finding;
  finding.id = id;
  finding.accountId = BENCH_ACCOUNT;
  finding.resource.instanceDetails.instanceId = instanceId;
  finding.service.resourceRole = 'ACTOR';
  return finding;
}

const instanceId = () => `i-0b${randomBytes(8).toString('hex').slice(0, 15)}`;

/** Routes `events`, `concurrency` at a time: each one's outcomes, with the milliseconds it took. */
async function routeAll(
  deps: RouterDeps,
  events: readonly unknown[],
  concurrency: number,
): Promise<{ seconds: number; routed: { outcome: RouteOutcome; ms: number }[] }> {
  const routed: { outcome: RouteOutcome; ms: number }[] = [];
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < events.length; i = next++) {
        const t0 = performance.now();
        const outcomes = await routeEvent(deps, events[i]);
        const ms = performance.now() - t0;
        for (const outcome of outcomes) routed.push({ outcome, ms });
      }
    }),
  );
  return { seconds: (performance.now() - start) / 1000, routed };
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? Number.NaN;
}

/** Runs both measurements on a fresh table of `store`. */
export async function measureRouter(
  store: LocalStore,
  counter: CallCounter,
  options: RouterBenchOptions = {},
): Promise<RouterFigures> {
  const samples = options.samples ?? 10;
  const puts = options.puts ?? 1500;
  const findings = options.findings ?? 400;
  const concurrency = options.concurrency ?? 8;
  const duplicates = options.duplicates ?? 1000;
  const correlated = options.correlated ?? 200;
  const instances = options.instances ?? 4;
  const tableName = `bench-router-${randomBytes(4).toString('hex')}`;
  const raw = store.client();
  await createAuditTable(raw, tableName);
  raw.destroy();
  const runtime = await LocalRuntime.start({
    store: { endpoint: store.endpoint, tableName },
    scope: stubPlaybooksStack(['ec2-compromise', 'iam-credential-compromise']),
    waitScale: 0.001,
  });
  try {
    const arns = new Map(runtime.engine.playbooks().map((p) => [p.id, p.arn]));
    const settings = parseSettings({
      ...(settingsFile as SettingsInput),
      // Every finding is on its own instance: the blast-radius limits are not what is measured, but each
      // automatic containment still takes its account's slot and the organization's.
      maxAutomaticContainmentsPerHour: findings + duplicates,
      organization: { maxAutomaticContainmentsPerHour: findings + duplicates + 8 * samples },
    });
    // As the deployed router makes them: every client from the factory (so counted), the record key and
    // anchor through the factory's KMS and S3 clients.
    const documents = makeDocumentClient();
    const seal = makeSeal({ recordKey: runtime.trust.keyId, anchorBucket: runtime.trust.bucket });
    const deps: RouterDeps = {
      recorder: new AuditRecorder({ client: documents, tableName, seal }),
      queries: new AuditQueries(documents, tableName),
      sfn: makeClient(SFNClient, { service: 'SFN' }),
      settings,
      playbookArn: (id) => arns.get(id),
      runtime: 'aws',
      now: () => new Date(),
      ids: randomIds,
      logger: createLogger('bench-router', { level: 'silent' }),
    };

    // Warm up the clients and the table: a few findings, not counted.
    for (let i = 0; i < 8; i++) await routeEvent(deps, ec2Finding(`warm-${i}-${randomIds()}`, instanceId()));

    // One delivery at a time, each by a recorder of its own (a new invocation): a new finding, the same
    // delivered again, and a distinct finding on the same instance while its incident is open.
    const counted = async (event: unknown) => {
      const fresh: RouterDeps = {
        ...deps,
        recorder: new AuditRecorder({ client: documents, tableName, seal }),
      };
      return counter.measure(() => routeEvent(fresh, event));
    };
    const kinds = { newFinding: [], repeat: [], correlated: [] } as Record<
      'newFinding' | 'repeat' | 'correlated',
      { counts: CallCounts; outcomes: RouteOutcome[] }[]
    >;
    for (let i = 0; i < samples; i++) {
      const instance = instanceId();
      const event = ec2Finding(`bench-one-${i}-${randomIds()}`, instance);
      const first = await counted(structuredClone(event));
      kinds.newFinding.push({ counts: first.counts, outcomes: first.value });
      const again = await counted(structuredClone(event));
      kinds.repeat.push({ counts: again.counts, outcomes: again.value });
      const other = await counted(ec2Finding(`bench-one-corr-${i}-${randomIds()}`, instance));
      kinds.correlated.push({ counts: other.counts, outcomes: other.value });
    }
    const delivery = (kind: keyof typeof kinds) =>
      perDelivery(
        kinds[kind].map((k) => k.counts),
        kinds[kind].flatMap((k) => k.outcomes),
      );

    const putsBefore = await barePuts(documents, tableName, puts, concurrency);

    const events = Array.from({ length: findings }, (_, i) =>
      ec2Finding(`bench-${i}-${randomIds()}`, instanceId()),
    );
    const { seconds, routed: routedFindings } = await routeAll(deps, events, concurrency);
    const writesOnly = await routerWritesOnly(documents, tableName, findings, concurrency);
    const putsAfter = await barePuts(documents, tableName, puts, concurrency);
    const putsPerSecond = (2 * puts) / (putsBefore + putsAfter);
    const outcomes = routedFindings.map((r) => r.outcome);
    const latencies = routedFindings.map((r) => r.ms).sort((a, b) => a - b);
    const routed = new Set(outcomes.flatMap((o) => (o.outcome === 'started' ? [o.incidentId] : [])));
    const executionsOf = (incidents: ReadonlySet<string>) =>
      runtime.engine
        .executionList()
        .filter((e) => incidents.has(String((e.input as { incidentId?: string }).incidentId))).length;

    const correlatedInstances = Array.from({ length: instances }, instanceId);
    const correlatedEvents = Array.from({ length: correlated }, (_, i) =>
      ec2Finding(`bench-corr-${i}-${randomIds()}`, correlatedInstances[i % instances] ?? ''),
    );
    const correlation = await routeAll(deps, correlatedEvents, concurrency);
    const correlatedLatencies = correlation.routed
      .filter((r) => r.outcome.outcome === 'correlated')
      .map((r) => r.ms)
      .sort((a, b) => a - b);

    const duplicateId = `bench-dup-${randomIds()}`;
    const duplicateInstance = instanceId();
    const event = ec2Finding(duplicateId, duplicateInstance);
    const dupStart = performance.now();
    const dupOutcomes = (
      await Promise.all(Array.from({ length: duplicates }, () => routeEvent(deps, structuredClone(event))))
    ).flat();
    const dupSeconds = (performance.now() - dupStart) / 1000;
    const incidents = (await deps.queries.incidentIdsByResource(duplicateInstance)).items;
    const executions = executionsOf(new Set(incidents));
    const record = await deps.queries.finding({ account: BENCH_ACCOUNT, region: 'us-east-1' }, duplicateId);
    const started = dupOutcomes.filter((o) => o.outcome === 'started').length;
    return {
      perDelivery: {
        newFinding: delivery('newFinding'),
        repeat: delivery('repeat'),
        correlated: delivery('correlated'),
      },
      barePuts: { puts: 2 * puts, concurrency, seconds: putsBefore + putsAfter, putsPerSecond },
      throughputRatio: findings / seconds / putsPerSecond,
      writesOnly: {
        findings,
        seconds: writesOnly,
        findingsPerSecond: findings / writesOnly,
        ratio: findings / writesOnly / putsPerSecond,
      },
      throughput: {
        findings,
        concurrency,
        seconds,
        findingsPerSecond: findings / seconds,
        latency: {
          p50: percentile(latencies, 50),
          p95: percentile(latencies, 95),
          max: latencies.at(-1) ?? 0,
        },
        outcomes: countBy(outcomes),
        executions: executionsOf(routed),
      },
      correlation: {
        findings: correlated,
        instances,
        concurrency,
        seconds: correlation.seconds,
        findingsPerSecond: correlated / correlation.seconds,
        latency: {
          p50: percentile(correlatedLatencies, 50),
          p95: percentile(correlatedLatencies, 95),
          max: correlatedLatencies.at(-1) ?? 0,
        },
        outcomes: countBy(correlation.routed.map((r) => r.outcome)),
      },
      duplicates: {
        deliveries: duplicates,
        seconds: dupSeconds,
        outcomes: countBy(dupOutcomes),
        incidents: incidents.length,
        executions,
        recordedDeliveries: record?.deliveries ?? 0,
        exactlyOne: incidents.length === 1 && executions === 1 && started === 1,
      },
    };
  } finally {
    await runtime.close();
  }
}

/** The lines `npm run bench` prints. */
export function routerTable(f: RouterFigures): string[] {
  const t = f.throughput;
  const c = f.correlation;
  const d = f.duplicates;
  const counts = (o: Readonly<Record<string, number>>) =>
    Object.entries(o)
      .map(([k, v]) => `${v} ${k}`)
      .join(', ');
  const p = f.perDelivery;
  const line = (what: string, d: PerDelivery) => {
    const by = (x: ByService) =>
      SERVICES.filter((s) => (x[s] ?? 0) > 0)
        .map((s) => `${Number.isInteger(x[s]) ? x[s] : (x[s] ?? 0).toFixed(1)} ${s}`)
        .join(', ');
    return `  ${what.padEnd(12)} rounds ${by(d.worst.rounds)}; calls ${by(d.worst.calls)} (${counts(d.outcomes)})`;
  };
  return [
    `the router per delivery, one at a time, a new recorder each (the most of ${p.newFinding.samples} of each kind):`,
    line('new finding', p.newFinding),
    line('repeat', p.repeat),
    line('correlated', p.correlated),
    `bare conditional PutItem: ${f.barePuts.putsPerSecond.toFixed(0)} a second (${f.barePuts.puts} puts, ${f.barePuts.concurrency} at a time, ${f.barePuts.seconds.toFixed(1)} s, before and after the router's run); router ÷ bare: ${f.throughputRatio.toFixed(3)}`,
    `the router's writes alone (lock ‖ marker ‖ slots, a transaction of 6, a transaction of 3; no router code): ${f.writesOnly.findingsPerSecond.toFixed(1)} findings a second, ÷ bare: ${f.writesOnly.ratio.toFixed(3)} (the ceiling of the router's ratio on DynamoDB Local)`,
    `router throughput: ${t.findingsPerSecond.toFixed(1)} findings/s (${t.findings} distinct findings, ${t.concurrency} at a time, ${t.seconds.toFixed(1)} s; per finding p50 ${t.latency.p50.toFixed(0)} ms, p95 ${t.latency.p95.toFixed(0)} ms, max ${t.latency.max.toFixed(0)} ms)`,
    `  outcomes: ${counts(t.outcomes)}; executions started: ${t.executions}`,
    `correlation: ${c.findingsPerSecond.toFixed(1)} findings/s (${c.findings} distinct findings on ${c.instances} instances, ${c.concurrency} at a time, ${c.seconds.toFixed(1)} s; per correlated finding p50 ${c.latency.p50.toFixed(0)} ms, p95 ${c.latency.p95.toFixed(0)} ms, max ${c.latency.max.toFixed(0)} ms)`,
    `  outcomes: ${counts(c.outcomes)}`,
    `duplicates: ${d.deliveries} concurrent deliveries of one finding in ${d.seconds.toFixed(1)} s → ${counts(d.outcomes)}; ${d.incidents} incident, ${d.executions} execution, ${d.recordedDeliveries} deliveries recorded: ${d.exactlyOne ? 'exactly one (goal met)' : 'NOT exactly one (goal missed)'}`,
  ];
}
