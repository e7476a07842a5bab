/**
 * The seed: a short JSON description of an account, turned into {@link AccountState}. Everything
 * has a default, so a seed names only what a test or a game day cares about. A resource that a seed
 * references but does not declare (a security group in an instance's `groups`, an instance profile,
 * a subnet) is created with defaults.
 */
import { SandboxSeedError } from './errors.ts';
import { emptyKms, keyFromSeed } from './kms.ts';
import type {
  AccountState,
  InstanceState,
  KmsKeySpec,
  NetworkAclEntryState,
  SecurityGroupRuleState,
  TagMap,
  Timings,
} from './state.ts';
import { emptyRecord, newId } from './state.ts';

/** A time in a seed: ISO 8601 text or epoch milliseconds. Default: the sandbox's start time. */
export type SeedTime = string | number;

/** A security group rule: one protocol and port range, one source or destination. */
export interface RuleSeed {
  /** `tcp`, `udp`, `icmp` or `-1` (all). Default `tcp`. */
  protocol?: string;
  /** Port, or `[from, to]`. Omitted for protocol `-1`. */
  port?: number | [number, number];
  /** IPv4 CIDR, e.g. `0.0.0.0/0`. */
  cidr?: string;
  /** IPv6 CIDR. */
  cidrV6?: string;
  /** Another security group's id. */
  group?: string;
  description?: string;
}

/** A security group. Default VPC: the default VPC. Default rules: AWS's, no ingress and all egress. */
export interface SecurityGroupSeed {
  id: string;
  name?: string;
  description?: string;
  vpc?: string;
  ingress?: RuleSeed[];
  /** Default: one rule allowing all traffic to `0.0.0.0/0`, as AWS creates. */
  egress?: RuleSeed[];
  tags?: TagMap;
}

export interface SubnetSeed {
  id: string;
  cidr?: string;
  /** Default `<region>a`. */
  az?: string;
  tags?: TagMap;
}

/** A VPC. Each VPC gets its `default` security group and a default network ACL associated with its subnets. */
export interface VpcSeed {
  id: string;
  cidr?: string;
  isDefault?: boolean;
  subnets?: SubnetSeed[];
  tags?: TagMap;
}

/** A network ACL rule. */
export interface NetworkAclEntrySeed {
  rule: number;
  /** Protocol number as text, `-1` for all. Default `-1`. */
  protocol?: string;
  action: 'allow' | 'deny';
  egress?: boolean;
  cidr?: string;
  ports?: [number, number];
}

/** A custom network ACL, associated with the listed subnets (taken from the VPC's default ACL). */
export interface NetworkAclSeed {
  id: string;
  vpc: string;
  subnets?: string[];
  entries?: NetworkAclEntrySeed[];
  tags?: TagMap;
}

/** A network interface of an instance; the first is the primary (device index 0). */
export interface NetworkInterfaceSeed {
  id?: string;
  /** Default: the instance's subnet. */
  subnet?: string;
  /** Security group ids. Default: the VPC's `default` group. */
  groups?: string[];
  privateIp?: string;
  /** Default true for the primary interface, false for the others. */
  deleteOnTermination?: boolean;
  description?: string;
}

/** An EBS volume attached to an instance; the first is the root volume. */
export interface AttachedVolumeSeed {
  id?: string;
  /** Default `/dev/xvda` for the first, then `/dev/sdf`, `/dev/sdg`... */
  device?: string;
  /** GiB, default 8. */
  size?: number;
  /** Default `gp3`. */
  type?: string;
  /** Default true for the root volume, false for the others. */
  deleteOnTermination?: boolean;
  encrypted?: boolean;
  tags?: TagMap;
}

