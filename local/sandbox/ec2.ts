/**
 * EC2: VPCs, subnets, network ACLs, security groups, instances and their interfaces, volumes,
 * snapshots, instance profile associations and tags.
 */
import type {
  AssociateIamInstanceProfileCommandInput,
  AssociateIamInstanceProfileCommandOutput,
  AttachVolumeCommandInput,
  AttachVolumeCommandOutput,
  AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupEgressCommandOutput,
  AuthorizeSecurityGroupIngressCommandInput,
  AuthorizeSecurityGroupIngressCommandOutput,
  CreateNetworkAclCommandInput,
  CreateNetworkAclCommandOutput,
  CreateNetworkAclEntryCommandInput,
  CreateSecurityGroupCommandInput,
  CreateSecurityGroupCommandOutput,
  CreateSnapshotCommandInput,
  CreateSnapshotCommandOutput,
  CreateSnapshotsCommandInput,
  CreateSnapshotsCommandOutput,
  CreateTagsCommandInput,
  CreateVolumeCommandInput,
  CreateVolumeCommandOutput,
  DeleteNetworkAclCommandInput,
  DeleteSecurityGroupCommandInput,
  DeleteSecurityGroupCommandOutput,
  DeleteTagsCommandInput,
  DescribeIamInstanceProfileAssociationsCommandInput,
  DescribeIamInstanceProfileAssociationsCommandOutput,
  DescribeInstanceAttributeCommandInput,
  DescribeInstanceAttributeCommandOutput,
  DescribeInstanceStatusCommandInput,
  DescribeInstanceStatusCommandOutput,
  DescribeInstancesCommandInput,
  DescribeInstancesCommandOutput,
  DescribeNetworkAclsCommandInput,
  DescribeNetworkAclsCommandOutput,
  DescribeNetworkInterfacesCommandInput,
  DescribeNetworkInterfacesCommandOutput,
  DescribeSecurityGroupsCommandInput,
  DescribeSecurityGroupsCommandOutput,
  DescribeSnapshotsCommandInput,
  DescribeSnapshotsCommandOutput,
  DescribeSubnetsCommandInput,
  DescribeSubnetsCommandOutput,
  DescribeTagsCommandInput,
  DescribeTagsCommandOutput,
  DescribeVolumesCommandInput,
  DescribeVolumesCommandOutput,
  DescribeVpcsCommandInput,
  DescribeVpcsCommandOutput,
  DetachVolumeCommandInput,
  DetachVolumeCommandOutput,
  DisassociateIamInstanceProfileCommandInput,
  DisassociateIamInstanceProfileCommandOutput,
  Filter,
  GetConsoleOutputCommandInput,
  GetConsoleOutputCommandOutput,
  Instance,
  IpPermission,
  ModifyInstanceAttributeCommandInput,
  ModifyNetworkInterfaceAttributeCommandInput,
  NetworkInterface,
  ReplaceNetworkAclAssociationCommandInput,
  ReplaceNetworkAclAssociationCommandOutput,
  ReplaceNetworkAclEntryCommandInput,
  RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupEgressCommandOutput,
  RevokeSecurityGroupIngressCommandInput,
  RevokeSecurityGroupIngressCommandOutput,
  Snapshot,
  StartInstancesCommandInput,
  StartInstancesCommandOutput,
  StopInstancesCommandInput,
  StopInstancesCommandOutput,
  TagSpecification,
  TerminateInstancesCommandInput,
  TerminateInstancesCommandOutput,
  Volume,
} from '@aws-sdk/client-ec2';
import type { CallContext, HandlerMap, Out } from './context.ts';
import { fail, sortedValues, tagList, tagMap, wildcardMatch } from './context.ts';
import type {
  AccountState,
  InstanceState,
  InstanceStateName,
  NetworkAclState,
  NetworkInterfaceState,
  SecurityGroupRuleState,
  SecurityGroupState,
  SnapshotState,
  TagMap,
  VolumeState,
} from './state.ts';
import { newId } from './state.ts';

const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

const date = (ms: number): Date => new Date(ms);

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

// ---- lookups and errors

function instanceOrFail(ctx: CallContext, id: string | undefined): InstanceState {
  const instance = id === undefined ? undefined : ctx.state.ec2.instances[id];
  if (!instance) fail(ctx, 'InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`);
  return instance;
}

function instancesOrFail(ctx: CallContext, ids: readonly string[] | undefined): InstanceState[] {
  const missing = (ids ?? []).filter((id) => !ctx.state.ec2.instances[id]);
  if (missing.length === 1)
    fail(ctx, 'InvalidInstanceID.NotFound', `The instance ID '${missing[0]}' does not exist`);
  if (missing.length > 1) {
    fail(ctx, 'InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`);
  }
  return (ids ?? []).map((id) => instanceOrFail(ctx, id));
}

function groupOrFail(ctx: CallContext, id: string | undefined, name?: string): SecurityGroupState {
  const group =
    id !== undefined
      ? ctx.state.ec2.securityGroups[id]
      : Object.values(ctx.state.ec2.securityGroups).find((g) => g.groupName === name);
  if (!group) fail(ctx, 'InvalidGroup.NotFound', `The security group '${id ?? name}' does not exist`);
  return group;
}

function interfaceOrFail(ctx: CallContext, id: string | undefined): NetworkInterfaceState {
  const nic = id === undefined ? undefined : ctx.state.ec2.networkInterfaces[id];
  if (!nic) fail(ctx, 'InvalidNetworkInterfaceID.NotFound', `The networkInterface ID '${id}' does not exist`);
  return nic;
}

function volumeOrFail(ctx: CallContext, id: string | undefined): VolumeState {
  const volume = id === undefined ? undefined : ctx.state.ec2.volumes[id];
  if (!volume || volume.state === 'deleted')
    fail(ctx, 'InvalidVolume.NotFound', `The volume '${id}' does not exist.`);
  return volume;
}

function aclOrFail(ctx: CallContext, id: string | undefined): NetworkAclState {
  const acl = id === undefined ? undefined : ctx.state.ec2.networkAcls[id];
  if (!acl) fail(ctx, 'InvalidNetworkAclID.NotFound', `The network ACL '${id}' does not exist`);
  return acl;
}

function requireDefined<T>(ctx: CallContext, value: T | undefined, parameter: string): T {
  if (value === undefined)
    fail(ctx, 'MissingParameter', `The request must contain the parameter ${parameter}`);
  return value;
}

// ---- filters

type FilterFields<T> = (item: T, name: string) => readonly string[] | undefined;

/** Applies EC2 filters; an unknown filter name fails as AWS does, with `InvalidParameterValue`. */
function applyFilters<T>(
  ctx: CallContext,
  items: T[],
  filters: readonly Filter[] | undefined,
  fields: FilterFields<T>,
  tagsOf: (item: T) => TagMap,
): T[] {
  let result = items;
  for (const filter of filters ?? []) {
    const name = filter.Name ?? '';
    const wanted = filter.Values ?? [];
    result = result.filter((item) => {
      let values: readonly string[] | undefined;
      const tags = tagsOf(item);
      if (name.startsWith('tag:')) {
        const value = tags[name.slice(4)];
        values = value === undefined ? [] : [value];
      } else if (name === 'tag-key') values = Object.keys(tags);
      else if (name === 'tag-value') values = Object.values(tags);
      else values = fields(item, name);
      if (values === undefined) fail(ctx, 'InvalidParameterValue', `The filter '${name}' is invalid`);
      return values.some((value) => wanted.some((pattern) => wildcardMatch(pattern, value)));
    });
  }
  return result;
}

const tagsOfId =
  (state: AccountState) =>
  (id: string): TagMap =>
    state.ec2.tags[id] ?? {};

function tagsFromSpecifications(
  specs: readonly TagSpecification[] | undefined,
  resourceType: string,
): TagMap {
  const out: TagMap = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType === undefined || spec.ResourceType === resourceType)
      Object.assign(out, tagMap(spec.Tags));
  }
  return out;
}

