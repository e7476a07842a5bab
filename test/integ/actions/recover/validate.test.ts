import { DescribeInstanceStatusCommand, StartInstancesCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ResourceNotFoundError, ThrottlingError } from '#shared/errors';
import { checkRestore } from '../../../../functions/actions/recover-check-restore/core.ts';
import {
  RecoveryNotReadyError,
  RecoveryValidationError,
} from '../../../../functions/actions/recover-common/errors.ts';
import { startRestore } from '../../../../functions/actions/recover-start-restore/core.ts';
import { validateRestore } from '../../../../functions/actions/recover-validate/core.ts';
import {
  ACCOUNT,
  errorOf,
  ISOLATED,
  mutationsSince,
  POINT,
  RECOVERY_GROUP,
  REGION,
  RESTORE_ROLE,
  STOPPED,
  seed,
  setup,
  WEB,
} from './helpers.ts';

const arnOf = (id: string) => `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${id}`;

/** A sandbox in which the web instance's restore has completed. */
async function restored() {
  const env = setup();
  const deps = { backup: env.backup, ec2: env.ec2, now: env.now };
  const started = await startRestore(deps, {
    incidentId: 'inc-1',
    instanceId: WEB,
    recoveryPointArn: POINT.oneDay,
    vaultName: 'prod',
    restoreRoleArn: RESTORE_ROLE,
    subnetId: 'subnet-0eec',
    securityGroupIds: [RECOVERY_GROUP],
  });
  env.sandbox.advance(130_000);
  const checked = await checkRestore(deps, {
    incidentId: 'inc-1',
    instanceId: WEB,
    restoreJobId: started.output?.restoreJobId,
  });
  const createdResourceArn = String(checked.output?.createdResourceArn);
  const validate = (extra: Record<string, unknown> = {}) =>
    validateRestore({ ec2: env.ec2 }, { incidentId: 'inc-1', instanceId: WEB, createdResourceArn, ...extra });
  return { ...env, createdResourceArn, validate };
}

describe('recover-validate', () => {
  it('validates a restored instance that runs, passes its checks and has its volume attached', async () => {
    const { validate, createdResourceArn, sandbox } = await restored();
    const from = sandbox.calls.length;
    const result = await validate();
    const id = createdResourceArn.slice(createdResourceArn.lastIndexOf('/') + 1);
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({
      instanceId: id,
      sourceInstanceId: WEB,
      valid: true,
      reasons: [],
      availabilityZone: 'us-east-1c',
      checks: [
        'running',
        'system status check ok',
        'instance status check ok',
        expect.stringMatching(/^vol-\w+ at \/dev\/xvda attached$/),
      ],
    });
    expect(result.evidence).toEqual([id]);
    expect(mutationsSince(sandbox, from)).toEqual([]);
  });

  it('is the same check with dryRun', async () => {
    const { validate } = await restored();
    expect(await validate({ dryRun: true })).toMatchObject({ dryRun: true, output: { valid: true } });
  });

  it('throws RecoveryValidationError for a stopped instance', async () => {
    const { ec2 } = setup();
    const error = await errorOf(
      validateRestore({ ec2 }, { incidentId: 'inc-1', instanceId: WEB, createdResourceArn: arnOf(STOPPED) }),
    );
    expect(error).toBeInstanceOf(RecoveryValidationError);
    expect((error as RecoveryValidationError).reasons).toEqual(['the instance is stopped, not running']);
  });

  it('throws RecoveryValidationError for an instance in the isolation group', async () => {
    const { ec2 } = setup();
    const error = await errorOf(
      validateRestore({ ec2 }, { incidentId: 'inc-1', instanceId: WEB, createdResourceArn: arnOf(ISOLATED) }),
    );
    expect(error).toBeInstanceOf(RecoveryValidationError);
    expect(error.message).toContain('isolation group');
  });

  it('throws RecoveryNotReadyError, which the playbook retries, while the instance is pending', async () => {
    const { ec2 } = setup({ ...seed(), timings: { instanceTransitionMs: 60_000 } });
    await ec2.send(new StartInstancesCommand({ InstanceIds: [STOPPED] }));
    const error = await errorOf(
      validateRestore({ ec2 }, { incidentId: 'inc-1', instanceId: WEB, createdResourceArn: arnOf(STOPPED) }),
    );
    expect(error).toBeInstanceOf(RecoveryNotReadyError);
    expect(error.name).toBe('RecoveryNotReadyError');
  });

  it('throws ResourceNotFoundError when the restored instance does not exist', async () => {
    const { ec2 } = setup();
    const error = await errorOf(
      validateRestore(
        { ec2 },
        { incidentId: 'inc-1', instanceId: WEB, createdResourceArn: arnOf('i-0fffffffffffffff0') },
      ),
    );
    expect(error).toBeInstanceOf(ResourceNotFoundError);
  });

  it('turns throttling into ThrottlingError and a refusal into AccessDeniedError', async () => {
    const { validate, sandbox } = await restored();
    sandbox.failNext('EC2:DescribeInstanceStatus', 1, { code: 'RequestLimitExceeded' });
    expect(await errorOf(validate())).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('EC2:DescribeInstances', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(validate())).toBeInstanceOf(AccessDeniedError);
  });
});

describe('the sandbox’s DescribeInstanceStatus', () => {
  it('reports both checks ok for a running instance', async () => {
    const { ec2 } = setup();
    const out = await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [WEB] }));
    expect(out.InstanceStatuses).toEqual([
      {
        InstanceId: WEB,
        AvailabilityZone: 'us-east-1a',
        InstanceState: { Code: 16, Name: 'running' },
        InstanceStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
        SystemStatus: { Status: 'ok', Details: [{ Name: 'reachability', Status: 'passed' }] },
      },
    ]);
  });

  it('lists a stopped instance only with IncludeAllInstances, as not-applicable', async () => {
    const { ec2 } = setup();
    expect(
      (await ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: [STOPPED] }))).InstanceStatuses,
    ).toEqual([]);
    const all = await ec2.send(
      new DescribeInstanceStatusCommand({ InstanceIds: [STOPPED], IncludeAllInstances: true }),
    );
    expect(all.InstanceStatuses?.[0]).toMatchObject({
      InstanceState: { Name: 'stopped' },
      InstanceStatus: { Status: 'not-applicable' },
      SystemStatus: { Status: 'not-applicable' },
    });
  });

  it('fails for an unknown instance as EC2 does', async () => {
    const { ec2 } = setup();
    const error = await errorOf(
      ec2.send(new DescribeInstanceStatusCommand({ InstanceIds: ['i-0fffffffffffffff0'] })),
    );
    expect(error.name).toBe('InvalidInstanceID.NotFound');
  });
});
