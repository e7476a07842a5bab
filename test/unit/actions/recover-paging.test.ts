/** The recovery actions read every page of what they decide on. */
import { BackupClient, ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import {
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeSnapshotsCommand,
  EC2Client,
} from '@aws-sdk/client-ec2';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it } from 'vitest';
import { incidentSnapshots } from '../../../functions/actions/ec2-common/snapshots.ts';
import { choosePoint } from '../../../functions/actions/recover-choose-point/core.ts';
import { validateRestore } from '../../../functions/actions/recover-validate/core.ts';
import { EC2_TOKENS, onlyFirst, paged } from '../support-pages.ts';

const backupMock = mockClient(BackupClient);
const ec2Mock = mockClient(EC2Client);
afterEach(() => {
  backupMock.reset();
  ec2Mock.reset();
});

const INSTANCE = 'i-0123456789abcdef0';
const FIRST_SEEN = '2026-11-10T12:00:00.000Z';
const point = (n: number, created: string, status = 'COMPLETED') => ({
  RecoveryPointArn: `arn:aws:backup:us-east-1:111122223333:recovery-point:rp-${n}`,
  BackupVaultName: 'Default',
  CreationDate: new Date(created),
  Status: status,
});

/**
 * Three pages, newest first on none of them: the point AWS Backup lists first is an old one, the newest
 * before first-seen is on the last page, and points after first-seen are scattered.
 */
const POINT_PAGES = [
  { RecoveryPoints: [point(1, '2026-11-01T00:00:00Z'), point(2, '2026-11-11T00:00:00Z')] },
  { RecoveryPoints: [point(3, '2026-11-09T00:00:00Z', 'PARTIAL'), point(4, '2026-11-05T00:00:00Z')] },
  { RecoveryPoints: [point(5, '2026-11-12T00:00:00Z'), point(6, '2026-11-10T11:00:00Z')] },
];

const chooseEvent = {
  incidentId: 'inc-1',
  instanceId: INSTANCE,
  firstSeen: FIRST_SEEN,
  region: 'us-east-1',
  account: '111122223333',
};

describe('recover-choose-point across pages', () => {
  it('would choose wrongly from the first page alone, and chooses the newest point before first-seen on the last', async () => {
    backupMock.on(ListRecoveryPointsByResourceCommand).callsFake(onlyFirst(POINT_PAGES));
    const firstPageOnly = await choosePoint({ backup: new BackupClient({}) }, chooseEvent);
    expect(firstPageOnly.output?.recoveryPointArn).toMatch(/rp-1$/);

    backupMock.reset();
    backupMock.on(ListRecoveryPointsByResourceCommand).callsFake(paged(POINT_PAGES, EC2_TOKENS));
    const result = await choosePoint({ backup: new BackupClient({}) }, chooseEvent);
    expect(result.output?.recoveryPointArn).toMatch(/rp-6$/);
    expect(result.before).toMatchObject({ recoveryPoints: 6 });
    expect(
      backupMock.commandCalls(ListRecoveryPointsByResourceCommand).map((c) => c.args[0].input.NextToken),
    ).toEqual([undefined, 'page-1', 'page-2']);
    const passed = result.output?.passedOver as { arn: string; reason: string }[];
    expect(passed.map((p) => p.arn.slice(-4)).sort()).toEqual(['rp-1', 'rp-2', 'rp-3', 'rp-4', 'rp-5']);
  });

  it('refuses a listing that hands back a token it already gave', async () => {
    backupMock.on(ListRecoveryPointsByResourceCommand).resolves({ RecoveryPoints: [], NextToken: 'same' });
    await expect(choosePoint({ backup: new BackupClient({}) }, chooseEvent)).rejects.toThrow(
      /PagingError|already followed/,
    );
  });
});

describe('recover-validate across pages', () => {
  it("reads the restored instance's status from a later page", async () => {
    ec2Mock.on(DescribeInstancesCommand).resolves({
      Reservations: [
        {
          Instances: [
            {
              InstanceId: INSTANCE,
              State: { Name: 'running' },
              RootDeviceName: '/dev/xvda',
              BlockDeviceMappings: [
                { DeviceName: '/dev/xvda', Ebs: { VolumeId: 'vol-1', Status: 'attached' } },
              ],
            },
          ],
        },
      ],
    });
    const ok = { Status: 'ok' as const };
    ec2Mock
      .on(DescribeInstanceStatusCommand)
      .callsFake(
        paged(
          [
            { InstanceStatuses: [] },
            { InstanceStatuses: [{ InstanceId: INSTANCE, SystemStatus: ok, InstanceStatus: ok }] },
          ],
          EC2_TOKENS,
        ),
      );
    const result = await validateRestore(
      { ec2: new EC2Client({}) },
      {
        incidentId: 'inc-1',
        instanceId: INSTANCE,
        createdResourceArn: `arn:aws:ec2:us-east-1:111122223333:instance/${INSTANCE}`,
      },
    );
    expect(JSON.stringify(result)).toContain('system status check ok');
    expect(JSON.stringify(result)).toContain('instance status check ok');
  });
});

describe("the incident's snapshots across pages", () => {
  it('finds every snapshot, an empty page in between', async () => {
    ec2Mock
      .on(DescribeSnapshotsCommand)
      .callsFake(
        paged(
          [
            { Snapshots: [{ SnapshotId: 'snap-1' }] },
            { Snapshots: [] },
            { Snapshots: [{ SnapshotId: 'snap-3' }] },
          ],
          EC2_TOKENS,
        ),
      );
    const found = await incidentSnapshots(new EC2Client({}), 'inc-1', INSTANCE);
    expect(found.map((s) => s.SnapshotId)).toEqual(['snap-1', 'snap-3']);
  });
});
