/** AWS Backup: vaults, recovery points and restore jobs that progress with the sandbox clock. */
import type {
  DescribeRecoveryPointCommandInput,
  DescribeRecoveryPointCommandOutput,
  DescribeRestoreJobCommandInput,
  DescribeRestoreJobCommandOutput,
  GetRecoveryPointRestoreMetadataCommandInput,
  GetRecoveryPointRestoreMetadataCommandOutput,
  ListRecoveryPointsByResourceCommandInput,
  ListRecoveryPointsByResourceCommandOutput,
  StartRestoreJobCommandInput,
  StartRestoreJobCommandOutput,
} from '@aws-sdk/client-backup';
import type { CallContext, HandlerMap, Out } from './context.ts';
import { fail } from './context.ts';
import { createVolume, launchInstance } from './ec2.ts';
import type { PageRules } from './listing.ts';
import { page } from './listing.ts';
import type { AccountState, RecoveryPointState, RestoreJobState } from './state.ts';
import { newId } from './state.ts';

const date = (ms: number): Date => new Date(ms);

/**
 * AWS Backup's paging of its List calls: `MaxResults` 1 to 1,000, `NextToken` in and out
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html, "Valid
 * Range: Minimum value of 1. Maximum value of 1000"). The reference gives no page size for a request
 * without `MaxResults`; the sandbox uses the largest. A value out of range or a token Backup did not give
 * is `InvalidParameterValueException`, Backup's error for a parameter value it refuses.
 */
export const BACKUP_PAGING: PageRules = {
  min: 1,
  max: 1000,
  default: 1000,
  badSize: (size, rules) => [
    'InvalidParameterValueException',
    `MaxResults must be between ${rules.min} and ${rules.max}, got ${size}`,
  ],
  badToken: () => ['InvalidParameterValueException', 'The NextToken is not valid'],
};

function parseGroups(value: string | undefined): string[] {
  if (!value) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed.filter((g): g is string => typeof g === 'string');
  } catch {
    // not JSON: a comma-separated list
  }
  return value.split(',').map((g) => g.trim());
}

/**
 * Moves restore jobs along PENDING → RUNNING → COMPLETED (or FAILED when the recovery point's
 * seed says so); a completed job creates the restored instance or volume.
 */
export function refreshBackup(state: AccountState, now: number): void {
  const { restorePendingMs, restoreRunningMs } = state.timings;
  for (const job of Object.values(state.backup.restoreJobs)) {
    if (job.status === 'PENDING' && now >= job.creationDate + restorePendingMs) job.status = 'RUNNING';
    if (job.status !== 'RUNNING' || now < job.creationDate + restorePendingMs + restoreRunningMs) continue;
    const end = job.creationDate + restorePendingMs + restoreRunningMs;
    const point = state.backup.recoveryPoints[job.recoveryPointArn];
    job.completionDate = end;
    if (point?.restoreFailure) {
      job.status = 'FAILED';
      job.statusMessage = point.restoreFailure;
      continue;
    }
    // The restore uses the metadata the job was started with, as given: a key left out (an instance
    // profile, say) is not taken from the recovery point.
    const metadata = job.metadata ?? point?.restoreMetadata ?? {};
    const sourceId = point?.resourceArn.split('/').pop() ?? '';
    if (job.resourceType === 'EBS') {
      const volume = createVolume(state, end, {
        size: Number(metadata.volumeSize ?? 8),
        availabilityZone: metadata.availabilityZone ?? `${state.region}a`,
        volumeType: metadata.volumeType ?? 'gp3',
        encrypted: metadata.encrypted === 'true',
      });
      job.createdResourceArn = `arn:aws:ec2:${state.region}:${state.accountId}:volume/${volume.volumeId}`;
    } else {
      const instance = launchInstance(state, end, {
        instanceType: metadata.InstanceType ?? 't3.micro',
        imageId: job.recoveryPointArn.split('/').pop() ?? 'ami-restored',
        subnetId: metadata.SubnetId ?? '',
        groups: parseGroups(metadata.SecurityGroupIds),
        ...(metadata.IamInstanceProfileName ? { profileName: metadata.IamInstanceProfileName } : {}),
        tags: { ...copiedTags(state, job, point), 'aws:backup:source-resource': sourceId },
      });
      job.createdResourceArn = `arn:aws:ec2:${state.region}:${state.accountId}:instance/${instance.instanceId}`;
    }
    job.status = 'COMPLETED';
    job.statusMessage = 'Restore job completed';
  }
}

/**
 * The tags a restore copies with `CopySourceTagsToRestoredResource`: the protected resource's, without
 * AWS's reserved `aws:` ones (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-a-backup.html#tag-on-restore).
 * The sandbox keeps no tags with a recovery point, so the resource's current tags stand for those at backup.
 */
function copiedTags(
  state: AccountState,
  job: RestoreJobState,
  point: RecoveryPointState | undefined,
): Record<string, string> {
  if (!job.copySourceTags || !point) return {};
  const tags = state.ec2.tags[point.resourceArn.split('/').pop() ?? ''] ?? {};
  return Object.fromEntries(Object.entries(tags).filter(([key]) => !key.startsWith('aws:')));
}

function pointOrFail(ctx: CallContext, arn: string | undefined, vault?: string): RecoveryPointState {
  const point = arn === undefined ? undefined : ctx.state.backup.recoveryPoints[arn];
  if (!point || (vault !== undefined && point.vaultName !== vault)) {
    fail(ctx, 'ResourceNotFoundException', `Recovery point ${arn} not found`);
  }
  return point;
}

function vaultArn(state: AccountState, name: string): string {
  return (
    state.backup.vaults[name]?.arn ?? `arn:aws:backup:${state.region}:${state.accountId}:backup-vault:${name}`
  );
}

