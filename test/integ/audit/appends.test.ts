/**
 * The recorder's append protocol on DynamoDB Local: one write per step (the step, the head and the step's
 * incident changes in one transaction), counted with the table's command counter; the head learnt from a
 * refusal; a head that lags its steps recovered; writes made alongside all-or-nothing; the last-seen time
 * only ever raised; and a record verified with one Query of its partition.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AlongsideWrite, AuditRecorder, NewIncident } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { ConditionsFailedError, ValidationError } from '#shared/errors';
import { createTestTable, type TestTable } from '../../support/store.ts';

type Item = Record<string, unknown>;

const incidentInput = (overrides: Partial<NewIncident> = {}): NewIncident => ({
  title: 'Backdoor:EC2/C&CActivity.B!DNS on i-0append0000000001',
  findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: 'i-0append0000000001' }],
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:05:00.000Z',
  ...overrides,
});
const note = (n: number | string) =>
  ({
    phase: 'identification',
    action: 'note',
    status: 'noted',
    actor: 'automation',
    note: `note ${n}`,
  }) as const;

let table: TestTable;
let recorder: AuditRecorder;

beforeAll(async () => {
  table = await createTestTable('appends');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

/** The DynamoDB commands `run` sends on the table's client, by name. */
async function commandsOf(run: () => Promise<unknown>): Promise<string[]> {
  const before = table.commands.length;
  await run();
  return table.commands.slice(before);
}

const incidentItem = async (incidentId: string): Promise<Item> =>
  (
    await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId), ConsistentRead: true }),
    )
  ).Item as Item;
const stored = async (incidentId: string, seq: number): Promise<Item | undefined> =>
  (
    await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: keys.step(incidentId, seq), ConsistentRead: true }),
    )
  ).Item;
const setIncident = (incidentId: string, set: Item, remove: string[] = []) =>
  table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: keys.incident(incidentId),
      UpdateExpression: [
        Object.keys(set).length > 0
          ? `SET ${Object.keys(set)
              .map((_, i) => `#s${i} = :v${i}`)
              .join(', ')}`
          : '',
        remove.length > 0 ? `REMOVE ${remove.map((_, i) => `#r${i}`).join(', ')}` : '',
      ].join(' '),
      ExpressionAttributeNames: {
        ...Object.fromEntries(Object.keys(set).map((f, i) => [`#s${i}`, f])),
        ...Object.fromEntries(remove.map((f, i) => [`#r${i}`, f])),
      },
      ...(Object.keys(set).length > 0
        ? { ExpressionAttributeValues: Object.fromEntries(Object.values(set).map((v, i) => [`:v${i}`, v])) }
        : {}),
    }),
  );

/** Expects the incident's head at its last stored step, and the record to verify. */
async function expectHeadAtLastStep(incidentId: string, steps: number): Promise<void> {
  const item = await incidentItem(incidentId);
  const last = await stored(incidentId, steps);
  expect(await stored(incidentId, steps + 1)).toBeUndefined();
  expect(item).toMatchObject({ lastSeq: steps, lastHash: last?.hash, lastMac: last?.mac });
  expect(await table.recorder().verify(incidentId)).toMatchObject({ ok: true, steps });
}

/** An item of the test's own, written alongside a step: `v` must be `expected` for the write to happen. */
function alongside(label: string, pk: string, expected: number | undefined, next: number): AlongsideWrite {
  return {
    label,
    write: {
      Update: {
        TableName: table.tableName,
        Key: { pk, sk: 'ALONGSIDE' },
        UpdateExpression: 'SET v = :next',
        ConditionExpression: expected === undefined ? 'attribute_not_exists(pk)' : 'v = :expected',
        ExpressionAttributeValues: {
          ':next': next,
          ...(expected === undefined ? {} : { ':expected': expected }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    },
  };
}
const alongsideItem = async (pk: string) =>
  (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: { pk, sk: 'ALONGSIDE' } }))).Item;

