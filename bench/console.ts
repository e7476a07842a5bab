/**
 * The console's read amplification at 10,000 incidents and 100,000 steps: items read per item returned,
 * from each Query's ScannedCount and Count (and each Get), for the queries the console makes.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { AuditRecorder } from '#shared/audit';
import { ConsoleQueries } from '../cli/queries.ts';
import { createAuditTable, type LocalStore } from '../local/store.ts';
import { openLocalTrust } from '../local/trust.ts';
import {
  anchorIncident,
  INCIDENTS,
  load,
  metered,
  records,
  STEPS_PER_INCIDENT,
} from '../test/support/scale-record.ts';

export interface ConsoleFigure {
  readonly query: string;
  readonly read: number;
  readonly returned: number;
  readonly perReturned: number;
}

export interface ConsoleFigures {
  readonly incidents: number;
  readonly steps: number;
  readonly loadSeconds: number;
  readonly queries: ConsoleFigure[];
}

const ALL = { since: '2025-12-01T00:00:00.000Z', until: '2026-11-28T00:00:00.000Z' };

/** Loads the record into a fresh table and measures each query. */
export async function measureConsole(store: LocalStore): Promise<ConsoleFigures> {
  const raw = store.client();
  const tableName = `bench-console-${randomBytes(4).toString('hex')}`;
  await createAuditTable(raw, tableName);
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const started = Date.now();
  const items = records();
  await load(doc, tableName, items);
  const loadSeconds = (Date.now() - started) / 1000;
  const trust = await openLocalTrust();
  await anchorIncident(trust.seal, items, 'inc-04321');
  const queries: [string, (q: ConsoleQueries, r: AuditRecorder) => Promise<readonly unknown[]>][] = [
    ['incidents list (newest 50)', async (q) => (await q.listIncidents({ ...ALL }, { limit: 50 })).items],
    [
      'incidents list --status open',
      async (q) => (await q.listIncidents({ ...ALL, status: 'open' }, { limit: 1000 })).items,
    ],
    [
      'incidents list --type',
      async (q) => (await q.listIncidents({ ...ALL, type: 'Type:EC2/Finding3' }, { limit: 1000 })).items,
    ],
    [
      'steps --actor',
      async (q) => (await q.listSteps({ actor: 'approver1@example.com' }, { limit: 1000 })).items,
    ],
    [
      'incidents show',
      async (q, r) => {
        const incident = await r.findIncident('inc-04321');
        return [incident, ...(await q.steps('inc-04321'))];
      },
    ],
    ['verify <id>', async (_q, r) => [await r.verify('inc-04321')]],
  ];
  const figures: ConsoleFigure[] = [];
  for (const [query, work] of queries) {
    const { client, meter } = metered(doc);
    await work(
      new ConsoleQueries(client, tableName),
      new AuditRecorder({ client, tableName, seal: trust.seal }),
    );
    figures.push({
      query,
      read: meter.read,
      returned: meter.returned,
      perReturned: meter.read / Math.max(1, meter.returned),
    });
  }
  raw.destroy();
  return { incidents: INCIDENTS, steps: INCIDENTS * STEPS_PER_INCIDENT, loadSeconds, queries: figures };
}
