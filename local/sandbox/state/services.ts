/** The state of the other services: Auto Scaling, ELB, IAM, Backup, SES, KMS and S3. */
import type { TagMap } from './common.ts';

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
