/** Auto Scaling: groups and their members. */
import type {
  Activity,
  AttachInstancesCommandInput,
  AutoScalingGroup,
  DescribeAutoScalingGroupsCommandInput,
  DescribeAutoScalingGroupsCommandOutput,
  DescribeAutoScalingInstancesCommandInput,
  DescribeAutoScalingInstancesCommandOutput,
  DetachInstancesCommandInput,
  DetachInstancesCommandOutput,
} from '@aws-sdk/client-auto-scaling';
import type { CallContext, HandlerMap, Out } from './context.ts';
import { fail, sortedValues } from './context.ts';
import type { PageRules } from './listing.ts';
import { filter, page, sizeConstraint } from './listing.ts';
import type { AccountState, AutoScalingGroupState } from './state.ts';

const date = (ms: number): Date => new Date(ms);

/**
 * Auto Scaling's paging: `MaxRecords` 1 to `max`, 50 when not given, `NextToken` in and out.
 * DescribeAutoScalingGroups goes to 100
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingGroups.html: "The
 * default value is 50 and the maximum value is 100"), DescribeAutoScalingInstances to 50
 * (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html). A
 * size out of range is `ValidationError`; a token it did not give, `InvalidNextToken`.
 */
function asgPaging(max: number): PageRules {
  return {
    min: 1,
    max,
    default: 50,
    badSize: (size, rules) => ['ValidationError', sizeConstraint('maxRecords', size, rules)],
    badToken: () => ['InvalidNextToken', 'The token provided is not valid.'],
  };
}

const GROUP_PAGING = asgPaging(100);
const INSTANCE_PAGING = asgPaging(50);

function groupOrFail(ctx: CallContext, name: string | undefined): AutoScalingGroupState {
  const group = name === undefined ? undefined : ctx.state.autoScaling.groups[name];
  if (!group)
    fail(ctx, 'ValidationError', `AutoScalingGroup name not found - AutoScalingGroup ${name} not found`);
  return group;
}

function groupShape(group: AutoScalingGroupState): AutoScalingGroup {
  return {
    AutoScalingGroupName: group.name,
    AutoScalingGroupARN: group.arn,
    MinSize: group.minSize,
    MaxSize: group.maxSize,
    DesiredCapacity: group.desiredCapacity,
    DefaultCooldown: 300,
    AvailabilityZones: group.availabilityZones,
    VPCZoneIdentifier: group.vpcZoneIdentifier,
    HealthCheckType: 'EC2',
    HealthCheckGracePeriod: 300,
    CreatedTime: date(group.createdTime),
    LoadBalancerNames: group.loadBalancerNames,
    TargetGroupARNs: group.targetGroupArns,
    ...(group.launchTemplateName ? { LaunchTemplate: { LaunchTemplateName: group.launchTemplateName } } : {}),
    Instances: group.instances.map((i) => ({
      InstanceId: i.instanceId,
      AvailabilityZone: i.availabilityZone,
      LifecycleState: i.lifecycleState as 'InService',
      HealthStatus: i.healthStatus,
      ProtectedFromScaleIn: i.protectedFromScaleIn,
    })),
    Tags: Object.entries(group.tags).map(([Key, Value]) => ({
      Key,
      Value,
      ResourceId: group.name,
      ResourceType: 'auto-scaling-group',
      PropagateAtLaunch: true,
    })),
  };
}

/** Registers or deregisters an instance with the group's load balancers and target groups, as Auto Scaling does. */
function syncLoadBalancers(
  state: AccountState,
  now: number,
  group: AutoScalingGroupState,
  id: string,
  attach: boolean,
): void {
  for (const name of group.loadBalancerNames) {
    const lb = state.elb.loadBalancers[name];
    if (!lb) continue;
    lb.instances = lb.instances.filter((i) => i !== id);
    if (attach) lb.instances.push(id);
  }
  for (const arn of group.targetGroupArns) {
    const tg = state.elbv2.targetGroups[arn];
    if (!tg) continue;
    const target = tg.targets.find((t) => t.id === id);
    if (attach && !target) tg.targets.push({ id, port: tg.port });
    if (attach && target) delete target.drainingUntil;
    if (!attach && target) target.drainingUntil = now + state.timings.deregistrationDelayMs;
  }
}

function activity(
  ctx: CallContext,
  group: AutoScalingGroupState,
  description: string,
  cause: string,
): Activity {
  return {
    ActivityId: `${ctx.state.nextId.toString(16).padStart(8, '0')}-sand-box0-0000-${Math.floor(ctx.now).toString(16).padStart(12, '0').slice(-12)}`,
    AutoScalingGroupName: group.name,
    Description: description,
    Cause: cause,
    StartTime: date(ctx.now),
    StatusCode: 'InProgress',
    Progress: 50,
    Details: JSON.stringify({ Subnet: group.vpcZoneIdentifier }),
  };
}

