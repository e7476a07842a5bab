/**
 * Tampering with where the record says things happened, on DynamoDB Local: a step's account or region, the
 * incident's by-place key (what `incidents list --account` finds it by) and its place item (what
 * `--in-region` finds it by), edited by a forger with full write access to the table and the hash function
 * in hand, but no use of the record key. What `AuditRecorder.verify` says: the kind of the first break.
 */
import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, BreakKind, VerifyResult } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { PLACE_ITEM_MARK } from '#shared/audit-verify';
import { openingHash, stepHash } from '#shared/hash-chain';
import { stepMacMessage } from '#shared/seal';
import { createTestTable, type TestTable } from '../../support/store.ts';

type Item = Record<string, unknown>;

let table: TestTable;
let recorder: AuditRecorder;

beforeAll(async () => {
  table = await createTestTable('tamper-places');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

/** An incident in a member account and another region, with three steps. */
async function chain(): Promise<string> {
  const incident = await recorder.openIncident({
    title: 'Backdoor:EC2/C&CActivity.B!DNS on i-0tamperplace00001',
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '883606788610',
    region: 'eu-west-1',
    resources: [{ type: 'instance', id: 'i-0tamperplace00001' }],
    firstSeen: '2026-11-01T10:00:00.000Z',
    lastSeen: '2026-11-01T10:05:00.000Z',
  });
  for (let i = 1; i <= 3; i++) {
    await recorder.appendStep(incident.id, {
      phase: 'containment',
      action: 'ec2-isolate',
      status: 'succeeded',
      actor: 'automation',
      note: `step ${i}`,
    });
  }
  expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 3 });
  return incident.id;
}

const get = async (key: { pk: string; sk: string }): Promise<Item> => {
  const result = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  if (!result.Item) throw new Error(`no item ${key.pk} ${key.sk}`);
  return result.Item;
};
const put = (item: Item) => table.doc.send(new PutCommand({ TableName: table.tableName, Item: item }));
const set = (key: { pk: string; sk: string }, fields: Item) =>
  table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: key,
      UpdateExpression: `SET ${Object.keys(fields)
        .map((_, i) => `#f${i} = :v${i}`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(fields).map((f, i) => [`#f${i}`, f])),
      ExpressionAttributeValues: Object.fromEntries(Object.values(fields).map((v, i) => [`:v${i}`, v])),
    }),
  );
const unset = (key: { pk: string; sk: string }, fields: string[]) =>
  table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: key,
      UpdateExpression: `REMOVE ${fields.map((_, i) => `#f${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(fields.map((f, i) => [`#f${i}`, f])),
    }),
  );

function expectBroken(result: VerifyResult, seq: number, kind: BreakKind, reason: RegExp): void {
  expect(result).toMatchObject({ ok: false, brokenSeq: seq, kind });
  if (!result.ok) expect(result.reason).toMatch(reason);
}

describe("a step's place", () => {
  it('names the step whose account or region was edited, its hash recomputed or not', async () => {
    const incidentId = await chain();
    const original = await get(keys.step(incidentId, 2));
    for (const edit of [{ account: '123456789012' }, { region: 'us-east-1' }]) {
      await put({ ...original, ...edit });
      expectBroken(await recorder.verify(incidentId), 2, 'step-edited', /step 2 was changed/);
      // With its hash recomputed, it no longer matches the hash anchored for it.
      const rehashed: Item = { ...original, ...edit };
      rehashed.hash = stepHash(rehashed);
      await put(rehashed);
      expectBroken(await recorder.verify(incidentId), 2, 'step-edited', /step 2 was changed/);
      await put(original);
    }
    // Taken off, it is as much an edit: the hash covers the step's place.
    const { account: _account, region: _region, ...placeless } = original;
    await put(placeless);
    expectBroken(await recorder.verify(incidentId), 2, 'step-edited', /step 2 was changed/);
    await put(original);
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
  });

  it('names a step in another place than its incident, even one the key sealed', async () => {
    const incidentId = await chain();
    const last = await get(keys.step(incidentId, 3));
    // Only a holder of the key could seal it (a recorder that stamped the wrong place): it is not anchored.
    const step: Item = {
      ...last,
      ...keys.step(incidentId, 4),
      seq: 4,
      account: '123456789012',
      note: 'step 4',
      prevHash: last.hash,
    };
    step.hash = stepHash(step);
    step.mac = await table.trust.seal.mac(stepMacMessage(incidentId, 4, String(step.hash)));
    await put(step);
    await set(keys.incident(incidentId), { lastSeq: 4, lastHash: step.hash, lastMac: step.mac });
    expectBroken(
      await recorder.verify(incidentId),
      4,
      'place-edited',
      /step 4 says account "123456789012", but incident .* was opened in account "883606788610", region "eu-west-1"/,
    );
  });
});

