/**
 * Tampering with the stored record, edit by edit, on DynamoDB Local: each kind of edit a forger with full
 * write access to the table could make (PutItem, UpdateItem, DeleteItem on every item, through the
 * document client, with the hash function in hand) but with no use of the record key and no way to
 * rewrite the anchor, and what `AuditRecorder.verify` (what `cordon verify` runs) says: the step and the
 * kind of the first break.
 */
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, BreakKind, VerifyResult } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { IncidentNotFoundError, RecordTamperedError } from '#shared/errors';
import { openingHash, stepHash } from '#shared/hash-chain';
import { anchorKey, stepMacMessage } from '#shared/seal';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/store.ts';
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
  // A forger reads the opening's hash off the incident item: the chain itself has no secret.
  const incident = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId), ConsistentRead: true }),
  );
  let prevHash =
    from === 1 ? String(incident.Item?.openingHash) : String((await stored(incidentId, from - 1)).hash);
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

function expectBroken(result: VerifyResult, seq: number, kind: BreakKind, reason: RegExp): void {
  expect(result).toMatchObject({ ok: false, brokenSeq: seq, kind });
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe('1. an edited step', () => {
  for (const [where, seq] of [
    ['first', 1],
    ['middle', 3],
    ['last', STEPS],
  ] as const) {
    it(`names the ${where} step when any one of its fields is changed`, async () => {
      const incidentId = await chain();
      const original = await stored(incidentId, seq);
      const fields = Object.keys(original).filter((f) => f !== 'pk' && f !== 'sk');
      // Every field of a step, its place in the chain and its index keys included. Its MAC is the one field
      // the hash does not cover: an anchored step's MAC is not read (the anchor vouches for it).
      expect(fields.sort()).toEqual(
        [
          'account',
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
          'mac',
          'note',
          'phase',
          'prevHash',
          'recordedAt',
          'region',
          'seq',
          'startedAt',
          'startedSeq',
          'status',
        ].sort(),
      );
      for (const field of fields.filter((f) => f !== 'mac')) {
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
      expectBroken(await recorder.verify(incidentId), 2, 'step-edited', /step 2 was changed/);
      await put(original);
    }
  });

  it('names the edited step even when its own hash was recomputed: it no longer matches its anchor', async () => {
    const incidentId = await chain();
    const forged: Item = { ...(await stored(incidentId, 2)), actor: 'someone-else@example.com' };
    forged.hash = stepHash(forged);
    await put(forged);
    expectBroken(
      await recorder.verify(incidentId),
      2,
      'step-edited',
      /step 2 was changed after it was anchored/,
    );
  });
});

describe('2. a deleted step', () => {
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
        'step-deleted',
        new RegExp(`step ${seq} is missing \\(the next stored step is ${seq + 1}\\)`),
      );
    });
  }

  it('names step 1 when every step is deleted and the head rolled back to nothing', async () => {
    const incidentId = await chain();
    for (let seq = 1; seq <= STEPS; seq++) await remove(incidentId, seq);
    await setIncident(incidentId, { lastSeq: 0 });
    expectBroken(await recorder.verify(incidentId), 1, 'tail-truncated', /steps 1 to 5 are gone/);
  });

  it('names a deleted step even when the later steps are renumbered to close the gap', async () => {
    const incidentId = await chain();
    for (let seq = 3; seq < STEPS; seq++)
      await put(placed(await stored(incidentId, seq + 1), incidentId, seq));
    await remove(incidentId, STEPS);
    const result = await recorder.verify(incidentId);
    expect(result).toMatchObject({ ok: false, brokenSeq: 3 });
  });

  it('refuses to verify an incident whose own item was deleted', async () => {
    const incidentId = await chain();
    await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }));
    await expect(recorder.verify(incidentId)).rejects.toBeInstanceOf(IncidentNotFoundError);
  });
});