function jobShape(state: AccountState, job: RestoreJobState): Out<DescribeRestoreJobCommandOutput> {
  const point = state.backup.recoveryPoints[job.recoveryPointArn];
  return {
    AccountId: state.accountId,
    RestoreJobId: job.restoreJobId,
    RecoveryPointArn: job.recoveryPointArn,
    CreationDate: date(job.creationDate),
    Status: job.status,
    ...(job.statusMessage ? { StatusMessage: job.statusMessage } : {}),
    PercentDone: job.status === 'COMPLETED' ? '100.00%' : job.status === 'RUNNING' ? '50.00%' : '0.00%',
    IamRoleArn: job.iamRoleArn,
    ResourceType: job.resourceType,
    ...(job.completionDate !== undefined ? { CompletionDate: date(job.completionDate) } : {}),
    ...(job.createdResourceArn ? { CreatedResourceArn: job.createdResourceArn } : {}),
    ...(point ? { BackupSizeInBytes: point.backupSizeInBytes } : {}),
  };
}

/** AWS Backup commands the sandbox simulates. */
export const backupHandlers: HandlerMap = {
  /** Newest first, `MaxResults` a page ({@link BACKUP_PAGING}). */
  ListRecoveryPointsByResource: (
    ctx,
    input: ListRecoveryPointsByResourceCommandInput,
  ): Out<ListRecoveryPointsByResourceCommandOutput> => {
    const { MaxResults, NextToken, ...scope } = input;
    const points = Object.values(ctx.state.backup.recoveryPoints)
      .filter((p) => p.resourceArn === input.ResourceArn)
      .sort((a, b) => b.creationDate - a.creationDate || a.arn.localeCompare(b.arn));
    const { items, next } = page(ctx, points, { size: MaxResults, token: NextToken, scope }, BACKUP_PAGING);
    return {
      RecoveryPoints: items.map((p) => ({
        RecoveryPointArn: p.arn,
        CreationDate: date(p.creationDate),
        Status: 'COMPLETED',
        BackupSizeBytes: p.backupSizeInBytes,
        BackupVaultName: p.vaultName,
        IsParent: false,
        ResourceName: p.resourceArn.split('/').pop(),
        EncryptionKeyArn: p.encrypted
          ? `arn:aws:kms:${ctx.state.region}:${ctx.state.accountId}:key/sandbox`
          : undefined,
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  },

  DescribeRecoveryPoint: (
    ctx,
    input: DescribeRecoveryPointCommandInput,
  ): Out<DescribeRecoveryPointCommandOutput> => {
    const point = pointOrFail(ctx, input.RecoveryPointArn, input.BackupVaultName);
    return {
      RecoveryPointArn: point.arn,
      BackupVaultName: point.vaultName,
      BackupVaultArn: vaultArn(ctx.state, point.vaultName),
      ResourceArn: point.resourceArn,
      ResourceType: point.resourceType,
      CreationDate: date(point.creationDate),
      CompletionDate: date(point.creationDate),
      Status: 'COMPLETED',
      IamRoleArn: point.iamRoleArn,
      BackupSizeInBytes: point.backupSizeInBytes,
      IsEncrypted: point.encrypted,
      StorageClass: 'WARM',
      IsParent: false,
      ResourceName: point.resourceArn.split('/').pop(),
    };
  },

  GetRecoveryPointRestoreMetadata: (
    ctx,
    input: GetRecoveryPointRestoreMetadataCommandInput,
  ): Out<GetRecoveryPointRestoreMetadataCommandOutput> => {
    const point = pointOrFail(ctx, input.RecoveryPointArn, input.BackupVaultName);
    return {
      BackupVaultArn: vaultArn(ctx.state, point.vaultName),
      RecoveryPointArn: point.arn,
      RestoreMetadata: { ...point.restoreMetadata },
      ResourceType: point.resourceType,
    };
  },

  /** The same `IdempotencyToken` returns the same job (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html). */
  StartRestoreJob: (ctx, input: StartRestoreJobCommandInput): Out<StartRestoreJobCommandOutput> => {
    const point = pointOrFail(ctx, input.RecoveryPointArn);
    if (input.IdempotencyToken !== undefined) {
      const existing = Object.values(ctx.state.backup.restoreJobs).find(
        (j) => j.idempotencyToken === input.IdempotencyToken,
      );
      if (existing) return { RestoreJobId: existing.restoreJobId };
    }
    if (!input.Metadata) fail(ctx, 'MissingParameterValueException', 'Metadata is required');
    const iamRoleArn = input.IamRoleArn ?? point.iamRoleArn;
    const restoreJobId = newId(ctx.state, 'job', 12).slice(4).toUpperCase();
    ctx.state.backup.restoreJobs[restoreJobId] = {
      restoreJobId,
      recoveryPointArn: point.arn,
      iamRoleArn,
      resourceType: input.ResourceType ?? point.resourceType,
      metadata: { ...input.Metadata },
      ...(input.IdempotencyToken !== undefined ? { idempotencyToken: input.IdempotencyToken } : {}),
      ...(input.CopySourceTagsToRestoredResource === true ? { copySourceTags: true } : {}),
      creationDate: ctx.now,
      status: 'PENDING',
    };
    return { RestoreJobId: restoreJobId };
  },

  DescribeRestoreJob: (ctx, input: DescribeRestoreJobCommandInput): Out<DescribeRestoreJobCommandOutput> => {
    const job =
      input.RestoreJobId === undefined ? undefined : ctx.state.backup.restoreJobs[input.RestoreJobId];
    if (!job) fail(ctx, 'ResourceNotFoundException', `Restore job ${input.RestoreJobId} not found`);
    return jobShape(ctx.state, job);
  },
};
