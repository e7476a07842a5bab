/**
 * Tampering with the stored record, edit by edit, on DynamoDB Local: each kind of edit a person with write
 * access to the table could make, and what `AuditRecorder.verify` (what `cordon verify` runs) says.
 *
 * The chain is SHA-256 with no key and no anchor outside the table, and the incident's head (`lastSeq`,
 * `lastHash`) is moved after each step is written, so a head one step behind is normal after a crash.
 * The edits verify cannot see follow from that, and are named as such below rather than hidden.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, VerifyResult } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { IncidentNotFoundError } from '#shared/errors';
import { stepHash } from '#shared/hash-chain';
import { createTestTable, type TestTable } from '../../support/store.ts';

type Item = Record<string, unknown>;

let table: TestTable;
let recorder: AuditRecorder;

beforeAll(async () => {
  table = await createTestTable('tamper');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

const STEPS = 5;

/** An incident with five steps, each with every field a step can have. */
async function chain(): Promise<string> {
  const incident = await recorder.openIncident({
    title: 'Backdoor:EC2/C&CActivity.B!DNS on i-0tamper000000001',
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '123456789012',
    region: 'us-east-1',
    resources: [{ type: 'instance', id: 'i-0tamper000000001' }],
    firstSeen: '2026-11-01T10:00:00.000Z',
    lastSeen: '2026-11-01T10:05:00.000Z',
  });
  for (let i = 1; i <= STEPS; i++) {
    await recorder.appendStep(incident.id, {
      phase: 'containment',
      action: 'ec2-isolate',
      status: i % 2 ? 'started' : 'failed',
      actor: i === 4 ? 'alice@example.com' : 'automation',
      input: { instanceId: 'i-0tamper000000001', attempt: i },
      before: { groups: ['sg-web', 'sg-admin'] },
      changes: { groups: ['sg-isolation'] },
      evidence: [`snap-0${i}`],
      error: { name: 'ThrottlingException', message: 'Rate exceeded' },
      note: `step ${i}`,
      startedSeq: i,
      startedAt: `2026-11-01T10:0${i}:00.000Z`,
      executionArn: 'arn:aws:states:us-east-1:123456789012:execution:cordon-ec2-compromise:x',
      dryRun: false,
    });
  }
  expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: STEPS });
  return incident.id;
}

const stored = async (incidentId: string, seq: number): Promise<Item> => {
  const result = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: keys.step(incidentId, seq), ConsistentRead: true }),
  );
  if (!result.Item) throw new Error(`no step ${seq} of ${incidentId}`);
  return result.Item;
};
const put = (item: Item) => table.doc.send(new PutCommand({ TableName: table.tableName, Item: item }));
const remove = (incidentId: string, seq: number) =>
  table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.step(incidentId, seq) }));
const setIncident = (incidentId: string, fields: Item) =>
  table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: keys.incident(incidentId),
      UpdateExpression: `SET ${Object.keys(fields)
        .map((_, i) => `#f${i} = :v${i}`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(fields).map((f, i) => [`#f${i}`, f])),
      ExpressionAttributeValues: Object.fromEntries(Object.values(fields).map((v, i) => [`:v${i}`, v])),
    }),
  );

/** A step's content moved to another position: keys, `seq` and, when asked, the chain fixed up. */
function placed(item: Item, incidentId: string, seq: number): Item {
  return { ...item, ...keys.step(incidentId, seq), seq };
}

/** Recomputes `prevHash` and `hash` of the steps from `from` to the end, as a forger would. */
async function rechain(incidentId: string, from: number, last: number): Promise<string> {
  let prevHash = from === 1 ? '0'.repeat(64) : String((await stored(incidentId, from - 1)).hash);
  for (let seq = from; seq <= last; seq++) {
    const item: Item = { ...(await stored(incidentId, seq)), prevHash };
    item.hash = stepHash(item);
    await put(item);
    prevHash = String(item.hash);
  }
  return prevHash;
}

/** A different value of the same shape, so that only the content changes. */
function changed(value: unknown): unknown {
  if (typeof value === 'number') return value + 1;
  if (typeof value === 'boolean') return !value;
  if (typeof value === 'string') return `${value}x`;
  if (Array.isArray(value)) return [...value, 'x'];
  return { ...(value as Item), tampered: true };
}

