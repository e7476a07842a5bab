/**
 * EC2 instances: their state over time, attributes, stop, start and terminate, instance profile
 * associations and console output.
 */
import type {
  AssociateIamInstanceProfileCommandInput,
  AssociateIamInstanceProfileCommandOutput,
  DescribeInstanceAttributeCommandInput,
  DescribeInstanceAttributeCommandOutput,
  DisassociateIamInstanceProfileCommandInput,
  DisassociateIamInstanceProfileCommandOutput,
  GetConsoleOutputCommandInput,
  GetConsoleOutputCommandOutput,
  ModifyInstanceAttributeCommandInput,
  StartInstancesCommandInput,
  StartInstancesCommandOutput,
  StopInstancesCommandInput,
  StopInstancesCommandOutput,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
} from '@aws-sdk/client-ec2';
import type { CallContext, HandlerMap, Out } from '../context.ts';
import { fail } from '../context.ts';
import type { AccountState, InstanceState, InstanceStateName, ProfileAssociationState } from '../state.ts';
import { newId } from '../state.ts';
import {
  date,
  instanceOrFail,
  instancesOrFail,
  interfaceOrFail,
  requireDefined,
  STATE_CODES,
} from './lookups.ts';
import { setInterfaceGroups } from './network.ts';
import { associationShape, blockDevicesShape, groupRefs } from './shapes.ts';

/** Moves time-driven EC2 state forward: instance transitions and snapshot completion. */
export function refreshEc2(state: AccountState, now: number): void {
  for (const instance of Object.values(state.ec2.instances)) {
    if (instance.transitionAt === undefined || instance.transitionAt > now) continue;
    if (instance.state === 'pending') instance.state = 'running';
    else if (instance.state === 'stopping') instance.state = 'stopped';
    else if (instance.state === 'shutting-down') instance.state = 'terminated';
    delete instance.transitionAt;
  }
  for (const snapshot of Object.values(state.ec2.snapshots)) {
    if (snapshot.state === 'pending' && snapshot.completesAt <= now) snapshot.state = 'completed';
  }
  for (const volume of Object.values(state.ec2.volumes)) {
    if (volume.state === 'creating') volume.state = 'available';
  }
}

function setInstanceState(
  ctx: CallContext,
  instance: InstanceState,
  next: InstanceStateName,
  reason: string,
): void {
  instance.state = next;
  instance.transitionAt = ctx.now + ctx.state.timings.instanceTransitionMs;
  instance.stateTransitionReason = reason;
}

function stateChange(instance: InstanceState, previous: InstanceStateName) {
  return {
    InstanceId: instance.instanceId,
    CurrentState: { Code: STATE_CODES[instance.state], Name: instance.state },
    PreviousState: { Code: STATE_CODES[previous], Name: previous },
  };
}

function terminate(ctx: CallContext, instance: InstanceState): void {
  const { state } = ctx;
  for (const device of instance.blockDevices) {
    const volume = state.ec2.volumes[device.volumeId];
    if (!volume) continue;
    if (device.deleteOnTermination) volume.state = 'deleted';
    else {
      volume.state = 'available';
      delete volume.attachment;
    }
  }
  for (const id of instance.networkInterfaceIds) {
    const nic = state.ec2.networkInterfaces[id];
    if (!nic?.attachment) continue;
    if (nic.attachment.deleteOnTermination) delete state.ec2.networkInterfaces[id];
    else {
      delete nic.attachment;
      nic.status = 'available';
    }
  }
  for (const association of Object.values(state.ec2.profileAssociations)) {
    if (association.instanceId === instance.instanceId)
      delete state.ec2.profileAssociations[association.associationId];
  }
  for (const group of Object.values(state.autoScaling.groups)) {
    group.instances = group.instances.filter((i) => i.instanceId !== instance.instanceId);
  }
}