function setTags(state: AccountState, id: string, tags: TagMap): void {
  if (Object.keys(tags).length > 0) state.ec2.tags[id] = { ...state.ec2.tags[id], ...tags };
}

// ---- shapes

function groupRefs(state: AccountState, ids: readonly string[]): { GroupId: string; GroupName: string }[] {
  return ids.map((id) => ({ GroupId: id, GroupName: state.ec2.securityGroups[id]?.groupName ?? id }));
}

function interfaceShape(state: AccountState, nic: NetworkInterfaceState): NetworkInterface {
  return {
    NetworkInterfaceId: nic.networkInterfaceId,
    SubnetId: nic.subnetId,
    VpcId: nic.vpcId,
    AvailabilityZone: nic.availabilityZone,
    Description: nic.description,
    Groups: groupRefs(state, nic.groups),
    InterfaceType: 'interface',
    MacAddress: nic.macAddress,
    OwnerId: state.accountId,
    PrivateIpAddress: nic.privateIpAddress,
    PrivateIpAddresses: [{ Primary: true, PrivateIpAddress: nic.privateIpAddress }],
    RequesterManaged: false,
    SourceDestCheck: nic.sourceDestCheck,
    Status: nic.status,
    TagSet: tagList(state.ec2.tags[nic.networkInterfaceId]),
    ...(nic.attachment
      ? {
          Attachment: {
            AttachmentId: nic.attachment.attachmentId,
            AttachTime: date(nic.attachment.attachTime),
            DeleteOnTermination: nic.attachment.deleteOnTermination,
            DeviceIndex: nic.attachment.deviceIndex,
            InstanceId: nic.attachment.instanceId,
            InstanceOwnerId: state.accountId,
            Status: 'attached',
          },
        }
      : {}),
    ...(nic.connectionTracking
      ? {
          ConnectionTrackingConfiguration: {
            TcpEstablishedTimeout: nic.connectionTracking.tcpEstablishedTimeout,
            UdpStreamTimeout: nic.connectionTracking.udpStreamTimeout,
            UdpTimeout: nic.connectionTracking.udpTimeout,
          },
        }
      : {}),
  };
}

function instanceShape(state: AccountState, instance: InstanceState): Instance {
  const nics = instance.networkInterfaceIds
    .map((id) => state.ec2.networkInterfaces[id])
    .filter((nic): nic is NetworkInterfaceState => nic !== undefined);
  const groupIds = [...new Set(nics.flatMap((nic) => nic.groups))];
  const association = Object.values(state.ec2.profileAssociations).find(
    (a) => a.instanceId === instance.instanceId && (a.state === 'associated' || a.state === 'associating'),
  );
  const terminated = instance.state === 'terminated';
  return {
    InstanceId: instance.instanceId,
    ImageId: instance.imageId,
    InstanceType: instance.instanceType as Instance['InstanceType'],
    ...(instance.keyName ? { KeyName: instance.keyName } : {}),
    LaunchTime: date(instance.launchTime),
    Placement: { AvailabilityZone: instance.availabilityZone, Tenancy: 'default' },
    State: { Code: STATE_CODES[instance.state], Name: instance.state },
    StateTransitionReason: instance.stateTransitionReason,
    ...(terminated
      ? {}
      : {
          SubnetId: instance.subnetId,
          VpcId: instance.vpcId,
          PrivateIpAddress: instance.privateIpAddress,
        }),
    Architecture: 'x86_64',
    Hypervisor: 'xen',
    VirtualizationType: 'hvm',
    RootDeviceName: instance.rootDeviceName,
    RootDeviceType: 'ebs',
    EbsOptimized: false,
    Monitoring: { State: 'disabled' },
    SecurityGroups: groupRefs(state, groupIds),
    NetworkInterfaces: nics.map((nic) => {
      const shape = interfaceShape(state, nic);
      return {
        NetworkInterfaceId: shape.NetworkInterfaceId,
        SubnetId: shape.SubnetId,
        VpcId: shape.VpcId,
        Description: shape.Description,
        Groups: shape.Groups,
        MacAddress: shape.MacAddress,
        OwnerId: shape.OwnerId,
        PrivateIpAddress: shape.PrivateIpAddress,
        PrivateIpAddresses: shape.PrivateIpAddresses,
        SourceDestCheck: shape.SourceDestCheck,
        Status: shape.Status,
        InterfaceType: 'interface',
        ...(shape.Attachment
          ? {
              Attachment: {
                AttachmentId: shape.Attachment.AttachmentId,
                AttachTime: shape.Attachment.AttachTime,
                DeleteOnTermination: shape.Attachment.DeleteOnTermination,
                DeviceIndex: shape.Attachment.DeviceIndex,
                Status: 'attached',
              },
            }
          : {}),
        ...(shape.ConnectionTrackingConfiguration
          ? { ConnectionTrackingConfiguration: shape.ConnectionTrackingConfiguration }
          : {}),
      };
    }),
    BlockDeviceMappings: terminated
      ? []
      : instance.blockDevices.map((b) => ({
          DeviceName: b.deviceName,
          Ebs: {
            VolumeId: b.volumeId,
            Status: 'attached',
            AttachTime: date(b.attachTime),
            DeleteOnTermination: b.deleteOnTermination,
          },
        })),
    ...(association
      ? { IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId } }
      : {}),
    Tags: tagList(state.ec2.tags[instance.instanceId]),
  };
}

function volumeShape(state: AccountState, volume: VolumeState): Volume {
  return {
    VolumeId: volume.volumeId,
    Size: volume.size,
    VolumeType: volume.volumeType as Volume['VolumeType'],
    AvailabilityZone: volume.availabilityZone,
    Encrypted: volume.encrypted,
    CreateTime: date(volume.createTime),
    State: volume.state,
    SnapshotId: volume.snapshotId ?? '',
    Iops: 3000,
    MultiAttachEnabled: false,
    Attachments: volume.attachment
      ? [
          {
            VolumeId: volume.volumeId,
            InstanceId: volume.attachment.instanceId,
            Device: volume.attachment.device,
            State: 'attached',
            AttachTime: date(volume.attachment.attachTime),
            DeleteOnTermination: volume.attachment.deleteOnTermination,
          },
        ]
      : [],
    Tags: tagList(state.ec2.tags[volume.volumeId]),
  };
}

function snapshotShape(state: AccountState, snapshot: SnapshotState, now: number): Snapshot {
  const elapsed = now - snapshot.startTime;
  const duration = snapshot.completesAt - snapshot.startTime;
  const progress =
    snapshot.state === 'completed' ? 100 : Math.min(99, Math.floor((100 * elapsed) / Math.max(1, duration)));
  return {
    SnapshotId: snapshot.snapshotId,
    VolumeId: snapshot.volumeId,
    VolumeSize: snapshot.volumeSize,
    Description: snapshot.description,
    Encrypted: snapshot.encrypted,
    OwnerId: state.accountId,
    Progress: `${progress}%`,
    StartTime: date(snapshot.startTime),
    State: snapshot.state,
    StorageTier: 'standard',
    Tags: tagList(state.ec2.tags[snapshot.snapshotId]),
  };
}

