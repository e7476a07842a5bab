/**
 * What the router sends to DynamoDB per path, counted by a middleware on the client (DynamoDB Local): the
 * calls, and the sequential round trips as issue 16's contract defines them (the times the number of calls
 * in flight goes from 0 to 1; calls made together are one round). Each path runs with a recorder of its
 * own, as a new invocation would: it knows no incident's head beforehand.
 */

import { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '#shared/audit';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import type { SettingsInput } from '#shared/settings';
import { type RouteOutcome, type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { localClient } from '../../../local/store.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { ec2Finding, placeOf, routerDeps } from '../../support/router.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

/** The calls a client sent and the rounds they came in. */
interface Traffic {
  calls: string[];
  rounds: number;
}

/** A document client on the test table whose every command is counted, with the rounds they made. */
function countedDocuments(endpoint: string): { doc: DynamoDBDocumentClient; traffic: Traffic } {
  const raw = localClient(endpoint);
  const traffic: Traffic = { calls: [], rounds: 0 };
  let inFlight = 0;
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      traffic.calls.push(String(context.commandName));
      if (inFlight++ === 0) traffic.rounds++;
      try {
        return await next(args);
      } finally {
        inFlight--;
      }
    },
    { step: 'initialize', name: 'countRounds' },
  );
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  return { doc, traffic };
}

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: stubPlaybooksStack(), waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

/** The router's deps on a counted client, with a recorder of its own; StartExecution counted apart. */
function counted(
  settings: Partial<SettingsInput> = {},
  now: () => Date = () => new Date(),
): {
  deps: RouterDeps;
  traffic: Traffic;
  starts: string[];
} {
  const { doc, traffic } = countedDocuments(t.table.endpoint);
  const sfn = makeClient(SFNClient, { service: 'SFN' });
  const starts: string[] = [];
  return {
    traffic,
    starts,
    deps: {
      ...routerDeps(t, settings, now),
      // The record keeps the router's time: an expired slot is checked against its holder's record.
      recorder: new AuditRecorder({
        client: doc,
        tableName: t.table.tableName,
        seal: t.table.trust.seal,
        clock: () => now().toISOString(),
      }),
      queries: new AuditQueries(doc, t.table.tableName),
      sfn: {
        send: ((command: { constructor: { name: string } }) => {
          starts.push(command.constructor.name);
          return sfn.send(command as never);
        }) as SFNClient['send'],
      },
    },
  };
}

async function routeOne(deps: RouterDeps, event: unknown): Promise<RouteOutcome | undefined> {
  const outcomes = await routeEvent(deps, event);
  expect(outcomes).toHaveLength(1);
  return outcomes[0];
}

