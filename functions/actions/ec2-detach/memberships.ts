/**
 * Where an instance serves traffic from: its Auto Scaling group, the ELBv2 target groups that have it
 * registered, the classic load balancers that list it. Read by `ec2-detach` (to record and remove them)
 * and by `ec2-release` (to put back only what is missing).
 */
import { type AutoScalingClient, DescribeAutoScalingInstancesCommand } from '@aws-sdk/client-auto-scaling';
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

async function allTargetGroups(elbv2: MembershipClients['elbv2']): Promise<TargetGroup[]> {
  const groups: TargetGroup[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('elasticloadbalancing:DescribeTargetGroups', () =>
      elbv2.send(new DescribeTargetGroupsCommand({ Marker: marker })),
    );
    groups.push(...(page.TargetGroups ?? []));
    marker = page.NextMarker;
  } while (marker);
  return groups;
}

async function allLoadBalancers(elb: MembershipClients['elb']): Promise<LoadBalancerDescription[]> {
  const lbs: LoadBalancerDescription[] = [];
  let marker: string | undefined;
  do {
    const page = await awsCall('elasticloadbalancing:DescribeLoadBalancers (classic)', () =>
      elb.send(new DescribeLoadBalancersCommand({ Marker: marker })),
    );
    lbs.push(...(page.LoadBalancerDescriptions ?? []));
    marker = page.NextMarker;
  } while (marker);
  return lbs;
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
    awsCall(`autoscaling:DescribeAutoScalingInstances ${instanceId}`, () =>
      clients.autoScaling.send(new DescribeAutoScalingInstancesCommand({ InstanceIds: [instanceId] })),
    ),
    allTargetGroups(clients.elbv2),
    allLoadBalancers(clients.elb),
  ]);
  const member = asg.AutoScalingInstances?.find(
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
        // registered on several ports is found on each.
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