describe('one write per step', () => {
  it('writes a step with a known head in exactly one DynamoDB call, its head moved with it', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (let n = 1; n <= 3; n++) {
      expect(await commandsOf(() => recorder.appendStep(incident.id, note(n)))).toEqual([
        'TransactWriteItemsCommand',
      ]);
    }
    expect(
      await commandsOf(() =>
        recorder.updateIncident(incident.id, {
          status: 'contained',
          containedAt: '2026-11-01T10:06:00.000Z',
        }),
      ),
    ).toEqual(['TransactWriteItemsCommand']);
    await expectHeadAtLastStep(incident.id, 4);
    expect((await recorder.getIncident(incident.id)).status).toBe('contained');
  });

  it('from a fresh recorder: one read of the head, then one write per step', async () => {
    const incident = await recorder.openIncident(incidentInput());
    await recorder.appendStep(incident.id, note(1));
    const fresh = table.recorder();
    const calls = await commandsOf(async () => {
      await fresh.appendStep(incident.id, note(2));
      await fresh.appendStep(incident.id, note(3));
    });
    expect(calls).toEqual(['GetItemCommand', 'TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    await expectHeadAtLastStep(incident.id, 3);
  });

  it('learns the head from the refusal when another writer appended first: no read, one more write', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const other = table.recorder();
    await other.appendStep(incident.id, note('other 1'));
    await other.appendStep(incident.id, note('other 2'));
    // `recorder` still believes the head is at the opening.
    const calls = await commandsOf(() => recorder.appendStep(incident.id, note('late')));
    expect(calls).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect((await recorder.steps(incident.id)).map((s) => s.note)).toEqual([
      'note other 1',
      'note other 2',
      'note late',
    ]);
    await expectHeadAtLastStep(incident.id, 3);
  });

  it('opens an incident with its first steps in one write, the head at the last of them', async () => {
    const { incident, steps } = await recorder.openIncidentWith(incidentInput(), {
      steps: [note('triage'), { ...note('playbook'), incident: { playbook: 'ec2-compromise' } }],
    });
    expect(steps.map((s) => s.seq)).toEqual([1, 2]);
    expect(incident.playbook).toBe('ec2-compromise');
    await expectHeadAtLastStep(incident.id, 2);
    // The recorder knows the head it wrote.
    expect(await commandsOf(() => recorder.appendStep(incident.id, note(3)))).toEqual([
      'TransactWriteItemsCommand',
    ]);
    await expectHeadAtLastStep(incident.id, 3);
  });

  it('keeps the chain contiguous with the head at its last step under many concurrent writers', async () => {
    const incident = await recorder.openIncident(incidentInput());
    // Twelve invocations at once, each a fresh recorder (a Lambda container) writing a started and a final step.
    await Promise.all(
      Array.from({ length: 12 }, async (_, w) => {
        const writer = table.recorder();
        await writer.appendStep(incident.id, { ...note(`w${w}`), status: 'started' });
        await writer.appendStep(incident.id, { ...note(`w${w}`), status: 'succeeded' });
      }),
    );
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.seq)).toEqual(Array.from({ length: 24 }, (_, i) => i + 1));
    for (let w = 0; w < 12; w++) {
      expect(steps.filter((s) => s.note === `note w${w}`).map((s) => s.status)).toEqual([
        'started',
        'succeeded',
      ]);
    }
    await expectHeadAtLastStep(incident.id, 24);
  });
});