/** Groups the security-group-rule model into AWS's `IpPermissions` (one per protocol and port range). */
function permissionsOf(state: AccountState, rules: readonly SecurityGroupRuleState[]): IpPermission[] {
  const byKey = new Map<string, IpPermission>();
  for (const rule of rules) {
    const key = `${rule.ipProtocol}|${rule.fromPort ?? ''}|${rule.toPort ?? ''}`;
    let permission = byKey.get(key);
    if (!permission) {
      permission = {
        IpProtocol: rule.ipProtocol,
        ...(rule.fromPort === undefined ? {} : { FromPort: rule.fromPort, ToPort: rule.toPort }),
        IpRanges: [],
        Ipv6Ranges: [],
        PrefixListIds: [],
        UserIdGroupPairs: [],
      };
      byKey.set(key, permission);
    }
    const description = rule.description ? { Description: rule.description } : {};
    if (rule.cidrIpv4) permission.IpRanges?.push({ CidrIp: rule.cidrIpv4, ...description });
    if (rule.cidrIpv6) permission.Ipv6Ranges?.push({ CidrIpv6: rule.cidrIpv6, ...description });
    if (rule.prefixListId)
      permission.PrefixListIds?.push({ PrefixListId: rule.prefixListId, ...description });
    if (rule.referencedGroupId) {
      permission.UserIdGroupPairs?.push({
        GroupId: rule.referencedGroupId,
        UserId: state.accountId,
        ...description,
      });
    }
  }
  return [...byKey.values()];
}

/** Splits `IpPermissions` into single-source rules. */
function rulesOf(
  ctx: CallContext,
  permissions: readonly IpPermission[] | undefined,
  egress: boolean,
): Omit<SecurityGroupRuleState, 'ruleId'>[] {
  const rules: Omit<SecurityGroupRuleState, 'ruleId'>[] = [];
  for (const p of permissions ?? []) {
    const protocol = requireDefined(ctx, p.IpProtocol, 'IpProtocol');
    const base = {
      egress,
      ipProtocol: protocol,
      ...(protocol === '-1' || p.FromPort === undefined
        ? {}
        : { fromPort: p.FromPort, toPort: p.ToPort ?? p.FromPort }),
    };
    const withDescription = (d: string | undefined) => (d ? { description: d } : {});
    for (const r of p.IpRanges ?? [])
      rules.push({ ...base, cidrIpv4: r.CidrIp, ...withDescription(r.Description) });
    for (const r of p.Ipv6Ranges ?? [])
      rules.push({ ...base, cidrIpv6: r.CidrIpv6, ...withDescription(r.Description) });
    for (const r of p.PrefixListIds ?? []) {
      rules.push({ ...base, prefixListId: r.PrefixListId, ...withDescription(r.Description) });
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      const referenced = groupOrFail(ctx, r.GroupId, r.GroupName);
      rules.push({ ...base, referencedGroupId: referenced.groupId, ...withDescription(r.Description) });
    }
  }
  return rules;
}

const sameRule = (
  a: Omit<SecurityGroupRuleState, 'ruleId'>,
  b: Omit<SecurityGroupRuleState, 'ruleId'>,
): boolean =>
  a.egress === b.egress &&
  a.ipProtocol === b.ipProtocol &&
  a.fromPort === b.fromPort &&
  a.toPort === b.toPort &&
  a.cidrIpv4 === b.cidrIpv4 &&
  a.cidrIpv6 === b.cidrIpv6 &&
  a.referencedGroupId === b.referencedGroupId &&
  a.prefixListId === b.prefixListId;

function authorize(
  ctx: CallContext,
  input: AuthorizeSecurityGroupIngressCommandInput | AuthorizeSecurityGroupEgressCommandInput,
  egress: boolean,
): Out<AuthorizeSecurityGroupIngressCommandOutput> {
  const group = groupOrFail(ctx, input.GroupId, 'GroupName' in input ? input.GroupName : undefined);
  let permissions = input.IpPermissions;
  if (!permissions && 'IpProtocol' in input && input.IpProtocol !== undefined) {
    permissions = [
      {
        IpProtocol: input.IpProtocol,
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        ...(input.CidrIp ? { IpRanges: [{ CidrIp: input.CidrIp }] } : {}),
      },
    ];
  }
  const added: SecurityGroupRuleState[] = [];
  for (const rule of rulesOf(ctx, permissions, egress)) {
    if (group.rules.some((existing) => sameRule(existing, rule)) || added.some((r) => sameRule(r, rule))) {
      fail(
        ctx,
        'InvalidPermission.Duplicate',
        `the specified rule "peer: ${rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.referencedGroupId ?? rule.prefixListId}, ${rule.ipProtocol.toUpperCase()}, from port: ${rule.fromPort}, to port: ${rule.toPort}, ALLOW" already exists`,
      );
    }
    added.push({ ...rule, ruleId: newId(ctx.state, 'sgr') });
  }
  group.rules.push(...added);
  return {
    Return: true,
    SecurityGroupRules: added.map((r) => ({
      SecurityGroupRuleId: r.ruleId,
      GroupId: group.groupId,
      GroupOwnerId: ctx.state.accountId,
      IsEgress: egress,
      IpProtocol: r.ipProtocol,
      FromPort: r.fromPort ?? -1,
      ToPort: r.toPort ?? -1,
      ...(r.cidrIpv4 ? { CidrIpv4: r.cidrIpv4 } : {}),
      ...(r.cidrIpv6 ? { CidrIpv6: r.cidrIpv6 } : {}),
      ...(r.referencedGroupId
        ? { ReferencedGroupInfo: { GroupId: r.referencedGroupId, UserId: ctx.state.accountId } }
        : {}),
      ...(r.description ? { Description: r.description } : {}),
    })),
  };
}

/**
 * Rules that do not exist are not an error: AWS returns them in `UnknownIpPermissions`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html).
 */
