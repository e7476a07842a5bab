/**
 * The core of `ec2-snapshot`: keeps the disks and the console as evidence.
 * - CreateSnapshots of every EBS volume of the instance at once: crash-consistent across volumes
 *   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateSnapshots.html), the volume's own
 *   tags copied (`CopyTagsFromSource: volume`), and tagged with the incident, the instance and the finding
 *   at creation; then each snapshot gets its volume id with CreateTags (one call per snapshot, since
 *   the value differs). A snapshot is taken of a running instance and needs no network access, so it runs
 *   after isolation.
 * - GetConsoleOutput, kept in the step (`changes.consoleOutput`), decoded from base64
 *   (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_GetConsoleOutput.html) and cut to its last
 *   32 KB, the most recent output, so that the step stays well inside DynamoDB's 400 KB item limit.
 * Idempotent: snapshots already tagged with the incident are found first, and only the volumes without
 * one are snapshotted.
 *
 * AWS calls: DescribeInstances, DescribeSnapshots, CreateSnapshots, one CreateTags per volume,
 * GetConsoleOutput.
 */
import { CreateSnapshotsCommand, CreateTagsCommand, GetConsoleOutputCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  newPlan,
  TAG,
} from '../ec2-common/instance.ts';
import { incidentSnapshots } from '../ec2-common/snapshots.ts';

/** The event of `ec2-snapshot`. */
export const SnapshotInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** The finding that started the incident, tagged on every snapshot. */
    findingId: z.optional(z.string()),
  }),
);

/** What the core needs: the EC2 client. */
export interface SnapshotDeps {
  readonly ec2: Ec2Sender;
}

/** The most console output kept in the step, in bytes. */
export const CONSOLE_OUTPUT_LIMIT = 32 * 1024;

/** Decodes console output and keeps its last {@link CONSOLE_OUTPUT_LIMIT} bytes. */
export function decodeConsoleOutput(base64: string | undefined): { text: string; truncated: boolean } {
  const bytes = Buffer.from(base64 ?? '', 'base64');
  if (bytes.length <= CONSOLE_OUTPUT_LIMIT) return { text: bytes.toString('utf8'), truncated: false };
  return { text: bytes.subarray(bytes.length - CONSOLE_OUTPUT_LIMIT).toString('utf8'), truncated: true };
}

/** Snapshots every volume of the instance and keeps its console output. */
export async function snapshotInstance(deps: SnapshotDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(SnapshotInputSchema, event, 'ec2-snapshot input');
  const { ec2 } = deps;
  const plan = newPlan(input.dryRun);
  const id = input.instanceId;
  const instance = await describeLiveInstance(ec2, id);
  const volumes = (instance.BlockDeviceMappings ?? [])
    .map((b) => ({ deviceName: b.DeviceName ?? '', volumeId: b.Ebs?.VolumeId ?? '' }))
    .filter((v) => v.volumeId !== '');
  const existing = await incidentSnapshots(ec2, input.incidentId, id);
  const byVolume = new Map(existing.map((s) => [s.VolumeId ?? '', s]));
  const missing = volumes.filter((v) => !byVolume.has(v.volumeId));
  const untagged = existing.filter((s) => !s.Tags?.some((t) => t.Key === TAG.volume));
  const before = {
    instanceId: id,
    volumes: volumes.map((v) => v.volumeId),
    snapshots: existing.map((s) => ({ snapshotId: s.SnapshotId, volumeId: s.VolumeId, state: s.State })),
  };
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (missing.length === 0 && untagged.length === 0) {
    const ids = existing.map((s) => s.SnapshotId ?? '').filter((s) => s !== '');
    return {
      status: 'already-done',
      before,
      changes: { calls: [] },
      evidence: ids,
      note: 'every volume already has a snapshot for this incident',
      output: { snapshotIds: ids },
      ...dryRun,
    };
  }

  const created: { snapshotId: string; volumeId: string }[] = [];
  if (missing.length > 0) {
    const root = instance.RootDeviceName;
    const rootVolume = volumes.find((v) => v.deviceName === root)?.volumeId;
    const out = await ec2Mutation(plan, `ec2:CreateSnapshots ${id}`, (DryRun) =>
      ec2.send(
        new CreateSnapshotsCommand({
          DryRun,
          InstanceSpecification: {
            InstanceId: id,
            ExcludeBootVolume: rootVolume !== undefined && byVolume.has(rootVolume),
            ExcludeDataVolumeIds: volumes
              .filter((v) => v.volumeId !== rootVolume && byVolume.has(v.volumeId))
              .map((v) => v.volumeId),
          },
          Description: `Cordon evidence: incident ${input.incidentId}, instance ${id}`,
          CopyTagsFromSource: 'volume',
          TagSpecifications: [
            {
              ResourceType: 'snapshot',
              Tags: [
                { Key: TAG.incident, Value: input.incidentId },
                { Key: TAG.instance, Value: id },
                ...(input.findingId ? [{ Key: TAG.finding, Value: input.findingId }] : []),
              ],
            },
          ],
        }),
      ),
    );
    for (const s of out?.Snapshots ?? []) {
      if (s.SnapshotId && s.VolumeId) created.push({ snapshotId: s.SnapshotId, volumeId: s.VolumeId });
    }
    if (plan.dryRun) for (const v of missing) plan.calls.push(`ec2:CreateTags <snapshot of ${v.volumeId}>`);
  }
  const toTag = [
    ...created,
    ...untagged.map((s) => ({ snapshotId: s.SnapshotId ?? '', volumeId: s.VolumeId ?? '' })),
  ].filter((s) => s.snapshotId !== '');
  for (const s of toTag) {
    await ec2Mutation(plan, `ec2:CreateTags ${s.snapshotId}`, (DryRun) =>
      ec2.send(
        new CreateTagsCommand({
          DryRun,
          Resources: [s.snapshotId],
          Tags: [{ Key: TAG.volume, Value: s.volumeId }],
        }),
      ),
    );
  }

  let consoleOutput: { text: string; truncated: boolean } | undefined;
  if (plan.dryRun) plan.calls.push(`ec2:GetConsoleOutput ${id}`);
  else {
    const out = await awsCall(`ec2:GetConsoleOutput ${id}`, () =>
      ec2.send(new GetConsoleOutputCommand({ InstanceId: id })),
    );
    consoleOutput = decodeConsoleOutput(out.Output);
  }

  const snapshotIds = [
    ...existing.map((s) => s.SnapshotId ?? ''),
    ...created.map((s) => s.snapshotId),
  ].filter((s) => s !== '');
  return {
    status: 'succeeded',
    before,
    changes: {
      calls: plan.calls,
      snapshots: created,
      ...(consoleOutput
        ? { consoleOutput: consoleOutput.text, consoleOutputTruncated: consoleOutput.truncated }
        : {}),
    },
    evidence: snapshotIds,
    output: { snapshotIds },
    ...dryRun,
  };
}
