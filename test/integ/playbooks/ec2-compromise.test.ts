/**
 * The ec2-compromise and ec2-release playbooks of Cordon's own stack, on the local engine and sandbox,
 * for an instance with two network interfaces in an Auto Scaling group behind a target group and a
 * classic load balancer, with an instance profile.
 */
import { PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#shared/audit-table';
import type { Step } from '#shared/domain';
import settings from '../../../cordon.config.ts';
import type { Sandbox } from '../../../local/sandbox/index.ts';
import { answerApprovals, approvalLink, decide, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { comparable, GUARDED, groupsOf, seed, WEB, WEB_ENI_0, WEB_ENI_1 } from '../actions/ec2/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  // The release gives the instance its profile back: its role must be one Cordon may pass.
  t = await startTestRuntime({
    approvals: {},
    waitScale: 0.01,
    stack: { settings: { ...settings, instanceRoles: ['web-role'] } },
  });
});
afterAll(async () => {
  await t.close();
});

const web = { type: 'instance' as const, id: WEB };
const READ = /^(Describe|Get|List)/;
const mutations = (sandbox: Sandbox, from = 0) =>
  sandbox.calls
    .slice(from)
    .filter((c) => !READ.test(c.command) && c.service !== 'SESv2' && c.service !== 'SFN');

/** Runs ec2-compromise, answers the eradication approval with `decision`, and declines the recovery. */
async function containAndDecide(decision: 'approve' | 'reject', options: { incidentId?: string } = {}) {
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const run = await startPlaybook(t.runtime, 'ec2-compromise', web, 'automatic', options);
  const stop = answerApprovals(t.runtime, run.incidentId, [decision, 'reject'], emailsBefore);
  const result = await run.execution.done;
  stop();
  return { ...run, result, steps: await t.runtime.recorder.steps(run.incidentId) };
}

const firstSeq = (steps: Step[], action: string, status: string) =>
  steps.find((s) => s.action === action && s.status === status)?.seq ?? Number.POSITIVE_INFINITY;

