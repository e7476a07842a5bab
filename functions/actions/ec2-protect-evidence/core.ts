/**
 * The core of `ec2-protect-evidence`: keeps the instance and its disks from being destroyed while the
 * incident is open: termination protection (`DisableApiTermination`) and stop protection
 * (`DisableApiStop`) on, shutdown from inside the instance stops it instead of terminating it
 * (`InstanceInitiatedShutdownBehavior: stop`), and DeleteOnTermination off on every volume, so that even
 * a termination keeps the volumes (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/terminating-instances.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-stop-protection.html).
 *
 * ModifyInstanceAttribute changes one attribute per call
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html); the block
 * device mappings of every volume go in one call. Those attributes are not in DescribeInstances, so they
 * are read with DescribeInstanceAttribute, in parallel.
 *
 * AWS calls: DescribeInstances and 3 DescribeInstanceAttribute, then at most 4 ModifyInstanceAttribute.
 */
import {
  DescribeInstanceAttributeCommand,
  type Instance,
  type InstanceAttributeName,
  ModifyInstanceAttributeCommand,
} from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  assertNotProtected,
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  newPlan,
} from '../ec2-common/instance.ts';
import type { ProtectBefore } from '../ec2-common/records.ts';

/** The event of `ec2-protect-evidence`. */
export const ProtectInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, { approved: z.optional(z.boolean()) }),
);

/** What the core needs: the EC2 client and the protected tag. */
export interface ProtectDeps {
  readonly ec2: Ec2Sender;
  readonly protectedTag: { readonly key: string; readonly value: string };
}

/** Reads the four protections of an instance (`described`: its DescribeInstances answer, when already read). */
export async function readProtections(
  ec2: Ec2Sender,
  instanceId: string,
  described?: Instance,
): Promise<{ protections: ProtectBefore; instance: Instance }> {
  const attribute = (Attribute: InstanceAttributeName) =>
    awsCall(`ec2:DescribeInstanceAttribute ${instanceId} ${Attribute}`, () =>
      ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: instanceId, Attribute })),
    );
  const [instance, termination, stop, shutdown] = await Promise.all([
    described ?? describeLiveInstance(ec2, instanceId),
    attribute('disableApiTermination'),
    attribute('disableApiStop'),
    attribute('instanceInitiatedShutdownBehavior'),
  ]);
  const protections: ProtectBefore = {
    instanceId,
    disableApiTermination: termination.DisableApiTermination?.Value === true,
    disableApiStop: stop.DisableApiStop?.Value === true,
    shutdownBehavior:
      shutdown.InstanceInitiatedShutdownBehavior?.Value === 'terminate' ? 'terminate' : 'stop',
    volumes: (instance.BlockDeviceMappings ?? [])
      .filter((b) => b.Ebs?.VolumeId !== undefined)
      .map((b) => ({
        deviceName: b.DeviceName ?? '',
        volumeId: b.Ebs?.VolumeId ?? '',
        deleteOnTermination: b.Ebs?.DeleteOnTermination === true,
      })),
  };
  return { protections, instance };
}

/** Sets the protections of an instance to `target`, one call per attribute that differs from `current`. */
export async function applyProtections(
  ec2: Ec2Sender,
  plan: ReturnType<typeof newPlan>,
  current: ProtectBefore,
  target: ProtectBefore,
): Promise<void> {
  const id = current.instanceId;
  const modify = (
    what: string,
    input: Omit<ConstructorParameters<typeof ModifyInstanceAttributeCommand>[0], 'InstanceId'>,
  ) =>
    ec2Mutation(plan, `ec2:ModifyInstanceAttribute ${id} ${what}`, (DryRun) =>
      ec2.send(new ModifyInstanceAttributeCommand({ ...input, InstanceId: id, DryRun })),
    );
  if (current.disableApiTermination !== target.disableApiTermination) {
    await modify('disableApiTermination', { DisableApiTermination: { Value: target.disableApiTermination } });
  }
  if (current.disableApiStop !== target.disableApiStop) {
    await modify('disableApiStop', { DisableApiStop: { Value: target.disableApiStop } });
  }
  if (current.shutdownBehavior !== target.shutdownBehavior) {
    await modify('instanceInitiatedShutdownBehavior', {
      InstanceInitiatedShutdownBehavior: { Value: target.shutdownBehavior },
    });
  }
  const mappings = target.volumes.filter((v) => {
    const now = current.volumes.find((c) => c.volumeId === v.volumeId);
    return now !== undefined && now.deleteOnTermination !== v.deleteOnTermination;
  });
  if (mappings.length > 0) {
    await modify('blockDeviceMapping', {
      BlockDeviceMappings: mappings.map((v) => ({
        DeviceName: v.deviceName,
        Ebs: { DeleteOnTermination: v.deleteOnTermination },
      })),
    });
  }
}

/** Turns the protections on. */
export async function protectEvidence(deps: ProtectDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ProtectInputSchema, event, 'ec2-protect-evidence input');
  const plan = newPlan(input.dryRun);
  const { protections: before, instance } = await readProtections(deps.ec2, input.instanceId);
  assertNotProtected(instance, deps.protectedTag, input.approved);
  const target: ProtectBefore = {
    instanceId: input.instanceId,
    disableApiTermination: true,
    disableApiStop: true,
    shutdownBehavior: 'stop',
    volumes: before.volumes.map((v) => ({ ...v, deleteOnTermination: false })),
  };
  await applyProtections(deps.ec2, plan, before, target);
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (plan.calls.length === 0) {
    return {
      status: 'already-done',
      before,
      changes: { calls: [] },
      note: 'every protection was already on',
      ...dryRun,
    };
  }
  return { status: 'succeeded', before, changes: { calls: plan.calls, after: target }, ...dryRun };
}