function revoke(
  ctx: CallContext,
  input: RevokeSecurityGroupIngressCommandInput | RevokeSecurityGroupEgressCommandInput,
  egress: boolean,
): Out<RevokeSecurityGroupIngressCommandOutput> {
  const group = groupOrFail(ctx, input.GroupId, 'GroupName' in input ? input.GroupName : undefined);
  const revokedIds = new Set(input.SecurityGroupRuleIds ?? []);
  for (const id of revokedIds) {
    if (!group.rules.some((r) => r.ruleId === id && r.egress === egress)) {
      fail(ctx, 'InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
    }
  }
  const unknown: IpPermission[] = [];
  for (const permission of input.IpPermissions ?? []) {
    for (const rule of rulesOf(ctx, [permission], egress)) {
      const match = group.rules.find((existing) => sameRule(existing, rule));
      if (match) revokedIds.add(match.ruleId);
      else unknown.push(...permissionsOf(ctx.state, [{ ...rule, ruleId: '' }]));
    }
  }
  const revoked = group.rules.filter((r) => revokedIds.has(r.ruleId));
  group.rules = group.rules.filter((r) => !revokedIds.has(r.ruleId));
  return {
    Return: true,
    ...(unknown.length > 0 ? { UnknownIpPermissions: unknown } : {}),
    RevokedSecurityGroupRules: revoked.map((r) => ({
      SecurityGroupRuleId: r.ruleId,
      GroupId: group.groupId,
      IsEgress: egress,
      IpProtocol: r.ipProtocol,
      FromPort: r.fromPort ?? -1,
      ToPort: r.toPort ?? -1,
      ...(r.cidrIpv4 ? { CidrIpv4: r.cidrIpv4 } : {}),
      ...(r.cidrIpv6 ? { CidrIpv6: r.cidrIpv6 } : {}),
      ...(r.referencedGroupId ? { ReferencedGroupId: r.referencedGroupId } : {}),
    })),
  };
}

/**
 * Sets an interface's groups. Each group must exist in the interface's VPC, and an interface keeps
 * at least one and at most five groups
 * (https://docs.aws.amazon.com/vpc/latest/userguide/amazon-vpc-limits.html#vpc-limits-security-groups).
 */
function setInterfaceGroups(ctx: CallContext, nic: NetworkInterfaceState, groups: readonly string[]): void {
  if (groups.length === 0) {
    fail(
      ctx,
      'InvalidParameterValue',
      'Value () for parameter groupId is invalid. The value cannot be empty',
    );
  }
  const unique = [...new Set(groups)];
  for (const id of unique) {
    const group = ctx.state.ec2.securityGroups[id];
    if (!group) fail(ctx, 'InvalidGroup.NotFound', `The security group '${id}' does not exist`);
    if (group.vpcId !== nic.vpcId) {
      fail(ctx, 'InvalidGroup.NotFound', `The security group '${id}' does not exist in VPC '${nic.vpcId}'`);
    }
  }
  if (unique.length > 5) {
    fail(
      ctx,
      'SecurityGroupsPerInterfaceLimitExceeded',
      'The maximum number of security groups per interface has been reached.',
    );
  }
  nic.groups = unique;
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

/** Options of {@link launchInstance}. */
export interface LaunchOptions {
  readonly instanceType: string;
  readonly imageId: string;
  readonly subnetId: string;
  readonly groups: readonly string[];
  readonly profileName?: string;
  readonly tags?: TagMap;
}

/** Creates a running instance with one interface and a root volume (used by Backup restores). */
export function launchInstance(state: AccountState, now: number, options: LaunchOptions): InstanceState {
  const subnet = state.ec2.subnets[options.subnetId] ?? Object.values(state.ec2.subnets)[0];
  if (!subnet) throw new Error('The sandbox account has no subnet to launch into');
  const instanceId = newId(state, 'i');
  const nicId = newId(state, 'eni');
  const groups = options.groups.filter((g) => state.ec2.securityGroups[g]?.vpcId === subnet.vpcId);
  const defaultGroup = Object.values(state.ec2.securityGroups).find(
    (g) => g.vpcId === subnet.vpcId && g.groupName === 'default',
  );
  const ip = `10.0.${Math.floor(state.nextId / 250) % 250}.${(state.nextId % 250) + 4}`;
  state.ec2.networkInterfaces[nicId] = {
    networkInterfaceId: nicId,
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: ip,
    macAddress: `02:00:00:00:${(state.nextId % 256).toString(16).padStart(2, '0')}:02`,
    description: 'Primary network interface',
    groups: groups.length > 0 ? [...groups] : defaultGroup ? [defaultGroup.groupId] : [],
    sourceDestCheck: true,
    status: 'in-use',
    attachment: {
      attachmentId: newId(state, 'eni-attach'),
      instanceId,
      deviceIndex: 0,
      deleteOnTermination: true,
      attachTime: now,
    },
  };
  const volumeId = newId(state, 'vol');
  state.ec2.volumes[volumeId] = {
    volumeId,
    size: 8,
    volumeType: 'gp3',
    availabilityZone: subnet.availabilityZone,
    encrypted: false,
    createTime: now,
    state: 'in-use',
    attachment: { instanceId, device: '/dev/xvda', deleteOnTermination: true, attachTime: now },
  };
  const instance: InstanceState = {
    instanceId,
    reservationId: newId(state, 'r'),
    imageId: options.imageId,
    instanceType: options.instanceType,
    launchTime: now,
    state: 'running',
    stateTransitionReason: '',
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: ip,
    networkInterfaceIds: [nicId],
    rootDeviceName: '/dev/xvda',
    blockDevices: [{ deviceName: '/dev/xvda', volumeId, deleteOnTermination: true, attachTime: now }],
    disableApiTermination: false,
    disableApiStop: false,
    shutdownBehavior: 'stop',
    consoleOutput: '',
  };
  state.ec2.instances[instanceId] = instance;
  if (options.tags) setTags(state, instanceId, options.tags);
  const profile = options.profileName ? state.iam.instanceProfiles[options.profileName] : undefined;
  if (profile) {
    const associationId = newId(state, 'iip-assoc');
    state.ec2.profileAssociations[associationId] = {
      associationId,
      instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      state: 'associated',
      timestamp: now,
    };
  }
  return instance;
}

/** Creates an available volume (used by Backup restores). */
export function createVolume(
  state: AccountState,
  now: number,
  options: {
    size: number;
    availabilityZone: string;
    volumeType: string;
    encrypted: boolean;
    snapshotId?: string;
  },
): VolumeState {
  const volumeId = newId(state, 'vol');
  const volume: VolumeState = {
    volumeId,
    size: options.size,
    volumeType: options.volumeType,
    availabilityZone: options.availabilityZone,
    encrypted: options.encrypted,
    createTime: now,
    state: 'creating',
    ...(options.snapshotId ? { snapshotId: options.snapshotId } : {}),
  };
  state.ec2.volumes[volumeId] = volume;
  return volume;
}

function newSnapshot(
  ctx: CallContext,
  volume: VolumeState,
  description: string,
  tags: TagMap,
): SnapshotState {
  const snapshotId = newId(ctx.state, 'snap');
  const snapshot: SnapshotState = {
    snapshotId,
    volumeId: volume.volumeId,
    volumeSize: volume.size,
    description,
    encrypted: volume.encrypted,
    startTime: ctx.now,
    completesAt: ctx.now + ctx.state.timings.snapshotMs,
    state: 'pending',
  };
  ctx.state.ec2.snapshots[snapshotId] = snapshot;
  setTags(ctx.state, snapshotId, tags);
  return snapshot;
}

const RESOURCE_TYPES: readonly [string, keyof AccountState['ec2'], string, string][] = [
  ['i-', 'instances', 'instance', 'InvalidInstanceID.NotFound'],
  ['vol-', 'volumes', 'volume', 'InvalidVolume.NotFound'],
  ['snap-', 'snapshots', 'snapshot', 'InvalidSnapshot.NotFound'],
  ['sg-', 'securityGroups', 'security-group', 'InvalidGroup.NotFound'],
  ['eni-', 'networkInterfaces', 'network-interface', 'InvalidNetworkInterfaceID.NotFound'],
  ['vpc-', 'vpcs', 'vpc', 'InvalidVpcID.NotFound'],
  ['subnet-', 'subnets', 'subnet', 'InvalidSubnetID.NotFound'],
  ['acl-', 'networkAcls', 'network-acl', 'InvalidNetworkAclID.NotFound'],
];

function resourceType(ctx: CallContext, id: string): string {
  for (const [prefix, collection, type, code] of RESOURCE_TYPES) {
    if (!id.startsWith(prefix)) continue;
    const items = ctx.state.ec2[collection] as Record<string, unknown>;
    if (!items[id]) fail(ctx, code, `The ID '${id}' does not exist`);
    return type;
  }
  return fail(ctx, 'InvalidID', `The ID '${id}' is not valid`);
}

/** EC2 commands the sandbox simulates. */
export const ec2Handlers: HandlerMap = {
  DescribeVpcs: (ctx, input: DescribeVpcsCommandInput): Out<DescribeVpcsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.VpcIds ?? []) {
      if (!state.ec2.vpcs[id]) fail(ctx, 'InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`);
    }
    const vpcs = sortedValues(state.ec2.vpcs).filter(
      (v) => !input.VpcIds?.length || input.VpcIds.includes(v.vpcId),
    );
    const filtered = applyFilters(
      ctx,
      vpcs,
      input.Filters,
      (v, name) =>
        ({ 'vpc-id': [v.vpcId], 'cidr-block': [v.cidrBlock], 'is-default': [String(v.isDefault)] })[name],
      (v) => tagsOfId(state)(v.vpcId),
    );
    return {
      Vpcs: filtered.map((v) => ({
        VpcId: v.vpcId,
        CidrBlock: v.cidrBlock,
        IsDefault: v.isDefault,
        State: 'available',
        OwnerId: state.accountId,
        InstanceTenancy: 'default',
        Tags: tagList(state.ec2.tags[v.vpcId]),
      })),
    };
  },

  DescribeSubnets: (ctx, input: DescribeSubnetsCommandInput): Out<DescribeSubnetsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.SubnetIds ?? []) {
      if (!state.ec2.subnets[id])
        fail(ctx, 'InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`);
    }
    const subnets = sortedValues(state.ec2.subnets).filter(
      (s) => !input.SubnetIds?.length || input.SubnetIds.includes(s.subnetId),
    );
    const filtered = applyFilters(
      ctx,
      subnets,
      input.Filters,
      (s, name) =>
        ({ 'subnet-id': [s.subnetId], 'vpc-id': [s.vpcId], 'availability-zone': [s.availabilityZone] })[name],
      (s) => tagsOfId(state)(s.subnetId),
    );
    return {
      Subnets: filtered.map((s) => ({
        SubnetId: s.subnetId,
        VpcId: s.vpcId,
        CidrBlock: s.cidrBlock,
        AvailabilityZone: s.availabilityZone,
        State: 'available',
        OwnerId: state.accountId,
        Tags: tagList(state.ec2.tags[s.subnetId]),
      })),
    };
  },

  DescribeNetworkAcls: (
    ctx,
    input: DescribeNetworkAclsCommandInput,
  ): Out<DescribeNetworkAclsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.NetworkAclIds ?? []) aclOrFail(ctx, id);
    const acls = sortedValues(state.ec2.networkAcls).filter(
      (a) => !input.NetworkAclIds?.length || input.NetworkAclIds.includes(a.networkAclId),
    );
    const filtered = applyFilters(
      ctx,
      acls,
      input.Filters,
      (a, name) =>
        ({
          'network-acl-id': [a.networkAclId],
          'vpc-id': [a.vpcId],
          default: [String(a.isDefault)],
          'association.subnet-id': a.associations.map((x) => x.subnetId),
          'association.association-id': a.associations.map((x) => x.associationId),
        })[name],
      (a) => tagsOfId(state)(a.networkAclId),
    );
    return {
      NetworkAcls: filtered.map((a) => ({
        NetworkAclId: a.networkAclId,
        VpcId: a.vpcId,
        IsDefault: a.isDefault,
        OwnerId: state.accountId,
        Associations: a.associations.map((x) => ({
          NetworkAclAssociationId: x.associationId,
          NetworkAclId: a.networkAclId,
          SubnetId: x.subnetId,
        })),
        Entries: [...a.entries]
          .sort((x, y) => Number(x.egress) - Number(y.egress) || x.ruleNumber - y.ruleNumber)
          .map((e) => ({
            RuleNumber: e.ruleNumber,
            Protocol: e.protocol,
            RuleAction: e.ruleAction,
            Egress: e.egress,
            ...(e.cidrBlock ? { CidrBlock: e.cidrBlock } : {}),
            ...(e.ipv6CidrBlock ? { Ipv6CidrBlock: e.ipv6CidrBlock } : {}),
            ...(e.portRange ? { PortRange: { From: e.portRange.from, To: e.portRange.to } } : {}),
          })),
        Tags: tagList(state.ec2.tags[a.networkAclId]),
      })),
    };
  },

  CreateNetworkAcl: (ctx, input: CreateNetworkAclCommandInput): Out<CreateNetworkAclCommandOutput> => {
    const vpcId = requireDefined(ctx, input.VpcId, 'VpcId');
    if (!ctx.state.ec2.vpcs[vpcId])
      fail(ctx, 'InvalidVpcID.NotFound', `The vpc ID '${vpcId}' does not exist`);
    const networkAclId = newId(ctx.state, 'acl');
    // A new network ACL denies everything until rules are added
    // (https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html).
    ctx.state.ec2.networkAcls[networkAclId] = {
      networkAclId,
      vpcId,
      isDefault: false,
      entries: [false, true].map((egress) => ({
        ruleNumber: 32767,
        protocol: '-1',
        ruleAction: 'deny' as const,
        egress,
        cidrBlock: '0.0.0.0/0',
      })),
      associations: [],
    };
    setTags(ctx.state, networkAclId, tagsFromSpecifications(input.TagSpecifications, 'network-acl'));
    return {
      NetworkAcl: {
        NetworkAclId: networkAclId,
        VpcId: vpcId,
        IsDefault: false,
        OwnerId: ctx.state.accountId,
        Associations: [],
        Entries: [false, true].map((egress) => ({
          RuleNumber: 32767,
          Protocol: '-1',
          RuleAction: 'deny',
          Egress: egress,
          CidrBlock: '0.0.0.0/0',
        })),
        Tags: tagList(ctx.state.ec2.tags[networkAclId]),
      },
    };
  },

  CreateNetworkAclEntry: (ctx, input: CreateNetworkAclEntryCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    const ruleNumber = requireDefined(ctx, input.RuleNumber, 'RuleNumber');
    const egress = input.Egress ?? false;
    if (acl.entries.some((e) => e.ruleNumber === ruleNumber && e.egress === egress)) {
      fail(
        ctx,
        'NetworkAclEntryAlreadyExists',
        `The network acl entry identified by ${ruleNumber} already exists.`,
      );
    }
    acl.entries.push({
      ruleNumber,
      protocol: requireDefined(ctx, input.Protocol, 'Protocol'),
      ruleAction: input.RuleAction === 'deny' ? 'deny' : 'allow',
      egress,
      ...(input.CidrBlock ? { cidrBlock: input.CidrBlock } : {}),
      ...(input.Ipv6CidrBlock ? { ipv6CidrBlock: input.Ipv6CidrBlock } : {}),
      ...(input.PortRange
        ? { portRange: { from: input.PortRange.From ?? 0, to: input.PortRange.To ?? 65535 } }
        : {}),
    });
    return {};
  },

  ReplaceNetworkAclEntry: (ctx, input: ReplaceNetworkAclEntryCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    const egress = input.Egress ?? false;
    const entry = acl.entries.find((e) => e.ruleNumber === input.RuleNumber && e.egress === egress);
    if (!entry)
      fail(
        ctx,
        'InvalidNetworkAclEntry.NotFound',
        `The network acl entry identified by ${input.RuleNumber} does not exist.`,
      );
    entry.protocol = input.Protocol ?? entry.protocol;
    entry.ruleAction = input.RuleAction === 'deny' ? 'deny' : 'allow';
    if (input.CidrBlock) entry.cidrBlock = input.CidrBlock;
    if (input.PortRange)
      entry.portRange = { from: input.PortRange.From ?? 0, to: input.PortRange.To ?? 65535 };
    return {};
  },

  ReplaceNetworkAclAssociation: (
    ctx,
    input: ReplaceNetworkAclAssociationCommandInput,
  ): Out<ReplaceNetworkAclAssociationCommandOutput> => {
    const target = aclOrFail(ctx, input.NetworkAclId);
    const current = Object.values(ctx.state.ec2.networkAcls).find((a) =>
      a.associations.some((x) => x.associationId === input.AssociationId),
    );
    const association = current?.associations.find((x) => x.associationId === input.AssociationId);
    if (!current || !association) {
      fail(
        ctx,
        'InvalidAssociationID.NotFound',
        `The association ID '${input.AssociationId}' does not exist`,
      );
    }
    if (current.vpcId !== target.vpcId) {
      fail(
        ctx,
        'InvalidParameterValue',
        `Network ACL ${target.networkAclId} and subnet ${association.subnetId} belong to different networks`,
      );
    }
    current.associations = current.associations.filter((x) => x.associationId !== input.AssociationId);
    const newAssociationId = newId(ctx.state, 'aclassoc');
    target.associations.push({ associationId: newAssociationId, subnetId: association.subnetId });
    return { NewAssociationId: newAssociationId };
  },

  DeleteNetworkAcl: (ctx, input: DeleteNetworkAclCommandInput) => {
    const acl = aclOrFail(ctx, input.NetworkAclId);
    if (acl.isDefault)
      fail(ctx, 'InvalidParameterValue', `cannot delete default network ACL ${acl.networkAclId}`);
    if (acl.associations.length > 0) {
      fail(
        ctx,
        'DependencyViolation',
        `The networkAcl '${acl.networkAclId}' has dependencies and cannot be deleted.`,
      );
    }
    delete ctx.state.ec2.networkAcls[acl.networkAclId];
    delete ctx.state.ec2.tags[acl.networkAclId];
    return {};
  },

  DescribeSecurityGroups: (
    ctx,
    input: DescribeSecurityGroupsCommandInput,
  ): Out<DescribeSecurityGroupsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.GroupIds ?? []) groupOrFail(ctx, id);
    for (const name of input.GroupNames ?? []) groupOrFail(ctx, undefined, name);
    const groups = sortedValues(state.ec2.securityGroups).filter(
      (g) =>
        (!input.GroupIds?.length || input.GroupIds.includes(g.groupId)) &&
        (!input.GroupNames?.length || input.GroupNames.includes(g.groupName)),
    );
    const filtered = applyFilters(
      ctx,
      groups,
      input.Filters,
      (g, name) =>
        ({
          'group-id': [g.groupId],
          'group-name': [g.groupName],
          'vpc-id': [g.vpcId],
          description: [g.description],
          'owner-id': [state.accountId],
        })[name],
      (g) => tagsOfId(state)(g.groupId),
    );
    return {
      SecurityGroups: filtered.map((g) => ({
        GroupId: g.groupId,
        GroupName: g.groupName,
        Description: g.description,
        VpcId: g.vpcId,
        OwnerId: state.accountId,
        SecurityGroupArn: `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${g.groupId}`,
        IpPermissions: permissionsOf(
          state,
          g.rules.filter((r) => !r.egress),
        ),
        IpPermissionsEgress: permissionsOf(
          state,
          g.rules.filter((r) => r.egress),
        ),
        Tags: tagList(state.ec2.tags[g.groupId]),
      })),
    };
  },

  CreateSecurityGroup: (
    ctx,
    input: CreateSecurityGroupCommandInput,
  ): Out<CreateSecurityGroupCommandOutput> => {
    const { state } = ctx;
    const vpcId = input.VpcId ?? Object.values(state.ec2.vpcs).find((v) => v.isDefault)?.vpcId;
    if (!vpcId || !state.ec2.vpcs[vpcId])
      fail(ctx, 'InvalidVpcID.NotFound', `The vpc ID '${input.VpcId}' does not exist`);
    const groupName = requireDefined(ctx, input.GroupName, 'GroupName');
    const description = requireDefined(ctx, input.Description, 'GroupDescription');
    if (Object.values(state.ec2.securityGroups).some((g) => g.vpcId === vpcId && g.groupName === groupName)) {
      fail(
        ctx,
        'InvalidGroup.Duplicate',
        `The security group '${groupName}' already exists for VPC '${vpcId}'`,
      );
    }
    const groupId = newId(state, 'sg');
    // A new group has no inbound rules and allows all outbound traffic
    // (https://docs.aws.amazon.com/vpc/latest/userguide/creating-security-groups.html).
    state.ec2.securityGroups[groupId] = {
      groupId,
      groupName,
      description,
      vpcId,
      rules: [{ ruleId: newId(state, 'sgr'), egress: true, ipProtocol: '-1', cidrIpv4: '0.0.0.0/0' }],
    };
    setTags(state, groupId, tagsFromSpecifications(input.TagSpecifications, 'security-group'));
    return {
      GroupId: groupId,
      SecurityGroupArn: `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${groupId}`,
      Tags: tagList(state.ec2.tags[groupId]),
    };
  },

  /**
   * A group still used by an interface, or referenced by another group's rule, cannot be deleted
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteSecurityGroup.html).
   */
  DeleteSecurityGroup: (
    ctx,
    input: DeleteSecurityGroupCommandInput,
  ): Out<DeleteSecurityGroupCommandOutput> => {
    const { state } = ctx;
    const group = groupOrFail(ctx, input.GroupId, input.GroupName);
    if (group.groupName === 'default') {
      fail(
        ctx,
        'CannotDelete',
        `the specified group: "${group.groupId}" name: "default" cannot be deleted by a user`,
      );
    }
    const inUse =
      Object.values(state.ec2.networkInterfaces).some((nic) => nic.groups.includes(group.groupId)) ||
      Object.values(state.ec2.securityGroups).some(
        (g) => g.groupId !== group.groupId && g.rules.some((r) => r.referencedGroupId === group.groupId),
      );
    if (inUse) fail(ctx, 'DependencyViolation', `resource ${group.groupId} has a dependent object`);
    delete state.ec2.securityGroups[group.groupId];
    delete state.ec2.tags[group.groupId];
    return { Return: true, GroupId: group.groupId };
  },

  AuthorizeSecurityGroupIngress: (
    ctx,
    input: AuthorizeSecurityGroupIngressCommandInput,
  ): Out<AuthorizeSecurityGroupIngressCommandOutput> => authorize(ctx, input, false),
  AuthorizeSecurityGroupEgress: (
    ctx,
    input: AuthorizeSecurityGroupEgressCommandInput,
  ): Out<AuthorizeSecurityGroupEgressCommandOutput> => authorize(ctx, input, true),
  RevokeSecurityGroupIngress: (
    ctx,
    input: RevokeSecurityGroupIngressCommandInput,
  ): Out<RevokeSecurityGroupIngressCommandOutput> => revoke(ctx, input, false),
  RevokeSecurityGroupEgress: (
    ctx,
    input: RevokeSecurityGroupEgressCommandInput,
  ): Out<RevokeSecurityGroupEgressCommandOutput> => revoke(ctx, input, true),

  DescribeInstances: (ctx, input: DescribeInstancesCommandInput): Out<DescribeInstancesCommandOutput> => {
    const { state } = ctx;
    const selected = input.InstanceIds?.length
      ? instancesOrFail(ctx, input.InstanceIds)
      : sortedValues(state.ec2.instances);
    const filtered = applyFilters(
      ctx,
      selected,
      input.Filters,
      (i, name) => {
        const nics = i.networkInterfaceIds
          .map((id) => state.ec2.networkInterfaces[id])
          .filter((n): n is NetworkInterfaceState => n !== undefined);
        return {
          'instance-id': [i.instanceId],
          'instance-state-name': [i.state],
          'instance-type': [i.instanceType],
          'vpc-id': [i.vpcId],
          'subnet-id': [i.subnetId],
          'availability-zone': [i.availabilityZone],
          'private-ip-address': [i.privateIpAddress],
          'image-id': [i.imageId],
          'instance.group-id': nics.flatMap((n) => n.groups),
          'network-interface.network-interface-id': nics.map((n) => n.networkInterfaceId),
          'iam-instance-profile.arn': Object.values(state.ec2.profileAssociations)
            .filter((a) => a.instanceId === i.instanceId)
            .map((a) => a.profileArn),
        }[name];
      },
      (i) => tagsOfId(state)(i.instanceId),
    );
    return {
      Reservations: filtered.map((i) => ({
        ReservationId: i.reservationId,
        OwnerId: state.accountId,
        Groups: [],
        Instances: [instanceShape(state, i)],
      })),
    };
  },

  /**
   * Status checks: a running instance passes both (`ok`); the sandbox has no impaired hardware. Only
   * running instances are listed unless `IncludeAllInstances`, and then the others are `not-applicable`
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html).
   */
  DescribeInstanceStatus: (
    ctx,
    input: DescribeInstanceStatusCommandInput,
  ): Out<DescribeInstanceStatusCommandOutput> => {
    const selected = input.InstanceIds?.length
      ? instancesOrFail(ctx, input.InstanceIds)
      : sortedValues(ctx.state.ec2.instances);
    const listed = selected.filter((i) => input.IncludeAllInstances === true || i.state === 'running');
    return {
      InstanceStatuses: listed.map((i) => {
        const running = i.state === 'running';
        const summary = () =>
          running
            ? {
                Status: 'ok' as const,
                Details: [{ Name: 'reachability' as const, Status: 'passed' as const }],
              }
            : { Status: 'not-applicable' as const };
        return {
          InstanceId: i.instanceId,
          AvailabilityZone: i.availabilityZone,
          InstanceState: { Code: STATE_CODES[i.state], Name: i.state },
          InstanceStatus: summary(),
          SystemStatus: summary(),
        };
      }),
    };
  },

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
          BlockDeviceMappings: instance.blockDevices.map((b) => ({
            DeviceName: b.deviceName,
            Ebs: {
              VolumeId: b.volumeId,
              Status: 'attached',
              AttachTime: date(b.attachTime),
              DeleteOnTermination: b.deleteOnTermination,
            },
          })),
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

  DescribeNetworkInterfaces: (
    ctx,
    input: DescribeNetworkInterfacesCommandInput,
  ): Out<DescribeNetworkInterfacesCommandOutput> => {
    const { state } = ctx;
    for (const id of input.NetworkInterfaceIds ?? []) interfaceOrFail(ctx, id);
    const nics = sortedValues(state.ec2.networkInterfaces).filter(
      (n) => !input.NetworkInterfaceIds?.length || input.NetworkInterfaceIds.includes(n.networkInterfaceId),
    );
    const filtered = applyFilters(
      ctx,
      nics,
      input.Filters,
      (n, name) =>
        ({
          'network-interface-id': [n.networkInterfaceId],
          'attachment.instance-id': n.attachment ? [n.attachment.instanceId] : [],
          'attachment.attachment-id': n.attachment ? [n.attachment.attachmentId] : [],
          'vpc-id': [n.vpcId],
          'subnet-id': [n.subnetId],
          'group-id': n.groups,
          status: [n.status],
          'private-ip-address': [n.privateIpAddress],
        })[name],
      (n) => tagsOfId(state)(n.networkInterfaceId),
    );
    return { NetworkInterfaces: filtered.map((n) => interfaceShape(state, n)) };
  },

  /**
   * Replaces an interface's groups, or sets its connection tracking timeouts
   * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyNetworkInterfaceAttribute.html).
   */
  ModifyNetworkInterfaceAttribute: (ctx, input: ModifyNetworkInterfaceAttributeCommandInput) => {
    const nic = interfaceOrFail(ctx, input.NetworkInterfaceId);
    if (input.Groups !== undefined) setInterfaceGroups(ctx, nic, input.Groups);
    const tracking = input.ConnectionTrackingSpecification;
    if (tracking) {
      const check = (name: string, value: number | undefined, min: number, max: number): void => {
        if (value !== undefined && (value < min || value > max)) {
          fail(
            ctx,
            'InvalidParameterValue',
            `Value (${value}) for parameter ${name} is invalid. Must be between ${min} and ${max}.`,
          );
        }
      };
      // Ranges from https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html#connection-tracking-timeouts
      check('TcpEstablishedTimeout', tracking.TcpEstablishedTimeout, 60, 432000);
      check('UdpStreamTimeout', tracking.UdpStreamTimeout, 60, 180);
      check('UdpTimeout', tracking.UdpTimeout, 30, 60);
      nic.connectionTracking = {
        ...nic.connectionTracking,
        ...(tracking.TcpEstablishedTimeout !== undefined
          ? { tcpEstablishedTimeout: tracking.TcpEstablishedTimeout }
          : {}),
        ...(tracking.UdpStreamTimeout !== undefined ? { udpStreamTimeout: tracking.UdpStreamTimeout } : {}),
        ...(tracking.UdpTimeout !== undefined ? { udpTimeout: tracking.UdpTimeout } : {}),
      };
    }
    if (input.SourceDestCheck?.Value !== undefined) nic.sourceDestCheck = input.SourceDestCheck.Value;
    if (input.Description?.Value !== undefined) nic.description = input.Description.Value;
    if (input.Attachment?.DeleteOnTermination !== undefined) {
      if (!nic.attachment || nic.attachment.attachmentId !== input.Attachment.AttachmentId) {
        fail(
          ctx,
          'InvalidAttachmentID.NotFound',
          `The attachment ID '${input.Attachment.AttachmentId}' does not exist`,
        );
      }
      nic.attachment.deleteOnTermination = input.Attachment.DeleteOnTermination;
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

  DescribeIamInstanceProfileAssociations: (
    ctx,
    input: DescribeIamInstanceProfileAssociationsCommandInput,
  ): Out<DescribeIamInstanceProfileAssociationsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.AssociationIds ?? []) {
      if (!state.ec2.profileAssociations[id]) {
        fail(ctx, 'InvalidAssociationID.NotFound', `An association with ID ${id} does not exist.`);
      }
    }
    const associations = sortedValues(state.ec2.profileAssociations).filter(
      (a) => !input.AssociationIds?.length || input.AssociationIds.includes(a.associationId),
    );
    const filtered = applyFilters(
      ctx,
      associations,
      input.Filters,
      (a, name) => ({ 'instance-id': [a.instanceId], state: [a.state] })[name],
      () => ({}),
    );
    return {
      IamInstanceProfileAssociations: filtered.map((a) => ({
        AssociationId: a.associationId,
        InstanceId: a.instanceId,
        IamInstanceProfile: { Arn: a.profileArn, Id: a.profileId },
        State: a.state,
        Timestamp: date(a.timestamp),
      })),
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
    return {
      IamInstanceProfileAssociation: {
        AssociationId: id,
        InstanceId: association.instanceId,
        IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId },
        State: 'disassociating',
        Timestamp: date(association.timestamp),
      },
    };
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
    ctx.state.ec2.profileAssociations[associationId] = {
      associationId,
      instanceId: instance.instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      state: 'associated',
      timestamp: ctx.now,
    };
    return {
      IamInstanceProfileAssociation: {
        AssociationId: associationId,
        InstanceId: instance.instanceId,
        IamInstanceProfile: { Arn: profile.arn, Id: profile.id },
        State: 'associating',
        Timestamp: date(ctx.now),
      },
    };
  },

  CreateTags: (ctx, input: CreateTagsCommandInput) => {
    const resources = requireDefined(ctx, input.Resources, 'ResourceId');
    for (const id of resources) resourceType(ctx, id);
    for (const id of resources) setTags(ctx.state, id, tagMap(input.Tags));
    return {};
  },

  DeleteTags: (ctx, input: DeleteTagsCommandInput) => {
    const resources = requireDefined(ctx, input.Resources, 'ResourceId');
    for (const id of resources) resourceType(ctx, id);
    for (const id of resources) {
      const tags = ctx.state.ec2.tags[id];
      if (!tags) continue;
      if (!input.Tags) delete ctx.state.ec2.tags[id];
      else {
        for (const tag of input.Tags) {
          if (tag.Key !== undefined && (tag.Value === undefined || tags[tag.Key] === tag.Value))
            delete tags[tag.Key];
        }
        if (Object.keys(tags).length === 0) delete ctx.state.ec2.tags[id];
      }
    }
    return {};
  },

  DescribeTags: (ctx, input: DescribeTagsCommandInput): Out<DescribeTagsCommandOutput> => {
    const rows = Object.keys(ctx.state.ec2.tags)
      .sort()
      .flatMap((id) =>
        tagList(ctx.state.ec2.tags[id]).map((t) => ({
          ResourceId: id,
          ResourceType: RESOURCE_TYPES.find(([prefix]) => id.startsWith(prefix))?.[2] ?? 'instance',
          Key: t.Key,
          Value: t.Value,
        })),
      );
    const filtered = applyFilters(
      ctx,
      rows,
      input.Filters,
      (r, name) =>
        ({
          'resource-id': [r.ResourceId],
          'resource-type': [r.ResourceType],
          key: [r.Key],
          value: [r.Value],
        })[name],
      () => ({}),
    );
    return { Tags: filtered as NonNullable<DescribeTagsCommandOutput['Tags']> };
  },

  GetConsoleOutput: (ctx, input: GetConsoleOutputCommandInput): Out<GetConsoleOutputCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceId);
    return {
      InstanceId: instance.instanceId,
      Output: Buffer.from(instance.consoleOutput, 'utf8').toString('base64'),
      Timestamp: date(ctx.now),
    };
  },

  DescribeVolumes: (ctx, input: DescribeVolumesCommandInput): Out<DescribeVolumesCommandOutput> => {
    const { state } = ctx;
    for (const id of input.VolumeIds ?? []) volumeOrFail(ctx, id);
    const volumes = sortedValues(state.ec2.volumes).filter(
      (v) => v.state !== 'deleted' && (!input.VolumeIds?.length || input.VolumeIds.includes(v.volumeId)),
    );
    const filtered = applyFilters(
      ctx,
      volumes,
      input.Filters,
      (v, name) =>
        ({
          'volume-id': [v.volumeId],
          status: [v.state],
          'availability-zone': [v.availabilityZone],
          'attachment.instance-id': v.attachment ? [v.attachment.instanceId] : [],
          'attachment.device': v.attachment ? [v.attachment.device] : [],
          'snapshot-id': v.snapshotId ? [v.snapshotId] : [],
          'volume-type': [v.volumeType],
        })[name],
      (v) => tagsOfId(state)(v.volumeId),
    );
    return { Volumes: filtered.map((v) => volumeShape(state, v)) };
  },

  CreateVolume: (ctx, input: CreateVolumeCommandInput): Out<CreateVolumeCommandOutput> => {
    const availabilityZone = requireDefined(ctx, input.AvailabilityZone, 'AvailabilityZone');
    const snapshot = input.SnapshotId ? ctx.state.ec2.snapshots[input.SnapshotId] : undefined;
    if (input.SnapshotId && !snapshot) {
      fail(ctx, 'InvalidSnapshot.NotFound', `The snapshot '${input.SnapshotId}' does not exist.`);
    }
    if (snapshot && snapshot.state !== 'completed') {
      fail(ctx, 'IncorrectState', `Snapshot is in invalid state - ${snapshot.state}`);
    }
    const size = input.Size ?? snapshot?.volumeSize;
    if (size === undefined)
      fail(ctx, 'MissingParameter', 'The request must contain the parameter size or snapshotId');
    const volume = createVolume(ctx.state, ctx.now, {
      size,
      availabilityZone,
      volumeType: input.VolumeType ?? 'gp2',
      encrypted: input.Encrypted ?? snapshot?.encrypted ?? false,
      ...(input.SnapshotId ? { snapshotId: input.SnapshotId } : {}),
    });
    setTags(ctx.state, volume.volumeId, tagsFromSpecifications(input.TagSpecifications, 'volume'));
    const { Attachments: _attachments, ...shape } = volumeShape(ctx.state, volume);
    return shape;
  },

  AttachVolume: (ctx, input: AttachVolumeCommandInput): Out<AttachVolumeCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const instance = instanceOrFail(ctx, input.InstanceId);
    const device = requireDefined(ctx, input.Device, 'Device');
    if (volume.attachment || volume.state !== 'available') {
      fail(ctx, 'VolumeInUse', `${volume.volumeId} is already attached to an instance`);
    }
    if (volume.availabilityZone !== instance.availabilityZone) {
      fail(
        ctx,
        'InvalidVolume.ZoneMismatch',
        `The volume '${volume.volumeId}' is not in the same availability zone as instance '${instance.instanceId}'`,
      );
    }
    if (instance.blockDevices.some((b) => b.deviceName === device)) {
      fail(
        ctx,
        'InvalidParameterValue',
        `Invalid value '${device}' for unixDevice. Attachment point ${device} is already in use`,
      );
    }
    volume.state = 'in-use';
    volume.attachment = {
      instanceId: instance.instanceId,
      device,
      deleteOnTermination: false,
      attachTime: ctx.now,
    };
    instance.blockDevices.push({
      deviceName: device,
      volumeId: volume.volumeId,
      deleteOnTermination: false,
      attachTime: ctx.now,
    });
    return {
      VolumeId: volume.volumeId,
      InstanceId: instance.instanceId,
      Device: device,
      State: 'attaching',
      AttachTime: date(ctx.now),
    };
  },

  DetachVolume: (ctx, input: DetachVolumeCommandInput): Out<DetachVolumeCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const attachment = volume.attachment;
    if (!attachment || (input.InstanceId !== undefined && attachment.instanceId !== input.InstanceId)) {
      fail(ctx, 'IncorrectState', `Volume '${volume.volumeId}' is in the 'available' state.`);
    }
    const instance = ctx.state.ec2.instances[attachment.instanceId];
    if (instance) {
      if (instance.rootDeviceName === attachment.device && instance.state !== 'stopped' && !input.Force) {
        fail(
          ctx,
          'OperationNotPermitted',
          `Unable to detach root volume '${volume.volumeId}' from instance '${instance.instanceId}'`,
        );
      }
      instance.blockDevices = instance.blockDevices.filter((b) => b.volumeId !== volume.volumeId);
    }
    delete volume.attachment;
    volume.state = 'available';
    return {
      VolumeId: volume.volumeId,
      InstanceId: attachment.instanceId,
      Device: attachment.device,
      State: 'detaching',
      AttachTime: date(attachment.attachTime),
    };
  },

  CreateSnapshot: (ctx, input: CreateSnapshotCommandInput): Out<CreateSnapshotCommandOutput> => {
    const volume = volumeOrFail(ctx, input.VolumeId);
    const snapshot = newSnapshot(
      ctx,
      volume,
      input.Description ?? '',
      tagsFromSpecifications(input.TagSpecifications, 'snapshot'),
    );
    return snapshotShape(ctx.state, snapshot, ctx.now);
  },

  /** One crash-consistent snapshot per volume of an instance. */
  CreateSnapshots: (ctx, input: CreateSnapshotsCommandInput): Out<CreateSnapshotsCommandOutput> => {
    const instance = instanceOrFail(ctx, input.InstanceSpecification?.InstanceId);
    const excludeBoot = input.InstanceSpecification?.ExcludeBootVolume ?? false;
    const excluded = new Set(input.InstanceSpecification?.ExcludeDataVolumeIds ?? []);
    const tags = tagsFromSpecifications(input.TagSpecifications, 'snapshot');
    const devices = instance.blockDevices.filter(
      (b) => !(excludeBoot && b.deviceName === instance.rootDeviceName) && !excluded.has(b.volumeId),
    );
    return {
      Snapshots: devices.map((device) => {
        const volume = volumeOrFail(ctx, device.volumeId);
        const copied =
          input.CopyTagsFromSource === 'volume' ? (ctx.state.ec2.tags[volume.volumeId] ?? {}) : {};
        const snapshot = newSnapshot(ctx, volume, input.Description ?? '', { ...copied, ...tags });
        const shape = snapshotShape(ctx.state, snapshot, ctx.now);
        return {
          SnapshotId: shape.SnapshotId,
          VolumeId: shape.VolumeId,
          VolumeSize: shape.VolumeSize,
          Description: shape.Description,
          Encrypted: shape.Encrypted,
          OwnerId: shape.OwnerId,
          Progress: shape.Progress,
          StartTime: shape.StartTime,
          State: shape.State,
          Tags: shape.Tags,
        };
      }),
    };
  },

  DescribeSnapshots: (ctx, input: DescribeSnapshotsCommandInput): Out<DescribeSnapshotsCommandOutput> => {
    const { state } = ctx;
    for (const id of input.SnapshotIds ?? []) {
      if (!state.ec2.snapshots[id])
        fail(ctx, 'InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`);
    }
    const snapshots = sortedValues(state.ec2.snapshots).filter(
      (s) => !input.SnapshotIds?.length || input.SnapshotIds.includes(s.snapshotId),
    );
    const filtered = applyFilters(
      ctx,
      snapshots,
      input.Filters,
      (s, name) =>
        ({
          'snapshot-id': [s.snapshotId],
          'volume-id': [s.volumeId],
          status: [s.state],
          description: [s.description],
          'owner-id': [state.accountId],
        })[name],
      (s) => tagsOfId(state)(s.snapshotId),
    );
    return { Snapshots: filtered.map((s) => snapshotShape(state, s, ctx.now)) };
  },
};
