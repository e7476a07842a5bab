/**
 * A large sandbox account, built cheaply from one seed, for tests that must see every page of a Describe
 * or List. Every count has a default larger than the service's default page, so a caller that reads only
 * the first page misses something even without `pageCap`; set `pageCap` on the sandbox to make every page
 * small.
 *
 * Shape (defaults in brackets; ids are stable, numbered from 0, zero-padded to 4 digits):
 * - `securityGroups` [300] groups `sg-0000000000000NNNN` in the default VPC; instance N has group N mod count.
 * - `instances` [300] running instances `i-0000000000000NNNN`, each with its own interface and root volume.
 * - `recoveryPoints` [250] recovery points of instance `i-00000000000000000` (`subject`), one an hour back from
 *   `base`, newest first as ListRecoveryPointsByResource returns them: `points[0]` is created at `base`,
 *   `points[k]` at `base - k hours`; ARNs `arn:aws:ec2:us-east-1::image/ami-0000000000000NNNN`.
 * - `targetGroups` [450] target groups `tg-large-NNNN` (more than ELBv2's page of 400), each with instance
 *   N mod `instances` registered on port 80.
 * - `loadBalancers` [450] classic load balancers `lb-large-NNNN` (more than ELB's page of 400), each with
 *   instance N mod `instances` registered.
 * - `autoScalingGroups` [3] groups `asg-large-N` sharing `autoScalingInstances` [120] instances (the first
 *   ones, round-robin: more than DescribeAutoScalingInstances' page of 50); tags `team=large`, `index=N`.
 * - IAM: user `large-user` with 2 access keys (IAM's quota), `policies` [150] attached managed policies
 *   `arn:aws:iam::aws:policy/large/LargePolicyNNNN` and as many inline ones `inline-NNNN`, 8 MFA devices;
 *   role `large-role` with `policies` attached and inline policies and `policies` instance profiles
 *   `large-profile-NNNN` (more than IAM's page of 100). IAM's real quotas allow fewer attached policies
 *   and inline bytes; the seed does not enforce them, so the lists can be long.
 * - KMS: `kmsKeys` [120] HMAC keys `00000000-0000-4000-8000-00000000NNNN` with aliases
 *   `alias/large-NNNN` (more than ListAliases' page of 50).
 */
import type { AccountSeed } from '../../local/sandbox/index.ts';

/** How many of each; see the header for the defaults. */
export interface LargeAccountOptions {
  readonly instances?: number;
  readonly securityGroups?: number;
  readonly recoveryPoints?: number;
  readonly targetGroups?: number;
  readonly loadBalancers?: number;
  readonly autoScalingGroups?: number;
  readonly autoScalingInstances?: number;
  readonly policies?: number;
  readonly kmsKeys?: number;
  /** When the newest recovery point was made, epoch ms. Default 2025-01-01T00:00:00Z. */
  readonly base?: number;
}

/** The seed and the ids a test asserts against. */
export interface LargeAccount {
  readonly seed: AccountSeed;
  readonly instanceIds: readonly string[];
  readonly securityGroupIds: readonly string[];
  /** The instance the recovery points are of, and its ARN as AWS Backup knows it. */
  readonly subject: { readonly instanceId: string; readonly arn: string };
  /** Newest first, with their creation times. */
  readonly points: readonly { readonly arn: string; readonly created: number }[];
  readonly targetGroupNames: readonly string[];
  readonly loadBalancerNames: readonly string[];
  readonly autoScalingGroupNames: readonly string[];
  readonly autoScalingInstanceIds: readonly string[];
  readonly user: {
    readonly name: string;
    readonly accessKeyIds: readonly string[];
    readonly policyArns: readonly string[];
  };
  readonly role: { readonly name: string; readonly profileNames: readonly string[] };
  readonly aliasNames: readonly string[];
}

const HOUR_MS = 3_600_000;
const pad = (n: number): string => String(n).padStart(4, '0');
const range = (count: number): number[] => Array.from({ length: count }, (_, i) => i);