/** An EC2 instance. */
export interface InstanceSeed {
  id: string;
  /** Default `t3.micro`. */
  type?: string;
  /** Default `ami-0123456789abcdef0`. */
  image?: string;
  /** Default `running`. */
  state?: 'running' | 'stopped';
  launchTime?: SeedTime;
  /** Default: the first subnet of the default VPC. */
  subnet?: string;
  /** Groups of the primary interface, when `networkInterfaces` is not given. */
  groups?: string[];
  /** Default: one interface with `groups`. */
  networkInterfaces?: NetworkInterfaceSeed[];
  /** Default: one 8 GiB gp3 root volume. */
  volumes?: AttachedVolumeSeed[];
  /** Instance profile name; created (with a role of the same name) when not declared. */
  profile?: string;
  tags?: TagMap;
  /** `DisableApiTermination`. Default false. */
  terminationProtection?: boolean;
  /** `DisableApiStop`. Default false. */
  stopProtection?: boolean;
  /** `InstanceInitiatedShutdownBehavior`. Default `stop`. */
  shutdownBehavior?: 'stop' | 'terminate';
  /** What `GetConsoleOutput` returns (the sandbox base64-encodes it). */
  consoleOutput?: string;
  keyName?: string;
}

/** A volume not attached to any instance. */
export interface VolumeSeed {
  id: string;
  size?: number;
  type?: string;
  /** Default `<region>a`. */
  az?: string;
  encrypted?: boolean;
  snapshot?: string;
  tags?: TagMap;
}

/** A snapshot, `completed` unless `state` says otherwise. */
export interface SnapshotSeed {
  id: string;
  volume: string;
  size?: number;
  description?: string;
  startTime?: SeedTime;
  state?: 'pending' | 'completed';
  tags?: TagMap;
}

/** An Auto Scaling group whose members are seeded instances. */
export interface AutoScalingGroupSeed {
  name: string;
  instances?: string[];
  /** Default 0. */
  min?: number;
  /** Default: at least the member count, at least 1. */
  max?: number;
  /** Default: the member count. */
  desired?: number;
  targetGroups?: string[];
  loadBalancers?: string[];
  tags?: TagMap;
}

/** An ELBv2 target group with its registered targets (instance ids). */
export interface TargetGroupSeed {
  /** Name; the ARN is made from it unless `arn` is given. */
  name: string;
  arn?: string;
  /** Default `HTTP`. */
  protocol?: string;
  /** Default 80. */
  port?: number;
  vpc?: string;
  targets?: string[];
}

/** A classic load balancer with its registered instances. */
export interface ClassicLoadBalancerSeed {
  name: string;
  instances?: string[];
  vpc?: string;
}

/** An IAM access key. */
export interface AccessKeySeed {
  id: string;
  /** Default `Active`. */
  status?: 'Active' | 'Inactive';
  created?: SeedTime;
  /** Last use; omitted means never used. */
  lastUsed?: { at: SeedTime; service?: string; region?: string };
}

/** An IAM user. */
export interface UserSeed {
  name: string;
  path?: string;
  accessKeys?: AccessKeySeed[];
  /** Has a console password. */
  loginProfile?: boolean | { passwordResetRequired?: boolean };
  /** MFA device serial numbers. */
  mfaDevices?: string[];
  /** Inline policies: name to JSON document (text or object). */
  inlinePolicies?: Record<string, string | object>;
  /** Managed policy ARNs. */
  attachedPolicies?: string[];
  tags?: TagMap;
}

/** An IAM role. A role under path `/aws-service-role/` is service-linked and unmodifiable. */
export interface RoleSeed {
  name: string;
  path?: string;
  /** Trust policy (text or object). Default: trusts `ec2.amazonaws.com`. */
  trustPolicy?: string | object;
  description?: string;
  inlinePolicies?: Record<string, string | object>;
  attachedPolicies?: string[];
  tags?: TagMap;
}

/** An instance profile. Default role: none. */
export interface InstanceProfileSeed {
  name: string;
  roles?: string[];
}

/** An AWS Backup vault. */
export interface VaultSeed {
  name: string;
}

