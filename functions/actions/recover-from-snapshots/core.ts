/**
 * The core of `recover-from-snapshots`, the fallback when AWS Backup has no recovery point from before the
 * incident: for each EBS volume of the instance, the newest `completed` snapshot started strictly before
 * first-seen (the incident's own evidence snapshots come after it, and are never used) becomes a new volume
 * in the instance's Availability Zone, where an EBS volume must be to attach to it
 * (https://docs.aws.amazon.com/ebs/latest/userguide/ebs-creating-volume.html). The volumes are tagged at
 * creation (`cordon:incident`, `cordon:source-volume`, `cordon:source-snapshot`) and left unattached:
 * recovery is partial, and an operator attaches them or launches from them. Idempotent: volumes already
 * tagged for the incident and the source volume are found first; CreateVolume also gets a ClientToken
 * derived from the incident, volume and snapshot
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateVolume.html). New volumes are `gp3`.
 *
 * AWS calls: ec2:DescribeInstances, ec2:DescribeVolumes, one ec2:DescribeSnapshots per volume without a
 * recovered copy, one ec2:CreateVolume per volume with a snapshot.
 */
import { createHash } from 'node:crypto';
import {
  CreateVolumeCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  type Snapshot,
  type Volume,
} from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { allItems, nextToken } from '#shared/pages';
import { describeInstance, type Ec2Sender, ec2Mutation, newPlan, tagsOf } from '../ec2-common/instance.ts';
import { IsoDateSchema, RECOVERY_TAG, RecoverEventSchema } from '../recover-common/recovery.ts';

/** The event of `recover-from-snapshots`. */
export const FromSnapshotsInputSchema = lazySchema(() =>
  z.extend(RecoverEventSchema, {
    /** When the incident's first finding saw the attacker: only snapshots started strictly before it count. */
    firstSeen: IsoDateSchema,
    /** Default: every EBS volume attached to the instance. */
    volumeIds: z.optional(z.array(z.string().check(z.regex(/^vol-[0-9a-f]+$/, 'must be a volume id')))),
  }),
);

/** What the core needs: the EC2 client. */
export interface FromSnapshotsDeps {
  readonly ec2: Ec2Sender;
}

/** A volume the fallback made (or, with `dryRun`, would make). */
export interface RecoveredVolume {
  /** Null in a dry run. */
  volumeId: string | null;
  fromSnapshot: string;
  sourceVolume: string;
  availabilityZone: string;
  /** Where the source volume was attached, for the operator. */
  deviceName: string | null;
}

/** The newest completed snapshot of a volume started before `before`, with how many were passed over. */
async function snapshotBefore(
  ec2: Ec2Sender,
  volumeId: string,
  before: number,
): Promise<{ snapshot: Snapshot | undefined; later: number }> {
  const doing = `ec2:DescribeSnapshots volume-id=${volumeId}`;
  const snapshots = await allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(
          new DescribeSnapshotsCommand({
            OwnerIds: ['self'],
            Filters: [
              { Name: 'volume-id', Values: [volumeId] },
              { Name: 'status', Values: ['completed'] },
            ],
            NextToken,
          }),
        ),
      ),
    next: nextToken,
    items: (page) => page.Snapshots,
  });
  const usable = snapshots
    .filter((s) => s.State === 'completed' && s.StartTime !== undefined && s.StartTime.getTime() < before)
    .sort((a, b) => (b.StartTime?.getTime() ?? 0) - (a.StartTime?.getTime() ?? 0));
  return { snapshot: usable[0], later: snapshots.length - usable.length };
}

/** The volumes an earlier run made for the incident, by source volume. */
async function recoveredVolumes(ec2: Ec2Sender, incidentId: string): Promise<Map<string, Volume>> {
  const doing = `ec2:DescribeVolumes ${RECOVERY_TAG.incident}=${incidentId}`;
  const volumes = await allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(
          new DescribeVolumesCommand({
            Filters: [
              { Name: `tag:${RECOVERY_TAG.incident}`, Values: [incidentId] },
              { Name: 'tag-key', Values: [RECOVERY_TAG.sourceVolume] },
            ],
            NextToken,
          }),
        ),
      ),
    next: nextToken,
    items: (page) => page.Volumes,
  });
  const bySource = new Map<string, Volume>();
  for (const volume of volumes) {
    if (volume.State === 'deleting' || volume.State === 'deleted') continue;
    const source = tagsOf(volume.Tags)[RECOVERY_TAG.sourceVolume];
    if (source) bySource.set(source, volume);
  }
  return bySource;
}

