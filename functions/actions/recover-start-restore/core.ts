/**
 * The core of `recover-start-restore`: starts the AWS Backup restore of the chosen recovery point, so that
 * a new instance comes back from the last known-good state. AWS Backup always restores to a new resource
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-a-backup.html), configured by the
 * restore metadata: the recovery point's own (GetRecoveryPointRestoreMetadata) with these keys
 * overridden (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-ec2.html, and the EC2 keys
 * that can be overridden in https://docs.aws.amazon.com/aws-backup/latest/devguide/restore-testing-inferred-metadata.html):
 * - `SubnetId` and `SecurityGroupIds` (a JSON list) where the configuration says; `NetworkInterfaces`,
 *   which names the source's subnet and groups, is dropped when either is overridden. An isolation group
 *   (`cordon-isolation-*`, or tagged `cordon:isolation`) is never given to the new instance: in the
 *   configuration it is refused, in the recovery point's metadata it is dropped;
 * - `IamInstanceProfileName` only when `recovery.instanceProfileName` is configured (or the event names
 *   one); otherwise it is removed and the restored instance launches with no profile, whatever profile the
 *   recovery point had. The restore guide suggests this to avoid a privilege escalation, and the grants
 *   leave no other way: the restore role may pass only the settings' `instanceRoles`, so an arbitrary
 *   role from a recovery point cannot be passed;
 * - `RequireIMDSv2` `true` unless the event says otherwise, `InstanceType` when given.
 * The restore role is the configured one; the idempotency token is the SHA-256 of the incident and the
 * recovery point, so a repeat returns the job already started; `CopySourceTagsToRestoredResource` copies
 * the tags the instance had at backup (https://docs.aws.amazon.com/aws-backup/latest/devguide/restoring-a-backup.html#tag-on-restore).
 * StartRestoreJob takes no other tags, so `output.tags` (`cordon:incident`, `cordon:restored-from` and the
 * event's `tags`) are put on the new instance by `recover-check-restore` once the job completes.
 * AWS Backup has no dry run: with `dryRun` the reads are made and the job is only reported.
 *
 * AWS calls: backup:GetRecoveryPointRestoreMetadata, ec2:DescribeSecurityGroups (when there are groups),
 * backup:StartRestoreJob (which needs iam:PassRole on the restore role), backup:DescribeRestoreJob.
 */
