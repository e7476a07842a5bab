/**
 * Every step in its incident's account and region, on DynamoDB Local: the recorder stamps the place on
 * each step it writes, whichever recorder writes it and however it learnt the head (its own opening, a read
 * of the incident item, a refusal, a head that lags its steps), at no DynamoDB call more; it refuses a step
 * that names another place; the opening writes the incident's by-place key and its place item; and a
 * record opened before incidents had a place item still verifies, and takes stamped steps.
 */
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, NewIncident } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { PLACE_ITEM_MARK } from '#shared/audit-verify';
import { PlaceMismatchError } from '#shared/errors';
import { openingHash, stepHash } from '#shared/hash-chain';
import { stepMacMessage } from '#shared/seal';
import { createTestTable, type TestTable } from '../../support/store.ts';

type Item = Record<string, unknown>;

const MEMBER = { account: '883606788610', region: 'eu-west-1' } as const;

const incidentInput = (overrides: Partial<NewIncident> = {}): NewIncident => ({
  title: 'Backdoor:EC2/C&CActivity.B!DNS on i-0place00000000001',
  findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  ...MEMBER,
  resources: [{ type: 'instance', id: 'i-0place00000000001' }],
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
  table = await createTestTable('places');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

async function commandsOf(run: () => Promise<unknown>): Promise<string[]> {
  const before = table.commands.length;
  await run();
  return table.commands.slice(before);
}

const get = async (key: { pk: string; sk: string }): Promise<Item | undefined> =>
  (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }))).Item;

/** The account and region of every stored step of an incident, in order. */
async function stepPlaces(incidentId: string): Promise<{ account: unknown; region: unknown }[]> {
  return (await recorder.storedSteps(incidentId)).map((s) => ({ account: s.account, region: s.region }));
}

const everyStepIn = (n: number) => Array.from({ length: n }, () => MEMBER);

describe('the opening', () => {
  it("writes the incident's account key and its place item, and knows its place", async () => {
    const incident = await recorder.openIncident(incidentInput());
    const item = await get(keys.incident(incident.id));
    const timeKey = `${incident.openedAt}#${incident.id}`;
    expect(item).toMatchObject({ gsi4pk: `ACCOUNT#${MEMBER.account}`, gsi4sk: timeKey });
    expect(item?.opening).toMatchObject({ [PLACE_ITEM_MARK]: true });
    expect(await get(keys.place(incident.id))).toEqual({
      ...keys.place(incident.id),
      gsi4pk: `REGION#${MEMBER.region}`,
      gsi4sk: timeKey,
      incidentId: incident.id,
      ...MEMBER,
      openedAt: incident.openedAt,
    });
    expect(recorder.placeOf(incident.id)).toEqual(MEMBER);
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true });
  });

  it('stamps the steps it opens with, and refuses one in another place, writing nothing', async () => {
    const { incident, steps } = await recorder.openIncidentWith(incidentInput(), {
      steps: [note('triage'), { ...note('playbook'), ...MEMBER }],
    });
    expect(steps.map((s) => [s.account, s.region])).toEqual([
      [MEMBER.account, MEMBER.region],
      [MEMBER.account, MEMBER.region],
    ]);
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(2));
    const refused = incidentInput({ id: 'inc-place-refused' });
    await expect(
      recorder.openIncidentWith(refused, { steps: [{ ...note(1), account: '123456789012' }] }),
    ).rejects.toThrow(PlaceMismatchError);
    expect(await get(keys.incident('inc-place-refused'))).toBeUndefined();
    expect(await get(keys.place('inc-place-refused'))).toBeUndefined();
  });
});

