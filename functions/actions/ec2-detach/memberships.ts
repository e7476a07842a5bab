/**
 * Where an instance serves traffic from: its Auto Scaling group, the ELBv2 target groups that have it
 * registered, the classic load balancers that list it. Read by `ec2-detach` (to record and remove them)
 * and by `ec2-release` (to put back only what is missing).
 */
import {
  type AutoScalingClient,
  type AutoScalingInstanceDetails,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeLoadBalancersCommand,
  type ElasticLoadBalancingClient,
  type LoadBalancerDescription,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  type ElasticLoadBalancingV2Client,
  type TargetGroup,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { awsCall } from '#shared/aws';
import { allItems, nextMarker, nextToken } from '#shared/pages';
import type { DetachBefore } from '../ec2-common/records.ts';

/**
 * The calls `ec2-detach` records (in `changes.calls`) for each membership it removes: `ec2-release`
 * gives back only a membership whose removal, of this instance, the record holds.
 */
export const detachCalls = {
  autoScalingGroup: (group: string, instanceId: string) =>
    `autoscaling:DetachInstances ${group} ${instanceId}`,
  targetGroup: (targetGroupArn: string, instanceId: string) =>
    `elasticloadbalancing:DeregisterTargets ${targetGroupArn} ${instanceId}`,
  loadBalancer: (name: string, instanceId: string) =>
    `elasticloadbalancing:DeregisterInstancesFromLoadBalancer ${name} ${instanceId}`,
};

/** The clients that know where an instance takes traffic from. */
export interface MembershipClients {
  readonly autoScaling: Pick<AutoScalingClient, 'send'>;
  readonly elbv2: Pick<ElasticLoadBalancingV2Client, 'send'>;
  readonly elb: Pick<ElasticLoadBalancingClient, 'send'>;
}

/** Every target group, every page (`NextMarker`, at most 400 a page). */
function allTargetGroups(elbv2: MembershipClients['elbv2']): Promise<TargetGroup[]> {
  const doing = 'elasticloadbalancing:DescribeTargetGroups';
  return allItems({
    doing,
    fetch: (Marker) => awsCall(doing, () => elbv2.send(new DescribeTargetGroupsCommand({ Marker }))),
    next: nextMarker,
    items: (page) => page.TargetGroups,
  });
}

/** Every classic load balancer, every page (`NextMarker`). */
function allLoadBalancers(elb: MembershipClients['elb']): Promise<LoadBalancerDescription[]> {
  const doing = 'elasticloadbalancing:DescribeLoadBalancers (classic)';
  return allItems({
    doing,
    fetch: (Marker) => awsCall(doing, () => elb.send(new DescribeLoadBalancersCommand({ Marker }))),
    next: nextMarker,
    items: (page) => page.LoadBalancerDescriptions,
  });
}

/**
 * The instance's Auto Scaling records, every page: DescribeAutoScalingInstances pages by `NextToken`
 * even for given ids (https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_DescribeAutoScalingInstances.html).
 */
function autoScalingRecords(
  autoScaling: MembershipClients['autoScaling'],
  instanceId: string,
): Promise<AutoScalingInstanceDetails[]> {
  const doing = `autoscaling:DescribeAutoScalingInstances ${instanceId}`;
  return allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId], NextToken })),
      ),
    next: nextToken,
    items: (page) => page.AutoScalingInstances,
  });
}

/**
 * Reads an instance's memberships. Only `instance` target groups of its VPC can hold it by instance id;
 * a target that is `draining` is already on its way out and is not counted, nor is one that is
 * `unused` with `Target.NotRegistered`
 * (https://docs.aws.amazon.com/elasticloadbalancing/latest/application/target-group-health-checks.html#target-health-states).
 * An instance that is `Detaching` or `Terminating` in its Auto Scaling group is not counted as a member.
 */
export async function readMemberships(
  clients: MembershipClients,
  instanceId: string,
  vpcId: string | undefined,
): Promise<DetachBefore> {
  const [asg, targetGroups, loadBalancers] = await Promise.all([
    autoScalingRecords(clients.autoScaling, instanceId),
    allTargetGroups(clients.elbv2),
    allLoadBalancers(clients.elb),
  ]);
  const member = asg.find(
    (i) => i.InstanceId === instanceId && !/^(Detach|Terminat)/.test(i.LifecycleState ?? ''),
  );
  const candidates = targetGroups.filter(
    (tg) => tg.TargetType === 'instance' && (vpcId === undefined || tg.VpcId === vpcId),
  );
  const registrations = await Promise.all(
    candidates.map(async (tg) => {
      const arn = tg.TargetGroupArn ?? '';
      const health = await awsCall(`elasticloadbalancing:DescribeTargetHealth ${arn}`, () =>
        // Without `Targets`, every registered target comes back with its port, so that an instance
        // registered on several ports is found on each. DescribeTargetHealth does not page: its answer has
        // no marker (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_DescribeTargetHealth.html).
        clients.elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: arn })),
      );
      return (health.TargetHealthDescriptions ?? [])
        .filter(
          (d) =>
            d.Target?.Id === instanceId &&
            d.TargetHealth?.State !== 'draining' &&
            d.TargetHealth?.Reason !== 'Target.NotRegistered',
        )
        .map((d) => ({ targetGroupArn: arn, port: d.Target?.Port ?? tg.Port ?? 0 }));
    }),
  );
  return {
    instanceId,
    autoScalingGroup: member?.AutoScalingGroupName
      ? { name: member.AutoScalingGroupName, protectedFromScaleIn: member.ProtectedFromScaleIn === true }
      : null,
    targetGroups: registrations.flat(),
    loadBalancers: loadBalancers
      .filter((lb) => lb.Instances?.some((i) => i.InstanceId === instanceId))
      .map((lb) => lb.LoadBalancerName ?? '')
      .filter((name) => name !== ''),
  };
}