describe('3. reordered steps', () => {
  it("names the first of two steps whose whole items were swapped: each says it is the other's", async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put({ ...four, ...keys.step(incidentId, 2) });
    await put({ ...two, ...keys.step(incidentId, 4) });
    expectBroken(
      await recorder.verify(incidentId),
      2,
      'steps-reordered',
      /step 2 was moved: its content says .* step 4/,
    );
  });

  it('names the first of two steps whose contents were swapped with their numbers fixed up', async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put(placed(four, incidentId, 2));
    await put(placed(two, incidentId, 4));
    expectBroken(
      await recorder.verify(incidentId),
      2,
      'steps-reordered',
      /step 2 holds the content of step 4/,
    );
  });

  it('names the swap even when every later hash and the head are recomputed: the anchors hold the order', async () => {
    const incidentId = await chain();
    const [two, four] = [await stored(incidentId, 2), await stored(incidentId, 4)];
    await put(placed(four, incidentId, 2));
    await put(placed(two, incidentId, 4));
    await setIncident(incidentId, { lastHash: await rechain(incidentId, 2, STEPS) });
    const result = await recorder.verify(incidentId);
    expect(result).toMatchObject({ ok: false, brokenSeq: 2 });
  });

  it('names a step copied in from another incident', async () => {
    const [a, b] = [await chain(), await chain()];
    await put({ ...(await stored(a, 2)), ...keys.step(b, 2) });
    expectBroken(
      await recorder.verify(b),
      2,
      'steps-reordered',
      new RegExp(`step 2 was moved: its content says incident ${a}`),
    );
  });
});

describe('4. a forged step appended', () => {
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

  it('names a forged step with a correct prevHash, a computed hash and the head moved: it has no valid MAC', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item) => {
      item.hash = stepHash(item);
    });
    await setIncident(incidentId, {
      lastSeq: STEPS + 1,
      lastHash: (await stored(incidentId, STEPS + 1)).hash,
    });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS + 1,
      'step-forged',
      /step 6 is not anchored and carries no valid MAC/,
    );
  });

  it("names a forged step that carries another step's MAC", async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item, last) => {
      item.mac = last.mac;
      item.hash = stepHash(item);
    });
    expectBroken(await recorder.verify(incidentId), STEPS + 1, 'step-forged', /no valid MAC/);
  });

  it('names the first of several forged steps appended past the head', async () => {
    const incidentId = await chain();
    for (let seq = STEPS + 1; seq <= STEPS + 3; seq++) {
      const last = await stored(incidentId, seq - 1);
      const item: Item = { ...placed(last, incidentId, seq), note: `forged ${seq}`, prevHash: last.hash };
      item.hash = stepHash(item);
      await put(item);
    }
    expectBroken(await recorder.verify(incidentId), STEPS + 1, 'step-forged', /step 6 is not anchored/);
  });

  it('names a forged step whose prevHash is not the last hash, even with its own hash computed', async () => {
    const incidentId = await chain();
    await forgedSixth(incidentId, (item) => {
      item.prevHash = 'f'.repeat(64);
      item.hash = stepHash(item);
    });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS + 1,
      'steps-reordered',
      /step 6 does not follow step 5/,
    );
  });

  it('accepts a step written by Cordon whose anchor could not be written, and says it is not yet anchored', async () => {
    const incidentId = await chain();
    table.trust.sandbox.failNext('S3:PutObject', 3, { code: 'InternalError', fault: 'server' });
    await recorder.appendStep(incidentId, {
      phase: 'containment',
      action: 'note',
      status: 'noted',
      actor: 'automation',
    });
    expect(await recorder.verify(incidentId)).toMatchObject({
      ok: true,
      steps: STEPS + 1,
      anchoredThrough: STEPS,
      unconfirmed: [STEPS + 1],
    });
  });
});

