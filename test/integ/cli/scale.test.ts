/**
 * Read amplification on DynamoDB Local with 10,000 incidents and 100,000 steps (and 10,000 resource links):
 * every query the console makes on a key reads at most 1.1 items for each item it returns, counted from
 * each Query's ScannedCount and Count and from the items each get returns. Filters on fields that no key
 * holds (severity, account, an action of an actor) read what their key selects: their figures are printed
 * and bounded by the filter's selectivity, never more.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '#shared/audit';
import type { IncidentFilter } from '../../../cli/queries/plan.ts';
import { ConsoleQueries } from '../../../cli/queries.ts';
import {
  anchorIncident,
  INCIDENTS,
  load,
  metered,
  records,
  STEPS_PER_INCIDENT,
} from '../../support/scale-record.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';

let t: TestTable;
const figures: string[] = [];

beforeAll(async () => {
  t = await createTestTable('cli-scale');
  const started = Date.now();
  const items = records();
  await load(t.doc, t.tableName, items);
  await anchorIncident(t.trust.seal, items, 'inc-04321');
  figures.push(`loaded ${items.length} items in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}, 240_000);

afterAll(async () => {
  // The figures the report quotes.
  console.info(
    `read amplification on ${INCIDENTS} incidents and ${INCIDENTS * STEPS_PER_INCIDENT} steps:\n  ${figures.join('\n  ')}`,
  );
  await t.drop();
});

/** Runs a read with fresh counters; returns the counters and what it returned. */
type Work = (q: ConsoleQueries, recorder: AuditRecorder) => Promise<readonly unknown[]>;

async function measure(name: string, work: Work) {
  const { client, meter } = metered(t.doc);
  const items = await work(
    new ConsoleQueries(client, t.tableName),
    new AuditRecorder({ client, tableName: t.tableName, seal: t.trust.seal }),
  );
  const ratio = meter.read / Math.max(1, meter.returned);
  figures.push(
    `${name}: ${meter.read} read / ${meter.returned} returned = ${ratio.toFixed(3)} (${items.length} results, ${meter.commands.length} requests)`,
  );
  expect(meter.commands.filter((c) => c.includes('Scan'))).toEqual([]);
  return { meter, items, ratio };
}

const ALL: IncidentFilter = { since: '2025-12-01T00:00:00.000Z', until: '2026-11-28T00:00:00.000Z' };
const list =
  (filter: Partial<IncidentFilter>, limit = 1000) =>
  async (q: ConsoleQueries) =>
    (await q.listIncidents({ ...ALL, ...filter }, { limit })).items;

describe('console queries on 10,000 incidents and 100,000 steps', () => {
  it.each<[string, Work]>([
    ['incidents list (by-time, newest 50)', list({}, 50)],
    [
      'incidents list --since/--until over 3 months (by-time)',
      list({ since: '2026-06-01T00:00:00.000Z', until: '2026-08-31T23:59:59.999Z' }),
    ],
    ['incidents list --status open (by-status)', list({ status: 'open' })],
    [
      'incidents list --status closed --since 30d (by-status, range on the key)',
      list({ status: 'closed', since: '2026-10-29T00:00:00.000Z' }),
    ],
    ['incidents list --type (by-ref TYPE#)', list({ type: 'Type:EC2/Finding3' })],
    ['incidents list --resource (by-ref RESOURCE#, then BatchGet)', list({ resource: 'i-00000042' })],
    [
      'steps --actor approver (by-ref ACTOR#)',
      async (q: ConsoleQueries) =>
        (await q.listSteps({ actor: 'approver1@example.com' }, { limit: 1000 })).items,
    ],
    [
      'steps --actor approver --since (by-ref ACTOR#, range on the key)',
      async (q: ConsoleQueries) =>
        (
          await q.listSteps(
            { actor: 'approver1@example.com', since: '2026-11-01T00:00:00.000Z' },
            { limit: 1000 },
          )
        ).items,
    ],
    [
      'incidents show / report (Get, then the STEP# range of its partition)',
      async (q: ConsoleQueries, r: AuditRecorder) => {
        const incident = await r.findIncident('inc-04321');
        return [incident, ...(await q.steps('inc-04321'))];
      },
    ],
    [
      'verify <id> (Get, then the STEP# range)',
      async (_q: ConsoleQueries, r: AuditRecorder) => {
        const result = await r.verify('inc-04321');
        expect(result.ok).toBe(true);
        return [result];
      },
    ],
    [
      'stats --since 7d (by-time, then each incident’s steps)',
      async (q: ConsoleQueries) => {
        const incidents = await q.allIncidents('2026-11-21T00:00:00.000Z', '2026-11-28T00:00:00.000Z');
        const steps = await Promise.all(incidents.map((i) => q.steps(i.id)));
        return [...incidents, ...steps.flat()];
      },
    ],
  ])('%s reads at most 1.1 items per item returned', async (name, work) => {
    const { ratio, items } = await measure(name, work);
    expect(items.length).toBeGreaterThan(0);
    expect(ratio).toBeLessThanOrEqual(1.1);
  });

  it('incidents list --resource gets exactly the incidents it prints (one link read per incident)', async () => {
    const { meter, items } = await measure(
      'incidents list --resource, per incident printed',
      list({ resource: 'i-00000042' }),
    );
    // Each incident costs its link (the index entry) and its item: 2 reads per incident printed, none wasted.
    expect(meter.read).toBe(2 * items.length);
  });

  it.each<[string, Work, number]>([
    ['incidents list --min-severity 8 (by-time, severity filtered)', list({ minSeverity: 8 }, 200), 0.3],
    ['incidents list --account (by-place ACCOUNT#)', list({ account: '100000000003' }, 200), 0.1],
    [
      'incidents list --type --status open (by-ref TYPE#, status filtered)',
      list({ type: 'Type:EC2/Finding3', status: 'open' }),
      0.1,
    ],
    [
      'steps --actor automation --action ec2-isolate (by-ref ACTOR#, action filtered)',
      async (q: ConsoleQueries) =>
        (await q.listSteps({ actor: 'automation', action: 'ec2-isolate' }, { limit: 200 })).items,
      1 / 9,
    ],
  ])('%s reads no more than its filter’s selectivity implies', async (name, work, selectivity) => {
    const { ratio, items } = await measure(name, work);
    expect(items.length).toBeGreaterThan(0);
    // A filter reads 1/selectivity items per match on average; allow 25 % for the sample's spread.
    expect(ratio).toBeLessThanOrEqual((1 / selectivity) * 1.25);
  });
});