/** Creates a volume from each volume's newest snapshot before first-seen, for an operator to attach. */
export async function recoverFromSnapshots(deps: FromSnapshotsDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(FromSnapshotsInputSchema, event, 'recover-from-snapshots input');
  const { ec2 } = deps;
  const plan = newPlan(input.dryRun);
  const firstSeen = Date.parse(input.firstSeen);
  const instance = await describeInstance(ec2, input.instanceId);
  const availabilityZone = instance.Placement?.AvailabilityZone;
  if (!availabilityZone) throw new Error(`instance ${input.instanceId} has no Availability Zone`);
  const devices = new Map(
    (instance.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.VolumeId)
      .map((b) => [b.Ebs?.VolumeId ?? '', b.DeviceName ?? null]),
  );
  const sources = input.volumeIds ?? [...devices.keys()];
  const existing = await recoveredVolumes(ec2, input.incidentId);

  const volumes: (RecoveredVolume & { created: boolean })[] = [];
  const missing: string[] = [];
  const passedOver: Record<string, number> = {};
  for (const sourceVolume of sources) {
    const deviceName = devices.get(sourceVolume) ?? null;
    const found = existing.get(sourceVolume);
    if (found) {
      volumes.push({
        volumeId: found.VolumeId ?? null,
        fromSnapshot: found.SnapshotId ?? tagsOf(found.Tags)[RECOVERY_TAG.sourceSnapshot] ?? '',
        sourceVolume,
        availabilityZone: found.AvailabilityZone ?? availabilityZone,
        deviceName,
        created: false,
      });
      continue;
    }
    const { snapshot, later } = await snapshotBefore(ec2, sourceVolume, firstSeen);
    passedOver[sourceVolume] = later;
    const snapshotId = snapshot?.SnapshotId;
    if (!snapshotId) {
      missing.push(sourceVolume);
      continue;
    }
    const clientToken = createHash('sha256')
      .update(`cordon-recover\n${input.incidentId}\n${sourceVolume}\n${snapshotId}`)
      .digest('hex')
      .slice(0, 64);
    const out = await ec2Mutation(
      plan,
      `ec2:CreateVolume from ${snapshotId} in ${availabilityZone}`,
      (DryRun) =>
        ec2.send(
          new CreateVolumeCommand({
            DryRun,
            AvailabilityZone: availabilityZone,
            SnapshotId: snapshotId,
            VolumeType: 'gp3',
            ClientToken: clientToken,
            TagSpecifications: [
              {
                ResourceType: 'volume',
                Tags: [
                  { Key: RECOVERY_TAG.incident, Value: input.incidentId },
                  { Key: RECOVERY_TAG.sourceVolume, Value: sourceVolume },
                  { Key: RECOVERY_TAG.sourceSnapshot, Value: snapshotId },
                ],
              },
            ],
          }),
        ),
    );
    volumes.push({
      volumeId: out?.VolumeId ?? null,
      fromSnapshot: snapshotId,
      sourceVolume,
      availabilityZone,
      deviceName,
      created: true,
    });
  }

  const created = volumes.filter((v) => v.created);
  const already = created.length === 0 && volumes.length > 0;
  const ids = volumes.map((v) => v.volumeId).filter((v): v is string => v !== null);
  const missingNote =
    missing.length > 0 ? `; no completed snapshot before first-seen for ${missing.join(', ')}` : '';
  return {
    status: already ? 'already-done' : 'succeeded',
    before: {
      instanceId: input.instanceId,
      availabilityZone,
      volumes: sources.map((v) => ({ volumeId: v, deviceName: devices.get(v) ?? null })),
      recovered: [...existing.values()].map((v) => v.VolumeId ?? ''),
    },
    changes: { calls: plan.calls, created: created.map(({ created: _c, ...v }) => v), passedOver },
    evidence: ids,
    note: `partial recovery: ${volumes.length} volume(s) from snapshots taken before first-seen, left unattached in ${availabilityZone}; an operator must attach them or launch from them${missingNote}`,
    ...(plan.dryRun ? { dryRun: true } : {}),
    output: {
      partial: true,
      volumes: volumes.map(({ created: _c, ...v }) => v),
      missing,
    },
  };
}
