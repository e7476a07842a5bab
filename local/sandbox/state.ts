/**
 * The sandbox account's state: plain, JSON-serializable records keyed by id. Times are epoch
 * milliseconds of the sandbox clock; handlers turn them into `Date`s in their answers.
 */

/** Tags as a plain map, key to value. */
export type TagMap = Record<string, string>;

/** How long simulated asynchronous work takes, in sandbox milliseconds. */
export interface Timings {
  /** A snapshot stays `pending` this long, then is `completed`. Default 60 000. */
  snapshotMs: number;
  /** A restore job stays `PENDING` this long. Default 10 000. */
  restorePendingMs: number;
  /** A restore job then stays `RUNNING` this long before `COMPLETED` (or `FAILED`). Default 120 000. */
  restoreRunningMs: number;
  /** An instance stays `pending`, `stopping` or `shutting-down` this long. Default 0 (next call sees the end state). */
  instanceTransitionMs: number;
  /** A deregistered target stays `draining` this long. Default 300 000 (ELBv2's default deregistration delay). */
  deregistrationDelayMs: number;
}

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

export interface AsgInstanceState {
  instanceId: string;
  availabilityZone: string;
  lifecycleState: string;
  healthStatus: string;
  protectedFromScaleIn: boolean;
}

export interface AutoScalingGroupState {
  name: string;
  arn: string;
  minSize: number;
  maxSize: number;
  desiredCapacity: number;
  availabilityZones: string[];
  vpcZoneIdentifier: string;
  launchTemplateName?: string;
  targetGroupArns: string[];
  loadBalancerNames: string[];
  instances: AsgInstanceState[];
  tags: TagMap;
  createdTime: number;
}

export interface TargetState {
  id: string;
  port: number;
  /** Set when deregistered: the target is `draining` until then. */
  drainingUntil?: number;
}

export interface TargetGroupState {
  arn: string;
  name: string;
  protocol: string;
  port: number;
  vpcId: string;
  targetType: 'instance' | 'ip';
  loadBalancerArns: string[];
  targets: TargetState[];
}

export interface ClassicLoadBalancerState {
  name: string;
  dnsName: string;
  vpcId: string;
  subnets: string[];
  securityGroups: string[];
  instances: string[];
  createdTime: number;
}

export interface AccessKeyState {
  accessKeyId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  createDate: number;
  lastUsed?: { date: number; serviceName: string; region: string };
}

export interface AttachedPolicyState {
  policyName: string;
  policyArn: string;
}

export interface UserState {
  userName: string;
  userId: string;
  arn: string;
  path: string;
  createDate: number;
  tags: TagMap;
  inlinePolicies: Record<string, string>;
  attachedPolicies: AttachedPolicyState[];
  loginProfile?: { createDate: number; passwordResetRequired: boolean };
  mfaDevices: { serialNumber: string; enableDate: number }[];
}

export interface RoleState {
  roleName: string;
  roleId: string;
  arn: string;
  path: string;
  createDate: number;
  description: string;
  maxSessionDuration: number;
  /** The trust policy as JSON text (not URL-encoded; `GetRole` encodes it as AWS does). */
  assumeRolePolicyDocument: string;
  tags: TagMap;
  inlinePolicies: Record<string, string>;
  attachedPolicies: AttachedPolicyState[];
}

export interface InstanceProfileState {
  name: string;
  id: string;
  arn: string;
  path: string;
  createDate: number;
  roles: string[];
}

export interface IamState {
  users: Record<string, UserState>;
  roles: Record<string, RoleState>;
  instanceProfiles: Record<string, InstanceProfileState>;
  accessKeys: Record<string, AccessKeyState>;
}

export interface VaultState {
  name: string;
  arn: string;
  creationDate: number;
}

export interface RecoveryPointState {
  arn: string;
  vaultName: string;
  resourceArn: string;
  resourceType: 'EC2' | 'EBS';
  creationDate: number;
  iamRoleArn: string;
  backupSizeInBytes: number;
  encrypted: boolean;
  restoreMetadata: Record<string, string>;
  /** When set, restore jobs from this recovery point end `FAILED` with this message. */
  restoreFailure?: string;
}

export type RestoreJobStatus = 'PENDING' | 'RUNNING' | 'COMPLETED' | 'ABORTED' | 'FAILED';

export interface RestoreJobState {
  restoreJobId: string;
  recoveryPointArn: string;
  iamRoleArn: string;
  resourceType: string;
  metadata: Record<string, string>;
  idempotencyToken?: string;
  /** `CopySourceTagsToRestoredResource`: the protected resource's tags go onto the restored one. */
  copySourceTags?: boolean;
  creationDate: number;
  status: RestoreJobStatus;
  statusMessage?: string;
  completionDate?: number;
  createdResourceArn?: string;
}

