/**
 * What the record costs per recorded step and per action, counted by the bench's middleware
 * (bench/counting.ts) on the recorder's own clients: its DynamoDB Local client and the KMS and S3 clients
 * of its record key and anchor.
 *
 * - Per step: one recorder appends steps one after another to an incident it opened (it knows the head),
 *   each append counted apart. The recorder as it is (every step MACed with the record key and anchored)
 *   is run interleaved with the same recorder and a seal that does nothing (the unkeyed chain of before),
 *   so that the machine's load falls on both alike, and each append is timed.
 * - Per action: what one action's invocation records, `started` then its final step, by a recorder made
 *   for it (a new invocation: it knows no head) on an incident another recorder opened. The goal allows
 *   one read per invocation; the figure is the action's calls without that one read.
 * - `verify`: its calls for an incident whose steps are all anchored.
 *
 * The key and the anchor are the local runtime's (a sandbox in memory), so the time added here is the
 * recorder's own work plus an in-memory KMS and S3: on AWS each round is a round trip to the region,
 * which this machine cannot measure.
 */
import { randomBytes } from 'node:crypto';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditRecorder, type NewIncident } from '#shared/audit';
import { KmsS3Seal, type RecordSeal } from '#shared/seal';
import { createAuditTable, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStore } from '../local/store.ts';
import { openLocalTrust } from '../local/trust.ts';
import { type CallCounter, type CallCounts, of } from './counting.ts';

/** Calls or rounds, by service. */
export type ByService = Record<string, number>;

export interface RecordFigures {
  readonly steps: number;
  /** Calls per recorded step, by service, for the sealed recorder and the unsealed one: the mean. */
  readonly callsPerStep: { readonly sealed: ByService; readonly unsealed: ByService };
  /** The most calls and rounds any one sealed step made, by service. */
  readonly worstStep: { readonly calls: ByService; readonly rounds: ByService };
  /** Milliseconds per append, median and 90th percentile. */
  readonly msPerStep: {
    readonly sealed: { p50: number; p90: number };
    readonly unsealed: { p50: number; p90: number };
  };
  readonly perAction: {
    readonly actions: number;
    /** The most calls and rounds one action (started + final, a new recorder) made, by service. */
    readonly calls: ByService;
    readonly rounds: ByService;
    /** The most DynamoDB reads (GetItem, Query, ...) one action made. */
    readonly dynamoReads: number;
    /** The most DynamoDB calls one action made besides the one read per invocation the goal allows. */
    readonly dynamoCallsAfterRead: number;
  };
  /** The calls of one `verify` of an incident of `steps` anchored steps, by `service:command`. */
  readonly verifyCalls: Record<string, number>;
}

export interface RecordBenchOptions {
  /** Steps appended per run (four runs, interleaved). Default 200. */
  readonly steps?: number;
  /** Actions recorded, each by a new recorder. Default 50. */
  readonly actions?: number;
}

/** A seal that does nothing: the chain without a key or an anchor, for comparison. */
const NO_SEAL: RecordSeal = {
  keyId: 'none',
  bucket: 'none',
  mac: async () => '',
  verify: async () => true,
  anchor: async () => {},
  anchors: async () => [],
};

const READS = new Set(['GetItem', 'Query', 'Scan', 'BatchGetItem', 'TransactGetItems']);

const INCIDENT: NewIncident = {
  title: 'bench',
  findingType: 'Bench',
  severity: 5,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: 'i-0bench' }],
  firstSeen: '2026-11-28T10:00:00.000Z',
  lastSeen: '2026-11-28T10:00:00.000Z',
};

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

const SERVICES = ['DynamoDB', 'KMS', 'S3'];

/** Of each tally, the calls (or rounds) by service: the highest, or the mean. */
function across(tallies: readonly CallCounts[], what: 'calls' | 'rounds', how: 'max' | 'mean'): ByService {
  const out: ByService = {};
  for (const service of SERVICES) {
    const values = tallies.map((t) => of(t, service)[what]);
    const value =
      how === 'max' ? Math.max(0, ...values) : values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    if (value > 0 || service === 'DynamoDB') out[service] = value;
  }
  return out;
}

const dynamoReads = (counts: CallCounts): number =>
  Object.entries(of(counts, 'DynamoDB').commands)
    .filter(([command]) => READS.has(command))
    .reduce((n, [, calls]) => n + calls, 0);