describe('5. the whole chain rewritten with recomputed hashes', () => {
  it('names step 1 when every step is rewritten, the chain and the head recomputed', async () => {
    const incidentId = await chain();
    for (let seq = 1; seq <= STEPS; seq++) {
      await put({ ...(await stored(incidentId, seq)), actor: 'mallory@example.com', note: 'nothing to see' });
    }
    await setIncident(incidentId, { lastHash: await rechain(incidentId, 1, STEPS) });
    expectBroken(await recorder.verify(incidentId), 1, 'chain-rewritten', /rewritten from step 1 on/);
  });

  it('names the step a rewrite started from, when only the tail is rewritten', async () => {
    const incidentId = await chain();
    await put({ ...(await stored(incidentId, 3)), actor: 'mallory@example.com', status: 'succeeded' });
    await setIncident(incidentId, { lastHash: await rechain(incidentId, 3, STEPS) });
    expectBroken(await recorder.verify(incidentId), 3, 'chain-rewritten', /rewritten from step 3 on/);
  });

  it('names a rewritten chain even with forged MACs copied in place', async () => {
    const incidentId = await chain();
    const macs = await Promise.all([1, 2, 3, 4, 5].map(async (seq) => (await stored(incidentId, seq)).mac));
    for (let seq = 1; seq <= STEPS; seq++)
      await put({ ...(await stored(incidentId, seq)), note: 'rewritten' });
    await rechain(incidentId, 1, STEPS);
    for (let seq = 1; seq <= STEPS; seq++)
      await put({ ...(await stored(incidentId, seq)), mac: macs[seq - 1] });
    const result = await recorder.verify(incidentId);
    expect(result).toMatchObject({ ok: false, brokenSeq: 1, kind: 'chain-rewritten' });
  });
});

describe('6. the tail truncated and the head rolled back', () => {
  it('names the first missing step when the tail is deleted and the head rolled back to the new last step', async () => {
    const incidentId = await chain();
    await remove(incidentId, 5);
    await remove(incidentId, 4);
    await setIncident(incidentId, { lastSeq: 3, lastHash: (await stored(incidentId, 3)).hash });
    expectBroken(
      await recorder.verify(incidentId),
      4,
      'tail-truncated',
      /steps 4 to 5 are gone: the anchor holds step 5/,
    );
  });

  it('names the last step when only it is deleted, whatever the head says', async () => {
    const incidentId = await chain();
    await remove(incidentId, STEPS);
    expectBroken(await recorder.verify(incidentId), STEPS, 'tail-truncated', /step 5|steps 5 to 5/);
  });

  it('names the first missing step when the head is moved forward past the stored steps', async () => {
    const incidentId = await chain();
    await setIncident(incidentId, { lastSeq: STEPS + 2 });
    expectBroken(
      await recorder.verify(incidentId),
      STEPS + 1,
      'tail-truncated',
      /step 6 is missing \(the incident's head is at step 7\)/,
    );
  });
});

describe("7. an edit of the incident item's own fields", () => {
  for (const [field, value] of [
    ['status', 'closed'],
    ['containedAt', '2026-11-01T10:00:01.000Z'],
    ['title', 'nothing happened'],
    ['severity', 1],
    ['resources', [{ type: 'instance', id: 'i-0someoneelse0001' }]],
    ['lastSeen', '2026-11-30T00:00:00.000Z'],
    ['account', '999999999999'],
  ] as const) {
    it(`names an edit of its ${field}`, async () => {
      const incidentId = await chain();
      await setIncident(incidentId, { [field]: value });
      expectBroken(await recorder.verify(incidentId), 0, 'incident-edited', new RegExp(`${field} is`));
    });
  }

  it("names an edit of its opening and the opening's hash together", async () => {
    const incidentId = await chain();
    const item = (
      await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }))
    ).Item as Item;
    const opening = { ...(item.opening as Item), severity: 1 };
    await setIncident(incidentId, { opening, severity: 1, openingHash: openingHash(opening) });
    expectBroken(
      await recorder.verify(incidentId),
      0,
      'chain-rewritten',
      /opening does not match its anchor/,
    );
  });

  it('names a status edit that also moved the incident to another status index', async () => {
    const incidentId = await chain();
    await setIncident(incidentId, { status: 'recovered', gsi2pk: keys.status('recovered') });
    expectBroken(
      await recorder.verify(incidentId),
      0,
      'incident-edited',
      /status is "recovered", its record says "open"/,
    );
  });

  it('accepts a status the record itself set, through a step', async () => {
    const incidentId = await chain();
    await recorder.updateIncident(incidentId, {
      status: 'contained',
      containedAt: '2026-11-01T10:06:00.000Z',
    });
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: STEPS + 1 });
    await setIncident(incidentId, { containedAt: '2026-11-01T10:00:00.000Z' });
    expectBroken(await recorder.verify(incidentId), 0, 'incident-edited', /containedAt/);
  });

  it('names an incident item put in the table whole by a forger: it has no anchored opening or valid MAC', async () => {
    const incidentId = await chain();
    const item = (
      await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }))
    ).Item as Item;
    const forgedId = `${incidentId}-forged`;
    const opening = { ...(item.opening as Item), id: forgedId };
    await put({
      ...item,
      ...keys.incident(forgedId),
      id: forgedId,
      opening,
      openingHash: openingHash(opening),
      gsi1sk: `${String(item.openedAt)}#${forgedId}`,
      gsi2sk: `${String(item.openedAt)}#${forgedId}`,
      gsi3sk: `${String(item.openedAt)}#${forgedId}`,
    });
    expectBroken(
      await recorder.verify(forgedId),
      0,
      'incident-forged',
      /opening is not anchored and carries no valid MAC/,
    );
  });
});

