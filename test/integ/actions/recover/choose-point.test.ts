import { BackupClient } from '@aws-sdk/client-backup';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError, ValidationError } from '#shared/errors';
import { choosePoint } from '../../../../functions/actions/recover-choose-point/core.ts';
import { ACCOUNT, errorOf, FIRST_SEEN, inputsOf, NO_BACKUP, POINT, REGION, setup, WEB } from './helpers.ts';

function world() {
  const env = setup();
  const deps = { backup: env.backup, sts: env.sts, region: REGION };
  const run = (instanceId: string, extra: Record<string, unknown> = {}) =>
    choosePoint(deps, { incidentId: 'inc-1', instanceId, firstSeen: FIRST_SEEN, ...extra });
  return { ...env, deps, run };
}

describe('recover-choose-point', () => {
  it('chooses the newest completed point before first-seen and records the others with their reasons', async () => {
    const { run, sandbox } = world();
    const result = await run(WEB);
    expect(result.status).toBe('succeeded');
    expect(result.output).toEqual({
      recoveryPointArn: POINT.oneDay,
      vaultName: 'prod',
      createdAt: '2024-12-31T00:00:00.000Z',
      resourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${WEB}`,
      passedOver: [
        {
          arn: POINT.afterFirstSeen,
          createdAt: '2024-12-31T23:30:00.000Z',
          status: 'COMPLETED',
          reason: `created at or after first-seen (${FIRST_SEEN})`,
        },
        {
          arn: POINT.threeDays,
          createdAt: '2024-12-29T00:00:00.000Z',
          status: 'COMPLETED',
          reason: `older than the chosen point ${POINT.oneDay}`,
        },
      ],
    });
    expect(result.evidence).toEqual([POINT.oneDay]);
    // The account came from STS, the ARN is the instance's as AWS Backup knows it.
    expect(inputsOf(sandbox, 'ListRecoveryPointsByResource')).toEqual([
      { ResourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/${WEB}` },
    ]);
    expect(inputsOf(sandbox, 'GetCallerIdentity')).toHaveLength(1);
  });

  it('takes the account and region from the event without asking STS', async () => {
    const { run, sandbox } = world();
    await run(WEB, { account: ACCOUNT, region: REGION });
    expect(inputsOf(sandbox, 'GetCallerIdentity')).toHaveLength(0);
  });

  it('passes over a point that is not completed, even the newest before first-seen', async () => {
    const backup = new BackupClient({
      region: REGION,
      credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
    });
    backup.middlewareStack.add(
      () => async () => ({
        output: {
          $metadata: {},
          RecoveryPoints: [
            {
              RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-0c',
              CreationDate: new Date('2024-12-31T12:00:00Z'),
              Status: 'PARTIAL',
              BackupVaultName: 'prod',
            },
            {
              RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-0b',
              CreationDate: new Date('2024-12-31T06:00:00Z'),
              Status: 'CREATING',
              BackupVaultName: 'prod',
            },
            {
              RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-0a',
              CreationDate: new Date('2024-12-30T00:00:00Z'),
              Status: 'COMPLETED',
              BackupVaultName: 'prod',
            },
          ],
        },
        response: {},
      }),
      { step: 'initialize', name: 'answer' },
    );
    const result = await choosePoint(
      { backup, region: REGION, account: ACCOUNT },
      { incidentId: 'inc-1', instanceId: WEB, firstSeen: FIRST_SEEN },
    );
    expect(result.output).toMatchObject({
      recoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-0a',
      passedOver: [
        { arn: 'arn:aws:ec2:us-east-1::image/ami-0c', reason: 'not completed: its status is PARTIAL' },
        { arn: 'arn:aws:ec2:us-east-1::image/ami-0b', reason: 'not completed: its status is CREATING' },
      ],
    });
  });

  it('returns a null point, not an error, when the instance has no recovery point', async () => {
    const { run } = world();
    const result = await run(NO_BACKUP);
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ recoveryPointArn: null, vaultName: null, passedOver: [] });
    expect(result.note).toContain('falls back to snapshots');
  });

  it('returns a null point when every point is from after first-seen', async () => {
    const { run } = world();
    const result = await run(WEB, { firstSeen: '2024-12-28T00:00:00Z' });
    expect(result.output).toMatchObject({ recoveryPointArn: null });
    expect(result.output?.passedOver).toHaveLength(3);
  });

  it('is the same run with dryRun: it only reads', async () => {
    const { run } = world();
    const result = await run(WEB, { dryRun: true });
    expect(result).toMatchObject({ dryRun: true, output: { recoveryPointArn: POINT.oneDay } });
  });

  it('refuses an event without a valid first-seen time', async () => {
    const { run } = world();
    expect(await errorOf(run(WEB, { firstSeen: 'yesterday' }))).toBeInstanceOf(ValidationError);
  });

  it('turns throttling into ThrottlingError and a refusal into AccessDeniedError', async () => {
    const { run, sandbox } = world();
    sandbox.failNext('Backup:ListRecoveryPointsByResource', 1, { code: 'ThrottlingException' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('Backup:ListRecoveryPointsByResource', 1, { code: 'AccessDeniedException' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(AccessDeniedError);
  });
});