import {
  DescribeRestoreJobCommand,
  GetRecoveryPointRestoreMetadataCommand,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import { DescribeSecurityGroupsCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { allItems, nextToken } from '#shared/pages';
import { type Ec2Sender, newPlan, TAG, tagsOf } from '../ec2-common/instance.ts';
import type { RestoreDefaults } from '../recover-common/config.ts';
import { RestoreConfigurationError } from '../recover-common/errors.ts';
import {
  type BackupSender,
  GroupIdSchema,
  ISOLATION_GROUP_PREFIX,
  RECOVERY_TAG,
  RecoverEventSchema,
  restoreToken,
} from '../recover-common/recovery.ts';

/** The event of `recover-start-restore`. */
export const StartRestoreInputSchema = lazySchema(() =>
  z.extend(RecoverEventSchema, {
    /** From `recover-choose-point`. */
    recoveryPointArn: z.string().check(z.minLength(1, 'must not be empty')),
    /** The point's vault, from `recover-choose-point`: GetRecoveryPointRestoreMetadata requires it. */
    vaultName: z.string().check(z.minLength(1, 'must not be empty')),
    /** The role AWS Backup restores with. Default: the deployment's. */
    restoreRoleArn: z.optional(
      z.string().check(z.regex(/^arn:aws[a-z-]*:iam::\d{12}:role\/.+$/, 'must be an IAM role ARN')),
    ),
    /** Default: the deployment's, else the recovery point's. */
    subnetId: z.optional(z.string().check(z.regex(/^subnet-[0-9a-f]+$/, 'must be a subnet id'))),
    /** Default: the deployment's, else the recovery point's without isolation groups. */
    securityGroupIds: z.optional(
      z.array(GroupIdSchema).check(z.minLength(1, 'must list at least one group')),
    ),
    /**
     * Default: the deployment's (`recovery.instanceProfileName`), else none: the recovery point's profile is
     * never kept by default. Null launches the instance without a profile. Its role must be one of the
     * settings' `instanceRoles`, the only roles the restore role may pass.
     */
    instanceProfileName: z.optional(z.nullable(z.string().check(z.minLength(1)))),
    /** Default: the recovery point's. */
    instanceType: z.optional(z.string().check(z.minLength(1))),
    /** Require IMDSv2 on the restored instance. Default true. */
    requireImdsV2: z.optional(z.boolean()),
    /** More tags for the restored instance, besides the source's and Cordon's. */
    tags: z.optional(z.record(z.string(), z.string())),
  }),
);

/** What the core needs. */
export interface StartRestoreDeps {
  readonly backup: BackupSender;
  readonly ec2: Ec2Sender;
  readonly defaults?: RestoreDefaults;
  /** Epoch milliseconds; default `Date.now`. Tells a job this run started from one a past run did. */
  readonly now?: () => number;
}

/** How far AWS's clock may be behind ours before a job counts as one an earlier run started. */
const CLOCK_TOLERANCE_MS = 5_000;

function parseGroups(value: string | undefined): string[] {
  if (value === undefined || value.trim() === '') return [];
  try {
    const parsed: unknown = JSON.parse(value);
    if (Array.isArray(parsed)) return parsed.filter((g): g is string => typeof g === 'string');
  } catch {
    // Not JSON: a comma-separated list.
  }
  return value
    .split(',')
    .map((g) => g.trim())
    .filter((g) => g !== '');
}

/** The isolation groups among `groupIds`, by name or by Cordon's tag. */
async function isolationGroups(ec2: Ec2Sender, groupIds: readonly string[]): Promise<Set<string>> {
  if (groupIds.length === 0) return new Set();
  const doing = `ec2:DescribeSecurityGroups ${groupIds.join(',')}`;
  const groups = await allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(new DescribeSecurityGroupsCommand({ GroupIds: [...groupIds], NextToken })),
      ),
    next: nextToken,
    items: (page) => page.SecurityGroups,
  });
  const isolation = new Set<string>();
  for (const group of groups) {
    const isolating =
      (group.GroupName ?? '').startsWith(ISOLATION_GROUP_PREFIX) ||
      tagsOf(group.Tags)[TAG.isolation] !== undefined;
    if (isolating && group.GroupId) isolation.add(group.GroupId);
  }
  return isolation;
}

