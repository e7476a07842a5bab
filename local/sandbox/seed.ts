/**
 * The seed: a short JSON description of an account, turned into {@link AccountState}. Everything
 * has a default, so a seed names only what a test or a game day cares about. A resource that a seed
 * references but does not declare (a security group in an instance's `groups`, an instance profile,
 * a subnet) is created with defaults.
 */
import { emptyKms } from './kms.ts';
import { seedAutoScaling } from './seed/autoscaling.ts';
import { seedBackup } from './seed/backup.ts';
import type { SeedBuild } from './seed/context.ts';
import { seedEc2 } from './seed/ec2.ts';
import { seedElb } from './seed/elb.ts';
import { seedIam } from './seed/iam.ts';
import { seedKms } from './seed/kms.ts';
import { seedNetwork } from './seed/network.ts';
import type { AccountSeed, SeedTime } from './seed/types.ts';
import type { AccountState, Timings } from './state.ts';
import { emptyRecord } from './state.ts';

export type * from './seed/types.ts';

/** Sandbox timings when the seed does not set them. */
export const DEFAULT_TIMINGS: Timings = {
  snapshotMs: 60_000,
  restorePendingMs: 10_000,
  restoreRunningMs: 120_000,
  instanceTransitionMs: 0,
  deregistrationDelayMs: 300_000,
};

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
  const build: SeedBuild = {
    seed,
    state,
    now,
    time,
    setTags: (id, tags) => {
      if (tags && Object.keys(tags).length > 0) state.ec2.tags[id] = { ...tags };
    },
  };
  // The order matters: each part resolves names against those before it, and ids are drawn in this order.
  const network = seedNetwork(build);
  seedIam(build);
  seedEc2(build, network);
  seedElb(build, network);
  seedAutoScaling(build);
  seedBackup(build);
  seedKms(build);
  return state;
}