export async function measureRecord(
  store: LocalStore,
  counter: CallCounter,
  options: RecordBenchOptions = {},
): Promise<RecordFigures> {
  const steps = options.steps ?? 200;
  const actions = options.actions ?? 50;
  const raw = counter.attach(store.client());
  const tableName = `bench-record-${randomBytes(4).toString('hex')}`;
  await createAuditTable(raw, tableName);
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const trust = await openLocalTrust();
  // The record key and anchor, through clients the counter sees (the trust's own are made without it).
  const settings = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
  const seal = new KmsS3Seal({
    kms: trust.sandbox.attach(counter.attach(new KMSClient(settings))),
    s3: trust.sandbox.attach(counter.attach(new S3Client(settings))),
    keyId: trust.keyId,
    bucket: trust.bucket,
  });
  const sealed = new AuditRecorder({ client: doc, tableName, seal });
  const unsealed = new AuditRecorder({ client: doc, tableName, seal: NO_SEAL });

  const run = async (recorder: AuditRecorder) => {
    const incident = await recorder.openIncident(INCIDENT);
    const tallies: CallCounts[] = [];
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      const { counts } = await counter.measure(() =>
        recorder.appendStep(incident.id, {
          phase: 'containment',
          action: 'bench',
          status: i % 2 === 0 ? 'started' : 'succeeded',
          actor: 'automation',
          input: { i },
        }),
      );
      ms.push(performance.now() - started);
      tallies.push(counts);
    }
    return { incidentId: incident.id, tallies, ms };
  };

  // Interleaved, so that the machine's load falls on both alike.
  const a = await run(unsealed);
  const b = await run(sealed);
  const c = await run(unsealed);
  const d = await run(sealed);

  // Each action by a recorder of its own, as a new invocation of an action function makes.
  const holder = await sealed.openIncident(INCIDENT);
  await sealed.appendStep(holder.id, {
    phase: 'identification',
    action: 'bench',
    status: 'noted',
    actor: 'automation',
  });
  const actionTallies: CallCounts[] = [];
  for (let i = 0; i < actions; i++) {
    const invocation = new AuditRecorder({ client: doc, tableName, seal });
    const { counts } = await counter.measure(async () => {
      const base = { phase: 'containment', action: `bench-${i}`, actor: 'automation' } as const;
      await invocation.appendStep(holder.id, { ...base, status: 'started' });
      await invocation.appendStep(holder.id, { ...base, status: 'succeeded', output: { i } });
    });
    actionTallies.push(counts);
  }

  const verify = await counter.measure(() => sealed.verify(d.incidentId));
  if (!verify.value.ok) throw new Error(`the bench's own record does not verify: ${verify.value.reason}`);
  const verifyCalls: Record<string, number> = {};
  for (const [service, counts] of Object.entries(verify.counts)) {
    if (service === 'all') continue;
    for (const [command, n] of Object.entries(counts.commands)) verifyCalls[`${service}:${command}`] = n;
  }
  raw.destroy();
  return {
    steps,
    callsPerStep: {
      sealed: across([...b.tallies, ...d.tallies], 'calls', 'mean'),
      unsealed: across([...a.tallies, ...c.tallies], 'calls', 'mean'),
    },
    worstStep: {
      calls: across([...b.tallies, ...d.tallies], 'calls', 'max'),
      rounds: across([...b.tallies, ...d.tallies], 'rounds', 'max'),
    },
    msPerStep: {
      sealed: { p50: quantile([...b.ms, ...d.ms], 0.5), p90: quantile([...b.ms, ...d.ms], 0.9) },
      unsealed: { p50: quantile([...a.ms, ...c.ms], 0.5), p90: quantile([...a.ms, ...c.ms], 0.9) },
    },
    perAction: {
      actions,
      calls: across(actionTallies, 'calls', 'max'),
      rounds: across(actionTallies, 'rounds', 'max'),
      dynamoReads: Math.max(0, ...actionTallies.map(dynamoReads)),
      dynamoCallsAfterRead: Math.max(
        0,
        ...actionTallies.map((t) => of(t, 'DynamoDB').calls - Math.min(1, dynamoReads(t))),
      ),
    },
    verifyCalls,
  };
}

/** The figures as lines for the bench's output. */
export function recordTable(f: RecordFigures): string[] {
  const calls = (per: ByService) =>
    Object.entries(per)
      .map(([service, n]) => `${Number.isInteger(n) ? n : n.toFixed(2)} ${service}`)
      .join(' + ');
  return [
    `the record per step (${f.steps} steps appended one after another, twice each, interleaved):`,
    `  sealed (key + anchor): ${calls(f.callsPerStep.sealed)} calls (the most in one step: ${calls(f.worstStep.calls)} calls, ${calls(f.worstStep.rounds)} rounds); ${f.msPerStep.sealed.p50.toFixed(1)} ms p50, ${f.msPerStep.sealed.p90.toFixed(1)} ms p90`,
    `  unsealed (chain only): ${calls(f.callsPerStep.unsealed)} calls; ${f.msPerStep.unsealed.p50.toFixed(1)} ms p50, ${f.msPerStep.unsealed.p90.toFixed(1)} ms p90`,
    `  per action (started + final, a new recorder each, ${f.perAction.actions} actions; the most of one): ${calls(f.perAction.calls)} calls, ${calls(f.perAction.rounds)} rounds; ${f.perAction.dynamoReads} DynamoDB read(s), ${f.perAction.dynamoCallsAfterRead} DynamoDB calls besides the one read`,
    `  verify of an incident of ${f.steps} anchored steps: ${Object.entries(f.verifyCalls)
      .map(([what, n]) => `${n} ${what}`)
      .join(', ')}`,
  ];
}
