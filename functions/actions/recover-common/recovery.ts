/**
 * What the recovery actions share: their clients, Cordon's recovery tag keys, the event fields, the
 * instance ARN AWS Backup knows a protected instance by, and the idempotency token of a restore.
 */
import { createHash } from 'node:crypto';
import type { BackupClient } from '@aws-sdk/client-backup';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import * as z from 'zod/mini';
import { awsCall } from '#shared/aws';
import { lazySchema } from '#shared/lazy-schema';
import { Ec2EventSchema, TAG } from '../ec2-common/instance.ts';

/** What the recovery cores need of an AWS Backup client. */
export type BackupSender = Pick<BackupClient, 'send'>;

/** What the recovery cores need of an STS client. */
export type StsSender = Pick<STSClient, 'send'>;

/** Tag keys the recovery actions write and look up. */
export const RECOVERY_TAG = {
  incident: TAG.incident,
  /** On a restored instance: the recovery point it came from. */
  restoredFrom: 'cordon:restored-from',
  /** On a volume made by the snapshot fallback: the volume it replaces. */
  sourceVolume: 'cordon:source-volume',
  /** On a volume made by the snapshot fallback: the snapshot it was made from. */
  sourceSnapshot: 'cordon:source-snapshot',
} as const;

/** The prefix of the isolation groups `ec2-isolate` creates: a restored instance never gets one. */
export const ISOLATION_GROUP_PREFIX = 'cordon-isolation-';

/** An ISO 8601 date-time, such as an incident's `firstSeen`. */
export const IsoDateSchema = lazySchema(() =>
  z.string().check(
    z.refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
      message: 'must be an ISO 8601 date-time',
    }),
  ),
);

/** Every recovery action's event: the common fields and the instance that was compromised. */
export const RecoverEventSchema = Ec2EventSchema;

/** A security group id. */
export const GroupIdSchema = lazySchema(() =>
  z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id')),
);

/** The ARN AWS Backup knows an instance by (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_ListRecoveryPointsByResource.html). */
export function instanceArn(region: string, account: string, instanceId: string): string {
  return `arn:aws:ec2:${region}:${account}:instance/${instanceId}`;
}

/**
 * The account the function runs in, from STS. GetCallerIdentity needs no permission
 * (https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html).
 */
export async function callerAccount(sts: StsSender): Promise<string> {
  const out = await awsCall('sts:GetCallerIdentity', () => sts.send(new GetCallerIdentityCommand({})));
  if (!out.Account) throw new Error('sts:GetCallerIdentity returned no account');
  return out.Account;
}

/**
 * The idempotency token of an incident's restore of a recovery point: the SHA-256 of both, so that a
 * repeat of StartRestoreJob returns the job already started instead of starting a second one
 * (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_StartRestoreJob.html: "Retrying a
 * successful request with the same idempotency token results in a success message with no action taken").
 */
export function restoreToken(incidentId: string, recoveryPointArn: string): string {
  return createHash('sha256').update(`cordon-restore\n${incidentId}\n${recoveryPointArn}`).digest('hex');
}

/** The resource id at the end of an ARN: `i-...` of `arn:aws:ec2:...:instance/i-...`. */
export function resourceIdOf(arn: string): string {
  return arn.slice(arn.lastIndexOf('/') + 1);
}