/** A recovery point of an instance (`EC2`) or a volume (`EBS`). */
export interface RecoveryPointSeed {
  /** Default `arn:aws:ec2:<region>::image/ami-...` for EC2, a snapshot ARN for EBS. */
  arn?: string;
  /** Default `Default` (created if missing). */
  vault?: string;
  /** The protected resource: an instance id or a volume id (or its full ARN). */
  resource: string;
  created?: SeedTime;
  /** Restore metadata as AWS returns it; defaults are taken from the resource when it is seeded. */
  metadata?: Record<string, string>;
  /** Restore jobs from this point end `FAILED` with this message. */
  restoreFailure?: string;
}

/** A KMS key, for a run that needs one before any `CreateKey`. */
export interface KmsKeySeed {
  /** Key id (AWS's are UUIDs). */
  id: string;
  /** An alias of the key: `alias/<name>`. */
  alias?: string;
  /** Default `HMAC_256`. `SYMMETRIC_DEFAULT` makes an encryption key, which MAC operations refuse. */
  spec?: KmsKeySpec;
  /** Key material, base64, for MACs that are the same on every run. Default: random bytes of the spec's length. */
  material?: string;
  /** Default true. */
  enabled?: boolean;
  description?: string;
}

/** A simulated account. Every field is optional. */
export interface AccountSeed {
  /** Default `123456789012`. */
  accountId?: string;
  /** Default `us-east-1`. */
  region?: string;
  /** The identity `GetCallerIdentity` returns. Default: an assumed `CordonResponder` role. */
  caller?: { arn?: string; userId?: string };
  timings?: Partial<Timings>;
  /** Commands that always fail with the service's access-denied error: `Command` or `Service:Command`. */
  denied?: string[];
  /** Default: one default VPC `vpc-default` with subnet `subnet-default`. */
  vpcs?: VpcSeed[];
  networkAcls?: NetworkAclSeed[];
  securityGroups?: SecurityGroupSeed[];
  instances?: InstanceSeed[];
  volumes?: VolumeSeed[];
  snapshots?: SnapshotSeed[];
  autoScalingGroups?: AutoScalingGroupSeed[];
  targetGroups?: TargetGroupSeed[];
  loadBalancers?: ClassicLoadBalancerSeed[];
  iam?: { users?: UserSeed[]; roles?: RoleSeed[]; instanceProfiles?: InstanceProfileSeed[] };
  backup?: { vaults?: VaultSeed[]; recoveryPoints?: RecoveryPointSeed[] };
  /** SES sender identities; empty or omitted accepts every sender. */
  sesVerifiedIdentities?: string[];
  /** Role ARNs of other accounts that `AssumeRole` accepts. */
  externalRoleArns?: string[];
  kms?: { keys?: KmsKeySeed[] };
}

/** Sandbox timings when the seed does not set them. */
export const DEFAULT_TIMINGS: Timings = {
  snapshotMs: 60_000,
  restorePendingMs: 10_000,
  restoreRunningMs: 120_000,
  instanceTransitionMs: 0,
  deregistrationDelayMs: 300_000,
};

const DEFAULT_TRUST = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};

const toJson = (doc: string | object): string => (typeof doc === 'string' ? doc : JSON.stringify(doc));

/** Options that the seed may override. */
export interface BuildOptions {
  readonly now: number;
  readonly accountId?: string;
  readonly region?: string;
}

/** The identity a seeded account's `GetCallerIdentity` returns: the seed's caller, or an assumed `CordonResponder` role. */
export function callerArnOf(seed: AccountSeed, accountId: string): string {
  return seed.caller?.arn ?? `arn:aws:sts::${accountId}:assumed-role/CordonResponder/cordon`;
}

