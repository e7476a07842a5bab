/** The seed's load balancing: ELBv2 target groups and classic load balancers. */
import type { SeedBuild } from './context.ts';
import { idSuffix } from './context.ts';
import type { SeedNetwork } from './network.ts';

/** Builds the target groups and classic load balancers the seed names. */
export function seedElb(build: SeedBuild, network: SeedNetwork): void {
  const { seed, state, now } = build;
  const { accountId, region } = state;
  const ec2 = state.ec2;
  const { defaultVpc } = network;
  for (const tg of seed.targetGroups ?? []) {
    const arn =
      tg.arn ??
      `arn:aws:elasticloadbalancing:${region}:${accountId}:targetgroup/${tg.name}/${idSuffix(state)}`;
    const port = tg.port ?? 80;
    state.elbv2.targetGroups[arn] = {
      arn,
      name: tg.name,
      protocol: tg.protocol ?? 'HTTP',
      port,
      vpcId: tg.vpc ?? defaultVpc.vpcId,
      targetType: 'instance',
      loadBalancerArns: [],
      targets: (tg.targets ?? []).map((id) => ({ id, port })),
    };
  }
  for (const lb of seed.loadBalancers ?? []) {
    state.elb.loadBalancers[lb.name] = {
      name: lb.name,
      dnsName: `${lb.name}-1234567890.${region}.elb.amazonaws.com`,
      vpcId: lb.vpc ?? defaultVpc.vpcId,
      subnets: Object.values(ec2.subnets)
        .filter((s) => s.vpcId === (lb.vpc ?? defaultVpc.vpcId))
        .map((s) => s.subnetId),
      securityGroups: [],
      instances: [...(lb.instances ?? [])],
      createdTime: now,
    };
  }
}