describe('8. what Cordon writes after a forged step', () => {
  const note = {
    phase: 'containment',
    action: 'note',
    status: 'noted',
    actor: 'automation',
  } as const;

  async function forgeSixth(incidentId: string): Promise<Item> {
    const last = await stored(incidentId, STEPS);
    const item: Item = {
      ...placed(last, incidentId, STEPS + 1),
      action: 'iam-contain-user-key',
      status: 'succeeded',
      changes: { deactivated: ['AKIABOB0000000000001'] },
      prevHash: last.hash,
    };
    item.hash = stepHash(item);
    await put(item);
    return item;
  }

  it('refuses to chain an honest step onto a forged one, whichever recorder appends', async () => {
    const incidentId = await chain();
    await forgeSixth(incidentId);
    for (const writer of [recorder, table.recorder()]) {
      await expect(writer.appendStep(incidentId, note)).rejects.toThrow(RecordTamperedError);
      await expect(writer.raiseLastSeen(incidentId, '2026-11-02T00:00:00.000Z')).rejects.toThrow(
        /step 6 carries no valid MAC of the record key; Cordon does not append to a record it cannot vouch for/,
      );
    }
    // Nothing was written after it, and it is still named for what it is.
    expect(await recorder.steps(incidentId)).toHaveLength(STEPS + 1);
    expectBroken(await recorder.verify(incidentId), STEPS + 1, 'step-forged', /step 6 is not anchored/);
  });

  it('names a forged step even when a sealed, anchored step follows it: a later anchor does not vouch for it', async () => {
    const incidentId = await chain();
    const forged = await forgeSixth(incidentId);
    // A writer that chained onto it without checking (as Cordon once did): its step is sealed and anchored.
    const seventh: Item = { ...placed(forged, incidentId, STEPS + 2), action: 'note', prevHash: forged.hash };
    seventh.hash = stepHash(seventh);
    seventh.mac = await table.trust.seal.mac(stepMacMessage(incidentId, STEPS + 2, String(seventh.hash)));
    await put(seventh);
    await table.trust.seal.anchor({ incidentId, seq: STEPS + 2, hash: String(seventh.hash) });
    await setIncident(incidentId, { lastSeq: STEPS + 2, lastHash: seventh.hash });
    expectBroken(await recorder.verify(incidentId), STEPS + 1, 'step-forged', /step 6 is not anchored/);
    await expect(recorder.verified(incidentId)).rejects.toThrow(RecordTamperedError);
  });

  it('refuses at once to append after a step whose key and content disagree on its number', async () => {
    const incidentId = await chain();
    // A copy of step 3 stored as step 6: it says seq 3, so a recorder trusting it would collide forever.
    await put({ ...(await stored(incidentId, 3)), ...keys.step(incidentId, STEPS + 1) });
    await expect(table.recorder({ maxAppendAttempts: 3 }).appendStep(incidentId, note)).rejects.toThrow(
      /step 6 does not match its hash or its place/,
    );
  });

  it('does not write a step twice when a retried write finds its own first attempt already written', async () => {
    const incidentId = await chain();
    let doubled = false;
    const client = {
      send: (async (command: unknown) => {
        const first = (command as { input?: { TransactItems?: { Put?: { Item?: Item } }[] } }).input
          ?.TransactItems?.[0];
        if (
          !doubled &&
          command instanceof TransactWriteCommand &&
          String(first?.Put?.Item?.sk).startsWith('STEP#')
        ) {
          doubled = true;
          // The first attempt is written, its answer lost; the retry then fails its conditions.
          await table.doc.send(command);
        }
        return table.doc.send(command as TransactWriteCommand);
      }) as typeof table.doc.send,
    };
    const writer = table.recorder({ client });
    const step = await writer.appendStep(incidentId, note);
    expect(doubled).toBe(true);
    expect(step.seq).toBe(STEPS + 1);
    expect(await recorder.steps(incidentId)).toHaveLength(STEPS + 1);
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true, steps: STEPS + 1 });
  });
});

