/**
 * A game day can be run again, and what follows containment is a step of the record: `cordon demo` twice in
 * one state folder (the real binary, as `npm run demo` runs it), both whole; then `cordon incidents
 * release <id> --local` returning the instance and the key, in the member account the fixtures' findings
 * are in, to their state before containment (the whole sandbox organization compared), and `cordon incidents close|note|assign --local` on the demo's record, each a
 * step with its actor, the chain still verifying;
 * `incidents list` marks the demo's incidents as rehearsals and `stats` leaves them out unless asked.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredIncident } from '#shared/audit';
import type { Step } from '#shared/domain';
import { demoSeed } from '../../../cli/commands/demo.ts';
import { localOperator } from '../../../cli/lifecycle.ts';
import { readOrganizationFile } from '../../../local/runtime/account-file.ts';
import { LOCAL_ACCOUNT, LOCAL_EXTERNAL_ID, LOCAL_ORGANIZATION_ID } from '../../../local/runtime.ts';
import { LocalOrganization, type OrganizationState } from '../../../local/sandbox/organization.ts';
import { openStateStore, stateAccountFile } from '../../../local/state.ts';
import { responderTrust, stateAt, withoutResidueEverywhere } from '../../support/account.ts';
import { type BinRun, runCordon } from '../../support/bin.ts';

const dir = mkdtempSync(join(tmpdir(), 'cordon-gameday-'));
const cordon = (...args: string[]) => runCordon(args, { timeoutMs: 240_000 });
const local = ['--local', '--state-dir', dir];
/** Tests that run the binary several times in a row (each release starts the local runtime). */
const SLOW = 480_000;

/** The incidents the router started, in the order a demo's output names them. */
const startedIn = (run: BinRun) =>
  [...run.stdout.matchAll(/^Router: incident (\S+), playbook (\S+) started/gm)].map((m) => m[1] ?? '');

const runs: BinRun[] = [];
/** The fixtures' findings' account: a member of the demo's organization. */
const MEMBER = '883606788610';
const organization = (): OrganizationState =>
  readOrganizationFile(stateAccountFile(dir), { id: LOCAL_ORGANIZATION_ID, externalId: LOCAL_EXTERNAL_ID });

beforeAll(async () => {
  // Two game days in a row, each starting (and stopping) the state folder's DynamoDB Local itself.
  runs.push(await cordon('demo', '--state-dir', dir));
  runs.push(await cordon('demo', '--state-dir', dir));
}, 480_000);

describe('cordon demo, twice in one state folder', () => {
  it('runs the whole scenario both times and exits 0', () => {
    for (const run of runs) {
      expect(run.stderr).not.toMatch(/at .*\.ts:\d+|Error:/);
      expect(run.status).toBe(0);
      expect(startedIn(run)).toHaveLength(2);
      expect(run.stdout).not.toContain('The router did not start a playbook');
      expect(run.stdout.match(/^Chain verified: /gm)).toHaveLength(2);
      // The console part: list, show, verify and report.
      for (const command of ['incidents list', 'incidents show', 'verify --all', 'report'])
        expect(run.stdout).toContain(`$ cordon ${command}`);
      // The report command says where it wrote the report on stderr.
      expect(`${run.stdout}\n${run.stderr}`).toMatch(/^Report written to .*report-.*\.md$/m);
    }
  });

  it('opens new incidents the second time, after closing the ones the first left open', () => {
    const [first, second] = runs.map(startedIn);
    expect(new Set([...(first ?? []), ...(second ?? [])]).size).toBe(4);
    for (const id of first ?? []) expect(runs[1]?.stdout).toContain(`  closed ${id} (was contained)`);
    expect(runs[0]?.stdout).not.toContain('An earlier game day left');
  });

  it('shows progress while the local store starts, and each phase', () => {
    const out = runs[0]?.stdout ?? '';
    expect(out).toMatch(/^Starting DynamoDB Local \(Java\) on http:\/\/127\.0\.0\.1:\d+/m);
    expect(out).toMatch(/^ {2}DynamoDB Local answered after \d+ s\.$/m);
    for (const phase of ['Preparation', 'Identification', 'Containment', 'Lessons learned'])
      expect(out).toContain(`--- ${phase}`);
  });

  it('leaves the instance contained and the key deactivated, rejecting what cannot be undone, and says why', () => {
    const out = runs[1]?.stdout ?? '';
    expect(out).toMatch(/approve by the link .* to contain the instance/);
    expect(out).toMatch(/reject by the link .* keep the instance contained rather than stop it/);
    expect(out).toMatch(/reject by the link .* keep the key deactivated rather than delete it/);
    expect(out.match(/^Incident \S+: contained, contained at /gm)).toHaveLength(2);
    // Both findings are in the member: the changes are made there, the hub only assumes its role and emails.
    expect(
      out.match(/^The finding is in account 883606788610 \(a member\), region us-east-1\./gm),
    ).toHaveLength(2);
    expect(out).toMatch(/^ {2}account 883606788610 \(member\), region us-east-1: .*CreateSnapshots/m);
    expect(out).toMatch(/^ {2}account 883606788610 \(member\), region us-east-1: UpdateAccessKey/m);
    expect(out).toMatch(/^ {2}account 123456789012 \(the hub\), region us-east-1: .*AssumeRole/m);
    expect(out).not.toMatch(/^ {2}account 123456789012 \(the hub\).*(CreateSecurityGroup|UpdateAccessKey)/m);
    expect(out).toContain(`The sandbox account is saved in ${join(dir, 'account.json')}.`);
  });
});

