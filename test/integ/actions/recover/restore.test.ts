import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError, ValidationError } from '#shared/errors';
import { checkRestore } from '../../../../functions/actions/recover-check-restore/core.ts';
import {
  RestoreConfigurationError,
  RestoreFailedError,
} from '../../../../functions/actions/recover-common/errors.ts';
import { startRestore } from '../../../../functions/actions/recover-start-restore/core.ts';
import {
  errorOf,
  FAILING,
  ISOLATED,
  ISOLATION_GROUP,
  inputsOf,
  mutationsSince,
  POINT,
  RECOVERY_GROUP,
  RESTORE_ROLE,
  setup,
  WEB,
} from './helpers.ts';

const CONFIGURED = {
  restoreRoleArn: RESTORE_ROLE,
  subnetId: 'subnet-0eec',
  securityGroupIds: [RECOVERY_GROUP],
  instanceProfileName: 'recovery-profile',
};

function world() {
  const env = setup();
  const deps = { backup: env.backup, ec2: env.ec2, now: env.now };
  const start = (extra: Record<string, unknown> = {}) =>
    startRestore(deps, {
      incidentId: 'inc-1',
      instanceId: WEB,
      recoveryPointArn: POINT.oneDay,
      vaultName: 'prod',
      ...CONFIGURED,
      ...extra,
    });
  const check = (restoreJobId: unknown, extra: Record<string, unknown> = {}) =>
    checkRestore(deps, { incidentId: 'inc-1', instanceId: WEB, restoreJobId, ...extra });
  return { ...env, deps, start, check };
}

