/**
 * The seed's schema: a short JSON description of an account. Every field is optional; {@link AccountSeed}
 * is the whole, the others its parts.
 */
import type { KmsKeySpec, TagMap, Timings } from '../state.ts';

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