/** Starts the restore of the recovery point, with the network, profile and role the configuration says. */
export async function startRestore(deps: StartRestoreDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(StartRestoreInputSchema, event, 'recover-start-restore input');
  const { backup, ec2 } = deps;
  const defaults = deps.defaults ?? {};
  const now = deps.now ?? Date.now;
  const plan = newPlan(input.dryRun);
  const pointArn = input.recoveryPointArn;

  const role = input.restoreRoleArn ?? defaults.restoreRoleArn;
  if (!role) {
    throw new ValidationError('recover-start-restore input', [
      'restoreRoleArn: is required (in the event or as CORDON_RESTORE_ROLE_ARN)',
    ]);
  }
  const meta = await awsCall(`backup:GetRecoveryPointRestoreMetadata ${pointArn}`, () =>
    backup.send(
      new GetRecoveryPointRestoreMetadataCommand({
        BackupVaultName: input.vaultName,
        RecoveryPointArn: pointArn,
      }),
    ),
  );
  const original: Record<string, string> = { ...meta.RestoreMetadata };
  const resourceType = meta.ResourceType ?? 'EC2';
  if (resourceType !== 'EC2') {
    throw new RestoreConfigurationError(
      `${pointArn} is a recovery point of ${resourceType}, not of an instance`,
    );
  }

  // The groups: the configured ones (an isolation group among them is a mistake to refuse), else the point's
  // (an isolation group among them is dropped).
  const configuredGroups = input.securityGroupIds ?? defaults.securityGroupIds;
  const candidateGroups = configuredGroups ? [...configuredGroups] : parseGroups(original.SecurityGroupIds);
  const isolating = await isolationGroups(ec2, candidateGroups);
  if (configuredGroups && isolating.size > 0) {
    throw new RestoreConfigurationError(
      `the configured security groups include the isolation group ${[...isolating].join(', ')}: a restored instance never gets it`,
    );
  }
  const groups = candidateGroups.filter((g) => !isolating.has(g));
  const droppedGroups = candidateGroups.filter((g) => isolating.has(g));
  if (candidateGroups.length > 0 && groups.length === 0) {
    throw new RestoreConfigurationError(
      `the recovery point's only security groups are isolation groups (${droppedGroups.join(', ')}): configure the restore's groups`,
    );
  }

  const metadata: Record<string, string> = { ...original };
  const subnetId = input.subnetId ?? defaults.subnetId;
  if (subnetId) metadata.SubnetId = subnetId;
  if (groups.length > 0) metadata.SecurityGroupIds = JSON.stringify(groups);
  if ((subnetId || configuredGroups || droppedGroups.length > 0) && 'NetworkInterfaces' in metadata) {
    delete metadata.NetworkInterfaces;
  }
  // A profile only when one is configured: keeping the recovery point's would pass whatever role it had.
  const profile =
    input.instanceProfileName === undefined ? defaults.instanceProfileName : input.instanceProfileName;
  const notes: string[] = [];
  if (profile === null || profile === undefined) {
    delete metadata.IamInstanceProfileName;
    const had = original.IamInstanceProfileName
      ? ` (the recovery point had ${original.IamInstanceProfileName})`
      : '';
    notes.push(
      profile === null
        ? `the restored instance launches with no instance profile${had}, as the event says`
        : `the restored instance launches with no instance profile${had}: recovery.instanceProfileName is not configured, and a restore passes no role the settings do not give it`,
    );
  } else metadata.IamInstanceProfileName = profile;
  if (input.requireImdsV2 !== false) metadata.RequireIMDSv2 = 'true';
  if (input.instanceType) metadata.InstanceType = input.instanceType;

  const idempotencyToken = restoreToken(input.incidentId, pointArn);
  const tags = {
    ...input.tags,
    [RECOVERY_TAG.incident]: input.incidentId,
    [RECOVERY_TAG.restoredFrom]: pointArn,
  };
  const overridden = Object.fromEntries(Object.entries(metadata).filter(([k, v]) => original[k] !== v));
  const removed = Object.keys(original).filter((k) => !(k in metadata));
  const before = { recoveryPointArn: pointArn, vaultName: input.vaultName, resourceType, metadata: original };
  const changes = { overridden, removed, droppedGroups, restoreRoleArn: role, idempotencyToken };
  const dryRun = plan.dryRun ? { dryRun: true } : {};

  const doing = `backup:StartRestoreJob ${pointArn}`;
  plan.calls.push(doing);
  if (plan.dryRun) {
    return {
      status: 'succeeded',
      before,
      changes: { calls: plan.calls, ...changes },
      note: ['dry run: AWS Backup has no DryRun, so the restore job was only planned', ...notes].join('; '),
      output: { restoreJobId: null, idempotencyToken, metadata, tags },
      ...dryRun,
    };
  }
  const startedAt = now();
  const started = await awsCall(doing, () =>
    backup.send(
      new StartRestoreJobCommand({
        RecoveryPointArn: pointArn,
        Metadata: metadata,
        IamRoleArn: role,
        IdempotencyToken: idempotencyToken,
        ResourceType: 'EC2',
        CopySourceTagsToRestoredResource: true,
      }),
    ),
  );
  const restoreJobId = started.RestoreJobId;
  if (!restoreJobId) throw new Error(`${doing}: AWS Backup returned no restore job id`);
  const job = await awsCall(`backup:DescribeRestoreJob ${restoreJobId}`, () =>
    backup.send(new DescribeRestoreJobCommand({ RestoreJobId: restoreJobId })),
  );
  // The token makes a repeat return the earlier job: one that is no longer pending, or was created before
  // this run began, is that earlier job.
  const created = job.CreationDate?.getTime();
  const repeat =
    (job.Status !== undefined && job.Status !== 'PENDING') ||
    (created !== undefined && created < startedAt - CLOCK_TOLERANCE_MS);
  return {
    status: repeat ? 'already-done' : 'succeeded',
    before,
    changes: { calls: repeat ? [] : plan.calls, ...changes },
    evidence: [restoreJobId],
    ...(repeat || notes.length > 0
      ? {
          note: [
            ...(repeat
              ? [
                  `the restore job ${restoreJobId} was already started for this incident and point (${job.Status})`,
                ]
              : []),
            ...notes,
          ].join('; '),
        }
      : {}),
    output: { restoreJobId, status: job.Status ?? 'PENDING', idempotencyToken, metadata, tags },
  };
}