describe('9. anchors hidden, heads moved back, records never sealed', () => {
  const s3 = () =>
    table.trust.sandbox.attach(new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));

  it('names anchors hidden behind delete markers, even when the tail they held was truncated to match', async () => {
    const incidentId = await chain();
    // Someone who could lift the bucket's deny (the root user can always delete a bucket policy) cannot
    // delete a locked version, but a delete without a version id puts a marker over it.
    for (const seq of [4, 5]) {
      const hash = String((await stored(incidentId, seq)).hash);
      await s3().send(
        new DeleteObjectCommand({ Bucket: table.trust.bucket, Key: anchorKey({ incidentId, seq, hash }) }),
      );
    }
    await remove(incidentId, 5);
    await remove(incidentId, 4);
    await setIncident(incidentId, { lastSeq: 3, lastHash: (await stored(incidentId, 3)).hash });
    expectBroken(await recorder.verify(incidentId), 4, 'anchor-hidden', /hidden behind a delete marker/);
  });

  it('names a head moved back with the incident item, to hide a change a step made', async () => {
    const incidentId = await chain();
    await recorder.updateIncident(incidentId, {
      status: 'contained',
      containedAt: '2026-11-01T10:06:00.000Z',
    });
    const item = (
      await table.doc.send(
        new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId), ConsistentRead: true }),
      )
    ).Item as Item;
    const { containedAt: _, ...rest } = item;
    await put({
      ...rest,
      status: 'open',
      gsi2pk: keys.status('open'),
      lastSeq: STEPS,
      lastHash: (await stored(incidentId, STEPS)).hash,
    });
    expectBroken(await recorder.verify(incidentId), 0, 'incident-edited', /head was moved back/);
  });

  it('takes no honest writer for a forger: verify stays ok while four writers raise the last-seen time', async () => {
    const incidentId = await chain();
    const writers = Array.from({ length: 4 }, () => table.recorder());
    let writing = true;
    const raised = Promise.all(
      writers.map(async (writer, w) => {
        for (let i = 0; i < 8; i++) {
          await writer.raiseLastSeen(
            incidentId,
            `2026-11-02T00:${String(i * 4 + w).padStart(2, '0')}:00.000Z`,
          );
        }
      }),
    ).finally(() => {
      writing = false;
    });
    const kinds: string[] = [];
    while (writing) {
      const result = await table.recorder().verify(incidentId);
      kinds.push(result.ok ? 'ok' : `${result.kind}: ${result.reason}`);
    }
    await raised;
    expect(kinds.length).toBeGreaterThan(0);
    expect(kinds.filter((kind) => kind !== 'ok')).toEqual([]);
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
  });

  it('tells a record that was never sealed from one whose seal was stripped', async () => {
    const incidentId = await chain();
    const item = (
      await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }))
    ).Item as Item;
    const { opening: _o, openingHash: _h, openingMac: _m, ...unsealed } = item;
    // A record as written before sealing: no opening, no MACs, no anchors.
    const legacyId = `${incidentId}-legacy`;
    await put({ ...unsealed, ...keys.incident(legacyId), id: legacyId });
    const { mac: _mac, ...legacyStep } = await stored(incidentId, 1);
    await put({ ...placed(legacyStep, legacyId, 1), incidentId: legacyId });
    expectBroken(await recorder.verify(legacyId), 0, 'record-unsealed', /its record was not sealed/);
    // The same stripped off an incident that was sealed: its anchors still say it was.
    await put(unsealed);
    expectBroken(await recorder.verify(incidentId), 0, 'incident-forged', /no opening hash/);
  });
});
