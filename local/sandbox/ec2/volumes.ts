/** EBS volumes and snapshots: create, attach, detach and snapshot. */
import type {
  AttachVolumeCommandInput,
  AttachVolumeCommandOutput,
  CreateSnapshotCommandInput,
  CreateSnapshotCommandOutput,
  CreateSnapshotsCommandInput,
  CreateSnapshotsCommandOutput,
  CreateVolumeCommandInput,
  CreateVolumeCommandOutput,
  DetachVolumeCommandInput,
  DetachVolumeCommandOutput,
} from '@aws-sdk/client-ec2';
import type { CallContext, HandlerMap, Out } from '../context.ts';
import { fail } from '../context.ts';
import type { AccountState, SnapshotState, TagMap, VolumeState } from '../state.ts';
import { newId } from '../state.ts';
import {
  date,
  instanceOrFail,
  requireDefined,
  setTags,
  tagsFromSpecifications,
  volumeOrFail,
} from './lookups.ts';
import { snapshotShape, volumeShape } from './shapes.ts';

/** Creates an available volume (used by Backup restores). */
export function createVolume(
  state: AccountState,
  now: number,
  options: {
    size: number;
    availabilityZone: string;
    volumeType: string;
    encrypted: boolean;
    snapshotId?: string;
  },
): VolumeState {
  const volumeId = newId(state, 'vol');
  const volume: VolumeState = {
    volumeId,
    size: options.size,
    volumeType: options.volumeType,
    availabilityZone: options.availabilityZone,
    encrypted: options.encrypted,
    createTime: now,
    state: 'creating',
    ...(options.snapshotId ? { snapshotId: options.snapshotId } : {}),
  };
  state.ec2.volumes[volumeId] = volume;
  return volume;
}

function newSnapshot(
  ctx: CallContext,
  volume: VolumeState,
  description: string,
  tags: TagMap,
): SnapshotState {
  const snapshotId = newId(ctx.state, 'snap');
  const snapshot: SnapshotState = {
    snapshotId,
    volumeId: volume.volumeId,
    volumeSize: volume.size,
    description,
    encrypted: volume.encrypted,
    startTime: ctx.now,
    completesAt: ctx.now + ctx.state.timings.snapshotMs,
    state: 'pending',
  };
  ctx.state.ec2.snapshots[snapshotId] = snapshot;
  setTags(ctx.state, snapshotId, tags);
  return snapshot;
}