describe('every step carries the place', () => {
  it('from the recorder that opened the incident: one write per step', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (let n = 1; n <= 2; n++) {
      expect(await commandsOf(() => recorder.appendStep(incident.id, note(n)))).toEqual([
        'TransactWriteItemsCommand',
      ]);
    }
    await recorder.updateIncident(incident.id, {
      status: 'contained',
      containedAt: '2026-11-01T10:06:00.000Z',
    });
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(3));
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 3 });
  });

  it('from another recorder, which learns it with the one read of the head it makes anyway', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const other = table.recorder();
    expect(other.placeOf(incident.id)).toBeUndefined();
    const calls = await commandsOf(async () => {
      await other.appendStep(incident.id, { ...note(1), status: 'started' });
      await other.appendStep(incident.id, { ...note(1), status: 'succeeded' });
    });
    expect(calls).toEqual(['GetItemCommand', 'TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(other.placeOf(incident.id)).toEqual(MEMBER);
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(2));
  });

  it('asked for before a step (placeFor), with the read the step then does not repeat', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const other = table.recorder();
    const calls = await commandsOf(async () => {
      expect(await other.placeFor(incident.id)).toEqual(MEMBER);
      await other.appendStep(incident.id, note(1));
      await other.appendStep(incident.id, note(2));
    });
    expect(calls).toEqual(['GetItemCommand', 'TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(2));
  });

  it('after a refusal: the head and the place learnt from the item the refusal returns', async () => {
    const incident = await recorder.openIncident(incidentInput());
    const other = table.recorder();
    await other.appendStep(incident.id, note('other 1'));
    await other.appendStep(incident.id, note('other 2'));
    const calls = await commandsOf(() => recorder.appendStep(incident.id, note('late')));
    expect(calls).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(3));
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 3 });
  });

  it('after a head that lags its steps, recovered by the Query of the last step', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (let n = 1; n <= 3; n++) await recorder.appendStep(incident.id, note(n));
    const first = await get(keys.step(incident.id, 1));
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.incident(incident.id),
        UpdateExpression: 'SET lastSeq = :s, lastHash = :h, lastMac = :m',
        ExpressionAttributeValues: { ':s': 1, ':h': first?.hash, ':m': first?.mac },
      }),
    );
    const writer = table.recorder();
    expect(await commandsOf(() => writer.appendStep(incident.id, note(4)))).toEqual([
      'GetItemCommand',
      'TransactWriteItemsCommand',
      'QueryCommand',
      'TransactWriteItemsCommand',
    ]);
    expect(await stepPlaces(incident.id)).toEqual(everyStepIn(4));
  });

  it('refuses a step that names another account or region, and writes nothing', async () => {
    const incident = await recorder.openIncident(incidentInput());
    for (const elsewhere of [{ account: '123456789012' }, { region: 'us-east-1' }]) {
      const before = table.commands.length;
      await expect(recorder.appendStep(incident.id, { ...note('elsewhere'), ...elsewhere })).rejects.toThrow(
        PlaceMismatchError,
      );
      expect(table.commands.slice(before)).toEqual([]);
      await expect(
        table.recorder().appendStep(incident.id, { ...note('elsewhere'), ...elsewhere }),
      ).rejects.toThrow(/incident .* is in account 883606788610, region eu-west-1/);
    }
    expect(await recorder.storedSteps(incident.id)).toEqual([]);
    // The same place, said or not, is recorded.
    expect((await recorder.appendStep(incident.id, { ...note('here'), ...MEMBER })).account).toBe(
      MEMBER.account,
    );
  });
});

describe('a record opened before incidents had a place item', () => {
  /**
   * An incident and one step as the recorder wrote them before: no by-place key, no place item, no mark in
   * its opening, no place on its step; sealed and anchored (an honest old recorder held the key too).
   */
  async function oldRecord(id: string): Promise<void> {
    const { seal } = table.trust;
    const openedAt = '2026-10-01T10:00:00.000Z';
    const opening = {
      id,
      status: 'open',
      title: 'Backdoor:EC2/C&CActivity.B!DNS on i-0place0000000old1',
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      ...MEMBER,
      resources: [{ type: 'instance', id: 'i-0place0000000old1' }],
      openedAt,
      firstSeen: openedAt,
      lastSeen: openedAt,
    };
    const hash = openingHash(opening);
    const timeKey = `${openedAt}#${id}`;
    const step: Item = {
      ...keys.step(id, 1),
      gsi3pk: keys.actor('automation'),
      gsi3sk: `${openedAt}#${id}#1`,
      ...note('old'),
      incidentId: id,
      seq: 1,
      startedAt: openedAt,
      recordedAt: openedAt,
      prevHash: hash,
    };
    step.hash = stepHash(step);
    step.mac = await seal.mac(stepMacMessage(id, 1, String(step.hash)));
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: step }));
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...keys.incident(id),
          gsi1pk: keys.month(openedAt),
          gsi1sk: timeKey,
          gsi2pk: keys.status('open'),
          gsi2sk: timeKey,
          gsi3pk: keys.type(opening.findingType),
          gsi3sk: timeKey,
          ...opening,
          opening,
          openingHash: hash,
          openingMac: await seal.mac(stepMacMessage(id, 0, hash)),
          lastSeq: 1,
          lastHash: step.hash,
          lastMac: step.mac,
        },
      }),
    );
    await seal.anchor({ incidentId: id, seq: 0, hash });
    await seal.anchor({ incidentId: id, seq: 1, hash: String(step.hash) });
  }

  it('verifies without them, and takes steps stamped with the place its incident item states', async () => {
    await oldRecord('inc-place-old');
    const fresh = table.recorder();
    expect(await fresh.verify('inc-place-old')).toMatchObject({ ok: true, steps: 1 });
    await fresh.appendStep('inc-place-old', note('new'));
    expect(fresh.placeOf('inc-place-old')).toEqual(MEMBER);
    expect(await stepPlaces('inc-place-old')).toEqual([{ account: undefined, region: undefined }, MEMBER]);
    expect(await table.recorder().verify('inc-place-old')).toMatchObject({ ok: true, steps: 2 });
  });
});
