/**
 * The core of `recover-choose-point`: chooses the recovery point to restore, the newest one taken before
 * the attacker arrived, not simply the newest. From the instance's recovery points in AWS Backup, it keeps
 * the `COMPLETED` ones (a point can also be `CREATING`, `PARTIAL`, `EXPIRED`, `DELETING`...:
 * https://docs.aws.amazon.com/aws-backup/latest/devguide/API_RecoveryPointByResource.html) created
 * strictly before the incident's first-seen time, and chooses the newest. Every point passed over is
 * recorded with its reason. No such point is not an error: `recoveryPointArn` is null and the playbook
 * falls back to snapshots. It changes nothing, so a dry run is the same run.
 *
 * AWS calls: backup:ListRecoveryPointsByResource (every page); sts:GetCallerIdentity only when neither
 * the event nor the deployment names the account.
 */
import { ListRecoveryPointsByResourceCommand, type RecoveryPointByResource } from '@aws-sdk/client-backup';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { allItems, nextToken } from '#shared/pages';
import { isAwsError } from '../ec2-common/instance.ts';
import {
  type BackupSender,
  callerAccount,
  IsoDateSchema,
  instanceArn,
  RecoverEventSchema,
  type StsSender,
} from '../recover-common/recovery.ts';

/** The event of `recover-choose-point`. */
export const ChoosePointInputSchema = lazySchema(() =>
  z.extend(RecoverEventSchema, {
    /** When the incident's first finding saw the attacker: only points created strictly before it count. */
    firstSeen: IsoDateSchema,
    /** Default: the function's region. */
    region: z.optional(z.string().check(z.minLength(1))),
    /** Default: the deployment's account, else the caller's. */
    account: z.optional(z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id'))),
  }),
);

/** What the core needs. */
export interface ChoosePointDeps {
  readonly backup: BackupSender;
  /** Asked for the account only when neither the event nor `account` names it. */
  readonly sts?: StsSender;
  /** The function's region. */
  readonly region?: string;
  readonly account?: string;
}

/** A recovery point not chosen, and why. */
export interface PassedOver {
  arn: string;
  createdAt: string | null;
  status: string;
  reason: string;
}

/** Every recovery point of the resource, every page (`NextToken`). */
async function listPoints(backup: BackupSender, resourceArn: string): Promise<RecoveryPointByResource[]> {
  const doing = `backup:ListRecoveryPointsByResource ${resourceArn}`;
  try {
    return await allItems({
      doing,
      fetch: (NextToken) =>
        awsCall(doing, () =>
          backup.send(new ListRecoveryPointsByResourceCommand({ ResourceArn: resourceArn, NextToken })),
        ),
      next: nextToken,
      items: (page) => page.RecoveryPoints,
    });
  } catch (error) {
    // A resource AWS Backup never protected has no recovery point: that is the fallback's case, not an error.
    if (isAwsError(error, 'ResourceNotFoundException')) return [];
    throw error;
  }
}

/** Chooses the newest completed recovery point created before first-seen, and says why the others were not. */
export async function choosePoint(deps: ChoosePointDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ChoosePointInputSchema, event, 'recover-choose-point input');
  const region = input.region ?? deps.region;
  if (!region) throw new Error('recover-choose-point: no region in the event and AWS_REGION is not set');
  const account = input.account ?? deps.account ?? (deps.sts ? await callerAccount(deps.sts) : undefined);
  if (!account) throw new Error('recover-choose-point: no account in the event and no STS client to ask');
  const resourceArn = instanceArn(region, account, input.instanceId);
  const firstSeen = Date.parse(input.firstSeen);

  const points = await listPoints(deps.backup, resourceArn);
  const passedOver: PassedOver[] = [];
  const candidates: { point: RecoveryPointByResource; created: number }[] = [];
  for (const point of points) {
    const arn = point.RecoveryPointArn ?? '';
    const status = point.Status ?? 'UNKNOWN';
    const created = point.CreationDate?.getTime();
    const createdAt = created === undefined ? null : new Date(created).toISOString();
    const pass = (reason: string) => passedOver.push({ arn, createdAt, status, reason });
    if (status !== 'COMPLETED') pass(`not completed: its status is ${status}`);
    else if (created === undefined) pass('AWS Backup gives no creation date');
    else if (created >= firstSeen) pass(`created at or after first-seen (${input.firstSeen})`);
    else candidates.push({ point, created });
  }
  candidates.sort((a, b) => b.created - a.created);
  const [chosen, ...older] = candidates;
  for (const { point, created } of older) {
    passedOver.push({
      arn: point.RecoveryPointArn ?? '',
      createdAt: new Date(created).toISOString(),
      status: point.Status ?? 'UNKNOWN',
      reason: `older than the chosen point ${chosen?.point.RecoveryPointArn}`,
    });
  }
  const dryRun = input.dryRun ? { dryRun: true } : {};
  const before = { resourceArn, firstSeen: input.firstSeen, recoveryPoints: points.length };
  if (!chosen) {
    return {
      status: 'succeeded',
      before,
      changes: { calls: [] },
      note:
        points.length === 0
          ? 'AWS Backup has no recovery point of the instance: recovery falls back to snapshots'
          : 'no completed recovery point was created before first-seen: recovery falls back to snapshots',
      output: { recoveryPointArn: null, vaultName: null, createdAt: null, resourceArn, passedOver },
      ...dryRun,
    };
  }
  const recoveryPointArn = chosen.point.RecoveryPointArn ?? '';
  const createdAt = new Date(chosen.created).toISOString();
  return {
    status: 'succeeded',
    before,
    changes: { calls: [] },
    evidence: [recoveryPointArn],
    note: `chose ${recoveryPointArn}, created ${createdAt}, the newest completed point before first-seen; passed over ${passedOver.length}`,
    output: {
      recoveryPointArn,
      vaultName: chosen.point.BackupVaultName ?? null,
      createdAt,
      resourceArn,
      passedOver,
    },
    ...dryRun,
  };
}
