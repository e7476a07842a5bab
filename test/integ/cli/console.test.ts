/**
 * The audit console on DynamoDB Local: list, show, steps, verify, report and stats on a fixed record, with
 * golden outputs for table, JSON and CSV.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#shared/audit-table';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { cordon, on, seedRecord } from './helpers.ts';

const GOLDEN = '../../fixtures/golden/';

let t: TestTable;
beforeAll(async () => {
  t = await createTestTable('cli');
  await seedRecord(t);
});
afterAll(async () => {
  await t.drop();
});

describe('cordon incidents list', () => {
  it('prints the golden table, newest first', async () => {
    const ran = await cordon(['incidents', 'list', ...on(t), '--output', 'table']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}incidents-list.table.txt`);
  });

  it('prints the golden JSON when asked (and by default when piped)', async () => {
    const ran = await cordon(['incidents', 'list', ...on(t)]);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}incidents-list.json`);
    expect((await cordon(['incidents', 'list', ...on(t), '--output', 'json'])).out).toBe(ran.out);
  });

  it('prints the golden CSV', async () => {
    const ran = await cordon(['incidents', 'list', ...on(t), '--output', 'csv']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}incidents-list.csv`);
  });

  it('filters by status, type, resource, severity and account, and by time range', async () => {
    const ids = async (...args: string[]) =>
      (
        JSON.parse((await cordon(['incidents', 'list', ...on(t), ...args])).out) as {
          incidents: { id: string }[];
        }
      ).incidents.map((i) => i.id);
    expect(await ids('--status', 'open')).toEqual(['inc-0003']);
    expect(await ids('--type', 'Backdoor:EC2/C&CActivity.B!DNS')).toEqual(['inc-0002']);
    expect(await ids('--resource', 'dev')).toEqual(['inc-0003']);
    expect(await ids('--resource', 'dev', '--status', 'closed')).toEqual([]);
    expect(await ids('--min-severity', '5')).toEqual(['inc-0003', 'inc-0002']);
    expect(await ids('--account', '111111111111')).toEqual(['inc-0001']);
    expect(await ids('--since', '2026-11-01')).toEqual(['inc-0003', 'inc-0002']);
    expect(await ids('--since', '2026-10-01', '--until', '2026-10-31')).toEqual(['inc-0001']);
    expect(await ids('--since', '1d')).toEqual(['inc-0003']);
  });

  it('pages with --limit and the continuation token it prints, across months', async () => {
    const first = JSON.parse((await cordon(['incidents', 'list', ...on(t), '--limit', '2'])).out) as {
      incidents: { id: string }[];
      nextToken: string;
    };
    expect(first.incidents.map((i) => i.id)).toEqual(['inc-0003', 'inc-0002']);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = JSON.parse(
      (await cordon(['incidents', 'list', ...on(t), '--limit', '2', '--next-token', first.nextToken])).out,
    ) as { incidents: { id: string }[]; nextToken?: string };
    expect(second.incidents.map((i) => i.id)).toEqual(['inc-0001']);
    expect(second.nextToken).toBeUndefined();
  });

  it('puts the continuation token on stderr for a table, and refuses it for a list with other filters', async () => {
    const ran = await cordon(['incidents', 'list', ...on(t), '--limit', '1', '--output', 'table']);
    const token = /--next-token (\S+)/.exec(ran.err)?.[1] ?? '';
    expect(token).not.toBe('');
    const other = await cordon(['incidents', 'list', ...on(t), '--status', 'open', '--next-token', token]);
    expect(other.status).toBe(1);
    expect(other.err).toMatch(/--next-token is invalid: belongs to a list with other filters/);
  });
});

describe('cordon incidents show', () => {
  it('prints the golden summary and timeline', async () => {
    const ran = await cordon(['incidents', 'show', 'inc-0002', ...on(t), '--output', 'table']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}incident-show.table.txt`);
  });

  it('prints the incident and its steps as JSON, and the steps as CSV', async () => {
    const json = JSON.parse(
      (await cordon(['incidents', 'show', 'inc-0002', ...on(t), '--output', 'json'])).out,
    ) as {
      incident: { id: string; status: string };
      steps: { seq: number }[];
    };
    expect(json.incident).toMatchObject({ id: 'inc-0002', status: 'contained' });
    expect(json.steps.map((s) => s.seq)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    const ran = await cordon(['incidents', 'show', 'inc-0002', ...on(t), '--output', 'csv']);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}incident-show.csv`);
  });
});

describe('cordon steps', () => {
  it('says who approved what', async () => {
    const ran = await cordon(['steps', ...on(t), '--actor', 'alice@example.com', '--output', 'csv']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}steps-actor.csv`);
  });

  it("filters an actor's steps by action and time, newest first", async () => {
    const steps = async (...args: string[]) =>
      (
        JSON.parse((await cordon(['steps', ...on(t), ...args])).out) as {
          steps: { incidentId: string; seq: number }[];
        }
      ).steps.map((s) => `${s.incidentId}#${s.seq}`);
    expect(await steps('--actor', 'automation', '--action', 'ec2-isolate')).toEqual([
      'inc-0002#3',
      'inc-0002#2',
    ]);
    expect(await steps('--actor', 'automation', '--since', '2026-11-28')).toEqual([
      'inc-0003#2',
      'inc-0003#1',
    ]);
    expect(await steps('--incident', 'inc-0003')).toEqual(['inc-0003#1', 'inc-0003#2']);
  });

  it('asks for --actor or --incident, since steps are indexed by actor', async () => {
    const ran = await cordon(['steps', ...on(t), '--action', 'approval-decision']);
    expect(ran.status).toBe(1);
    expect(ran.err).toMatch(/pass --actor <who>/);
  });
});

describe('cordon verify', () => {
  it('verifies every chain with --all', async () => {
    const ran = await cordon(['verify', '--all', ...on(t), '--output', 'table']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}verify-all.table.txt`);
  });

  it('names the first broken step of an edited chain, and a deleted one, and exits with status 2', async () => {
    const table = await createTestTable('cli-verify');
    try {
      await seedRecord(table);
      await table.doc.send(
        new UpdateCommand({
          TableName: table.tableName,
          Key: keys.step('inc-0002', 3),
          UpdateExpression: 'SET note = :n',
          ExpressionAttributeValues: { ':n': 'nothing happened here' },
        }),
      );
      await table.doc.send(new DeleteCommand({ TableName: table.tableName, Key: keys.step('inc-0003', 2) }));
      const ran = await cordon(['verify', '--all', ...on(table), '--output', 'json']);
      expect(ran.status).toBe(2);
      const results = (
        JSON.parse(ran.out) as {
          results: { incidentId: string; ok: boolean; brokenSeq?: number; reason?: string }[];
        }
      ).results;
      expect(results.find((r) => r.incidentId === 'inc-0002')).toMatchObject({ ok: false, brokenSeq: 3 });
      expect(results.find((r) => r.incidentId === 'inc-0003')).toMatchObject({ ok: false, brokenSeq: 2 });
      expect(results.find((r) => r.incidentId === 'inc-0001')).toMatchObject({ ok: true });
      const one = await cordon(['verify', 'inc-0002', ...on(table), '--output', 'table']);
      expect(one.status).toBe(2);
      expect(one.out).toMatch(/inc-0002\s+BROKEN\s+8\s+3\s+step-edited\s+step 3 was changed/);
    } finally {
      await table.drop();
    }
  });
});

describe('cordon report and stats', () => {
  it('writes a Markdown report with the approval, the evidence and the failure', async () => {
    const ran = await cordon(['report', 'inc-0002', ...on(t)]);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}report-seeded.md`);
    const iam = (await cordon(['report', 'inc-0003', ...on(t)])).out;
    expect(iam).toContain(
      '| 2 | iam-contain-user-key | 2026-11-28T08:00:02.000Z | AccessDeniedError | iam:UpdateAccessKey denied |',
    );
    expect(iam).toContain('Step 2 (iam-contain-user-key) failed with AccessDeniedError');
  });

  it('writes an HTML report with an inline SVG timeline and no script', async () => {
    const ran = await cordon(['report', 'inc-0002', ...on(t), '--format', 'html']);
    expect(ran.status).toBe(0);
    expect(ran.out).toMatch(/^<!doctype html>/);
    expect(ran.out).toContain('<svg xmlns="http://www.w3.org/2000/svg"');
    expect(ran.out).not.toMatch(/<script|javascript:|on\w+=/i);
    expect(ran.out).toContain('alice@example.com');
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}report-seeded.html`);
  });

  it('prints the golden stats for the last 30 days', async () => {
    const ran = await cordon(['stats', ...on(t), '--since', '30d', '--output', 'table']);
    expect(ran.status).toBe(0);
    await expect(ran.out).toMatchFileSnapshot(`${GOLDEN}stats.table.txt`);
  });
});