/** EC2's instance commands. */
export const instanceHandlers: HandlerMap = {
  DescribeInstanceAttribute: (
    ctx,
    input: DescribeInstanceAttributeCommandInput,
  ): Out<DescribeInstanceAttributeCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceId);
    const attribute = requireDefined(ctx, input.Attribute, 'Attribute');
    const base = { InstanceId: instance.instanceId };
    switch (attribute) {
      case 'groupSet': {
        const primary = ctx.state.ec2.networkInterfaces[instance.networkInterfaceIds[0] ?? ''];
        return { ...base, Groups: groupRefs(ctx.state, primary?.groups ?? []) };
      }
      case 'disableApiTermination':
        return { ...base, DisableApiTermination: { Value: instance.disableApiTermination } };
      case 'disableApiStop':
        return { ...base, DisableApiStop: { Value: instance.disableApiStop } };
      case 'instanceInitiatedShutdownBehavior':
        return { ...base, InstanceInitiatedShutdownBehavior: { Value: instance.shutdownBehavior } };
      case 'instanceType':
        return { ...base, InstanceType: { Value: instance.instanceType } };
      case 'rootDeviceName':
        return { ...base, RootDeviceName: { Value: instance.rootDeviceName } };
      case 'blockDeviceMapping':
        return {
          ...base,
          BlockDeviceMappings: blockDevicesShape(instance),
        };
      case 'sourceDestCheck': {
        const primary = ctx.state.ec2.networkInterfaces[instance.networkInterfaceIds[0] ?? ''];
        return { ...base, SourceDestCheck: { Value: primary?.sourceDestCheck ?? true } };
      }
      default:
        return fail(
          ctx,
          'InvalidParameterValue',
          `Value (${attribute}) for parameter attribute is invalid. Unknown attribute.`,
        );
    }
  },

  /**
   * Groups apply to the primary interface and are refused when the instance has more than one
   * interface (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html:
   * "To replace the security groups of a specific network interface, use ModifyNetworkInterfaceAttribute").
   */
  ModifyInstanceAttribute: (ctx, input: ModifyInstanceAttributeCommandInput) => {
    const instance = instanceOrFail(ctx, input.InstanceId);
    const flag = (value: string | undefined): boolean => value === 'true';
    const attribute = input.Attribute;
    const value = input.Value;
    if (input.Groups !== undefined || attribute === 'groupSet') {
      const groups = input.Groups ?? (value ? value.split(',') : []);
      if (instance.networkInterfaceIds.length > 1) {
        fail(
          ctx,
          'InvalidInstanceID',
          `There are multiple interfaces attached to instance '${instance.instanceId}'. Please specify an interface ID for the operation instead.`,
        );
      }
      setInterfaceGroups(ctx, interfaceOrFail(ctx, instance.networkInterfaceIds[0]), groups);
    }
    if (input.DisableApiTermination?.Value !== undefined)
      instance.disableApiTermination = input.DisableApiTermination.Value;
    if (attribute === 'disableApiTermination') instance.disableApiTermination = flag(value);
    if (input.DisableApiStop?.Value !== undefined) instance.disableApiStop = input.DisableApiStop.Value;
    if (attribute === 'disableApiStop') instance.disableApiStop = flag(value);
    const behaviour =
      input.InstanceInitiatedShutdownBehavior?.Value ??
      (attribute === 'instanceInitiatedShutdownBehavior' ? value : undefined);
    if (behaviour !== undefined) {
      if (behaviour !== 'stop' && behaviour !== 'terminate') {
        fail(
          ctx,
          'InvalidParameterValue',
          `Value (${behaviour}) for parameter instanceInitiatedShutdownBehavior is invalid.`,
        );
      }
      instance.shutdownBehavior = behaviour;
    }
    if (input.InstanceType?.Value !== undefined) {
      if (instance.state !== 'stopped') {
        fail(
          ctx,
          'IncorrectInstanceState',
          `The instance '${instance.instanceId}' is not in the 'stopped' state.`,
        );
      }
      instance.instanceType = input.InstanceType.Value;
    }
    if (input.SourceDestCheck?.Value !== undefined) {
      const primary = interfaceOrFail(ctx, instance.networkInterfaceIds[0]);
      primary.sourceDestCheck = input.SourceDestCheck.Value;
    }
    for (const mapping of input.BlockDeviceMappings ?? []) {
      const device = instance.blockDevices.find((b) => b.deviceName === mapping.DeviceName);
      if (!device) {
        fail(ctx, 'InvalidInstanceAttributeValue', `No device is currently mapped at ${mapping.DeviceName}`);
      }
      if (mapping.Ebs?.DeleteOnTermination !== undefined) {
        device.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
        const volume = ctx.state.ec2.volumes[device.volumeId];
        if (volume?.attachment) volume.attachment.deleteOnTermination = mapping.Ebs.DeleteOnTermination;
      }
    }
    return {};
  },
  StopInstances: (ctx, input: StopInstancesCommandInput): Out<StopInstancesCommandOutput> => {
    const instances = instancesOrFail(ctx, input.InstanceIds);
    for (const instance of instances) {
      if (instance.disableApiStop) {
        fail(
          ctx,
          'OperationNotPermitted',
          `The instance '${instance.instanceId}' may not be stopped. Modify its 'disableApiStop' instance attribute and try again.`,
        );
      }
      if (instance.state === 'terminated' || instance.state === 'shutting-down') {
        fail(
          ctx,
          'IncorrectInstanceState',
          `This instance '${instance.instanceId}' is not in a state from which it can be stopped.`,
        );
      }
    }
    return {
      StoppingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous === 'running' || previous === 'pending') {
          setInstanceState(ctx, instance, 'stopping', `User initiated (${new Date(ctx.now).toISOString()})`);
        }
        return stateChange(instance, previous);
      }),
    };
  },

  StartInstances: (ctx, input: StartInstancesCommandInput): Out<StartInstancesCommandOutput> => {
    const instances = instancesOrFail(ctx, input.InstanceIds);
    for (const instance of instances) {
      if (instance.state !== 'stopped' && instance.state !== 'running' && instance.state !== 'pending') {
        fail(
          ctx,
          'IncorrectInstanceState',
          `The instance '${instance.instanceId}' is not in a state from which it can be started.`,
        );
      }
    }
    return {
      StartingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous === 'stopped') setInstanceState(ctx, instance, 'pending', '');
        return stateChange(instance, previous);
      }),
    };
  },

  /**
   * Refuses instances with termination protection
   * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingDisableAPITermination.html);
   * deletes volumes and interfaces marked DeleteOnTermination.
   */
  TerminateInstances: (ctx, input: TerminateInstancesCommandInput): Out<TerminateInstancesCommandOutput> => {
    const instances = instancesOrFail(ctx, input.InstanceIds);
    for (const instance of instances) {
      if (instance.disableApiTermination && instance.state !== 'terminated') {
        fail(
          ctx,
          'OperationNotPermitted',
          `The instance '${instance.instanceId}' may not be terminated. Modify its 'disableApiTermination' instance attribute and try again.`,
        );
      }
    }
    return {
      TerminatingInstances: instances.map((instance) => {
        const previous = instance.state;
        if (previous !== 'terminated' && previous !== 'shutting-down') {
          setInstanceState(
            ctx,
            instance,
            'shutting-down',
            `User initiated (${new Date(ctx.now).toISOString()})`,
          );
          terminate(ctx, instance);
        }
        return stateChange(instance, previous);
      }),
    };
  },
  DisassociateIamInstanceProfile: (
    ctx,
    input: DisassociateIamInstanceProfileCommandInput,
  ): Out<DisassociateIamInstanceProfileCommandOutput> => {
    const id = requireDefined(ctx, input.AssociationId, 'AssociationId');
    const association = ctx.state.ec2.profileAssociations[id];
    if (!association)
      fail(ctx, 'InvalidAssociationID.NotFound', `An association with ID ${id} does not exist.`);
    delete ctx.state.ec2.profileAssociations[id];
    return { IamInstanceProfileAssociation: associationShape(association, 'disassociating') };
  },

  AssociateIamInstanceProfile: (
    ctx,
    input: AssociateIamInstanceProfileCommandInput,
  ): Out<AssociateIamInstanceProfileCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceId);
    const name = input.IamInstanceProfile?.Name ?? input.IamInstanceProfile?.Arn?.split('/').pop();
    const profile = name === undefined ? undefined : ctx.state.iam.instanceProfiles[name];
    if (!profile) {
      fail(
        ctx,
        'InvalidParameterValue',
        `Value (${name}) for parameter iamInstanceProfile.name is invalid. Invalid IAM Instance Profile name`,
      );
    }
    if (Object.values(ctx.state.ec2.profileAssociations).some((a) => a.instanceId === instance.instanceId)) {
      fail(ctx, 'IncorrectState', `There is an existing association for instance ${instance.instanceId}`);
    }
    const associationId = newId(ctx.state, 'iip-assoc');
    const association: ProfileAssociationState = {
      associationId,
      instanceId: instance.instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      state: 'associated',
      timestamp: ctx.now,
    };
    ctx.state.ec2.profileAssociations[associationId] = association;
    return { IamInstanceProfileAssociation: associationShape(association, 'associating') };
  },
  GetConsoleOutput: (ctx, input: GetConsoleOutputCommandInput): Out<GetConsoleOutputCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceId);
    return {
      InstanceId: instance.instanceId,
      Output: Buffer.from(instance.consoleOutput, 'utf8').toString('base64'),
      Timestamp: date(ctx.now),
    };
  },
};