describe('after the demo, in new processes', () => {
  let store: Awaited<ReturnType<typeof openStateStore>>;
  beforeAll(async () => {
    // One store for the commands below (each reuses it, as a second shell would).
    store = await openStateStore(dir);
  });
  afterAll(async () => {
    await store?.close();
  });

  const list = async (...extra: string[]) => {
    const run = await cordon('incidents', 'list', ...local, '--output', 'json', ...extra);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    return (JSON.parse(run.stdout) as { incidents: StoredIncident[] }).incidents;
  };
  const steps = async (id: string): Promise<{ incident: StoredIncident; steps: Step[] }> => {
    const run = await cordon('incidents', 'show', id, ...local, '--output', 'json');
    expect(run.status).toBe(0);
    return JSON.parse(run.stdout) as { incident: StoredIncident; steps: Step[] };
  };

  it('marks every demo incident a rehearsal in the list, as a column and in JSON', async () => {
    const incidents = await list();
    expect(incidents).toHaveLength(4);
    // The demo's findings are GuardDuty sample findings: a sample's mark wins over the local runtime's.
    for (const i of incidents) expect(i.rehearsal).toBe('sample');
    const table = await cordon('incidents', 'list', ...local, '--output', 'table');
    expect(table.stdout.split('\n')[0]).toMatch(/\bstatus\s+rehearsal\b/);
    expect(table.stdout.match(/\ssample\s/g)?.length).toBeGreaterThanOrEqual(4);
  });

  it(
    'returns the instance and the key to their state before containment with cordon release --local',
    async () => {
      const [ec2, iam] = startedIn(runs[1] as BinRun) as [string, string];
      // The organization the last game day started from, made at the moment the demo made its own, its
      // responder role trusting the same action roles.
      const saved = organization();
      const { seed } = demoSeed();
      const made = (account: string, at: number | undefined) =>
        LocalOrganization.create(seed, {
          sandbox: { now: () => at ?? 0 },
          trustedPrincipals: responderTrust(saved, MEMBER),
        }).state().accounts[account];
      // Each account's sandbox was made at its own moment: the member's when its instance launched, the hub's
      // when its restore role was made.
      const member = made(MEMBER, stateAt(saved, MEMBER)?.ec2.instances['i-99999999']?.launchTime);
      const hub = made(
        LOCAL_ACCOUNT,
        stateAt(saved, LOCAL_ACCOUNT)?.iam.roles['cordon-restore-us-east-1']?.createDate,
      );
      if (!member || !hub) throw new Error('the demo seed lacks the hub or the member');
      const before: OrganizationState = { ...saved, accounts: { [LOCAL_ACCOUNT]: hub, [MEMBER]: member } };
      expect(withoutResidueEverywhere(organization())).not.toEqual(withoutResidueEverywhere(before));
      for (const id of [ec2, iam]) {
        const released = await cordon('release', id, ...local, '--decision', 'approve');
        expect(released.stderr).not.toMatch(/\n\s+at /);
        expect(released.status, released.stdout).toBe(0);
        expect((await steps(id)).incident.status).toBe('recovered');
      }
      // The whole organization, less what a release leaves by design (test/support/account.ts).
      expect(withoutResidueEverywhere(organization())).toEqual(withoutResidueEverywhere(before));
      const verified = await cordon('verify', '--all', ...local, '--output', 'json');
      expect(verified.status, verified.stdout).toBe(0);
    },
    SLOW,
  );

  it(
    'records note, assign and close as steps with their actor; verify still passes; a second close is refused',
    async () => {
      const open = (await list()).filter((i) => i.status !== 'closed');
      const id = open[0]?.id ?? '';
      expect(open).toHaveLength(2);
      const before = (await steps(id)).steps.length;

      const note = await cordon('incidents', 'note', id, 'the owner confirmed the C2 lookups', ...local);
      expect(note.stderr).toBe('');
      expect(note.status).toBe(0);
      const assign = await cordon('incidents', 'assign', id, 'bob@example.com', ...local, '--output', 'json');
      expect(assign.status).toBe(0);
      expect((JSON.parse(assign.stdout) as { step: Step }).step).toMatchObject({ action: 'incident-assign' });
      const close = await cordon(
        'incidents',
        'close',
        id,
        '--reason',
        'instance rebuilt from a clean image',
        ...local,
        '--output',
        'table',
      );
      expect(close.status).toBe(0);
      expect(close.stdout).toContain(
        `Incident ${id}, step ${before + 3} (lessons-learned, by ${localOperator()})`,
      );

      const shown = await steps(id);
      const added = shown.steps.slice(before);
      expect(added.map((s) => [s.action, s.actor, s.phase])).toEqual([
        // Released by the test above: a note is recorded in the incident's phase now, recovery.
        ['incident-note', localOperator(), 'recovery'],
        ['incident-assign', localOperator(), 'recovery'],
        ['incident-close', localOperator(), 'lessons-learned'],
      ]);
      expect(added[0]?.note).toBe('the owner confirmed the C2 lookups');
      expect(added[2]?.note).toContain('instance rebuilt from a clean image');
      expect(shown.incident).toMatchObject({ status: 'closed', assignee: 'bob@example.com' });
      // Closed when the close was taken: after the assignment, no later than its step was recorded.
      expect(shown.incident.closedAt && shown.incident.closedAt > (added[1]?.recordedAt ?? '')).toBe(true);
      expect(shown.incident.closedAt && shown.incident.closedAt <= (added[2]?.recordedAt ?? '')).toBe(true);

      const verify = await cordon('verify', id, ...local, '--output', 'csv');
      expect(verify.status).toBe(0);
      expect(verify.stdout).toContain(',ok,');

      const again = await cordon('incidents', 'close', id, '--reason', 'twice', ...local);
      expect(again.status).toBe(1);
      expect(again.stderr).toContain(`incident ${id} is already closed`);
      expect(again.stderr).not.toMatch(/\n\s+at /);
      expect((await steps(id)).steps).toHaveLength(before + 3);

      const empty = await cordon('incidents', 'close', open[1]?.id ?? '', '--reason', ' ', ...local);
      expect(empty.status).toBe(1);
      expect(empty.stderr).toContain('--reason is invalid: must not be empty');
    },
    SLOW,
  );

  it('leaves rehearsals out of stats and says how many, unless --include-rehearsals', async () => {
    const out = await cordon('stats', ...local, '--since', '1d', '--output', 'json');
    expect(out.status).toBe(0);
    const stats = JSON.parse(out.stdout) as {
      incidents: number;
      rehearsals: { count: number; included: boolean };
    };
    expect(stats).toMatchObject({ incidents: 0, rehearsals: { count: 4, included: false } });
    const table = await cordon('stats', ...local, '--since', '1d', '--output', 'table');
    expect(table.stdout).toMatch(/rehearsals left out\s+4 /);

    const all = await cordon('stats', ...local, '--since', '1d', '--include-rehearsals', '--output', 'json');
    const included = JSON.parse(all.stdout) as {
      incidents: number;
      rehearsals: { included: boolean };
      byStatus: Record<string, number>;
    };
    expect(included).toMatchObject({ incidents: 4, rehearsals: { included: true } });
    expect(included.byStatus.closed).toBe(3);
  });
});
