/** The seed's network: VPCs, subnets, network ACLs and security groups, and the defaults others resolve against. */
import { SandboxSeedError } from '../errors.ts';
import type { AccountState, NetworkAclEntryState, SecurityGroupRuleState, VpcState } from '../state.ts';
import { newId } from '../state.ts';
import type { SeedBuild } from './context.ts';
import type { RuleSeed } from './types.ts';

/** What the rest of the seed resolves against: the default VPC, and subnets and groups made on demand. */
export interface SeedNetwork {
  readonly defaultVpc: VpcState;
  /** A subnet of the default VPC, made when it has none. */
  defaultSubnet(): string;
  /** The subnet, made with defaults in `vpcId` when the seed did not declare it. */
  ensureSubnet(subnetId: string, vpcId: string): string;
  defaultGroupOf(vpcId: string): string;
  /** The security group, made with defaults in `vpcId` when the seed did not declare it. */
  ensureGroup(groupId: string, vpcId: string): string;
}

/** Builds the VPCs, subnets, ACLs and security groups the seed names (a default VPC when it names none). */
export function seedNetwork(build: SeedBuild): SeedNetwork {
  const { seed, state, setTags } = build;
  const { region } = state;
  const ec2 = state.ec2;
  const defaultRules = (): SecurityGroupRuleState[] => [
    { ruleId: newId(state, 'sgr'), egress: true, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' },
  ];

  // VPCs, subnets, default network ACLs and default security groups.
  const vpcs = seed.vpcs ?? [{ id: 'vpc-default', isDefault: true, subnets: [{ id: 'subnet-default' }] }];
  vpcs.forEach((vpc, index) => {
    ec2.vpcs[vpc.id] = {
      vpcId: vpc.id,
      cidrBlock: vpc.cidr ?? `10.${index}.0.0/16`,
      isDefault: vpc.isDefault ?? index === 0,
    };
    setTags(vpc.id, vpc.tags);
    const aclId = `acl-${vpc.id.replace(/^vpc-/, '')}`;
    ec2.networkAcls[aclId] = {
      networkAclId: aclId,
      vpcId: vpc.id,
      isDefault: true,
      entries: defaultAclEntries(),
      associations: [],
    };
    (vpc.subnets ?? []).forEach((subnet, subnetIndex) => {
      ec2.subnets[subnet.id] = {
        subnetId: subnet.id,
        vpcId: vpc.id,
        cidrBlock: subnet.cidr ?? `10.${index}.${subnetIndex}.0/24`,
        availabilityZone: subnet.az ?? `${region}a`,
      };
      setTags(subnet.id, subnet.tags);
      ec2.networkAcls[aclId]?.associations.push({
        associationId: newId(state, 'aclassoc'),
        subnetId: subnet.id,
      });
    });
    const sgId = `sg-${vpc.id.replace(/^vpc-/, '')}`;
    ec2.securityGroups[sgId] = {
      groupId: sgId,
      groupName: 'default',
      description: 'default VPC security group',
      vpcId: vpc.id,
      rules: [
        ...defaultRules(),
        { ruleId: newId(state, 'sgr'), egress: false, ipProtocol: '-1', referencedGroupId: sgId },
      ],
    };
  });
  const defaultVpc = Object.values(ec2.vpcs).find((v) => v.isDefault) ?? Object.values(ec2.vpcs)[0];
  if (!defaultVpc) throw new SandboxSeedError('The seed has no VPC');
  const defaultSubnet = (): string => {
    const found = Object.values(ec2.subnets).find((s) => s.vpcId === defaultVpc.vpcId);
    if (found) return found.subnetId;
    return ensureSubnet(`subnet-${defaultVpc.vpcId.replace(/^vpc-/, '')}`, defaultVpc.vpcId);
  };
  const ensureSubnet = (subnetId: string, vpcId: string): string => {
    if (ec2.subnets[subnetId]) return subnetId;
    ec2.subnets[subnetId] = { subnetId, vpcId, cidrBlock: '10.255.0.0/24', availabilityZone: `${region}a` };
    const acl = Object.values(ec2.networkAcls).find((a) => a.vpcId === vpcId && a.isDefault);
    acl?.associations.push({ associationId: newId(state, 'aclassoc'), subnetId });
    return subnetId;
  };
  const defaultGroupOf = (vpcId: string): string => {
    const group = Object.values(ec2.securityGroups).find(
      (g) => g.vpcId === vpcId && g.groupName === 'default',
    );
    if (!group) throw new SandboxSeedError(`VPC ${vpcId} has no default security group`);
    return group.groupId;
  };

  for (const group of seed.securityGroups ?? []) {
    const vpcId = group.vpc ?? defaultVpc.vpcId;
    if (!ec2.vpcs[vpcId]) throw new SandboxSeedError(`Security group ${group.id}: unknown VPC ${vpcId}`);
    const rules: SecurityGroupRuleState[] = [];
    for (const rule of group.ingress ?? []) rules.push(ruleFromSeed(state, rule, false));
    if (group.egress) for (const rule of group.egress) rules.push(ruleFromSeed(state, rule, true));
    else rules.push(...defaultRules());
    ec2.securityGroups[group.id] = {
      groupId: group.id,
      groupName: group.name ?? group.id,
      description: group.description ?? group.name ?? group.id,
      vpcId,
      rules,
    };
    setTags(group.id, group.tags);
  }
  const ensureGroup = (groupId: string, vpcId: string): string => {
    if (!ec2.securityGroups[groupId]) {
      ec2.securityGroups[groupId] = {
        groupId,
        groupName: groupId,
        description: groupId,
        vpcId,
        rules: defaultRules(),
      };
    }
    return groupId;
  };

  for (const acl of seed.networkAcls ?? []) {
    if (!ec2.vpcs[acl.vpc]) throw new SandboxSeedError(`Network ACL ${acl.id}: unknown VPC ${acl.vpc}`);
    ec2.networkAcls[acl.id] = {
      networkAclId: acl.id,
      vpcId: acl.vpc,
      isDefault: false,
      entries: (acl.entries ?? []).map(
        (e): NetworkAclEntryState => ({
          ruleNumber: e.rule,
          protocol: e.protocol ?? '-1',
          ruleAction: e.action,
          egress: e.egress ?? false,
          cidrBlock: e.cidr ?? '0.0.0.0/0',
          ...(e.ports ? { portRange: { from: e.ports[0], to: e.ports[1] } } : {}),
        }),
      ),
      associations: [],
    };
    setTags(acl.id, acl.tags);
    for (const subnetId of acl.subnets ?? []) {
      for (const other of Object.values(ec2.networkAcls)) {
        other.associations = other.associations.filter((a) => a.subnetId !== subnetId);
      }
      ec2.networkAcls[acl.id]?.associations.push({ associationId: newId(state, 'aclassoc'), subnetId });
    }
  }
  return { defaultVpc, defaultSubnet, ensureSubnet, defaultGroupOf, ensureGroup };
}

function defaultAclEntries(): NetworkAclEntryState[] {
  return [false, true].flatMap((egress) => [
    { ruleNumber: 100, protocol: '-1', ruleAction: 'allow' as const, egress, cidrBlock: '0.0.0.0/0' },
    { ruleNumber: 32767, protocol: '-1', ruleAction: 'deny' as const, egress, cidrBlock: '0.0.0.0/0' },
  ]);
}

function ruleFromSeed(state: AccountState, rule: RuleSeed, egress: boolean): SecurityGroupRuleState {
  const protocol = rule.protocol ?? 'tcp';
  const ports =
    rule.port === undefined ? undefined : Array.isArray(rule.port) ? rule.port : [rule.port, rule.port];
  return {
    ruleId: newId(state, 'sgr'),
    egress,
    ipProtocol: protocol,
    ...(ports && protocol !== '-1' ? { fromPort: ports[0], toPort: ports[1] } : {}),
    ...(rule.cidr ? { cidrIpv4: rule.cidr } : {}),
    ...(rule.cidrV6 ? { cidrIpv6: rule.cidrV6 } : {}),
    ...(rule.group ? { referencedGroupId: rule.group } : {}),
    ...(rule.description ? { description: rule.description } : {}),
  };
}