export interface BackupState {
  vaults: Record<string, VaultState>;
  recoveryPoints: Record<string, RecoveryPointState>;
  restoreJobs: Record<string, RestoreJobState>;
}

/** An email the sandbox's SES accepted. */
export interface SentEmail {
  messageId: string;
  from: string;
  to: string[];
  cc: string[];
  bcc: string[];
  replyTo: string[];
  subject: string;
  text?: string;
  html?: string;
  /** The raw MIME message, for `Content.Raw`. */
  raw?: string;
  at: number;
}

/** The HMAC key specs KMS offers, and its symmetric encryption spec. */
export type KmsKeySpec = 'SYMMETRIC_DEFAULT' | 'HMAC_224' | 'HMAC_256' | 'HMAC_384' | 'HMAC_512';

export interface KmsKeyState {
  keyId: string;
  keySpec: KmsKeySpec;
  keyUsage: 'ENCRYPT_DECRYPT' | 'GENERATE_VERIFY_MAC';
  description: string;
  creationDate: number;
  /** False once disabled, and while pending deletion. */
  enabled: boolean;
  /** Set by `ScheduleKeyDeletion`: the key is `PendingDeletion` until then, and gone after. */
  deletionDate?: number;
  pendingWindowInDays?: number;
  /** The key policy (JSON text): AWS's default policy when `CreateKey` names none. */
  policy: string;
  tags: TagMap;
  /** The secret key material, base64. No command returns it; `GenerateMac` uses it for a real HMAC. */
  material: string;
}

export interface KmsAliasState {
  /** `alias/<name>`. */
  aliasName: string;
  targetKeyId: string;
  creationDate: number;
}

export interface KmsState {
  /** By key id. */
  keys: Record<string, KmsKeyState>;
  /** By alias name (`alias/<name>`). */
  aliases: Record<string, KmsAliasState>;
}

export type ObjectLockMode = 'GOVERNANCE' | 'COMPLIANCE';

/** One version of an S3 object, or a delete marker. */
export interface S3ObjectVersionState {
  /** `null` (the text) for the version written while versioning was off or suspended. */
  versionId: string;
  deleteMarker: boolean;
  lastModified: number;
  /** The bytes, base64; empty for a delete marker. */
  body: string;
  size: number;
  /** The quoted MD5 of the body, as S3 returns it for a single-part upload; empty for a delete marker. */
  etag: string;
  contentType?: string;
  /** User metadata (`x-amz-meta-*`), keys lower-cased. */
  metadata?: Record<string, string>;
  lockMode?: ObjectLockMode;
  retainUntil?: number;
}

export interface S3BucketState {
  name: string;
  creationDate: number;
  /** Absent until versioning is first turned on: a bucket can never go back to unversioned. */
  versioning?: 'Enabled' | 'Suspended';
  objectLock: boolean;
  /** The default retention of an Object Lock bucket: exactly one of `days` and `years`. */
  defaultRetention?: { mode: ObjectLockMode; days?: number; years?: number };
  /** Each key's versions and delete markers, oldest first: the last one is the current one. */
  objects: Record<string, S3ObjectVersionState[]>;
}

export interface S3State {
  buckets: Record<string, S3BucketState>;
}

export interface AccountState {
  accountId: string;
  region: string;
  callerArn: string;
  callerUserId: string;
  timings: Timings;
  /** Commands that always fail with the service's access-denied error, as `Service:Command` or `Command`. */
  denied: string[];
  /** Sender identities SES accepts; empty accepts every sender. */
  verifiedIdentities: string[];
  /** Role ARNs of other accounts that `AssumeRole` accepts. */
  externalRoleArns: string[];
  /** Counter behind the generated ids. */
  nextId: number;
  ec2: Ec2State;
  autoScaling: { groups: Record<string, AutoScalingGroupState> };
  elbv2: { targetGroups: Record<string, TargetGroupState> };
  elb: { loadBalancers: Record<string, ClassicLoadBalancerState> };
  iam: IamState;
  backup: BackupState;
  ses: { sent: SentEmail[] };
  kms: KmsState;
  s3: S3State;
}

/**
 * An empty record without a prototype, for records keyed by names that callers choose (S3 keys, KMS
 * aliases): a key such as `__proto__` is then an ordinary entry.
 */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

/** Makes a fresh id such as `i-00000000000000001`, deterministic for a given state. */
export function newId(state: AccountState, prefix: string, width = 17): string {
  state.nextId += 1;
  return `${prefix}-${state.nextId.toString(16).padStart(width, '0')}`;
}

/** Deep copy with object keys sorted, so that two equal states serialize identically. */
export function sortedCopy<T>(value: T): T {
  return sortValue(value) as T;
}

function sortValue(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortValue);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      // defineProperty, not assignment: an S3 key named `__proto__` must stay an entry.
      if (item !== undefined)
        Object.defineProperty(out, key, {
          value: sortValue(item),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    }
    return out;
  }
  return value;
}
