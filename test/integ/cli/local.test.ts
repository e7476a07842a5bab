/**
 * After the demo, the console in a new process reads the state folder's record: `cordon incidents list
 * --local` lists the demo's incidents from the state folder's store (starting DynamoDB Local for the query
 * since the demo's has stopped), and `cordon verify --local` checks them with the state folder's record key
 * and anchors, and names each kind of tampering a forger with the table (and not the key) could do.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRecorder } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { makeDocumentClient } from '#shared/dynamo';
import { stepHash } from '#shared/hash-chain';
import { runDemo } from '../../../cli/commands/demo.ts';
import { main } from '../../../cli/main.ts';
import { LOCAL_TABLE, openStateStore, openStateTrust } from '../../../local/state.ts';

type Item = Record<string, unknown>;

const dir = mkdtempSync(join(tmpdir(), 'cordon-state-'));
const bin = fileURLToPath(new URL('../../../bin/cordon.js', import.meta.url));
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], {
    env: { ...process.env, CORDON_STATE_DIR: dir },
    encoding: 'utf8',
    timeout: 90_000,
  });
let started: string[] = [];

beforeAll(async () => {
  const lines: string[] = [];
  expect(await runDemo({ stateDir: dir, out: (line) => lines.push(line), runConsole: main })).toBe(0);
  started = lines.flatMap((l) => /^Router: incident (\S+),/.exec(l)?.[1] ?? []);
  expect(started).toHaveLength(2);
}, 180_000);

describe('cordon incidents list --local', () => {
  it("lists the demo's incidents from the state folder in a new process, and shows, verifies and reports them", () => {
    const list = run('incidents', 'list', '--local', '--output', 'json');
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    const listed = (JSON.parse(list.stdout) as { incidents: { id: string; status: string }[] }).incidents;
    expect(listed.map((i) => i.id).sort()).toEqual([...started].sort());

    const id = started[0] ?? '';
    const verify = run('verify', '--all', '--local', '--output', 'csv');
    expect(verify.status).toBe(0);
    expect(verify.stdout.match(/,ok,/g)).toHaveLength(2);
    const report = run('report', id, '--local');
    expect(report.status).toBe(0);
    expect(report.stdout).toContain(`| Incident | ${id} |`);
    expect(report.stdout).toContain('## Approvals');
  }, 180_000);
});

describe('cordon verify --local after the demo, against a forger with the table and not the key', () => {
  let store: Awaited<ReturnType<typeof openStateStore>>;
  const doc = () => makeDocumentClient({ endpoint: store.endpoint });
  let incidentId = '';
  let original: Item[] = [];
  /** Cordon's own recorder on the folder (its key and anchors), to check the record is whole between kinds. */
  let recorder: AuditRecorder;

  beforeAll(async () => {
    // The forger's view of the store: the same DynamoDB Local the console reads (store.json points at it).
    process.env.AWS_REGION = 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID = 'cordonlocal';
    process.env.AWS_SECRET_ACCESS_KEY = 'cordonlocal';
    store = await openStateStore(dir);
    recorder = new AuditRecorder({
      client: doc(),
      tableName: LOCAL_TABLE,
      seal: (await openStateTrust(dir)).seal,
    });
    // The demo's EC2 incident: the one with the most steps.
    const counts = await Promise.all(started.map(async (id) => [id, (await partition(id)).length] as const));
    incidentId = [...counts].sort((a, b) => b[1] - a[1])[0]?.[0] ?? '';
    original = await partition(incidentId);
  }, 60_000);
  afterAll(async () => {
    await store?.close();
  });

  async function partition(id: string): Promise<Item[]> {
    const out = await doc().send(
      new QueryCommand({
        TableName: LOCAL_TABLE,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.incident(id).pk },
        ConsistentRead: true,
      }),
    );
    return out.Items ?? [];
  }
  const step = (seq: number) => original.find((i) => i.sk === keys.step(incidentId, seq).sk) as Item;
  const incidentItem = () => original.find((i) => i.sk === 'INCIDENT') as Item;
  const steps = () => original.filter((i) => String(i.sk).startsWith('STEP#'));
  const put = async (item: Item): Promise<void> => {
    await doc().send(new PutCommand({ TableName: LOCAL_TABLE, Item: item }));
  };
  const setHead = (seq: number, hash: unknown) =>
    doc().send(
      new UpdateCommand({
        TableName: LOCAL_TABLE,
        Key: keys.incident(incidentId),
        UpdateExpression: 'SET lastSeq = :s, lastHash = :h',
        ExpressionAttributeValues: { ':s': seq, ':h': hash },
      }),
    );
  /** Puts every original item back and deletes whatever the forger added. */
  async function restore(): Promise<void> {
    const now = await partition(incidentId);
    for (const item of now) {
      if (!original.some((o) => o.sk === item.sk)) {
        await doc().send(new DeleteCommand({ TableName: LOCAL_TABLE, Key: { pk: item.pk, sk: item.sk } }));
      }
    }
    for (const item of original) await put(item);
  }
  /** Recomputes the chain from `from` on, as a forger with the hash function would. */
  async function rechain(items: Item[], from: number): Promise<string> {
    let prevHash = from === 1 ? String(incidentItem().openingHash) : String(items[from - 2]?.hash);
    for (const item of items.slice(from - 1)) {
      item.prevHash = prevHash;
      item.hash = stepHash(item);
      await put(item);
      prevHash = String(item.hash);
    }
    return prevHash;
  }

  const last = () => steps().length;
  const kinds: [string, string, () => Promise<void>][] = [
    ['an edited step', 'step-edited', async () => put({ ...step(3), actor: 'mallory@example.com' })],
    [
      'a deleted step',
      'step-deleted',
      async () => {
        await doc().send(new DeleteCommand({ TableName: LOCAL_TABLE, Key: keys.step(incidentId, 4) }));
      },
    ],
    [
      'reordered steps',
      'steps-reordered',
      async () => {
        const [two, five] = [step(2), step(5)];
        await put({ ...five, ...keys.step(incidentId, 2), seq: 2 });
        await put({ ...two, ...keys.step(incidentId, 5), seq: 5 });
      },
    ],
    [
      'a forged appended step',
      'step-forged',
      async () => {
        const tail = step(last());
        const forged: Item = {
          ...tail,
          ...keys.step(incidentId, last() + 1),
          seq: last() + 1,
          action: 'approval-decision',
          actor: 'alice@example.com',
          note: 'approved by phone',
          prevHash: tail.hash,
        };
        forged.hash = stepHash(forged);
        await put(forged);
        await setHead(last() + 1, forged.hash);
      },
    ],
    [
      'the whole chain rewritten with recomputed hashes',
      'chain-rewritten',
      async () => {
        const items = steps().map((s) => ({ ...s, note: 'nothing happened' }));
        await setHead(last(), await rechain(items, 1));
      },
    ],
    [
      'the tail truncated with the head rolled back',
      'tail-truncated',
      async () => {
        for (const seq of [last(), last() - 1]) {
          await doc().send(new DeleteCommand({ TableName: LOCAL_TABLE, Key: keys.step(incidentId, seq) }));
        }
        await setHead(last() - 2, step(last() - 2).hash);
      },
    ],
    [
      "an edit of the incident item's own fields",
      'incident-edited',
      async () => {
        await doc().send(
          new UpdateCommand({
            TableName: LOCAL_TABLE,
            Key: keys.incident(incidentId),
            UpdateExpression: 'SET #s = :s, severity = :v',
            ExpressionAttributeNames: { '#s': 'status' },
            ExpressionAttributeValues: { ':s': 'closed', ':v': 1 },
          }),
        );
      },
    ],
  ];

  it.each(kinds)(
    'exits 2 and names %s (%s)',
    async (_name, kind, tamper) => {
      expect((await recorder.verify(incidentId)).ok).toBe(true);
      await tamper();
      const verify = run('verify', incidentId, '--local', '--output', 'json');
      expect(verify.status, verify.stderr).toBe(2);
      const [result] = (
        JSON.parse(verify.stdout) as { results: { ok: boolean; kind: string; reason: string }[] }
      ).results;
      expect(result).toMatchObject({ ok: false, kind });
      expect(result?.reason).toMatch(/step|incident/);
      await restore();
      const again = await doc().send(
        new GetCommand({ TableName: LOCAL_TABLE, Key: keys.incident(incidentId), ConsistentRead: true }),
      );
      expect(again.Item).toEqual(incidentItem());
      expect((await recorder.verify(incidentId)).ok).toBe(true);
    },
    60_000,
  );
});