describe("the incident's by-place key", () => {
  it('names an account index key edited to list the incident under another account', async () => {
    const incidentId = await chain();
    await set(keys.incident(incidentId), { gsi4pk: keys.account('123456789012') });
    expectBroken(
      await recorder.verify(incidentId),
      0,
      'incident-edited',
      /its index key gsi4pk is "ACCOUNT#123456789012", not ACCOUNT#883606788610/,
    );
  });

  it('names an account index key taken off, to hide the incident from its account’s list', async () => {
    const incidentId = await chain();
    await unset(keys.incident(incidentId), ['gsi4pk', 'gsi4sk']);
    expectBroken(await recorder.verify(incidentId), 0, 'incident-edited', /its index key gsi4pk is nothing/);
  });

  it('names the mark taken off the opening, to pass for a record from before place items', async () => {
    const incidentId = await chain();
    const item = await get(keys.incident(incidentId));
    const { [PLACE_ITEM_MARK]: _mark, ...opening } = item.opening as Item;
    await put({ ...item, opening, openingHash: openingHash(opening) });
    const result = await recorder.verify(incidentId);
    expect(result).toMatchObject({ ok: false, brokenSeq: 0, kind: 'chain-rewritten' });
  });
});

describe("the incident's place item", () => {
  it('names a place item edited to another region, another account, or its region key moved', async () => {
    const incidentId = await chain();
    const original = await get(keys.place(incidentId));
    const edits: [Item, RegExp][] = [
      [{ region: 'us-east-1' }, /region is "us-east-1", not "eu-west-1"/],
      [{ account: '123456789012' }, /account is "123456789012", not "883606788610"/],
      [{ gsi4pk: keys.region('us-east-1') }, /gsi4pk is "REGION#us-east-1", not "REGION#eu-west-1"/],
      [{ gsi4sk: `2020-01-01T00:00:00.000Z#${incidentId}` }, /gsi4sk is "2020-01-01/],
      [{ openedAt: '2020-01-01T00:00:00.000Z' }, /openedAt is "2020-01-01T00:00:00.000Z"/],
      [{ note: 'moved' }, /note was added/],
    ];
    for (const [edit, reason] of edits) {
      await put({ ...original, ...edit });
      expectBroken(await recorder.verify(incidentId), 0, 'place-edited', reason);
      await put(original);
    }
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
  });

  it("names a place item pointing at another incident, and another incident's copied in", async () => {
    const incidentId = await chain();
    const other = await chain();
    const original = await get(keys.place(incidentId));
    await put({ ...original, incidentId: other });
    expectBroken(
      await recorder.verify(incidentId),
      0,
      'place-edited',
      new RegExp(`incidentId is "${other}"`),
    );
    // The other incident's place item, put in this incident's partition whole.
    await put({ ...(await get(keys.place(other))), ...keys.place(incidentId) });
    expectBroken(await recorder.verify(incidentId), 0, 'place-edited', /was changed/);
    await put(original);
    expect(await recorder.verify(incidentId)).toMatchObject({ ok: true });
  });

  it('names a place item deleted, to hide the incident from its region’s list', async () => {
    const incidentId = await chain();
    await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.place(incidentId) }));
    expectBroken(
      await recorder.verify(incidentId),
      0,
      'place-edited',
      /the place item of incident .* is gone/,
    );
  });
});