function expectBroken(result: VerifyResult, seq: number, reason: RegExp): void {
  expect(result).toMatchObject({ ok: false, brokenSeq: seq });
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe('a changed field', () => {
  for (const [where, seq] of [
    ['first', 1],
    ['middle', 3],
    ['last', STEPS],
  ] as const) {
    it(`names the ${where} step when any one of its fields is changed`, async () => {
      const incidentId = await chain();
      const original = await stored(incidentId, seq);
      const fields = Object.keys(original).filter((f) => f !== 'pk' && f !== 'sk');
      // Every field of a step, its place in the chain and its index keys included.
      expect(fields.sort()).toEqual(
        [
          'action',
          'actor',
          'before',
          'changes',
          'dryRun',
          'error',
          'evidence',
          'executionArn',
          'gsi3pk',
          'gsi3sk',
          'hash',
          'incidentId',
          'input',
          'note',
          'phase',
          'prevHash',
          'recordedAt',
          'seq',
          'startedAt',
          'startedSeq',
          'status',
        ].sort(),
      );
      for (const field of fields) {
        await put({ ...original, [field]: changed(original[field]) });
        const result = await recorder.verify(incidentId);
        expect(result, `changing ${field}`).toMatchObject({ ok: false, brokenSeq: seq });
        await put(original);
      }
      expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
    });
  }

  it('names the step whose nested value was changed, or a field added or removed', async () => {
    const incidentId = await chain();
    const original = await stored(incidentId, 2);
    const edits: Item[] = [
      { ...original, input: { instanceId: 'i-0other00000000001', attempt: 2 } },
      { ...original, before: { groups: ['sg-web'] } },
      { ...original, evidence: [] },
      { ...original, approvedBy: 'mallory@example.com' },
      Object.fromEntries(Object.entries(original).filter(([k]) => k !== 'error')),
      // The same number as a string: DynamoDB keeps the type, and so does the hash.
      { ...original, startedSeq: String(original.startedSeq) },
    ];
    for (const edit of edits) {
      await put(edit);
      expectBroken(await recorder.verify(incidentId), 2, /step 2 was changed/);
      await put(original);
    }
  });

  it('names the step whose edit was hidden by recomputing its own hash: the next step no longer follows it', async () => {
    const incidentId = await chain();
    const forged: Item = { ...(await stored(incidentId, 2)), actor: 'someone-else@example.com' };
    forged.hash = stepHash(forged);
    await put(forged);
    expectBroken(await recorder.verify(incidentId), 3, /step 3 does not follow step 2/);
  });
});

describe('a deleted step', () => {
  for (const [where, seq] of [
    ['first', 1],
    ['middle', 3],
  ] as const) {
    it(`names the ${where} step when it is deleted`, async () => {
      const incidentId = await chain();
      await remove(incidentId, seq);
      expectBroken(
        await recorder.verify(incidentId),
        seq,
        new RegExp(`step ${seq} is missing \\(the next stored step is ${seq + 1}\\)`),
      );
    });
  }

  it('names the last step when it is deleted, from the incident head', async () => {
    const incidentId = await chain();
    await remove(incidentId, STEPS);
    expectBroken(
      await recorder.verify(incidentId),
      STEPS,
      new RegExp(`step ${STEPS} is missing \\(the incident's head is at step ${STEPS}\\)`),
    );
  });

  it('names step 1 when every step is deleted', async () => {
    const incidentId = await chain();
    for (let seq = 1; seq <= STEPS; seq++) await remove(incidentId, seq);
    expectBroken(await recorder.verify(incidentId), 1, /step 1 is missing/);
  });

  it('names a deleted step even when the later steps are renumbered to close the gap', async () => {
    const incidentId = await chain();
    for (let seq = 3; seq < STEPS; seq++)
      await put(placed(await stored(incidentId, seq + 1), incidentId, seq));
    await remove(incidentId, STEPS);
    expectBroken(await recorder.verify(incidentId), 3, /step 3 was changed|does not follow/);
  });

  it('refuses to verify an incident whose own item was deleted', async () => {
    const incidentId = await chain();
    await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }));
    await expect(recorder.verify(incidentId)).rejects.toBeInstanceOf(IncidentNotFoundError);
  });
});

describe('a reordered step', () => {
  it("names the first of two steps whose whole items were swapped: each says it is the other's", async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put({ ...four, ...keys.step(incidentId, 2) });
    await put({ ...two, ...keys.step(incidentId, 4) });
    expectBroken(await recorder.verify(incidentId), 2, /step 2 was moved: its content says .* step 4/);
  });

  it('names the first of two steps whose contents were swapped with their numbers fixed up', async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put(placed(four, incidentId, 2));
    await put(placed(two, incidentId, 4));
    expectBroken(await recorder.verify(incidentId), 2, /step 2 does not follow step 1/);
  });

  it('names the last step when the swap is hidden by recomputing the chain but the head is left', async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put(placed(four, incidentId, 2));
    await put(placed(two, incidentId, 4));
    await rechain(incidentId, 2, STEPS);
    expectBroken(
      await recorder.verify(incidentId),
      STEPS,
      new RegExp(`step ${STEPS} does not match the hash the incident recorded`),
    );
  });

  it('does NOT detect a swap hidden by recomputing every later hash and the head: the chain has no key', async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put(placed(four, incidentId, 2));
    await put(placed(two, incidentId, 4));
    await setIncident(incidentId, { lastHash: await rechain(incidentId, 2, STEPS) });
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: STEPS });
  });

  it('names a step copied in from another incident', async () => {
    const [a, b] = [await chain(), await chain()];
    await put({ ...(await stored(a, 2)), ...keys.step(b, 2) });
    expectBroken(await recorder.verify(b), 2, new RegExp(`step 2 was moved: its content says incident ${a}`));
  });
});