/** Builds the account state a seed describes. Throws {@link SandboxSeedError} on a contradiction. */
export function buildState(seed: AccountSeed, options: BuildOptions): AccountState {
  const accountId = options.accountId ?? seed.accountId ?? '123456789012';
  const region = options.region ?? seed.region ?? 'us-east-1';
  const now = options.now;
  const time = (t: SeedTime | undefined): number =>
    t === undefined ? now : typeof t === 'number' ? t : Date.parse(t);
  const state: AccountState = {
    accountId,
    region,
    callerArn: callerArnOf(seed, accountId),
    callerUserId: seed.caller?.userId ?? 'AROASANDBOXRESPONDER:cordon',
    timings: { ...DEFAULT_TIMINGS, ...seed.timings },
    denied: [...(seed.denied ?? [])],
    verifiedIdentities: [...(seed.sesVerifiedIdentities ?? [])],
    externalRoleArns: [...(seed.externalRoleArns ?? [])],
    nextId: 0,
    ec2: {
      vpcs: {},
      subnets: {},
      networkAcls: {},
      securityGroups: {},
      networkInterfaces: {},
      instances: {},
      volumes: {},
      snapshots: {},
      profileAssociations: {},
      tags: {},
    },
    autoScaling: { groups: {} },
    elbv2: { targetGroups: {} },
    elb: { loadBalancers: {} },
    iam: { users: {}, roles: {}, instanceProfiles: {}, accessKeys: {} },
    backup: { vaults: {}, recoveryPoints: {}, restoreJobs: {} },
    ses: { sent: [] },
    kms: emptyKms(),
    s3: { buckets: emptyRecord() },
  };
  const ec2 = state.ec2;
  const setTags = (id: string, tags: TagMap | undefined): void => {
    if (tags && Object.keys(tags).length > 0) ec2.tags[id] = { ...tags };
  };
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

  // IAM before instances, so that instance profiles resolve.
  for (const role of seed.iam?.roles ?? []) addRole(state, role, time);
  for (const profile of seed.iam?.instanceProfiles ?? [])
    addProfile(state, profile.name, profile.roles ?? [], now);
  for (const user of seed.iam?.users ?? []) {
    const path = user.path ?? '/';
    state.iam.users[user.name] = {
      userName: user.name,
      userId: `AIDA${idSuffix(state)}`,
      arn: `arn:aws:iam::${accountId}:user${path}${user.name}`,
      path,
      createDate: now,
      tags: { ...user.tags },
      inlinePolicies: Object.fromEntries(
        Object.entries(user.inlinePolicies ?? {}).map(([k, v]) => [k, toJson(v)]),
      ),
      attachedPolicies: (user.attachedPolicies ?? []).map(attached),
      mfaDevices: (user.mfaDevices ?? []).map((serialNumber) => ({ serialNumber, enableDate: now })),
      ...(user.loginProfile
        ? {
            loginProfile: {
              createDate: now,
              passwordResetRequired:
                typeof user.loginProfile === 'object' && user.loginProfile.passwordResetRequired === true,
            },
          }
        : {}),
    };
    for (const key of user.accessKeys ?? []) {
      state.iam.accessKeys[key.id] = {
        accessKeyId: key.id,
        userName: user.name,
        status: key.status ?? 'Active',
        createDate: time(key.created),
        ...(key.lastUsed
          ? {
              lastUsed: {
                date: time(key.lastUsed.at),
                serviceName: key.lastUsed.service ?? 'iam',
                region: key.lastUsed.region ?? region,
              },
            }
          : {}),
      };
    }
  }

  for (const volume of seed.volumes ?? []) {
    ec2.volumes[volume.id] = {
      volumeId: volume.id,
      size: volume.size ?? 8,
      volumeType: volume.type ?? 'gp3',
      availabilityZone: volume.az ?? `${region}a`,
      encrypted: volume.encrypted ?? false,
      createTime: now,
      state: 'available',
      ...(volume.snapshot ? { snapshotId: volume.snapshot } : {}),
    };
    setTags(volume.id, volume.tags);
  }

  for (const seedInstance of seed.instances ?? []) {
    const subnetId = seedInstance.subnet ?? defaultSubnet();
    const subnet = ec2.subnets[subnetId] ?? ec2.subnets[ensureSubnet(subnetId, defaultVpc.vpcId)];
    if (!subnet) throw new SandboxSeedError(`Instance ${seedInstance.id}: unknown subnet ${subnetId}`);
    const launchTime = time(seedInstance.launchTime);
    const interfaces = seedInstance.networkInterfaces ?? [{ groups: seedInstance.groups ?? [] }];
    const interfaceIds: string[] = [];
    interfaces.forEach((nic, deviceIndex) => {
      const nicSubnet = ec2.subnets[nic.subnet ?? subnetId];
      if (!nicSubnet) throw new SandboxSeedError(`Instance ${seedInstance.id}: unknown subnet ${nic.subnet}`);
      const nicId = nic.id ?? newId(state, 'eni');
      const groups = (
        nic.groups && nic.groups.length > 0 ? nic.groups : [defaultGroupOf(nicSubnet.vpcId)]
      ).map((g) => ensureGroup(g, nicSubnet.vpcId));
      for (const g of groups) {
        if (ec2.securityGroups[g]?.vpcId !== nicSubnet.vpcId) {
          throw new SandboxSeedError(
            `Instance ${seedInstance.id}: group ${g} is not in VPC ${nicSubnet.vpcId}`,
          );
        }
      }
      ec2.networkInterfaces[nicId] = {
        networkInterfaceId: nicId,
        subnetId: nicSubnet.subnetId,
        vpcId: nicSubnet.vpcId,
        availabilityZone: nicSubnet.availabilityZone,
        privateIpAddress:
          nic.privateIp ?? `10.0.${Math.floor(state.nextId / 250) % 250}.${(state.nextId % 250) + 4}`,
        macAddress: `02:00:00:00:${(state.nextId % 256).toString(16).padStart(2, '0')}:01`,
        description: nic.description ?? (deviceIndex === 0 ? 'Primary network interface' : ''),
        groups,
        sourceDestCheck: true,
        status: 'in-use',
        attachment: {
          attachmentId: newId(state, 'eni-attach'),
          instanceId: seedInstance.id,
          deviceIndex,
          deleteOnTermination: nic.deleteOnTermination ?? deviceIndex === 0,
          attachTime: launchTime,
        },
      };
      interfaceIds.push(nicId);
    });
    const volumes = seedInstance.volumes ?? [{}];
    const blockDevices: InstanceState['blockDevices'] = volumes.map((v, index) => {
      const volumeId = v.id ?? newId(state, 'vol');
      const device = v.device ?? (index === 0 ? '/dev/xvda' : `/dev/sd${String.fromCharCode(101 + index)}`);
      const deleteOnTermination = v.deleteOnTermination ?? index === 0;
      if (ec2.volumes[volumeId]?.attachment)
        throw new SandboxSeedError(`Volume ${volumeId} is attached twice`);
      ec2.volumes[volumeId] = {
        volumeId,
        size: v.size ?? 8,
        volumeType: v.type ?? 'gp3',
        availabilityZone: subnet.availabilityZone,
        encrypted: v.encrypted ?? false,
        createTime: launchTime,
        state: 'in-use',
        attachment: { instanceId: seedInstance.id, device, deleteOnTermination, attachTime: launchTime },
      };
      setTags(volumeId, v.tags);
      return { deviceName: device, volumeId, deleteOnTermination, attachTime: launchTime };
    });
    const primary = ec2.networkInterfaces[interfaceIds[0] ?? ''];
    ec2.instances[seedInstance.id] = {
      instanceId: seedInstance.id,
      reservationId: newId(state, 'r'),
      imageId: seedInstance.image ?? 'ami-0123456789abcdef0',
      instanceType: seedInstance.type ?? 't3.micro',
      ...(seedInstance.keyName ? { keyName: seedInstance.keyName } : {}),
      launchTime,
      state: seedInstance.state ?? 'running',
      stateTransitionReason: seedInstance.state === 'stopped' ? 'User initiated' : '',
      subnetId: subnet.subnetId,
      vpcId: subnet.vpcId,
      availabilityZone: subnet.availabilityZone,
      privateIpAddress: primary?.privateIpAddress ?? '10.0.0.4',
      networkInterfaceIds: interfaceIds,
      rootDeviceName: blockDevices[0]?.deviceName ?? '/dev/xvda',
      blockDevices,
      disableApiTermination: seedInstance.terminationProtection ?? false,
      disableApiStop: seedInstance.stopProtection ?? false,
      shutdownBehavior: seedInstance.shutdownBehavior ?? 'stop',
      consoleOutput: seedInstance.consoleOutput ?? `Sandbox console of ${seedInstance.id}\nlogin: `,
    };
    setTags(seedInstance.id, seedInstance.tags);
    if (seedInstance.profile) {
      let profile = state.iam.instanceProfiles[seedInstance.profile];
      if (!profile) {
        addRole(state, { name: seedInstance.profile }, time);
        profile = addProfile(state, seedInstance.profile, [seedInstance.profile], now);
      }
      const associationId = newId(state, 'iip-assoc');
      ec2.profileAssociations[associationId] = {
        associationId,
        instanceId: seedInstance.id,
        profileArn: profile.arn,
        profileId: profile.id,
        state: 'associated',
        timestamp: launchTime,
      };
    }
  }

  for (const snapshot of seed.snapshots ?? []) {
    const startTime = time(snapshot.startTime);
    ec2.snapshots[snapshot.id] = {
      snapshotId: snapshot.id,
      volumeId: snapshot.volume,
      volumeSize: snapshot.size ?? ec2.volumes[snapshot.volume]?.size ?? 8,
      description: snapshot.description ?? '',
      encrypted: ec2.volumes[snapshot.volume]?.encrypted ?? false,
      startTime,
      completesAt: snapshot.state === 'pending' ? startTime + state.timings.snapshotMs : startTime,
      state: snapshot.state ?? 'completed',
    };
    setTags(snapshot.id, snapshot.tags);
  }

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
  const targetGroupArn = (nameOrArn: string): string => {
    if (state.elbv2.targetGroups[nameOrArn]) return nameOrArn;
    const found = Object.values(state.elbv2.targetGroups).find((t) => t.name === nameOrArn);
    if (!found) throw new SandboxSeedError(`Unknown target group ${nameOrArn}`);
    return found.arn;
  };
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

  for (const vault of seed.backup?.vaults ?? []) addVault(state, vault.name, now);
  for (const point of seed.backup?.recoveryPoints ?? []) {
    const vaultName = point.vault ?? 'Default';
    if (!state.backup.vaults[vaultName]) addVault(state, vaultName, now);
    const isVolume = point.resource.includes('vol-');
    const resourceId = point.resource.split('/').pop() ?? point.resource;
    const resourceArn = point.resource.startsWith('arn:')
      ? point.resource
      : `arn:aws:ec2:${region}:${accountId}:${isVolume ? 'volume' : 'instance'}/${resourceId}`;
    const arn =
      point.arn ??
      (isVolume
        ? `arn:aws:ec2:${region}::snapshot/${newId(state, 'snap')}`
        : `arn:aws:ec2:${region}::image/${newId(state, 'ami')}`);
    state.backup.recoveryPoints[arn] = {
      arn,
      vaultName,
      resourceArn,
      resourceType: isVolume ? 'EBS' : 'EC2',
      creationDate: time(point.created),
      iamRoleArn: `arn:aws:iam::${accountId}:role/service-role/AWSBackupDefaultServiceRole`,
      backupSizeInBytes: 8 * 1024 ** 3,
      encrypted: false,
      restoreMetadata: { ...defaultRestoreMetadata(state, resourceId, isVolume), ...point.metadata },
      ...(point.restoreFailure ? { restoreFailure: point.restoreFailure } : {}),
    };
  }
  for (const key of seed.kms?.keys ?? []) {
    if (state.kms.keys[key.id]) throw new SandboxSeedError(`KMS key ${key.id} is declared twice`);
    state.kms.keys[key.id] = keyFromSeed(state, key, now);
    if (key.alias === undefined) continue;
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(key.alias) || key.alias.startsWith('alias/aws/'))
      throw new SandboxSeedError(`KMS key ${key.id}: alias must be alias/<name>, got ${key.alias}`);
    if (state.kms.aliases[key.alias]) throw new SandboxSeedError(`KMS alias ${key.alias} is declared twice`);
    state.kms.aliases[key.alias] = { aliasName: key.alias, targetKeyId: key.id, creationDate: now };
  }
  return state;
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

