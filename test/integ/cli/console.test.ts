/**
 * The audit console on DynamoDB Local: list, show, steps, verify, report and stats on a fixed record, with
 * golden outputs for table, JSON and CSV; and lists and stats of an organization's accounts and regions,
 * read from the by-place index.
 */
import { DeleteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#shared/audit-table';
import { sequentialIds, steppingClock } from '#shared/clock';
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

const ACCOUNTS = ['111111111111', '222222222222', '333333333333'] as const;
const REGIONS = ['us-east-1', 'eu-west-1'] as const;

/**
 * Twelve incidents of an organization, one every hour from 2026-11-20: the i-th (from 0) in account
 * `ACCOUNTS[i % 3]` and region `REGIONS[i % 2]` (each account has incidents in both regions), every fourth
 * contained.
 */
async function seedOrganization(
  table: TestTable,
): Promise<{ id: string; account: string; region: string; status: string }[]> {
  const recorder = table.recorder({
    clock: steppingClock('2026-11-20T00:00:00.000Z', 60_000),
    ids: sequentialIds('org'),
  });
  const out: { id: string; account: string; region: string; status: string }[] = [];
  for (let i = 0; i < 12; i++) {
    const account = ACCOUNTS[i % 3] ?? '';
    const region = REGIONS[i % 2] ?? '';
    const incident = await recorder.openIncident({
      title: `Backdoor:EC2/C&CActivity.B!DNS on i-0org${i}`,
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 5 + (i % 4),
      account,
      region,
      resources: [{ type: 'instance', id: `i-0org${i}` }],
      firstSeen: '2026-11-19T23:00:00.000Z',
      lastSeen: '2026-11-19T23:00:00.000Z',
    });
    await recorder.appendStep(incident.id, {
      phase: 'containment',
      action: 'ec2-isolate',
      status: 'succeeded',
      actor: 'automation',
    });
    if (i % 4 === 0)
      await recorder.updateIncident(incident.id, {
        status: 'contained',
        containedAt: '2026-11-20T12:00:00.000Z',
      });
    out.push({ id: incident.id, account, region, status: i % 4 === 0 ? 'contained' : 'open' });
  }
  // Newest first, as every list prints them.
  return out.reverse();
}

describe('an organization: incidents and stats by account and region, from the by-place index', () => {
  let org: TestTable;
  let seeded: Awaited<ReturnType<typeof seedOrganization>>;
  beforeAll(async () => {
    org = await createTestTable('cli-org');
    seeded = await seedOrganization(org);
  });
  afterAll(async () => {
    await org.drop();
  });

  type Listed = { incidents: { id: string; account: string; region: string }[]; nextToken?: string };
  const list = async (...args: string[]) => {
    const ran = await cordon(['incidents', 'list', ...on(org), '--output', 'json', ...args]);
    expect(ran.status, ran.err).toBe(0);
    return { ...(JSON.parse(ran.out) as Listed), err: ran.err };
  };
  const idsOf = (where: (i: (typeof seeded)[number]) => boolean) => seeded.filter(where).map((i) => i.id);

  it('lists an account’s incidents from by-place ACCOUNT#<account>, reading only them', async () => {
    for (const account of ACCOUNTS) {
      const page = await list('--account', account, '--explain');
      expect(page.incidents.map((i) => i.id)).toEqual(idsOf((i) => i.account === account));
      expect(page.incidents.every((i) => i.account === account)).toBe(true);
      expect(page.err).toMatch(
        new RegExp(
          `^plan: by-place ACCOUNT#${account}; 1 queries read 4 items and returned 4 \\(0 by BatchGet\\)`,
        ),
      );
    }
  });

  it('lists a region’s incidents from by-place REGION#<region>: its place items, then the incidents by BatchGet', async () => {
    for (const region of REGIONS) {
      const page = await list('--in-region', region, '--explain');
      expect(page.incidents.map((i) => i.id)).toEqual(idsOf((i) => i.region === region));
      expect(page.incidents.every((i) => i.region === region)).toBe(true);
      expect(page.err).toMatch(
        new RegExp(
          `^plan: by-place REGION#${region} \\(the items it selects point at incidents, got BatchGet\\); 1 queries read 12 items and returned 12 \\(6 by BatchGet\\)`,
        ),
      );
    }
  });

  it('lists an account in a region from the account’s key, filtered on the region, and says so', async () => {
    const page = await list('--account', ACCOUNTS[1], '--in-region', 'eu-west-1', '--explain');
    expect(page.incidents.map((i) => i.id)).toEqual(
      idsOf((i) => i.account === ACCOUNTS[1] && i.region === 'eu-west-1'),
    );
    expect(page.incidents).toHaveLength(2);
    expect(page.err).toMatch(
      /^plan: by-place ACCOUNT#222222222222, filtered on region; 1 queries read 4 items and returned 2/,
    );
  });

  it('combines the place with the other filters', async () => {
    expect(
      (await list('--in-region', 'us-east-1', '--status', 'contained')).incidents.map((i) => i.id),
    ).toEqual(idsOf((i) => i.region === 'us-east-1' && i.status === 'contained'));
    expect((await list('--account', ACCOUNTS[0], '--status', 'open')).incidents.map((i) => i.id)).toEqual(
      idsOf((i) => i.account === ACCOUNTS[0] && i.status === 'open'),
    );
    expect(
      (await list('--in-region', 'eu-west-1', '--resource', 'i-0org3')).incidents.map((i) => i.id),
    ).toEqual(['org-0004']);
    expect((await list('--in-region', 'us-east-1', '--resource', 'i-0org3')).incidents).toEqual([]);
  });

  it('pages each place with small pages, every incident once, the tokens bound to the place', async () => {
    // Pages whose last ends short of the limit: a page that ends at it exactly prints a token to one more,
    // empty page (DynamoDB's LastEvaluatedKey at the limit).
    const all = async (...args: string[]) => {
      const ids: string[] = [];
      const pages: number[] = [];
      let token: string | undefined;
      do {
        const page = await list('--limit', '3', ...args, ...(token ? ['--next-token', token] : []));
        ids.push(...page.incidents.map((i) => i.id));
        pages.push(page.incidents.length);
        token = page.nextToken;
      } while (token);
      return { ids, pages };
    };
    expect(await all('--account', ACCOUNTS[2])).toEqual({
      ids: idsOf((i) => i.account === ACCOUNTS[2]),
      pages: [3, 1],
    });
    expect(await all('--in-region', 'eu-west-1', '--limit', '4')).toEqual({
      ids: idsOf((i) => i.region === 'eu-west-1'),
      pages: [4, 2],
    });
    const both = await all('--account', ACCOUNTS[0], '--in-region', 'us-east-1');
    expect(both.ids).toEqual(idsOf((i) => i.account === ACCOUNTS[0] && i.region === 'us-east-1'));
    const first = await list('--account', ACCOUNTS[0], '--limit', '1');
    for (const other of [
      ['--account', ACCOUNTS[1]],
      ['--in-region', 'us-east-1'],
      ['--account', ACCOUNTS[0], '--in-region', 'us-east-1'],
    ]) {
      const ran = await cordon([
        'incidents',
        'list',
        ...on(org),
        ...other,
        '--next-token',
        first.nextToken ?? '',
      ]);
      expect(ran.status).toBe(1);
      expect(ran.err).toMatch(/--next-token is invalid: belongs to a list with other filters/);
    }
  });

  it('shows the account and region of each incident in the table', async () => {
    const ran = await cordon([
      'incidents',
      'list',
      ...on(org),
      '--account',
      ACCOUNTS[1],
      '--output',
      'table',
    ]);
    const [header, , row] = ran.out.split('\n');
    expect(header).toMatch(/\baccount\s+region\b/);
    expect(row).toMatch(/ 222222222222\s+(us-east-1|eu-west-1) /);
  });

  it('refuses a place that is no account id or region', async () => {
    const account = await cordon(['incidents', 'list', ...on(org), '--account', '2222']);
    expect([account.status, account.err]).toEqual([
      1,
      expect.stringMatching(/--account is invalid: must be a 12-digit/),
    ]);
    const region = await cordon(['stats', ...on(org), '--in-region', 'Ireland']);
    expect([region.status, region.err]).toEqual([
      1,
      expect.stringMatching(/--in-region is invalid: must be an AWS region/),
    ]);
  });

  it('explains each place flag in --help', async () => {
    for (const command of [['incidents', 'list'], ['stats']]) {
      const help = (await cordon([...command, '--help'])).out;
      expect(help).toMatch(/--account <id>\s+.*by-place index, by account/s);
      expect(help).toMatch(/--in-region <region>\s+.*by-place index, by region/s);
      expect(help).toMatch(/--region <region>\s+the AWS region/);
    }
  });

  it('counts by account and by region, and counts one account or region from the same index', async () => {
    type Printed = { incidents: number; byAccount: Record<string, number>; byRegion: Record<string, number> };
    const stats = async (...args: string[]) => {
      const ran = await cordon(['stats', ...on(org), '--since', '30d', '--output', 'json', ...args]);
      expect(ran.status, ran.err).toBe(0);
      return JSON.parse(ran.out) as Printed & { account?: string; region?: string };
    };
    expect(await stats()).toMatchObject({
      incidents: 12,
      byAccount: { '111111111111': 4, '222222222222': 4, '333333333333': 4 },
      byRegion: { 'eu-west-1': 6, 'us-east-1': 6 },
    });
    expect(await stats('--account', ACCOUNTS[1])).toMatchObject({
      account: ACCOUNTS[1],
      incidents: 4,
      byAccount: { '222222222222': 4 },
      byRegion: { 'eu-west-1': 2, 'us-east-1': 2 },
    });
    expect(await stats('--in-region', 'eu-west-1')).toMatchObject({
      region: 'eu-west-1',
      incidents: 6,
      byAccount: { '111111111111': 2, '222222222222': 2, '333333333333': 2 },
      byRegion: { 'eu-west-1': 6 },
    });
    const table = (await cordon(['stats', ...on(org), '--since', '30d', '--output', 'table'])).out;
    expect(table).toMatch(/^by account\s+222222222222\s+4$/m);
    expect(table).toMatch(/^by region\s+eu-west-1\s+6$/m);
  });
});
