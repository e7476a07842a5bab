/** AWS's shapes of EC2 resources, built from the sandbox's state. */
import type {
  Instance,
  InstanceBlockDeviceMapping,
  InstanceStatus,
  IpPermission,
  NetworkAcl,
  NetworkInterface,
  SecurityGroup,
  Snapshot,
  Subnet,
  Volume,
  Vpc,
} from '@aws-sdk/client-ec2';
import { tagList } from '../context.ts';
import type {
  AccountState,
  InstanceState,
  NetworkAclState,
  NetworkInterfaceState,
  ProfileAssociationState,
  SecurityGroupRuleState,
  SecurityGroupState,
  SnapshotState,
  SubnetState,
  VolumeState,
  VpcState,
} from '../state.ts';
import { date, STATE_CODES } from './lookups.ts';

export function groupRefs(
  state: AccountState,
  ids: readonly string[],
): { GroupId: string; GroupName: string }[] {
  return ids.map((id) => ({ GroupId: id, GroupName: state.ec2.securityGroups[id]?.groupName ?? id }));
}

export function interfaceShape(state: AccountState, nic: NetworkInterfaceState): NetworkInterface {
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

/** An instance's EBS block devices, as DescribeInstances and DescribeInstanceAttribute give them. */
export function blockDevicesShape(instance: InstanceState): InstanceBlockDeviceMapping[] {
  return instance.blockDevices.map((b) => ({
    DeviceName: b.deviceName,
    Ebs: {
      VolumeId: b.volumeId,
      Status: 'attached',
      AttachTime: date(b.attachTime),
      DeleteOnTermination: b.deleteOnTermination,
    },
  }));
}

export function instanceShape(state: AccountState, instance: InstanceState): Instance {
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
    BlockDeviceMappings: terminated ? [] : blockDevicesShape(instance),
    ...(association
      ? { IamInstanceProfile: { Arn: association.profileArn, Id: association.profileId } }
      : {}),
    Tags: tagList(state.ec2.tags[instance.instanceId]),
  };
}

export function volumeShape(state: AccountState, volume: VolumeState): Volume {
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

export function snapshotShape(state: AccountState, snapshot: SnapshotState, now: number): Snapshot {
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
export function permissionsOf(state: AccountState, rules: readonly SecurityGroupRuleState[]): IpPermission[] {
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

/** What every VPC and subnet of the sandbox says of itself: available, this account's, its tags. */
const ownedShape = (state: AccountState, id: string) => ({
  State: 'available' as const,
  OwnerId: state.accountId,
  Tags: tagList(state.ec2.tags[id]),
});

export function vpcShape(state: AccountState, v: VpcState): Vpc {
  const { vpcId: VpcId, cidrBlock: CidrBlock, isDefault: IsDefault } = v;
  return { VpcId, CidrBlock, IsDefault, InstanceTenancy: 'default', ...ownedShape(state, VpcId) };
}

export function subnetShape(state: AccountState, s: SubnetState): Subnet {
  const { subnetId: SubnetId, vpcId: VpcId, cidrBlock: CidrBlock, availabilityZone: AvailabilityZone } = s;
  return { SubnetId, VpcId, CidrBlock, AvailabilityZone, ...ownedShape(state, SubnetId) };
}

/** An ACL with its entries, inbound first, each direction by rule number. */
export function aclShape(state: AccountState, a: NetworkAclState): NetworkAcl {
  return {
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
  };
}

export const groupArn = (state: AccountState, groupId: string): string =>
  `arn:aws:ec2:${state.region}:${state.accountId}:security-group/${groupId}`;

export function groupShape(state: AccountState, g: SecurityGroupState): SecurityGroup {
  return {
    GroupId: g.groupId,
    GroupName: g.groupName,
    Description: g.description,
    VpcId: g.vpcId,
    OwnerId: state.accountId,
    SecurityGroupArn: groupArn(state, g.groupId),
    IpPermissions: permissionsOf(
      state,
      g.rules.filter((r) => !r.egress),
    ),
    IpPermissionsEgress: permissionsOf(
      state,
      g.rules.filter((r) => r.egress),
    ),
    Tags: tagList(state.ec2.tags[g.groupId]),
  };
}

export function associationShape(
  a: ProfileAssociationState,
  state: ProfileAssociationState['state'] = a.state,
) {
  return {
    AssociationId: a.associationId,
    InstanceId: a.instanceId,
    IamInstanceProfile: { Arn: a.profileArn, Id: a.profileId },
    State: state,
    Timestamp: date(a.timestamp),
  };
}

/**
 * Status checks: a running instance passes both (`ok`); the sandbox has no impaired hardware, and the
 * checks of an instance that is not running are `not-applicable`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DescribeInstanceStatus.html).
 */
export function instanceStatusShape(i: InstanceState): InstanceStatus {
  const summary = () =>
    i.state === 'running'
      ? { Status: 'ok' as const, Details: [{ Name: 'reachability' as const, Status: 'passed' as const }] }
      : { Status: 'not-applicable' as const };
  return {
    InstanceId: i.instanceId,
    AvailabilityZone: i.availabilityZone,
    InstanceState: { Code: STATE_CODES[i.state], Name: i.state },
    InstanceStatus: summary(),
    SystemStatus: summary(),
  };
}