/** EC2's volume and snapshot commands. */
export const volumeHandlers: HandlerMap = {
  CreateVolume: (ctx, input: CreateVolumeCommandInput): Out<CreateVolumeCommandOutput> => {
    const availabilityZone = requireDefined(ctx, input.AvailabilityZone, 'AvailabilityZone');
    const snapshot = input.SnapshotId ? ctx.state.ec2.snapshots[input.SnapshotId] : undefined;
    if (input.SnapshotId && !snapshot) {
      fail(ctx, 'InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    }
    if (snapshot && snapshot.state !== 'completed') {
      fail(ctx, 'IncorrectState', `Snapshot is in invalid state - ${snapshot.state}`);
    }
    const size = input.Size ?? snapshot?.volumeSize;
    if (size === undefined)
      fail(ctx, 'MissingParameter', 'The request must contain the parameter size or snapshotId');
    const volume = createVolume(ctx.state, ctx.now, {
      size,
      availabilityZone,
      volumeType: input.VolumeType ?? 'gp2',
      encrypted: input.Encrypted ?? snapshot?.encrypted ?? false,
      ...(input.SnapshotId ? { snapshotId: input.SnapshotId } : {}),
    });
    setTags(ctx.state, volume.volumeId, tagsFromSpecifications(input.TagSpecifications, 'volume'));
    const { Attachments: _attachments, ...shape } = volumeShape(ctx.state, volume);
    return shape;
  },

  AttachVolume: (ctx, input: AttachVolumeCommandInput): Out<AttachVolumeCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const instance = instanceOrFail(ctx, input.InstanceId);
    const device = requireDefined(ctx, input.Device, 'Device');
    if (volume.attachment || volume.state !== 'available') {
      fail(ctx, 'VolumeInUse', `${volume.volumeId} is already attached to an instance`);
    }
    if (volume.availabilityZone !== instance.availabilityZone) {
      fail(
        ctx,
        'InvalidVolume.ZoneMismatch',
        `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`,
      );
    }
    if (instance.blockDevices.some((b) => b.deviceName === device)) {
      fail(
        ctx,
        'InvalidParameterValue',
        `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
      );
    }
    volume.state = 'in-use';
    volume.attachment = {
      instanceId: instance.instanceId,
      device,
      deleteOnTermination: false,
      attachTime: ctx.now,
    };
    instance.blockDevices.push({
      deviceName: device,
      volumeId: volume.volumeId,
      deleteOnTermination: false,
      attachTime: ctx.now,
    });
    return {
      VolumeId: volume.volumeId,
      InstanceId: instance.instanceId,
      Device: device,
      State: 'attaching',
      AttachTime: date(ctx.now),
    };
  },

  DetachVolume: (ctx, input: DetachVolumeCommandInput): Out<DetachVolumeCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const attachment = volume.attachment;
    if (!attachment || (input.InstanceId !== undefined && attachment.instanceId !== input.InstanceId)) {
      fail(ctx, 'IncorrectState', `Volume '${volume.volumeId}' is in the 'available' state.`);
    }
    const instance = ctx.state.ec2.instances[attachment.instanceId];
    if (instance) {
      if (instance.rootDeviceName === attachment.device && instance.state !== 'stopped' && !input.Force) {
        fail(
          ctx,
          'OperationNotPermitted',
          `Unable to detach root volume '${volume.volumeId}' from instance '${instance.instanceId}'`,
        );
      }
      instance.blockDevices = instance.blockDevices.filter((b) => b.volumeId !== volume.volumeId);
    }
    delete volume.attachment;
    volume.state = 'available';
    return {
      VolumeId: volume.volumeId,
      InstanceId: attachment.instanceId,
      Device: attachment.device,
      State: 'detaching',
      AttachTime: date(attachment.attachTime),
    };
  },

  CreateSnapshot: (ctx, input: CreateSnapshotCommandInput): Out<CreateSnapshotCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const snapshot = newSnapshot(
      ctx,
      volume,
      input.Description ?? '',
      tagsFromSpecifications(input.TagSpecifications, 'snapshot'),
    );
    return snapshotShape(ctx.state, snapshot, ctx.now);
  },

  /** One crash-consistent snapshot per volume of an instance. */
  CreateSnapshots: (ctx, input: CreateSnapshotsCommandInput): Out<CreateSnapshotsCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceSpecification?.InstanceId);
    const excludeBoot = input.InstanceSpecification?.ExcludeBootVolume ?? false;
    const excluded = new Set(input.InstanceSpecification?.ExcludeDataVolumeIds ?? []);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'snapshot');
    const devices = instance.blockDevices.filter(
      (b) => !(excludeBoot && b.deviceName === instance.rootDeviceName) && !excluded.has(b.volumeId),
    );
    return {
      Snapshots: devices.map((device) => {
        const volume = volumeOrFail(ctx, device.volumeId);
        const copied =
          input.CopyTagsFromSource === 'volume' ? (ctx.state.ec2.tags[volume.volumeId] ?? {}) : {};
        const snapshot = newSnapshot(ctx, volume, input.Description ?? '', { ...copied, ...tags });
        const shape = snapshotShape(ctx.state, snapshot, ctx.now);
        return {
          SnapshotId: shape.SnapshotId,
          VolumeId: shape.VolumeId,
          VolumeSize: shape.VolumeSize,
          Description: shape.Description,
          Encrypted: shape.Encrypted,
          OwnerId: shape.OwnerId,
          Progress: shape.Progress,
          StartTime: shape.StartTime,
          State: shape.State,
          Tags: shape.Tags,
        };
      }),
    };
  },
};