function idSuffix(state: AccountState): string {
  return newId(state, 'x', 16).slice(2).toUpperCase();
}

function attached(policyArn: string): { policyArn: string; policyName: string } {
  return { policyArn, policyName: policyArn.split('/').pop() ?? policyArn };
}

function addRole(state: AccountState, role: RoleSeed, time: (t: SeedTime | undefined) => number): void {
  const path = role.path ?? '/';
  state.iam.roles[role.name] = {
    roleName: role.name,
    roleId: `AROA${idSuffix(state)}`,
    arn: `arn:aws:iam::${state.accountId}:role${path}${role.name}`,
    path,
    createDate: time(undefined),
    description: role.description ?? '',
    maxSessionDuration: 3600,
    assumeRolePolicyDocument: toJson(role.trustPolicy ?? DEFAULT_TRUST),
    tags: { ...role.tags },
    inlinePolicies: Object.fromEntries(
      Object.entries(role.inlinePolicies ?? {}).map(([k, v]) => [k, toJson(v)]),
    ),
    attachedPolicies: (role.attachedPolicies ?? []).map(attached),
  };
}

function addProfile(state: AccountState, name: string, roles: string[], now: number) {
  const profile = {
    name,
    id: `AIPA${idSuffix(state)}`,
    arn: `arn:aws:iam::${state.accountId}:instance-profile/${name}`,
    path: '/',
    createDate: now,
    roles: [...roles],
  };
  state.iam.instanceProfiles[name] = profile;
  return profile;
}