/** Auto Scaling commands the sandbox simulates. */
export const autoScalingHandlers: HandlerMap = {
  /**
   * By name (a name that does not exist is left out, as Auto Scaling does) and its only filters, on tags
   * (`tag:<key>`, `tag-key`, `tag-value`); `MaxRecords`
   * a page ({@link GROUP_PAGING}).
   */
  DescribeAutoScalingGroups: (
    ctx,
    input: DescribeAutoScalingGroupsCommandInput,
  ): Out<DescribeAutoScalingGroupsCommandOutput> => {
    const { MaxRecords, NextToken, ...scope } = input;
    const names = input.AutoScalingGroupNames ?? [];
    const named = sortedValues(ctx.state.autoScaling.groups).filter(
      (g) => names.length === 0 || names.includes(g.name),
    );
    const kept = filter(ctx, named, input.Filters, () => undefined, {
      tagsOf: (g) => g.tags,
      unknown: (name) => ['ValidationError', `Filter type ${name} is not correct.`],
    });
    const { items, next } = page(ctx, kept, { size: MaxRecords, token: NextToken, scope }, GROUP_PAGING);
    return { AutoScalingGroups: items.map(groupShape), ...(next === undefined ? {} : { NextToken: next }) };
  },

  /** Instances by id (an id that is no member is left out, as Auto Scaling does); `MaxRecords` a page. */
  DescribeAutoScalingInstances: (
    ctx,
    input: DescribeAutoScalingInstancesCommandInput,
  ): Out<DescribeAutoScalingInstancesCommandOutput> => {
    const { MaxRecords, NextToken, ...scope } = input;
    const ids = input.InstanceIds ?? [];
    if (ids.length > 50) {
      fail(ctx, 'ValidationError', 'The number of instance ids that may be passed in is 50.');
    }
    const members = sortedValues(ctx.state.autoScaling.groups).flatMap((group) =>
      group.instances.map((instance) => ({ group, instance })),
    );
    const { items, next } = page(
      ctx,
      members.filter(({ instance }) => ids.length === 0 || ids.includes(instance.instanceId)),
      { size: MaxRecords, token: NextToken, scope },
      INSTANCE_PAGING,
    );
    return {
      AutoScalingInstances: items.map(({ group, instance: i }) => ({
        InstanceId: i.instanceId,
        AutoScalingGroupName: group.name,
        AvailabilityZone: i.availabilityZone,
        LifecycleState: i.lifecycleState,
        HealthStatus: i.healthStatus.toUpperCase(),
        ProtectedFromScaleIn: i.protectedFromScaleIn,
        InstanceType: ctx.state.ec2.instances[i.instanceId]?.instanceType ?? 't3.micro',
      })),
      ...(next === undefined ? {} : { NextToken: next }),
    };
  },

  /**
   * Detaches instances; with `ShouldDecrementDesiredCapacity: false` the desired capacity stays
   * (and AWS launches replacements, which the sandbox does not simulate). Detached instances are
   * deregistered from the group's load balancers
   * (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-detach-attach-instances.html).
   */
  DetachInstances: (ctx, input: DetachInstancesCommandInput): Out<DetachInstancesCommandOutput> => {
    const group = groupOrFail(ctx, input.AutoScalingGroupName);
    if (input.ShouldDecrementDesiredCapacity === undefined) {
      fail(ctx, 'ValidationError', 'ShouldDecrementDesiredCapacity is required');
    }
    const ids = input.InstanceIds ?? [];
    for (const id of ids) {
      if (!group.instances.some((i) => i.instanceId === id)) {
        fail(ctx, 'ValidationError', `The instance ${id} is not part of Auto Scaling group ${group.name}.`);
      }
    }
    if (input.ShouldDecrementDesiredCapacity) {
      const desired = group.desiredCapacity - ids.length;
      if (desired < group.minSize) {
        fail(
          ctx,
          'ValidationError',
          `Desired capacity:${desired} must be between the specified min size:${group.minSize} and max size:${group.maxSize}`,
        );
      }
      group.desiredCapacity = desired;
    }
    group.instances = group.instances.filter((i) => !ids.includes(i.instanceId));
    for (const id of ids) syncLoadBalancers(ctx.state, ctx.now, group, id, false);
    return {
      Activities: ids.map((id) =>
        activity(
          ctx,
          group,
          `Detaching EC2 instance: ${id}`,
          `At ${new Date(ctx.now).toISOString()} instance ${id} was detached in response to a user request${
            input.ShouldDecrementDesiredCapacity ? ', shrinking the capacity' : ''
          }.`,
        ),
      ),
    };
  },

  /** Attaches running instances and raises the desired capacity by their number. */
  AttachInstances: (ctx, input: AttachInstancesCommandInput) => {
    const group = groupOrFail(ctx, input.AutoScalingGroupName);
    const ids = input.InstanceIds ?? [];
    for (const id of ids) {
      const instance = ctx.state.ec2.instances[id];
      if (instance?.state !== 'running') {
        fail(ctx, 'ValidationError', `Instance ${id} is not in correct state`);
      }
      const other = Object.values(ctx.state.autoScaling.groups).find((g) =>
        g.instances.some((i) => i.instanceId === id),
      );
      if (other)
        fail(
          ctx,
          'ValidationError',
          `The instance ${id} is already part of the Auto Scaling group ${other.name}.`,
        );
    }
    const desired = group.desiredCapacity + ids.length;
    if (desired > group.maxSize) {
      fail(
        ctx,
        'ValidationError',
        `Desired capacity:${desired} must be between the specified min size:${group.minSize} and max size:${group.maxSize}`,
      );
    }
    group.desiredCapacity = desired;
    for (const id of ids) {
      group.instances.push({
        instanceId: id,
        availabilityZone: ctx.state.ec2.instances[id]?.availabilityZone ?? '',
        lifecycleState: 'InService',
        healthStatus: 'Healthy',
        protectedFromScaleIn: false,
      });
      syncLoadBalancers(ctx.state, ctx.now, group, id, true);
    }
    return {};
  },
};