/** Builds the seed of a large account (see the header for its shape). */
export function largeAccount(options: LargeAccountOptions = {}): LargeAccount {
  const counts = {
    instances: options.instances ?? 300,
    securityGroups: options.securityGroups ?? 300,
    recoveryPoints: options.recoveryPoints ?? 250,
    targetGroups: options.targetGroups ?? 450,
    loadBalancers: options.loadBalancers ?? 450,
    autoScalingGroups: options.autoScalingGroups ?? 3,
    autoScalingInstances: options.autoScalingInstances ?? 120,
    policies: options.policies ?? 150,
    kmsKeys: options.kmsKeys ?? 120,
  };
  if (counts.instances < 1) throw new RangeError('a large account needs at least one instance');
  if (counts.autoScalingInstances > counts.instances) {
    throw new RangeError(
      `autoScalingInstances (${counts.autoScalingInstances}) cannot exceed instances (${counts.instances})`,
    );
  }
  const base = options.base ?? Date.UTC(2025, 0, 1);
  const securityGroupIds = range(counts.securityGroups).map((i) => `sg-0000000000000${pad(i)}`);
  const instanceIds = range(counts.instances).map((i) => `i-0000000000000${pad(i)}`);
  const instanceAt = (i: number): string => instanceIds[i % instanceIds.length] ?? '';
  const subjectId = instanceAt(0);
  const subjectArn = `arn:aws:ec2:us-east-1:123456789012:instance/${subjectId}`;
  const points = range(counts.recoveryPoints).map((k) => ({
    arn: `arn:aws:ec2:us-east-1::image/ami-0000000000000${pad(k)}`,
    created: base - k * HOUR_MS,
  }));
  const targetGroupNames = range(counts.targetGroups).map((i) => `tg-large-${pad(i)}`);
  const loadBalancerNames = range(counts.loadBalancers).map((i) => `lb-large-${pad(i)}`);
  const autoScalingGroupNames = range(counts.autoScalingGroups).map((i) => `asg-large-${i}`);
  const autoScalingInstanceIds = instanceIds.slice(0, counts.autoScalingInstances);
  const policyArns = range(counts.policies).map((i) => `arn:aws:iam::aws:policy/large/LargePolicy${pad(i)}`);
  const inline = Object.fromEntries(
    range(counts.policies).map((i) => [
      `inline-${pad(i)}`,
      { Version: '2012-10-17', Statement: [{ Effect: 'Deny', Action: 's3:GetObject', Resource: '*' }] },
    ]),
  );
  const profileNames = range(counts.policies).map((i) => `large-profile-${pad(i)}`);
  const aliasNames = range(counts.kmsKeys).map((i) => `alias/large-${pad(i)}`);
  const accessKeyIds = ['AKIALARGE00000000000', 'AKIALARGE00000000001'];

  const seed: AccountSeed = {
    securityGroups: securityGroupIds.map((id) => ({ id, name: id, tags: { team: 'large' } })),
    instances: instanceIds.map((id, i) => ({
      id,
      groups: securityGroupIds.length > 0 ? [securityGroupIds[i % securityGroupIds.length] ?? ''] : [],
      tags: { Name: id, team: 'large' },
    })),
    backup: {
      recoveryPoints: points.map((p) => ({ resource: subjectArn, arn: p.arn, created: p.created })),
    },
    targetGroups: targetGroupNames.map((name, i) => ({ name, targets: [instanceAt(i)] })),
    loadBalancers: loadBalancerNames.map((name, i) => ({ name, instances: [instanceAt(i)] })),
    autoScalingGroups: autoScalingGroupNames.map((name, g) => {
      const members = autoScalingInstanceIds.filter((_, i) => i % autoScalingGroupNames.length === g);
      return {
        name,
        instances: members,
        max: Math.max(1, members.length) + 10,
        tags: { team: 'large', index: String(g) },
      };
    }),
    iam: {
      users: [
        {
          name: 'large-user',
          accessKeys: accessKeyIds.map((id, i) => ({ id, created: base - (2 - i) * HOUR_MS })),
          attachedPolicies: policyArns,
          inlinePolicies: inline,
          mfaDevices: range(8).map((i) => `arn:aws:iam::123456789012:mfa/large-${i}`),
        },
      ],
      roles: [{ name: 'large-role', attachedPolicies: policyArns, inlinePolicies: inline }],
      instanceProfiles: profileNames.map((name) => ({ name, roles: ['large-role'] })),
    },
    kms: {
      keys: aliasNames.map((alias, i) => ({
        id: `00000000-0000-4000-8000-00000000${pad(i)}`,
        spec: 'HMAC_256' as const,
        alias,
      })),
    },
  };
  return {
    seed,
    instanceIds,
    securityGroupIds,
    subject: { instanceId: subjectId, arn: subjectArn },
    points,
    targetGroupNames,
    loadBalancerNames,
    autoScalingGroupNames,
    autoScalingInstanceIds,
    user: { name: 'large-user', accessKeyIds, policyArns },
    role: { name: 'large-role', profileNames },
    aliasNames,
  };
}
