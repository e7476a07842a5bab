/**
 * What the record's key and anchor cost per recorded step, side by side in one run on the same DynamoDB
 * Local: the recorder as it is (every step MACed with the record key and anchored) against the same
 * recorder with a seal that does nothing (the unkeyed chain of before), counting each call by service and
 * timing each append. And what `verify` costs: its calls for an incident whose steps are all anchored.
 *
 * The key and the anchor are the local runtime's (a sandbox in memory), so the time added here is the
 * recorder's own work plus an in-memory KMS and S3: on AWS each of the two added calls is a round trip
 * to KMS and to S3 in the region, which this machine cannot measure.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InitializeMiddleware } from '@smithy/types';
import { AuditRecorder } from '#shared/audit';
import type { RecordSeal } from '#shared/seal';
import { createAuditTable, type LocalStore } from '../local/store.ts';
import { openLocalTrust } from '../local/trust.ts';

export interface RecordFigures {
  readonly steps: number;
  /** Calls per recorded step, by service, for the sealed recorder and the unsealed one. */
  readonly callsPerStep: {
    readonly sealed: Record<string, number>;
    readonly unsealed: Record<string, number>;
  };
  /** Milliseconds per append, median and 90th percentile. */
  readonly msPerStep: {
    readonly sealed: { p50: number; p90: number };
    readonly unsealed: { p50: number; p90: number };
  };
  /** The calls of one `verify` of an incident of `steps` anchored steps, by service. */
  readonly verifyCalls: Record<string, number>;
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

function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** Counts the commands each client sends, by service. */
function counter(counts: Record<string, number>): InitializeMiddleware<object, object> {
  return (next, context) => async (args) => {
    const service = String(context.clientName).replace(/Client$/, '');
    counts[service] = (counts[service] ?? 0) + 1;
    return next(args);
  };
}

export async function measureRecord(store: LocalStore, steps = 200): Promise<RecordFigures> {
  const raw = store.client();
  const tableName = `bench-record-${randomBytes(4).toString('hex')}`;
  await createAuditTable(raw, tableName);
  const counts: Record<string, number> = {};
  raw.middlewareStack.add(counter(counts) as never, { step: 'initialize', name: 'benchCountDynamo' });
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const trust = await openLocalTrust();
  const before = { calls: () => trust.sandbox.calls.length };
  const sealed = new AuditRecorder({ client: doc, tableName, seal: trust.seal });
  const unsealed = new AuditRecorder({ client: doc, tableName, seal: NO_SEAL });

  const run = async (recorder: AuditRecorder) => {
    const incident = await recorder.openIncident({
      title: 'bench',
      findingType: 'Bench',
      severity: 5,
      account: '123456789012',
      region: 'us-east-1',
      resources: [{ type: 'instance', id: 'i-0bench' }],
      firstSeen: '2026-11-28T10:00:00.000Z',
      lastSeen: '2026-11-28T10:00:00.000Z',
    });
    // One append to know the incident: the recorder reads it once, then never again.
    await recorder.appendStep(incident.id, {
      phase: 'containment',
      action: 'warm',
      status: 'noted',
      actor: 'automation',
    });
    for (const key of Object.keys(counts)) delete counts[key];
    const sealCalls = before.calls();
    const ms: number[] = [];
    for (let i = 0; i < steps; i++) {
      const started = performance.now();
      await recorder.appendStep(incident.id, {
        phase: 'containment',
        action: 'bench',
        status: i % 2 === 0 ? 'started' : 'succeeded',
        actor: 'automation',
        input: { i },
      });
      ms.push(performance.now() - started);
    }
    const perStep: Record<string, number> = {};
    for (const [service, n] of Object.entries(counts)) perStep[service] = n / steps;
    const seal = trust.sandbox.calls.slice(sealCalls);
    for (const service of ['KMS', 'S3']) {
      const n = seal.filter((c) => c.service === service).length;
      if (n > 0) perStep[service] = n / steps;
    }
    return { incidentId: incident.id, perStep, ms };
  };

  // Interleaved, so that the machine's load falls on both alike.
  const a = await run(unsealed);
  const b = await run(sealed);
  const c = await run(unsealed);
  const d = await run(sealed);

  for (const key of Object.keys(counts)) delete counts[key];
  const sealCalls = before.calls();
  const verified = await sealed.verify(d.incidentId);
  if (!verified.ok) throw new Error(`the bench's own record does not verify: ${verified.reason}`);
  const verifyCalls: Record<string, number> = { ...counts };
  for (const call of trust.sandbox.calls.slice(sealCalls)) {
    verifyCalls[`${call.service}:${call.command}`] =
      (verifyCalls[`${call.service}:${call.command}`] ?? 0) + 1;
  }
  raw.destroy();
  return {
    steps,
    callsPerStep: { sealed: d.perStep, unsealed: c.perStep },
    msPerStep: {
      sealed: { p50: quantile([...b.ms, ...d.ms], 0.5), p90: quantile([...b.ms, ...d.ms], 0.9) },
      unsealed: { p50: quantile([...a.ms, ...c.ms], 0.5), p90: quantile([...a.ms, ...c.ms], 0.9) },
    },
    verifyCalls,
  };
}

/** The figures as lines for the bench's output. */
export function recordTable(f: RecordFigures): string[] {
  const calls = (per: Record<string, number>) =>
    Object.entries(per)
      .map(([service, n]) => `${n.toFixed(2)} ${service}`)
      .join(' + ');
  return [
    `the record per step (${f.steps} steps appended one after another, twice each, interleaved):`,
    `  sealed (key + anchor): ${calls(f.callsPerStep.sealed)}; ${f.msPerStep.sealed.p50.toFixed(1)} ms p50, ${f.msPerStep.sealed.p90.toFixed(1)} ms p90`,
    `  unsealed (chain only): ${calls(f.callsPerStep.unsealed)}; ${f.msPerStep.unsealed.p50.toFixed(1)} ms p50, ${f.msPerStep.unsealed.p90.toFixed(1)} ms p90`,
    `  verify of ${f.steps + 1} anchored steps: ${Object.entries(f.verifyCalls)
      .map(([what, n]) => `${n} ${what}`)
      .join(', ')}`,
  ];
}