describe('recover-start-restore', () => {
  it('restores with the configured subnet, groups, profile and role, IMDSv2 and the idempotency token', async () => {
    const { start, sandbox } = world();
    const result = await start({ tags: { environment: 'prod' } });
    expect(result.status).toBe('succeeded');
    const token = createHash('sha256').update(`cordon-restore\ninc-1\n${POINT.oneDay}`).digest('hex');
    expect(inputsOf(sandbox, 'StartRestoreJob')).toEqual([
      {
        RecoveryPointArn: POINT.oneDay,
        IamRoleArn: RESTORE_ROLE,
        IdempotencyToken: token,
        ResourceType: 'EC2',
        CopySourceTagsToRestoredResource: true,
        Metadata: expect.objectContaining({
          SubnetId: 'subnet-0eec',
          SecurityGroupIds: JSON.stringify([RECOVERY_GROUP]),
          IamInstanceProfileName: 'recovery-profile',
          RequireIMDSv2: 'true',
          InstanceType: 't3.micro',
        }),
      },
    ]);
    expect(result.before).toMatchObject({
      metadata: { SubnetId: 'subnet-0a99', SecurityGroupIds: JSON.stringify(['sg-0ebb', 'sg-0add']) },
    });
    expect(result.output).toMatchObject({
      restoreJobId: expect.any(String),
      status: 'PENDING',
      idempotencyToken: token,
      tags: { environment: 'prod', 'cordon:incident': 'inc-1', 'cordon:restored-from': POINT.oneDay },
    });
    expect(result.evidence).toEqual([result.output?.restoreJobId]);
  });

  it('starts no second job for the same incident and point, and says so', async () => {
    const { start, sandbox } = world();
    const first = await start();
    sandbox.advance(30_000);
    const second = await start();
    expect(second.output?.restoreJobId).toBe(first.output?.restoreJobId);
    expect(second.status).toBe('already-done');
    expect(Object.keys(sandbox.state().backup.restoreJobs)).toHaveLength(1);
    // Another incident is another restore.
    const other = await start({ incidentId: 'inc-2' });
    expect(other.output?.restoreJobId).not.toBe(first.output?.restoreJobId);
  });

  it("keeps the recovery point's groups without the isolation group when none are configured", async () => {
    const { deps, sandbox } = world();
    const result = await startRestore(deps, {
      incidentId: 'inc-1',
      instanceId: ISOLATED,
      recoveryPointArn: POINT.isolated,
      vaultName: 'Default',
      restoreRoleArn: RESTORE_ROLE,
    });
    expect(result.changes).toMatchObject({ droppedGroups: [ISOLATION_GROUP] });
    expect(inputsOf(sandbox, 'StartRestoreJob')).toEqual([
      expect.objectContaining({
        Metadata: expect.objectContaining({ SecurityGroupIds: JSON.stringify(['sg-0ebb']) }),
      }),
    ]);
  });

  it('refuses a configuration that names the isolation group, and starts nothing', async () => {
    const { start, sandbox } = world();
    const error = await errorOf(start({ securityGroupIds: [RECOVERY_GROUP, ISOLATION_GROUP] }));
    expect(error).toBeInstanceOf(RestoreConfigurationError);
    expect(error.message).toContain(ISOLATION_GROUP);
    expect(inputsOf(sandbox, 'StartRestoreJob')).toEqual([]);
  });

  it('launches without a profile when the event says null', async () => {
    const { start, sandbox } = world();
    const result = await start({ instanceProfileName: null });
    expect(result.changes).toMatchObject({ removed: ['IamInstanceProfileName'] });
    const [call] = inputsOf(sandbox, 'StartRestoreJob') as { Metadata: Record<string, string> }[];
    expect(call?.Metadata).not.toHaveProperty('IamInstanceProfileName');
  });

  // The recovery point's profile used to be kept by default: its role, whatever it is, passed to the new
  // instance. Now only a configured profile is given, and the note says why there is none.
  it("launches without the recovery point's profile when none is configured, and says so", async () => {
    const { deps, sandbox } = world();
    const result = await startRestore(deps, {
      incidentId: 'inc-1',
      instanceId: WEB,
      recoveryPointArn: POINT.oneDay,
      vaultName: 'prod',
      restoreRoleArn: RESTORE_ROLE,
    });
    expect(result.before).toMatchObject({ metadata: { IamInstanceProfileName: 'web-profile' } });
    expect(result.changes).toMatchObject({ removed: ['IamInstanceProfileName'] });
    const [call] = inputsOf(sandbox, 'StartRestoreJob') as { Metadata: Record<string, string> }[];
    expect(call?.Metadata).not.toHaveProperty('IamInstanceProfileName');
    expect(result.note).toMatch(
      /launches with no instance profile \(the recovery point had web-profile\): recovery\.instanceProfileName is not configured/,
    );
  });

  it('launches with the configured profile from the deployment defaults', async () => {
    const env = setup();
    const defaults = { restoreRoleArn: RESTORE_ROLE, instanceProfileName: 'recovery-profile' };
    const deps = { backup: env.backup, ec2: env.ec2, now: env.now, defaults };
    await startRestore(deps, {
      incidentId: 'inc-1',
      instanceId: WEB,
      recoveryPointArn: POINT.oneDay,
      vaultName: 'prod',
    });
    const [call] = inputsOf(env.sandbox, 'StartRestoreJob') as { Metadata: Record<string, string> }[];
    expect(call?.Metadata).toMatchObject({ IamInstanceProfileName: 'recovery-profile' });
  });

  it('requires a restore role', async () => {
    const { start } = world();
    expect(await errorOf(start({ restoreRoleArn: undefined }))).toBeInstanceOf(ValidationError);
  });

  it('with dryRun reads the metadata and plans the job, and starts nothing', async () => {
    const { start, sandbox } = world();
    const before = sandbox.state();
    const result = await start({ dryRun: true });
    expect(result).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      changes: { calls: [`backup:StartRestoreJob ${POINT.oneDay}`] },
      output: { restoreJobId: null, metadata: expect.objectContaining({ SubnetId: 'subnet-0eec' }) },
    });
    expect(mutationsSince(sandbox)).toEqual([]);
    expect(sandbox.state()).toEqual(before);
  });

  it('turns throttling into ThrottlingError and a refusal into AccessDeniedError', async () => {
    const { start, sandbox } = world();
    sandbox.failNext('Backup:StartRestoreJob', 1, { code: 'ThrottlingException' });
    expect(await errorOf(start())).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('Backup:GetRecoveryPointRestoreMetadata', 1, { code: 'AccessDeniedException' });
    expect(await errorOf(start())).toBeInstanceOf(AccessDeniedError);
    expect(Object.keys(sandbox.state().backup.restoreJobs)).toHaveLength(0);
  });
});