function addVault(state: AccountState, name: string, now: number): void {
  state.backup.vaults[name] = {
    name,
    arn: `arn:aws:backup:${state.region}:${state.accountId}:backup-vault:${name}`,
    creationDate: now,
  };
}

function defaultRestoreMetadata(
  state: AccountState,
  resourceId: string,
  isVolume: boolean,
): Record<string, string> {
  if (isVolume) {
    const volume = state.ec2.volumes[resourceId];
    return {
      availabilityZone: volume?.availabilityZone ?? `${state.region}a`,
      volumeType: volume?.volumeType ?? 'gp3',
      volumeSize: String(volume?.size ?? 8),
      encrypted: String(volume?.encrypted ?? false),
    };
  }
  const instance = state.ec2.instances[resourceId];
  if (!instance) return { InstanceType: 't3.micro' };
  const primary = state.ec2.networkInterfaces[instance.networkInterfaceIds[0] ?? ''];
  const association = Object.values(state.ec2.profileAssociations).find((a) => a.instanceId === resourceId);
  const profileName = association?.profileArn.split('/').pop();
  return {
    InstanceType: instance.instanceType,
    SubnetId: instance.subnetId,
    SecurityGroupIds: JSON.stringify(primary?.groups ?? []),
    ImageId: instance.imageId,
    ...(profileName ? { IamInstanceProfileName: profileName } : {}),
  };
}