describe('a head that lags its steps', () => {
  it('is recovered: an attacker moved the head back, and the next append moves it past the last step', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (let n = 1; n <= 4; n++) await recorder.appendStep(incident.id, note(n));
    const second = await stored(incident.id, 2);
    await setIncident(incident.id, { lastSeq: 2, lastHash: second?.hash, lastMac: second?.mac });
    const writer = table.recorder();
    // The head, the write refused for its taken place, the real last step, the write past it.
    expect(await commandsOf(() => writer.appendStep(incident.id, note(5)))).toEqual([
      'GetItemCommand',
      'TransactWriteItemsCommand',
      'QueryCommand',
      'TransactWriteItemsCommand',
    ]);
    expect((await writer.steps(incident.id)).map((s) => s.seq)).toEqual([1, 2, 3, 4, 5]);
    await expectHeadAtLastStep(incident.id, 5);
    // The recorder that wrote steps 1 to 4 believes the head is at 4: it learns where it is now.
    expect((await recorder.appendStep(incident.id, note(6))).seq).toBe(6);
    await expectHeadAtLastStep(incident.id, 6);
  });

  it('is recovered on a record from before the head kept its MAC, or before it had a head at all', async () => {
    for (const remove of [['lastMac'], ['lastSeq', 'lastHash', 'lastMac']]) {
      const incident = await recorder.openIncident(incidentInput());
      for (let n = 1; n <= 3; n++) await recorder.appendStep(incident.id, note(n));
      await setIncident(incident.id, {}, remove);
      const step = await table.recorder().appendStep(incident.id, note(4));
      expect(step.seq, `without ${remove.join(', ')}`).toBe(4);
      await expectHeadAtLastStep(incident.id, 4);
    }
  });
});

describe('writes alongside', () => {
  it('are written with the step, in the same call', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const calls = await commandsOf(() =>
      recorder.appendStep(incident.id, note(1), {
        alongside: [
          alongside('first', 'ALONG#ok-1', undefined, 1),
          alongside('second', 'ALONG#ok-2', undefined, 1),
        ],
      }),
    );
    expect(calls).toEqual(['TransactWriteItemsCommand']);
    expect(await alongsideItem('ALONG#ok-1')).toMatchObject({ v: 1 });
    expect(await alongsideItem('ALONG#ok-2')).toMatchObject({ v: 1 });
    await expectHeadAtLastStep(incident.id, 1);
  });

  it('are all or nothing: a failed condition names its label, returns its item, and nothing is written', async () => {
    const incident = await recorder.openIncident(incidentInput());
    await recorder.appendStep(incident.id, note(1));
    await table.doc.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'ALONG#taken', sk: 'ALONGSIDE', v: 7 } }),
    );
    const head = await incidentItem(incident.id);
    const error = await recorder
      .appendStep(incident.id, note(2), {
        alongside: [
          alongside('fresh', 'ALONG#fresh', undefined, 1),
          alongside('slot 3', 'ALONG#taken', 6, 8),
        ],
      })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConditionsFailedError);
    expect((error as ConditionsFailedError).failed).toEqual([
      { label: 'slot 3', item: { pk: 'ALONG#taken', sk: 'ALONGSIDE', v: 7 } },
    ]);
    expect(String(error)).toMatch(/slot 3/);
    expect(await stored(incident.id, 2)).toBeUndefined();
    expect(await alongsideItem('ALONG#fresh')).toBeUndefined();
    expect(await alongsideItem('ALONG#taken')).toMatchObject({ v: 7 });
    expect(await incidentItem(incident.id)).toEqual(head);
    // The recorder still knows the head: the next append is one write.
    expect(await commandsOf(() => recorder.appendStep(incident.id, note(2)))).toEqual([
      'TransactWriteItemsCommand',
    ]);
  });

  it('are retried with the step when another writer appended first', async () => {
    const incident = await recorder.openIncident(incidentInput());
    await table.recorder().appendStep(incident.id, note('other'));
    const step = await recorder.appendStep(incident.id, note('mine'), {
      alongside: [alongside('marker', 'ALONG#retried', undefined, 1)],
    });
    expect(step.seq).toBe(2);
    expect(await alongsideItem('ALONG#retried')).toMatchObject({ v: 1 });
    await expectHeadAtLastStep(incident.id, 2);
  });

  it('open an incident with it or not at all; an id already taken is refused as such, whatever else failed', async () => {
    await table.doc.send(
      new PutCommand({ TableName: table.tableName, Item: { pk: 'ALONG#open-taken', sk: 'ALONGSIDE', v: 1 } }),
    );
    const id = 'appends-open-1';
    const refused = await recorder
      .openIncidentWith(incidentInput({ id }), {
        steps: [note('triage')],
        alongside: [alongside('open-marker', 'ALONG#open-taken', undefined, 2)],
      })
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ConditionsFailedError);
    expect((refused as ConditionsFailedError).failed.map((f) => f.label)).toEqual(['open-marker']);
    expect(
      await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.incident(id) })),
    ).not.toHaveProperty('Item');
    expect(await stored(id, 1)).toBeUndefined();

    await recorder.openIncidentWith(incidentInput({ id }), {
      steps: [note('triage')],
      alongside: [alongside('open-marker', 'ALONG#open-new', undefined, 1)],
    });
    expect(await alongsideItem('ALONG#open-new')).toMatchObject({ v: 1 });
    const again = await recorder
      .openIncidentWith(incidentInput({ id }), {
        alongside: [alongside('open-marker', 'ALONG#open-new', undefined, 1)],
      })
      .catch((e: unknown) => e);
    expect(again).toBeInstanceOf(ValidationError);
    expect(String(again)).toMatch(/already exists/);
    await expectHeadAtLastStep(id, 1);
  });
});

