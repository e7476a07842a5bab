/**
 * The recover playbook of Cordon's own stack (the same chain ec2-compromise runs after eradication), on
 * the local engine and sandbox: restore from the newest backup taken before the compromise.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#shared/audit-table';
import { makeClient } from '#shared/clients';
import { startRecovery } from '../../../cli/commands/recover.ts';
import type { AccountSeed } from '../../../local/sandbox/index.ts';
import { answerApprovals, approvalLink, decide, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import {
  FAILING,
  FIRST_SEEN,
  NO_BACKUP,
  POINT,
  RECOVERY_GROUP,
  seed,
  WEB,
} from '../actions/recover/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({
    approvals: {},
    waitScale: 0.001,
    stack: {
      settings: {
        approvers: ['security-oncall@example.com'],
        sender: 'cordon@example.com',
        recovery: {
          subnetId: 'subnet-0eec',
          securityGroupIds: [RECOVERY_GROUP],
          instanceProfileName: 'recovery-profile',
          restoreCheckSeconds: 60,
          restoreMaxChecks: 4,
        },
      },
    },
  });
});
afterAll(async () => {
  await t.close();
});

/** The helper's account, with the restore role the stack names. */
function account(extra: Partial<AccountSeed> = {}): AccountSeed {
  const base = seed();
  return {
    ...base,
    ...extra,
    iam: {
      ...base.iam,
      roles: [...(base.iam?.roles ?? []), { name: 'cordon-restore-us-east-1', trustPolicy: {} }],
    },
  };
}

async function recoverAfterApproval(instanceId: string) {
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const run = await startPlaybook(t.runtime, 'recover', { type: 'instance', id: instanceId }, 'automatic', {
    firstSeen: FIRST_SEEN,
  });
  const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);
  expect(await decide(link, 'approve')).toBe(200);
  const result = await run.execution.done;
  return { ...run, result, steps: await t.runtime.recorder.steps(run.incidentId), emailsBefore };
}

