/**
 * The core of `ec2-detach`: takes the instance out of service without losing capacity.
 * - Auto Scaling DetachInstances with `ShouldDecrementDesiredCapacity: false`, so that the group launches
 *   a replacement and the service keeps its capacity
 *   (https://docs.aws.amazon.com/autoscaling/ec2/userguide/ec2-auto-scaling-detach-attach-instances.html);
 *   a detached instance is no longer terminated by the group's scale-in or health checks, so the evidence
 *   stays.
 * - DeregisterTargets from every ELBv2 target group that has it, and DeregisterInstancesFromLoadBalancer
 *   from every classic load balancer that lists it. The group's own load balancers deregister a
 *   detached instance too, but asynchronously: the explicit calls make it certain and cost one call each.
 *
 * AWS calls: DescribeInstances, DescribeAutoScalingInstances, DescribeTargetGroups, DescribeLoadBalancers,
 * one DescribeTargetHealth per instance target group of the VPC, then one call per membership.
 */
import { DetachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import { DeregisterInstancesFromLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { DeregisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  assertNotProtected,
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  mutation,
  newPlan,
} from '../ec2-common/instance.ts';
import { detachCalls, type MembershipClients, readMemberships } from './memberships.ts';

/** The event of `ec2-detach`. */
export const DetachInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, { approved: z.optional(z.boolean()) }),
);

/** What the core needs: the EC2, Auto Scaling and load balancing clients, and the protected tag. */
export interface DetachDeps extends MembershipClients {
  readonly ec2: Ec2Sender;
  readonly protectedTag: { readonly key: string; readonly value: string };
}

/** Detaches the instance from its Auto Scaling group and its load balancers. */
export async function detachInstance(deps: DetachDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(DetachInputSchema, event, 'ec2-detach input');
  const plan = newPlan(input.dryRun);
  const id = input.instanceId;
  const instance = await describeLiveInstance(deps.ec2, id);
  assertNotProtected(instance, deps.protectedTag, input.approved);
  const before = await readMemberships(deps, id, instance.VpcId);
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (!before.autoScalingGroup && before.targetGroups.length === 0 && before.loadBalancers.length === 0) {
    return {
      status: 'already-done',
      before,
      changes: { calls: [] },
      note: 'the instance is in no Auto Scaling group, target group or classic load balancer',
      ...dryRun,
    };
  }
  const group = before.autoScalingGroup;
  if (group) {
    await mutation(plan, detachCalls.autoScalingGroup(group.name, id), () =>
      deps.autoScaling.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: group.name,
          InstanceIds: [id],
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    );
  }
  const byGroup = new Map<string, number[]>();
  for (const r of before.targetGroups)
    byGroup.set(r.targetGroupArn, [...(byGroup.get(r.targetGroupArn) ?? []), r.port]);
  for (const [arn, ports] of byGroup) {
    await mutation(plan, detachCalls.targetGroup(arn, id), () =>
      deps.elbv2.send(
        new DeregisterTargetsCommand({
          TargetGroupArn: arn,
          Targets: ports.map((Port) => ({ Id: id, Port })),
        }),
      ),
    );
  }
  for (const name of before.loadBalancers) {
    await mutation(plan, detachCalls.loadBalancer(name, id), () =>
      deps.elb.send(
        new DeregisterInstancesFromLoadBalancerCommand({
          LoadBalancerName: name,
          Instances: [{ InstanceId: id }],
        }),
      ),
    );
  }
  return {
    status: 'succeeded',
    before,
    changes: { calls: plan.calls, desiredCapacityKept: group !== null },
    ...(group?.protectedFromScaleIn
      ? { note: `the instance had scale-in protection in ${group.name}; reattaching does not restore it` }
      : {}),
    ...dryRun,
  };
}