describe('a forged step appended', () => {
  async function forgedSixth(incidentId: string, edit: (item: Item, last: Item) => void): Promise<void> {
    const last = await stored(incidentId, STEPS);
    const item: Item = {
      ...placed(last, incidentId, STEPS + 1),
      action: 'ec2-eradicate',
      status: 'succeeded',
      actor: 'alice@example.com',
      note: 'approved by phone',
      prevHash: last.hash,
    };
    edit(item, last);
    await put(item);
  }

  it('names a forged step whose hash is copied from the step before it', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item, last) => {
      item.hash = last.hash;
    });
    expectBroken(await recorder.verify(incidentId), STEPS + 1, /step 6 was changed/);
  });

  it('names a forged step whose prevHash is not the last hash, even with its own hash computed', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item) => {
      item.prevHash = 'f'.repeat(64);
      item.hash = stepHash(item);
    });
    expectBroken(await recorder.verify(incidentId), STEPS + 1, /step 6 does not follow step 5/);
  });

  it('names a forged step appended past the head when the head is moved but not its hash', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item) => {
      item.hash = stepHash(item);
    });
    await setIncident(incidentId, { lastSeq: STEPS + 1 });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS + 1,
      /step 6 does not match the hash the incident recorded/,
    );
  });

  it('names one forged step appended with a correct prevHash and a computed hash past an untouched head', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item) => {
      item.hash = stepHash(item);
    });
    expectBroken(await recorder.verify(incidentId), STEPS + 1, /step 6 is past the incident's head/);
  });

  it('names the first of several forged steps appended past an untouched head', async () => {
    const incidentId = await chain();
    for (let seq = STEPS + 1; seq <= STEPS + 3; seq++) {
      const last = await stored(incidentId, seq - 1);
      const item: Item = { ...placed(last, incidentId, seq), note: `forged ${seq}`, prevHash: last.hash };
      item.hash = stepHash(item);
      await put(item);
    }
    expectBroken(await recorder.verify(incidentId), STEPS + 1, /past the incident's head/);
  });

  it('names the last step when a step is forged in the middle and the chain recomputed from it, head left', async () => {
    const incidentId = await chain();
    await put({ ...(await stored(incidentId, 3)), actor: 'mallory@example.com', status: 'succeeded' });
    await rechain(incidentId, 3, STEPS);
    expectBroken(
      await recorder.verify(incidentId),
      STEPS,
      new RegExp(`step ${STEPS} does not match the hash the incident recorded`),
    );
  });

  it('does NOT detect a step forged in the middle with the chain recomputed from it and the head rewritten', async () => {
    const incidentId = await chain();
    await put({ ...(await stored(incidentId, 3)), actor: 'mallory@example.com', status: 'succeeded' });
    await setIncident(incidentId, { lastHash: await rechain(incidentId, 3, STEPS) });
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: STEPS });
  });
});

describe('the incident head', () => {
  it('names the first missing step when the head is moved forward past the stored steps', async () => {
    const incidentId = await chain();
    await setIncident(incidentId, { lastSeq: STEPS + 2 });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS + 1,
      /step 6 is missing \(the incident's head is at step 7\)/,
    );
  });

  it('names the last step when the head keeps its number but its hash is changed', async () => {
    const incidentId = await chain();
    await setIncident(incidentId, { lastHash: 'a'.repeat(64) });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS,
      /step 5 does not match the hash the incident recorded/,
    );
  });

  it('names the first step past the head when the head is rolled back with every step still stored', async () => {
    const incidentId = await chain();
    await setIncident(incidentId, { lastSeq: 3, lastHash: (await stored(incidentId, 3)).hash });
    expectBroken(await recorder.verify(incidentId), 4, /step 4 is past the incident's head/);
  });

  it('does NOT detect the tail truncated and the head rolled back together to the new last step', async () => {
    const incidentId = await chain();
    await remove(incidentId, 5);
    await remove(incidentId, 4);
    await setIncident(incidentId, { lastSeq: 3, lastHash: (await stored(incidentId, 3)).hash });
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: 3 });
  });

  it('names the last kept step when the tail is truncated and the head rolled back without its hash', async () => {
    const incidentId = await chain();
    await remove(incidentId, 5);
    await remove(incidentId, 4);
    await setIncident(incidentId, { lastSeq: 3 });
    expectBroken(
      await recorder.verify(incidentId),
      3,
      /step 3 does not match the hash the incident recorded/,
    );
  });

  it("does NOT detect an edit to the incident item's own fields (status, times, title): they are outside the chain", async () => {
    const incidentId = await chain();
    await setIncident(incidentId, {
      status: 'closed',
      containedAt: '2026-11-01T10:00:01.000Z',
      title: 'nothing happened',
      severity: 1,
    });
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: STEPS });
  });
});
