/**
 * Undo from the console, through the real `cordon` binary on one state folder: `cordon run` leaves its
 * sandbox account in the folder (`account.json`), `cordon run --incident` contains an existing incident,
 * and `cordon release <id> --local` puts the instance (or the IAM user's key) back exactly as it was
 * before containment, compared on the whole persisted account. A release with nothing to release is
 * refused with its reason, exits non-zero, changes nothing and leaves the incident's status as it was.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { readOrganizationFile } from '../../../local/runtime/account-file.ts';
import { LOCAL_EXTERNAL_ID, LOCAL_ORGANIZATION_ID } from '../../../local/runtime.ts';
import type { AccountState } from '../../../local/sandbox/index.ts';
import type { OrganizationState } from '../../../local/sandbox/organization.ts';
import { stateAccountFile } from '../../../local/state.ts';
import { stateAt, withoutResidue, withoutResidueEverywhere } from '../../support/account.ts';
import { runCordon } from '../../support/bin.ts';
import { openTestStateFolder, type TestStateFolder } from '../../support/state-folder.ts';

const EC2_EVENT = 'test/fixtures/events/guardduty/ec2-canary-stateless.detail.json';
const IAM_EVENT = 'test/fixtures/events/guardduty/iam-tor-ip-caller.eventbridge.json';
const SLOW = 600_000;

let folder: TestStateFolder;
let dir: string;
let recorder: AuditRecorder;

beforeAll(async () => {
  folder = await openTestStateFolder('cordon-release-');
  ({ dir, recorder } = folder);
});
afterAll(async () => {
  await folder?.close();
});

async function cordon(...args: string[]) {
  const ran = await runCordon([...args, '--state-dir', dir], { timeoutMs: 300_000 });
  expect(ran.stderr).not.toMatch(/\n\s+at /);
  return ran;
}

const account = (): AccountState => JSON.parse(readFileSync(stateAccountFile(dir), 'utf8')) as AccountState;
/** The whole saved organization: the IAM fixture's key is in member 883606788610, the hub beside it. */
const organization = (): OrganizationState =>
  readOrganizationFile(stateAccountFile(dir), { id: LOCAL_ORGANIZATION_ID, externalId: LOCAL_EXTERNAL_ID });
const member = (): AccountState => {
  const state = stateAt(organization(), '883606788610');
  if (!state) throw new Error('the saved organization has no member 883606788610');
  return state;
};
const incidentOf = (stdout: string): string => /^Incident (\w+)$/m.exec(stdout)?.[1] ?? '';
const status = async (id: string) => (await recorder.getIncident(id)).status;

describe('cordon release --local', () => {
  it(
    'refuses to release an instance never contained, then returns it to exactly its state before containment',
    async () => {
      // The router's policy: a target-only instance waits for approval; rejected, nothing is contained.
      const first = await cordon('run', '--event', EC2_EVENT, '--decision', 'reject');
      expect(first.status).toBe(0);
      expect(first.stdout).toMatch(/Playbook ec2-compromise, mode approval-first/);
      const id = incidentOf(first.stdout);
      const beforeContainment = account();
      const opened = await status(id);

      const refused = await cordon('release', id, '--local', '--decision', 'approve');
      expect(refused.status).toBe(1);
      expect(refused.stdout).toMatch(
        /release refused: nothing to release: the record of incident \w+ holds no containment of i-05746eb48123455e0/,
      );
      expect(refused.stdout).not.toMatch(/Approve release|Mark recovered/);
      expect(await status(id)).toBe(opened);
      expect(account()).toEqual(beforeContainment);
      const skipped = (await recorder.steps(id)).filter((s) => s.action === 'ec2-release');
      expect(skipped.at(-1)).toMatchObject({
        status: 'skipped',
        note: expect.stringMatching(/^nothing to release/),
      });

      const contain = await cordon(
        'run',
        '--incident',
        id,
        '--playbook',
        'ec2-compromise',
        '--mode',
        'automatic',
        '--decision',
        'reject',
      );
      expect(contain.status).toBe(0);
      expect(await status(id)).toBe('contained');
      const contained = account();
      const instance = (s: AccountState) => s.ec2.instances['i-05746eb48123455e0'];
      expect(instance(contained)).not.toEqual(instance(beforeContainment));

      const released = await cordon('release', id, '--local', '--decision', 'approve');
      expect(released.status).toBe(0);
      expect(released.stdout).toMatch(/Mark recovered/);
      expect(await status(id)).toBe('recovered');
      expect(withoutResidue(account())).toEqual(withoutResidue(beforeContainment));

      // Released once, there is nothing left to release: refused, and the status stays recovered.
      const again = await cordon('release', id, '--local', '--decision', 'approve');
      expect(again.status).toBe(1);
      expect(again.stdout).toMatch(/release refused: /);
      expect(await status(id)).toBe('recovered');
    },
    SLOW,
  );

  it(
    "returns an IAM user's key to exactly its state before containment",
    async () => {
      const first = await cordon(
        'run',
        '--event',
        IAM_EVENT,
        '--mode',
        'approval-first',
        '--decision',
        'reject',
      );
      expect(first.status).toBe(0);
      const id = incidentOf(first.stdout);
      const beforeContainment = organization();

      const refused = await cordon('release', id, '--local');
      expect(refused.status).toBe(1);
      expect(refused.stdout).toMatch(/release refused: nothing to release: no IAM containment/);
      expect(await status(id)).toBe('open');
      expect(organization()).toEqual(beforeContainment);

      const contain = await cordon(
        'run',
        '--incident',
        id,
        '--playbook',
        'iam-credential-compromise',
        '--mode',
        'automatic',
        '--decision',
        'reject',
      );
      expect(contain.status).toBe(0);
      expect(member().iam).not.toEqual(stateAt(beforeContainment, '883606788610')?.iam);

      const released = await cordon('release', id, '--local', '--decision', 'approve');
      expect(released.status).toBe(0);
      expect(released.stdout).toMatch(/reactivated (key )?GeneratedFindingAccessKeyId/);
      expect(await status(id)).toBe('recovered');
      expect(withoutResidue(member())).toEqual(
        withoutResidue(stateAt(beforeContainment, '883606788610') as AccountState),
      );
      // The hub, where Cordon runs, sent its emails and changed nothing else.
      expect(withoutResidueEverywhere(organization())).toEqual(withoutResidueEverywhere(beforeContainment));
    },
    SLOW,
  );

  it('refuses a release playbook started from an event, which has no containment to undo', async () => {
    const ran = await cordon('run', '--event', EC2_EVENT, '--playbook', 'ec2-release');
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(/ec2-release undoes the containment of an existing incident.*cordon release/);
  });
});