describe('ec2-compromise', () => {
  it('contains first, keeps the evidence, and eradicates only after approval', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'ec2-compromise', web);
    const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);

    // Waiting for approval: contained, evidence complete, not yet stopped.
    const waiting = sandbox.state();
    const isolation = Object.keys(waiting.ec2.securityGroups).find(
      (id) => waiting.ec2.tags[id]?.['cordon:isolation'] === 'true',
    );
    expect(isolation).toBeDefined();
    expect(groupsOf(waiting, WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(waiting, WEB_ENI_1)).toEqual([isolation]);
    expect(waiting.autoScaling.groups['web-asg']?.instances.map((i) => i.instanceId)).not.toContain(WEB);
    const tg = Object.values(waiting.elbv2.targetGroups).find((g) => g.name === 'web-tg');
    expect(tg?.targets.filter((x) => x.id === WEB && x.drainingUntil === undefined)).toEqual([]);
    expect(waiting.elb.loadBalancers['web-clb']?.instances).not.toContain(WEB);
    expect(Object.values(waiting.ec2.profileAssociations).filter((a) => a.instanceId === WEB)).toEqual([]);
    expect(Object.keys(waiting.iam.roles['web-role']?.inlinePolicies ?? {})).toContain(
      `cordon-revoke-sessions-${run.incidentId}`,
    );
    const snapshots = Object.values(waiting.ec2.snapshots);
    expect(snapshots.map((s) => s.volumeId).sort()).toEqual([
      'vol-0a000000000000001',
      'vol-0a000000000000002',
    ]);
    expect(snapshots.every((s) => s.state === 'completed')).toBe(true);
    for (const s of snapshots)
      expect(waiting.ec2.tags[s.snapshotId]?.['cordon:incident']).toBe(run.incidentId);
    expect(waiting.ec2.instances[WEB]?.state).toBe('running');
    expect(waiting.ec2.instances[WEB]?.disableApiTermination).toBe(true);

    const stop = answerApprovals(t.runtime, run.incidentId, ['reject'], t.runtime.outbox?.emails.length ?? 0);
    expect(await decide(link, 'approve')).toBe(200);
    const result = await run.execution.done;
    stop();
    expect(result.status).toBe('SUCCEEDED');
    expect(sandbox.state().ec2.instances[WEB]?.state).toBe('stopped');
    // Recovery waits for its own approval: declined here.
    expect(result.history.some((e) => e.stateName === 'Not recovered')).toBe(true);

    const steps = await t.runtime.recorder.steps(run.incidentId);
    // Containment finished before the first evidence step started.
    const contained =
      steps.filter((s) => s.action === 'ec2-isolate' && s.status === 'succeeded').at(-1)?.seq ?? 0;
    expect(contained).toBeGreaterThan(0);
    expect(contained).toBeLessThan(firstSeq(steps, 'ec2-snapshot', 'started'));
    expect(firstSeq(steps, 'approval-decision', 'succeeded')).toBeLessThan(
      firstSeq(steps, 'ec2-eradicate', 'started'),
    );
    const incident = await t.runtime.recorder.getIncident(run.incidentId);
    expect(incident.status).toBe('contained');
    expect(incident.containedAt).toBeDefined();
    await t.runtime.settled();
    expect((await t.runtime.recorder.verify(run.incidentId)).ok).toBe(true);
  });

  it('changes nothing on a second run of the same incident, and records already-done', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const first = await containAndDecide('reject');
    expect(first.result.status).toBe('SUCCEEDED');
    const from = sandbox.calls.length;
    const second = await containAndDecide('reject', { incidentId: first.incidentId });
    expect(second.result.status).toBe('SUCCEEDED');
    expect(mutations(sandbox, from).map((c) => c.command)).toEqual([]);
    const rerun = second.steps.slice(first.steps.length);
    const finished = rerun.filter((s) => s.action.startsWith('ec2-') && s.status !== 'started');
    for (const action of [
      'ec2-isolate',
      'ec2-protect-evidence',
      'ec2-detach',
      'ec2-revoke-sessions',
      'ec2-tag',
      'ec2-snapshot',
    ]) {
      expect(
        finished.filter((s) => s.action === action).map((s) => s.status),
        action,
      ).toContain('already-done');
    }
  });

  it('waits for approval before containing a protected instance, and changes nothing before it', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const before = sandbox.state();
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(
      t.runtime,
      'ec2-compromise',
      { type: 'instance', id: GUARDED },
      'approval-first',
    );
    const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);
    expect(mutations(sandbox)).toEqual([]);
    expect(comparable(sandbox.state())).toEqual(comparable(before));
    expect(await decide(link, 'reject')).toBe(200);
    const result = await run.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    expect(result.history.some((e) => e.stateName === 'Not contained')).toBe(true);
    expect(mutations(sandbox)).toEqual([]);
  });

  it('reports every call a dry run would make and changes nothing', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const before = sandbox.state();
    const run = await startPlaybook(t.runtime, 'ec2-compromise', web, 'dry-run');
    const result = await run.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    // EC2's own DryRun answered every change it would make; nothing else changed.
    expect(
      mutations(sandbox)
        .filter((c) => c.error?.name !== 'DryRunOperation')
        .map((c) => c.command),
    ).toEqual([]);
    expect(comparable(sandbox.state())).toEqual(comparable(before));
    const steps = await t.runtime.recorder.steps(run.incidentId);
    const reported = steps.filter((s) => s.dryRun && s.status === 'succeeded' && s.action.startsWith('ec2-'));
    expect(reported.map((s) => s.action)).toEqual(
      expect.arrayContaining([
        'ec2-isolate',
        'ec2-protect-evidence',
        'ec2-detach',
        'ec2-revoke-sessions',
        'ec2-tag',
        'ec2-snapshot',
        'ec2-eradicate',
      ]),
    );
    for (const s of reported) expect(s.changes, s.action).toBeDefined();
  });

  it('ends in a recorded failure, the approvers emailed and the state before kept, when access is denied', async () => {
    const sandbox = t.runtime.useAccount(seed());
    sandbox.failNext('ModifyNetworkInterfaceAttribute', 100, { code: 'UnauthorizedOperation' });
    const before = sandbox.state();
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'ec2-compromise', web);
    const result = await run.execution.done;
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AccessDeniedError');
    expect(groupsOf(sandbox.state(), WEB_ENI_0)).toEqual(groupsOf(before, WEB_ENI_0));
    expect(groupsOf(sandbox.state(), WEB_ENI_1)).toEqual(groupsOf(before, WEB_ENI_1));
    const steps = await t.runtime.recorder.steps(run.incidentId);
    expect(steps.some((s) => s.action === 'ec2-isolate' && s.status === 'succeeded')).toBe(false);
    expect(steps.find((s) => s.action === 'ec2-isolate' && s.status === 'failed')?.error?.name).toBe(
      'AccessDeniedError',
    );
    expect((await t.runtime.recorder.getIncident(run.incidentId)).status).toBe('open');
    const failureEmail = t.runtime.outbox?.emails
      .slice(emailsBefore)
      .find((e) => e.subject.includes('FAILED'));
    expect(failureEmail?.text).toContain('AccessDeniedError');
  });

  it('retries an injected throttle on every mutating call of the playbook to success', async () => {
    const throttles: Record<string, string> = {
      EC2: 'RequestLimitExceeded',
      AutoScaling: 'Throttling',
      ELBv2: 'Throttling',
      ELB: 'Throttling',
      IAM: 'Throttling',
    };
    // The mutating calls a clean run makes, found from a run, so that a new call is covered too.
    const probe = t.runtime.useAccount(seed());
    await containAndDecide('approve');
    const commands = [...new Set(mutations(probe).map((c) => `${c.service}:${c.command}`))];
    expect(commands.length).toBeGreaterThan(8);
    for (const command of commands) {
      const sandbox = t.runtime.useAccount(seed());
      const [service] = command.split(':');
      sandbox.failNext(command, 1, { code: throttles[service ?? ''] ?? 'ThrottlingException' });
      const { result } = await containAndDecide('approve');
      expect(result.status, command).toBe('SUCCEEDED');
      const calls = sandbox.calls.filter((c) => `${c.service}:${c.command}` === command);
      expect(calls[0]?.error?.name, command).toBe(throttles[service ?? '']);
      expect(sandbox.state().ec2.instances[WEB]?.state, command).toBe('stopped');
    }
  });

  it('ends an access denial on every mutating call in a recorded failure, with the approvers emailed', async () => {
    const denials: Record<string, string> = {
      EC2: 'UnauthorizedOperation',
      AutoScaling: 'AccessDenied',
      ELBv2: 'AccessDenied',
      ELB: 'AccessDenied',
      IAM: 'AccessDenied',
    };
    const probe = t.runtime.useAccount(seed());
    await containAndDecide('approve');
    const commands = [...new Set(mutations(probe).map((c) => `${c.service}:${c.command}`))];
    for (const command of commands) {
      const sandbox = t.runtime.useAccount(seed());
      const [service] = command.split(':');
      sandbox.failNext(command, 100, { code: denials[service ?? ''] ?? 'AccessDeniedException' });
      const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
      const run = await startPlaybook(t.runtime, 'ec2-compromise', web);
      // A denial after the evidence is complete fails at eradication, after the approval.
      const stop = answerApprovals(t.runtime, run.incidentId, ['approve', 'reject'], emailsBefore);
      const result = await run.execution.done;
      stop();
      expect(result.status, command).toBe('FAILED');
      expect(result.error, command).toBe('AccessDeniedError');
      const denied = sandbox.calls.findIndex((c) => `${c.service}:${c.command}` === command);
      expect(denied, command).toBeGreaterThanOrEqual(0);
      const steps = await t.runtime.recorder.steps(run.incidentId);
      const failed = steps.filter((s) => s.status === 'failed');
      expect(
        failed.map((s) => s.error?.name),
        command,
      ).toContain('AccessDeniedError');
      // Nothing after the failed step ran: no step started after it but the failure notice.
      const failedSeq = failed[0]?.seq ?? 0;
      expect(
        steps.filter((s) => s.seq > failedSeq && s.action !== 'notify').map((s) => s.action),
        command,
      ).toEqual([]);
      const email = t.runtime.outbox?.emails.slice(emailsBefore).find((e) => e.subject.includes('FAILED'));
      expect(email?.text, command).toContain('AccessDeniedError');
      if (command !== 'EC2:StopInstances')
        expect(sandbox.state().ec2.instances[WEB]?.state, command).toBe('running');
    }
  });
});