describe('recover', () => {
  it('restores the newest point before first-seen, where the settings say, with the tags', async () => {
    const sandbox = t.runtime.useAccount(account());
    const run = await recoverAfterApproval(WEB);
    expect(run.result.status).toBe('SUCCEEDED');
    const jobs = Object.values(sandbox.state().backup.restoreJobs);
    expect(jobs).toHaveLength(1);
    expect(jobs[0]?.recoveryPointArn).toBe(POINT.oneDay);
    const chosen = run.steps.find((s) => s.action === 'recover-choose-point' && s.status === 'succeeded');
    expect(chosen?.output).toMatchObject({ recoveryPointArn: POINT.oneDay });
    expect(JSON.stringify(chosen?.output)).toContain(POINT.afterFirstSeen);
    expect(JSON.stringify(chosen?.output)).toContain(POINT.threeDays);
    const restored = jobs[0]?.createdResourceArn?.split('/').at(-1) ?? '';
    const instance = sandbox.state().ec2.instances[restored];
    expect(instance?.subnetId).toBe('subnet-0eec');
    const groups = instance?.networkInterfaceIds.flatMap(
      (eni) => sandbox.state().ec2.networkInterfaces[eni]?.groups ?? [],
    );
    expect(groups).toEqual([RECOVERY_GROUP]);
    expect(sandbox.state().ec2.tags[restored]).toMatchObject({
      team: 'payments',
      'cordon:incident': run.incidentId,
    });
    const incident = await t.runtime.recorder.getIncident(run.incidentId);
    expect(incident.status).toBe('recovered');
    expect(incident.recoveredAt).toBeDefined();
    expect(run.steps.find((s) => s.action === 'recover-validate' && s.status === 'succeeded')).toBeDefined();
  });

  it('starts no second restore job on a second run', async () => {
    const sandbox = t.runtime.useAccount(account());
    const first = await recoverAfterApproval(WEB);
    expect(first.result.status).toBe('SUCCEEDED');
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const again = await startPlaybook(t.runtime, 'recover', { type: 'instance', id: WEB }, 'automatic', {
      incidentId: first.incidentId,
      firstSeen: FIRST_SEEN,
    });
    const link = await approvalLink(t.runtime, first.incidentId, emailsBefore);
    expect(await decide(link, 'approve')).toBe(200);
    expect((await again.execution.done).status).toBe('SUCCEEDED');
    expect(Object.values(sandbox.state().backup.restoreJobs)).toHaveLength(1);
  });

  it('falls back to volumes from snapshots when there is no recovery point, and records a partial recovery', async () => {
    const sandbox = t.runtime.useAccount(account());
    const run = await recoverAfterApproval(NO_BACKUP);
    expect(run.result.status).toBe('SUCCEEDED');
    expect(run.result.history.some((e) => e.stateName === 'Partly recovered')).toBe(true);
    const created = Object.values(sandbox.state().ec2.volumes).filter(
      (v) => sandbox.state().ec2.tags[v.volumeId]?.['cordon:incident'] === run.incidentId,
    );
    expect(created.length).toBeGreaterThan(0);
    const fallback = run.steps.find((s) => s.action === 'recover-from-snapshots' && s.status === 'succeeded');
    expect(fallback?.note).toMatch(/partial/i);
    expect(t.runtime.outbox?.emails.slice(run.emailsBefore).some((e) => /partial/i.test(e.text ?? ''))).toBe(
      true,
    );
    expect((await t.runtime.recorder.getIncident(run.incidentId)).status).not.toBe('recovered');
  });

  it('ends a failed restore job in a recorded failure, with the approvers emailed', async () => {
    t.runtime.useAccount(account());
    const run = await recoverAfterApproval(FAILING);
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error).toBe('RestoreFailedError');
    expect(
      run.steps.find((s) => s.action === 'recover-check-restore' && s.status === 'failed')?.error?.name,
    ).toBe('RestoreFailedError');
    expect(t.runtime.outbox?.emails.slice(run.emailsBefore).some((e) => e.subject.includes('FAILED'))).toBe(
      true,
    );
  });

  it('ends a restore that outlives the bound in a recorded failure, with the approvers emailed', async () => {
    t.runtime.useAccount(account({ timings: { restoreRunningMs: 10 * 3_600_000 } }));
    const run = await recoverAfterApproval(WEB);
    expect(run.result.status).toBe('FAILED');
    expect(run.result.error).toBe('RestoreTimedOutError');
    const checks = run.steps.filter((s) => s.action === 'recover-check-restore' && s.status === 'succeeded');
    expect(checks).toHaveLength(4);
    const email = t.runtime.outbox?.emails.slice(run.emailsBefore).find((e) => e.subject.includes('FAILED'));
    expect(email?.text).toContain('RestoreTimedOutError');
  });

  it('is started for an incident by cordon recover, as the operator, and waits for approval', async () => {
    const sandbox = t.runtime.useAccount(account());
    const incident = await t.runtime.recorder.openIncident({
      title: 'restore after compromise',
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
      resources: [{ type: 'instance', id: WEB }],
      firstSeen: FIRST_SEEN,
      lastSeen: FIRST_SEEN,
    });
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const { executionArn } = await startRecovery(
      {
        recorder: t.runtime.recorder,
        sfn: makeClient(SFNClient, { service: 'SFN' }),
        sts: makeClient(STSClient, { service: 'STS' }),
        region: 'us-east-1',
      },
      incident.id,
    );
    const execution = t.runtime.engine.executionList().find((e) => e.arn === executionArn);
    expect(execution?.playbookId).toBe('recover');
    expect(Object.values(sandbox.state().backup.restoreJobs)).toHaveLength(0);
    const stop = answerApprovals(t.runtime, incident.id, ['approve'], emailsBefore);
    expect((await execution?.done)?.status).toBe('SUCCEEDED');
    stop();
    expect(Object.values(sandbox.state().backup.restoreJobs)).toHaveLength(1);
    // Who started it is in the execution's reasons, which the approval request records.
    const steps = await t.runtime.recorder.steps(incident.id);
    expect(steps.find((s) => s.action === 'approval-request')?.input).toMatchObject({
      reasons: [expect.stringMatching(/^started by arn:aws:sts::123456789012:.* with cordon recover$/)],
    });
  });

  it('refuses to recover from a record that does not verify', async () => {
    t.runtime.useAccount(seed());
    const incident = await t.runtime.recorder.openIncident({
      title: 'compromise',
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
      resources: [{ type: 'instance', id: WEB }],
      firstSeen: FIRST_SEEN,
      lastSeen: FIRST_SEEN,
    });
    // A forger moves the incident's first-seen time, so that a recovery would restore a backup taken later.
    await t.table.doc.send(
      new UpdateCommand({
        TableName: t.table.tableName,
        Key: keys.incident(incident.id),
        UpdateExpression: 'SET firstSeen = :t',
        ExpressionAttributeValues: { ':t': new Date().toISOString() },
      }),
    );
    const before = t.runtime.engine.executionList().length;
    await expect(
      startRecovery(
        {
          recorder: t.runtime.recorder,
          sfn: makeClient(SFNClient, { service: 'SFN' }),
          sts: makeClient(STSClient, { service: 'STS' }),
          region: 'us-east-1',
        },
        incident.id,
      ),
    ).rejects.toMatchObject({
      name: 'RecordTamperedError',
      message: expect.stringMatching(/incident-edited.*firstSeen/),
    });
    expect(t.runtime.engine.executionList()).toHaveLength(before);
  });
});
