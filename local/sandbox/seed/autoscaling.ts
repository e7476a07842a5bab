/** The seed's Auto Scaling groups, their members, load balancers and target groups. */
import { SandboxSeedError } from '../errors.ts';
import type { SeedBuild } from './context.ts';
import { idSuffix } from './context.ts';

/** Builds the Auto Scaling groups the seed names (after instances and target groups, which they name). */
export function seedAutoScaling(build: SeedBuild): void {
  const { seed, state, now } = build;
  const { accountId, region } = state;
  const ec2 = state.ec2;
  const targetGroupArn = (nameOrArn: string): string => {
    if (state.elbv2.targetGroups[nameOrArn]) return nameOrArn;
    const found = Object.values(state.elbv2.targetGroups).find((t) => t.name === nameOrArn);
    if (!found) throw new SandboxSeedError(`Unknown target group ${nameOrArn}`);
    return found.arn;
  };
  for (const group of seed.autoScalingGroups ?? []) {
    const members = group.instances ?? [];
    const instances = members.map((id) => {
      const instance = ec2.instances[id];
      if (!instance) throw new SandboxSeedError(`Auto Scaling group ${group.name}: unknown instance ${id}`);
      return {
        instanceId: id,
        availabilityZone: instance.availabilityZone,
        lifecycleState: 'InService',
        healthStatus: 'Healthy',
        protectedFromScaleIn: false,
      };
    });
    state.autoScaling.groups[group.name] = {
      name: group.name,
      arn: `arn:aws:autoscaling:${region}:${accountId}:autoScalingGroup:${idSuffix(state)}:autoScalingGroupName/${group.name}`,
      minSize: group.min ?? 0,
      maxSize: group.max ?? Math.max(1, members.length),
      desiredCapacity: group.desired ?? members.length,
      availabilityZones: [...new Set(instances.map((i) => i.availabilityZone))],
      vpcZoneIdentifier: [...new Set(members.map((id) => ec2.instances[id]?.subnetId ?? ''))].join(','),
      targetGroupArns: (group.targetGroups ?? []).map(targetGroupArn),
      loadBalancerNames: [...(group.loadBalancers ?? [])],
      instances,
      tags: { ...group.tags },
      createdTime: now,
    };
  }
}
