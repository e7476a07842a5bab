/** The EC2 part of the sandbox state: network, instances, volumes, snapshots, profile associations, tags. */
import type { TagMap } from './common.ts';

export interface VpcState {
  vpcId: string;
  cidrBlock: string;
  isDefault: boolean;
}

export interface SubnetState {
  subnetId: string;
  vpcId: string;
  cidrBlock: string;
  availabilityZone: string;
}

export interface NetworkAclEntryState {
  ruleNumber: number;
  protocol: string;
  ruleAction: 'allow' | 'deny';
  egress: boolean;
  cidrBlock?: string;
  ipv6CidrBlock?: string;
  portRange?: { from: number; to: number };
}

export interface NetworkAclState {
  networkAclId: string;
  vpcId: string;
  isDefault: boolean;
  entries: NetworkAclEntryState[];
  /** Subnet associations: association id and subnet id. */
  associations: { associationId: string; subnetId: string }[];
}

/** One security group rule, as AWS's security-group-rule model (one source per rule). */
export interface SecurityGroupRuleState {
  ruleId: string;
  egress: boolean;
  ipProtocol: string;
  fromPort?: number;
  toPort?: number;
  cidrIpv4?: string;
  cidrIpv6?: string;
  referencedGroupId?: string;
  prefixListId?: string;
  description?: string;
}

export interface SecurityGroupState {
  groupId: string;
  groupName: string;
  description: string;
  vpcId: string;
  rules: SecurityGroupRuleState[];
}

export interface NetworkInterfaceState {
  networkInterfaceId: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  macAddress: string;
  description: string;
  groups: string[];
  sourceDestCheck: boolean;
  status: 'available' | 'in-use';
  attachment?: {
    attachmentId: string;
    instanceId: string;
    deviceIndex: number;
    deleteOnTermination: boolean;
    attachTime: number;
  };
  connectionTracking?: { tcpEstablishedTimeout?: number; udpStreamTimeout?: number; udpTimeout?: number };
}

export type InstanceStateName =
  | 'pending'
  | 'running'
  | 'stopping'
  | 'stopped'
  | 'shutting-down'
  | 'terminated';

export interface InstanceState {
  instanceId: string;
  reservationId: string;
  imageId: string;
  instanceType: string;
  keyName?: string;
  launchTime: number;
  state: InstanceStateName;
  /** When a transitional state (`pending`, `stopping`, `shutting-down`) ends. */
  transitionAt?: number;
  stateTransitionReason: string;
  subnetId: string;
  vpcId: string;
  availabilityZone: string;
  privateIpAddress: string;
  /** Interface ids, in device-index order; the first is the primary interface. */
  networkInterfaceIds: string[];
  rootDeviceName: string;
  blockDevices: { deviceName: string; volumeId: string; deleteOnTermination: boolean; attachTime: number }[];
  disableApiTermination: boolean;
  disableApiStop: boolean;
  shutdownBehavior: 'stop' | 'terminate';
  consoleOutput: string;
}

export interface VolumeState {
  volumeId: string;
  size: number;
  volumeType: string;
  availabilityZone: string;
  encrypted: boolean;
  createTime: number;
  snapshotId?: string;
  state: 'creating' | 'available' | 'in-use' | 'deleted';
  attachment?: { instanceId: string; device: string; deleteOnTermination: boolean; attachTime: number };
}

export interface SnapshotState {
  snapshotId: string;
  volumeId: string;
  volumeSize: number;
  description: string;
  encrypted: boolean;
  startTime: number;
  /** When the snapshot turns `completed`. */
  completesAt: number;
  state: 'pending' | 'completed' | 'error';
}

export interface ProfileAssociationState {
  associationId: string;
  instanceId: string;
  profileArn: string;
  profileId: string;
  state: 'associating' | 'associated' | 'disassociating' | 'disassociated';
  timestamp: number;
}

export interface Ec2State {
  vpcs: Record<string, VpcState>;
  subnets: Record<string, SubnetState>;
  networkAcls: Record<string, NetworkAclState>;
  securityGroups: Record<string, SecurityGroupState>;
  networkInterfaces: Record<string, NetworkInterfaceState>;
  instances: Record<string, InstanceState>;
  volumes: Record<string, VolumeState>;
  snapshots: Record<string, SnapshotState>;
  profileAssociations: Record<string, ProfileAssociationState>;
  /** Tags of every EC2 resource, by resource id. */
  tags: Record<string, TagMap>;
}