describe('raising the last-seen time', () => {
  it('raises it in the same write, and says so on the step', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const calls = await commandsOf(async () => {
      const step = await recorder.appendStep(incident.id, note('correlate'), {
        raiseLastSeen: '2026-11-01T11:00:00.000Z',
      });
      expect(step.incident).toEqual({ lastSeen: '2026-11-01T11:00:00.000Z' });
    });
    expect(calls).toEqual(['TransactWriteItemsCommand']);
    expect((await recorder.getIncident(incident.id)).lastSeen).toBe('2026-11-01T11:00:00.000Z');
    await expectHeadAtLastStep(incident.id, 1);
  });

  it('never lowers it: an earlier time writes the step without the change', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const step = await recorder.appendStep(incident.id, note('late delivery'), {
      raiseLastSeen: '2026-11-01T10:00:00.000Z',
    });
    expect(step.incident).toBeUndefined();
    // Raised by another writer since this recorder learnt the head: the condition refuses, the step stays.
    await table.recorder().raiseLastSeen(incident.id, '2026-11-01T12:00:00.000Z');
    const again = await recorder.appendStep(incident.id, note('older'), {
      raiseLastSeen: '2026-11-01T11:00:00.000Z',
    });
    expect(again.incident).toBeUndefined();
    expect(again.seq).toBe(3);
    expect((await recorder.getIncident(incident.id)).lastSeen).toBe('2026-11-01T12:00:00.000Z');
    // The method of its own writes nothing when the time is not later.
    expect(await commandsOf(() => recorder.raiseLastSeen(incident.id, '2026-11-01T12:00:00.000Z'))).toEqual(
      [],
    );
    await expectHeadAtLastStep(incident.id, 3);
  });

  it('ends at the latest of many raises made at once, in any order', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const times = Array.from({ length: 10 }, (_, i) => `2026-11-02T00:${String(i).padStart(2, '0')}:00.000Z`);
    await Promise.all(
      [...times]
        .reverse()
        .map((time, i) =>
          i % 2 === 0
            ? table.recorder().raiseLastSeen(incident.id, time)
            : table.recorder().appendStep(incident.id, note(time), { raiseLastSeen: time }),
        ),
    );
    expect((await recorder.getIncident(incident.id)).lastSeen).toBe(times.at(-1));
    const raised = (await recorder.steps(incident.id))
      .map((s) => s.incident?.lastSeen)
      .filter((t): t is string => t !== undefined);
    // Each recorded raise is later than the one before it.
    expect([...raised].sort()).toEqual(raised);
    expect(new Set(raised).size).toBe(raised.length);
  });
});

describe('verified', () => {
  it('reads the incident and its steps with one Query, then appends with no read', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (let n = 1; n <= 3; n++) await recorder.appendStep(incident.id, note(n));
    const joining = table.recorder();
    const calls = await commandsOf(async () => {
      const record = await joining.verified(incident.id);
      expect(record.steps).toHaveLength(3);
      expect(record.incident).not.toHaveProperty('lastMac');
      await joining.appendStep(incident.id, note(4));
    });
    expect(calls).toEqual(['QueryCommand', 'TransactWriteItemsCommand']);
    await expectHeadAtLastStep(incident.id, 4);
  });
});