describe('ec2-release', () => {
  it('returns the account to its exact state before containment', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const before = sandbox.state();
    const contained = await containAndDecide('reject');
    expect(contained.result.status).toBe('SUCCEEDED');
    expect(groupsOf(sandbox.state(), WEB_ENI_0)).not.toEqual(groupsOf(before, WEB_ENI_0));
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const release = await startPlaybook(t.runtime, 'ec2-release', web, 'automatic', {
      incidentId: contained.incidentId,
    });
    const link = await approvalLink(t.runtime, contained.incidentId, emailsBefore);
    expect(await decide(link, 'approve')).toBe(200);
    const result = await release.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    const after = sandbox.state();
    expect(comparable(after)).toEqual(comparable(before));
    // AttachInstances raises the desired capacity by one, as AWS does.
    expect(after.autoScaling.groups['web-asg']?.desiredCapacity).toBe(
      (before.autoScaling.groups['web-asg']?.desiredCapacity ?? 0) + 1,
    );
    expect((await t.runtime.recorder.getIncident(contained.incidentId)).status).toBe('recovered');
  });

  it('refuses to release an incident whose record does not verify: the failure is recorded and the approvers emailed', async () => {
    const sandbox = t.runtime.useAccount(seed());
    const contained = await containAndDecide('reject');
    const state = sandbox.state();
    // A forger edits one step of the containment, as anyone with table access could.
    const [first] = await t.table.doc
      .send(
        new QueryCommand({
          TableName: t.table.tableName,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :s)',
          ExpressionAttributeValues: { ':pk': keys.incident(contained.incidentId).pk, ':s': keys.stepPrefix },
          Limit: 1,
        }),
      )
      .then((out) => out.Items ?? []);
    await t.table.doc.send(
      new PutCommand({ TableName: t.table.tableName, Item: { ...first, note: 'forged' } }),
    );
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const release = await startPlaybook(t.runtime, 'ec2-release', web, 'automatic', {
      incidentId: contained.incidentId,
    });
    const result = await release.execution.done;
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('RecordTamperedError');
    expect(comparable(sandbox.state())).toEqual(comparable(state));
    // Nobody is asked to approve a release on a record that does not verify; the approvers are told why.
    const emails = (t.runtime.outbox?.emails ?? []).slice(emailsBefore);
    expect(emails.flatMap((e) => e.links).filter((l) => l.includes('/approvals/'))).toEqual([]);
    expect(
      emails.some((e) => /ec2-release FAILED/.test(e.subject) && /does not verify/.test(e.text ?? '')),
    ).toBe(true);
  });
});
