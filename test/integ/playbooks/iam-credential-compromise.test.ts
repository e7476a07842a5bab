/**
 * The iam-credential-compromise and iam-release playbooks of Cordon's own stack, on the local engine and
 * sandbox.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '#shared/domain';
import type { Sandbox } from '../../../local/sandbox/index.ts';
import { approvalLink, decide, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { documentedRevokePolicy, KEY_1, KEY_2, KEY_3, SEED, SERVICE_LINKED } from '../actions/iam/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ approvals: {}, waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

const aliceKey: Resource = {
  type: 'access-key',
  id: KEY_1,
  details: { userType: 'IAMUser', userName: 'alice' },
};
const MUTATING = /^(Update|Put|Delete|Create|Attach|Detach)/;
const iamChanges = (sandbox: Sandbox, from = 0) =>
  sandbox.calls.slice(from).filter((c) => c.service === 'IAM' && MUTATING.test(c.command));
const keyStatus = (sandbox: Sandbox) =>
  Object.fromEntries(Object.values(sandbox.state().iam.accessKeys).map((k) => [k.accessKeyId, k.status]));

async function runToDeletionQuestion(decision: 'approve' | 'reject', incidentId?: string) {
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const run = await startPlaybook(t.runtime, 'iam-credential-compromise', aliceKey, 'automatic', {
    ...(incidentId ? { incidentId } : {}),
    type: 'UnauthorizedAccess:IAMUser/TorIPCaller',
  });
  const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);
  expect(await decide(link, decision)).toBe(200);
  const result = await run.execution.done;
  return { ...run, result, steps: await t.runtime.recorder.steps(run.incidentId) };
}

describe('iam-credential-compromise', () => {
  it('deactivates only the key the finding names, denies its sessions, and records the state before', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const run = await runToDeletionQuestion('reject');
    expect(run.result.status).toBe('SUCCEEDED');
    expect(keyStatus(sandbox)).toMatchObject({ [KEY_1]: 'Inactive', [KEY_2]: 'Active', [KEY_3]: 'Active' });
    const alice = sandbox.state().iam.users.alice;
    const policy = JSON.parse(alice?.inlinePolicies[`cordon-revoke-sessions-${run.incidentId}`] ?? '{}') as {
      Statement: { Condition: { DateLessThan: { 'aws:TokenIssueTime': string } } }[];
    };
    const cutOff = policy.Statement[0]?.Condition.DateLessThan['aws:TokenIssueTime'] ?? '';
    expect(policy).toEqual(documentedRevokePolicy(cutOff));
    const contained = run.steps.find((s) => s.action === 'iam-contain-user-key' && s.status === 'succeeded');
    expect(contained?.before).toMatchObject({ userName: 'alice', loginProfile: { exists: true } });
    expect((contained?.before as { accessKeys?: unknown[] } | undefined)?.accessKeys).toHaveLength(3);
    expect(Object.keys(alice?.inlinePolicies ?? {})).toContain('app-access');
    const incident = await t.runtime.recorder.getIncident(run.incidentId);
    expect(incident.status).toBe('contained');
    // One action invocation and four transitions until contained.
    const entered = run.result.history.filter((e) => /StateEntered$/.test(e.type));
    const upTo = entered.findIndex((e) => e.stateName === 'Contain the key');
    expect(upTo + 1).toBe(4);
  });

  it('deletes the key only after approval', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const run = await runToDeletionQuestion('approve');
    expect(run.result.status).toBe('SUCCEEDED');
    expect(Object.keys(sandbox.state().iam.accessKeys)).not.toContain(KEY_1);
    expect(Object.keys(sandbox.state().iam.accessKeys)).toEqual(expect.arrayContaining([KEY_2, KEY_3]));
  });

  it('revokes an assumed role’s sessions at the containment time, and skips a service-linked role', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const role = await startPlaybook(t.runtime, 'iam-credential-compromise', {
      type: 'access-key',
      id: 'ASIAAPPROLE000000001',
      details: { userType: 'AssumedRole', userName: 'app' },
    });
    const result = await role.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    const doc = JSON.parse(
      sandbox.state().iam.roles.app?.inlinePolicies[`cordon-revoke-sessions-${role.incidentId}`] ?? '{}',
    );
    const cutOff = doc.Statement[0].Condition.DateLessThan['aws:TokenIssueTime'] as string;
    const steps = await t.runtime.recorder.steps(role.incidentId);
    const contained = steps.find((s) => s.action === 'iam-revoke-role-sessions' && s.status === 'succeeded');
    expect(Date.parse(cutOff)).toBeGreaterThanOrEqual(Date.parse(contained?.startedAt ?? '') - 1000);
    expect(Date.parse(cutOff)).toBeGreaterThan(Date.parse('2026-11-28T10:05:00.000Z'));

    const slr = await startPlaybook(t.runtime, 'iam-credential-compromise', {
      type: 'access-key',
      id: 'ASIASLR0000000000001',
      details: { userType: 'AssumedRole', userName: SERVICE_LINKED },
    });
    expect((await slr.execution.done).status).toBe('SUCCEEDED');
    const slrSteps = await t.runtime.recorder.steps(slr.incidentId);
    const skipped = slrSteps.find((s) => s.action === 'iam-revoke-role-sessions' && s.status !== 'started');
    expect(skipped?.status).toBe('skipped');
    expect(skipped?.note).toMatch(/service-linked/);
    expect(Object.keys(sandbox.state().iam.roles[SERVICE_LINKED]?.inlinePolicies ?? {})).toEqual([]);
  });

  it('sends the manual-action email for root and changes nothing', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const before = sandbox.state();
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'iam-credential-compromise', {
      type: 'access-key',
      id: 'AKIAROOT000000000001',
      details: { userType: 'Root', userName: 'root' },
    });
    const result = await run.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    expect(iamChanges(sandbox)).toEqual([]);
    expect(sandbox.state().iam).toEqual(before.iam);
    const email = t.runtime.outbox?.emails
      .slice(emailsBefore)
      .find((e) => e.subject.includes('Manual action required'));
    expect(email?.text).toMatch(/root/i);
    const steps = await t.runtime.recorder.steps(run.incidentId);
    expect(steps.find((s) => s.action === 'iam-root-manual' && s.status === 'skipped')?.note).toMatch(
      /manual action required/i,
    );
  });

  it('changes nothing on a second run and records already-done', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const first = await runToDeletionQuestion('reject');
    const from = sandbox.calls.length;
    const second = await runToDeletionQuestion('reject', first.incidentId);
    expect(second.result.status).toBe('SUCCEEDED');
    expect(iamChanges(sandbox, from)).toEqual([]);
    const rerun = second.steps.slice(first.steps.length);
    expect(rerun.find((s) => s.action === 'iam-contain-user-key' && s.status !== 'started')?.status).toBe(
      'already-done',
    );
  });

  it('retries injected throttling to success', async () => {
    for (const command of ['UpdateAccessKey', 'PutUserPolicy']) {
      const sandbox = t.runtime.useAccount(SEED);
      sandbox.failNext(command, 2, { code: 'Throttling' });
      const run = await runToDeletionQuestion('reject');
      expect(run.result.status, command).toBe('SUCCEEDED');
      expect(
        sandbox.calls.filter((c) => c.command === command && c.error?.name === 'Throttling'),
      ).toHaveLength(2);
      expect(keyStatus(sandbox)[KEY_1], command).toBe('Inactive');
    }
  });

  it('ends an access denial in a recorded failure with the approvers emailed', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    sandbox.failNext('UpdateAccessKey', 100, { code: 'AccessDenied' });
    const before = sandbox.state();
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'iam-credential-compromise', aliceKey);
    const result = await run.execution.done;
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AccessDeniedError');
    expect(keyStatus(sandbox)).toEqual(
      Object.fromEntries(Object.values(before.iam.accessKeys).map((k) => [k.accessKeyId, k.status])),
    );
    const steps = await t.runtime.recorder.steps(run.incidentId);
    expect(steps.find((s) => s.action === 'iam-contain-user-key' && s.status === 'failed')?.error?.name).toBe(
      'AccessDeniedError',
    );
    expect(t.runtime.outbox?.emails.slice(emailsBefore).some((e) => e.subject.includes('FAILED'))).toBe(true);
  });
});

describe('iam-release', () => {
  it('returns the IAM state exactly to the state before', async () => {
    const sandbox = t.runtime.useAccount(SEED);
    const before = sandbox.state().iam;
    const contained = await runToDeletionQuestion('reject');
    expect(sandbox.state().iam).not.toEqual(before);
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const release = await startPlaybook(t.runtime, 'iam-release', aliceKey, 'automatic', {
      incidentId: contained.incidentId,
    });
    const link = await approvalLink(t.runtime, contained.incidentId, emailsBefore);
    expect(await decide(link, 'approve')).toBe(200);
    expect((await release.execution.done).status).toBe('SUCCEEDED');
    expect(sandbox.state().iam).toEqual(before);
  });
});