describe("the router's round trips to DynamoDB", () => {
  it('opens a new finding automatically in 3 rounds and one StartExecution: the lock and its reads, one transaction, the start', async () => {
    const { deps, traffic, starts } = counted();
    const outcome = await routeOne(deps, ec2Finding('rounds-new-1', 'i-rounds-new-1', '810000000001'));
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'automatic' });
    expect(traffic.rounds).toBe(3);
    // The lock, the marker's read, the account's slots and the organization's (one Query each, together).
    expect([...traffic.calls].sort()).toEqual(
      [
        'UpdateItemCommand',
        'GetItemCommand',
        'QueryCommand',
        'QueryCommand',
        'TransactWriteItemsCommand',
        'TransactWriteItemsCommand',
      ].sort(),
    );
    expect(starts).toEqual(['StartExecutionCommand']);
    // What was written in those rounds: the incident, its two steps, the marker, the two slots and the finding.
    const incidentId = outcome?.outcome === 'started' ? outcome.incidentId : '';
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => s.action)).toEqual(['triage', 'start-playbook']);
    expect(
      await deps.queries.openIncidentFor(placeOf('810000000001'), { type: 'instance', id: 'i-rounds-new-1' }),
    ).toBe(incidentId);
    expect(
      (await deps.queries.automaticContainments('810000000001', new Date())).map((h) => h.incidentId),
    ).toEqual([incidentId]);
    expect((await deps.queries.organizationSlots(new Date())).holders).toContainEqual(
      expect.objectContaining({ incidentId, account: '810000000001', resourceId: 'i-rounds-new-1' }),
    );
    expect(await deps.queries.finding(placeOf('810000000001'), 'rounds-new-1')).toMatchObject({
      incidentId,
      status: 'routed',
      decision: { mode: 'automatic' },
    });
    expect((await t.runtime.recorder.verify(incidentId)).ok).toBe(true);
  });

  it('opens a new finding that waits for approval in 3 rounds too, without reading the slots', async () => {
    const { deps, traffic, starts } = counted({ playbookModes: { 'ec2-compromise': 'approval-first' } });
    const outcome = await routeOne(deps, ec2Finding('rounds-new-2', 'i-rounds-new-2', '810000000002'));
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    expect(traffic.rounds).toBe(3);
    expect([...traffic.calls].sort()).toEqual([
      'GetItemCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
    ]);
    expect(starts).toEqual(['StartExecutionCommand']);
  });

  it('needs one more round when the only free slot expired: its holder is read before it is taken', async () => {
    const account = '810000000003';
    let now = new Date('2026-04-01T10:00:00.000Z');
    const clock = () => now;
    const held = await routeOne(
      counted({ maxAutomaticContainmentsPerHour: 1 }, clock).deps,
      ec2Finding('rounds-expired-1', 'i-rounds-expired-1', account),
    );
    expect(held).toMatchObject({ outcome: 'started', mode: 'automatic' });
    now = new Date('2026-04-01T11:00:00.001Z');
    const { deps, traffic } = counted({ maxAutomaticContainmentsPerHour: 1 }, clock);
    const outcome = await routeOne(deps, ec2Finding('rounds-expired-2', 'i-rounds-expired-2', account));
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'automatic' });
    // The lock and its reads; the expired slot's holder verified (one Query); the transaction; the start.
    expect(traffic.rounds).toBe(4);
    // The slot is the second finding's now, taken from the first after its record said so.
    expect((await deps.queries.automaticContainments(account, now)).map((h) => h.incidentId)).toEqual([
      outcome?.outcome === 'started' ? outcome.incidentId : 'not started',
    ]);
  });

  it('records a finding with nothing to do in 1 round: the lock writes it routed, with the decision', async () => {
    const { deps, traffic, starts } = counted();
    const elsewhere = { ...deps, home: { account: '123456789012', region: 'us-east-1' } };
    const outcome = await routeOne(elsewhere, ec2Finding('rounds-none-1', 'i-rounds-none-1', '810000000009'));
    expect(outcome).toMatchObject({ outcome: 'no-action' });
    expect(traffic).toEqual({ calls: ['UpdateItemCommand'], rounds: 1 });
    expect(starts).toEqual([]);
    expect(await deps.queries.finding(placeOf('810000000009'), 'rounds-none-1')).toMatchObject({
      status: 'routed',
      decision: {
        playbook: null,
        mode: 'none',
        reasons: expect.arrayContaining([expect.stringMatching(/^account 810000000009 is not in scope/)]),
      },
    });
  });

  it('answers an identical repeat delivery in 1 round, and starts nothing', async () => {
    const event = ec2Finding('rounds-repeat-1', 'i-rounds-repeat-1', '810000000004');
    const [first] = await routeEvent(counted().deps, structuredClone(event));
    expect(first).toMatchObject({ outcome: 'started' });
    const { deps, traffic, starts } = counted();
    const outcome = await routeOne(deps, event);
    expect(outcome).toMatchObject({ outcome: 'duplicate', deliveries: 2 });
    expect(traffic.rounds).toBe(1);
    // The lock, and beside it the reads an automatic finding makes, unused.
    expect([...traffic.calls].sort()).toEqual([
      'GetItemCommand',
      'QueryCommand',
      'QueryCommand',
      'UpdateItemCommand',
    ]);
    expect(starts).toEqual([]);
  });

  it('raises the last-seen time of a repeat delivery that reports a later one in 3 rounds', async () => {
    const event = ec2Finding('rounds-repeat-2', 'i-rounds-repeat-2', '810000000005', '2026-04-01T00:00:00Z');
    const [first] = await routeEvent(counted().deps, structuredClone(event));
    const incidentId = first?.outcome === 'started' ? first.incidentId : 'not started';
    const { deps, traffic } = counted();
    const later = ec2Finding('rounds-repeat-2', 'i-rounds-repeat-2', '810000000005', '2026-04-02T00:00:00Z');
    expect(await routeOne(deps, later)).toMatchObject({ outcome: 'duplicate', incidentId });
    // The lock; the finding's raise beside the read of the incident's head; the raise step, after the
    // read (2 rounds when the finding's raise is still in flight then, as the contract counts them).
    expect(traffic.rounds).toBeLessThanOrEqual(3);
    expect([...traffic.calls].sort()).toEqual(
      [
        'UpdateItemCommand',
        'GetItemCommand',
        'QueryCommand',
        'QueryCommand',
        'UpdateItemCommand',
        'GetItemCommand',
        'TransactWriteItemsCommand',
      ].sort(),
    );
    expect((await t.runtime.recorder.getIncident(incidentId)).lastSeen).toBe('2026-04-02T00:00:00.000Z');
    expect(await deps.queries.finding(placeOf('810000000005'), 'rounds-repeat-2')).toMatchObject({
      lastSeen: '2026-04-02T00:00:00.000Z',
    });
    expect((await t.runtime.recorder.verify(incidentId)).ok).toBe(true);
  });

  it('joins a correlated finding in 3 rounds: the lock and the marker, the holder verified, one write', async () => {
    const account = '810000000006';
    const [first] = await routeEvent(
      counted().deps,
      ec2Finding('rounds-corr-1', 'i-rounds-corr', account, '2026-04-01T00:00:00Z'),
    );
    const incidentId = first?.outcome === 'started' ? first.incidentId : 'not started';
    const { deps, traffic, starts } = counted();
    const outcome = await routeOne(
      deps,
      ec2Finding('rounds-corr-2', 'i-rounds-corr', account, '2026-04-03T00:00:00Z'),
    );
    expect(outcome).toMatchObject({ outcome: 'correlated', incidentId });
    expect(traffic.rounds).toBe(3);
    // The lock, the marker, the two slots' Queries (unused) and the holder's record.
    expect([...traffic.calls].sort()).toEqual([
      'GetItemCommand',
      'QueryCommand',
      'QueryCommand',
      'QueryCommand',
      'TransactWriteItemsCommand',
      'UpdateItemCommand',
    ]);
    expect(starts).toEqual([]);
    // The one write joined the finding, marked it routed and raised the incident's last-seen time.
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => s.action)).toEqual(['triage', 'start-playbook', 'correlate-finding']);
    expect(steps.at(-1)?.incident).toEqual({ lastSeen: '2026-04-03T00:00:00.000Z' });
    expect(await deps.queries.finding(placeOf('810000000006'), 'rounds-corr-2')).toMatchObject({
      incidentId,
      status: 'routed',
    });
    expect((await t.runtime.recorder.getIncident(incidentId)).lastSeen).toBe('2026-04-03T00:00:00.000Z');
    expect((await t.runtime.recorder.verify(incidentId)).ok).toBe(true);
  });
});