describe('recover-check-restore', () => {
  it('follows the job PENDING → RUNNING → COMPLETED and tags the restored instance', async () => {
    const { start, check, sandbox } = world();
    const started = await start({ tags: { environment: 'prod' } });
    const id = started.output?.restoreJobId;
    expect((await check(id)).output).toEqual({
      restoreJobId: id,
      status: 'PENDING',
      done: false,
      percentDone: '0.00%',
    });
    sandbox.advance(10_000);
    expect((await check(id)).output).toMatchObject({ status: 'RUNNING', done: false });
    sandbox.advance(120_000);
    const completed = await check(id, { tags: started.output?.tags });
    expect(completed.output).toMatchObject({
      status: 'COMPLETED',
      done: true,
      createdResourceArn: expect.stringMatching(/:instance\/i-/),
    });
    const arn = String(completed.output?.createdResourceArn);
    const instanceId = arn.slice(arn.lastIndexOf('/') + 1);
    const state = sandbox.state();
    const restored = state.ec2.instances[instanceId];
    expect(restored).toMatchObject({ subnetId: 'subnet-0eec', state: 'running' });
    expect(state.ec2.networkInterfaces[restored?.networkInterfaceIds[0] ?? '']?.groups).toEqual([
      RECOVERY_GROUP,
    ]);
    expect(
      Object.values(state.ec2.profileAssociations).find((a) => a.instanceId === instanceId)?.profileArn,
    ).toMatch(/instance-profile\/recovery-profile$/);
    // The source's tags (copied by AWS Backup) and Cordon's.
    expect(state.ec2.tags[instanceId]).toEqual({
      Name: 'web',
      team: 'payments',
      environment: 'prod',
      'aws:backup:source-resource': WEB,
      'cordon:incident': 'inc-1',
      'cordon:restored-from': POINT.oneDay,
    });
    // A repeat changes nothing.
    const again = await check(id, { tags: started.output?.tags });
    expect(again.output).toMatchObject({ status: 'COMPLETED', createdResourceArn: arn });
    expect(sandbox.state().ec2.tags[instanceId]).toEqual(state.ec2.tags[instanceId]);
  });

  it('throws RestoreFailedError with AWS’s message when the job fails', async () => {
    const { deps, sandbox } = world();
    const started = await startRestore(deps, {
      incidentId: 'inc-1',
      instanceId: FAILING,
      recoveryPointArn: POINT.failing,
      vaultName: 'Default',
      restoreRoleArn: RESTORE_ROLE,
    });
    sandbox.advance(130_000);
    const error = await errorOf(
      checkRestore(deps, {
        incidentId: 'inc-1',
        instanceId: FAILING,
        restoreJobId: started.output?.restoreJobId,
      }),
    );
    expect(error).toBeInstanceOf(RestoreFailedError);
    expect(error).toMatchObject({ name: 'RestoreFailedError', status: 'FAILED' });
    expect(error.message).toContain('Insufficient capacity in us-east-1a');
  });

  it('with dryRun reports a completed job without tagging anything', async () => {
    const { start, check, sandbox } = world();
    const id = (await start()).output?.restoreJobId;
    sandbox.advance(130_000);
    const before = sandbox.state();
    const result = await check(id, { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, output: { status: 'COMPLETED', done: true } });
    expect(sandbox.state().ec2.tags).toEqual(before.ec2.tags);
  });

  it('turns throttling into ThrottlingError and a refusal into AccessDeniedError', async () => {
    const { start, check, sandbox } = world();
    const id = (await start()).output?.restoreJobId;
    sandbox.failNext('Backup:DescribeRestoreJob', 1, { code: 'ThrottlingException' });
    expect(await errorOf(check(id))).toBeInstanceOf(ThrottlingError);
    sandbox.advance(130_000);
    sandbox.failNext('EC2:CreateTags', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(check(id))).toBeInstanceOf(AccessDeniedError);
  });
});
