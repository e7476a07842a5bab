/**
 * The account the recovery action tests run against: a web instance with two volumes, a profile and tags,
 * backed up three times (twice before first-seen, once after); an instance whose restores fail; an instance
 * whose recovery point was taken with the isolation group on; an instance with no recovery point but
 * snapshots before and after first-seen; a stopped instance. Real SDK clients are attached to the sandbox.
 */
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import type { AccountSeed } from '#local/sandbox/index';
import { Sandbox } from '#local/sandbox/index';

export { callsSince, errorOf, mutationsSince } from '../ec2/helpers.ts';

/** 2025-01-01T00:00:00Z: the sandbox's clock starts here. */
export const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const iso = (ms: number) => new Date(ms).toISOString();

/** The incident's first-seen time: an hour before the sandbox's start. */
export const FIRST_SEEN = iso(T0 - HOUR);

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';
export const WEB = 'i-0b1c2d3e4f5a60001';
export const FAILING = 'i-0b1c2d3e4f5a60002';
export const ISOLATED = 'i-0b1c2d3e4f5a60003';
export const NO_BACKUP = 'i-0b1c2d3e4f5a60004';
export const STOPPED = 'i-0b1c2d3e4f5a60005';
export const ISOLATION_GROUP = 'sg-0150a7e0000000001';
export const RECOVERY_GROUP = 'sg-0eec0000000000001';
export const RESTORE_ROLE = `arn:aws:iam::${ACCOUNT}:role/cordon-restore`;

/** The web instance's recovery points: three days, one day and half an hour before the sandbox's start. */
export const POINT = {
  threeDays: `arn:aws:ec2:${REGION}::image/ami-0000000000000d003`,
  oneDay: `arn:aws:ec2:${REGION}::image/ami-0000000000000d001`,
  afterFirstSeen: `arn:aws:ec2:${REGION}::image/ami-0000000000000a001`,
  failing: `arn:aws:ec2:${REGION}::image/ami-00000000000000fa1`,
  isolated: `arn:aws:ec2:${REGION}::image/ami-0000000000000150a`,
} as const;

export const NO_BACKUP_ROOT = 'vol-0c00000000000a001';
export const NO_BACKUP_DATA = 'vol-0c00000000000a002';

export function seed(): AccountSeed {
  return {
    vpcs: [
      {
        id: 'vpc-0b',
        isDefault: true,
        subnets: [
          { id: 'subnet-0a99', cidr: '10.0.1.0/24', az: 'us-east-1a' },
          { id: 'subnet-0b99', cidr: '10.0.2.0/24', az: 'us-east-1b' },
          { id: 'subnet-0eec', cidr: '10.0.3.0/24', az: 'us-east-1c' },
        ],
      },
    ],
    securityGroups: [
      { id: 'sg-0ebb', name: 'web', ingress: [{ port: 443, cidr: '0.0.0.0/0' }] },
      { id: 'sg-0add', name: 'admin', ingress: [{ port: 22, cidr: '10.0.0.0/8' }] },
      { id: RECOVERY_GROUP, name: 'recovered', ingress: [{ port: 443, cidr: '10.0.0.0/8' }] },
      {
        id: ISOLATION_GROUP,
        name: 'cordon-isolation-vpc-0b',
        egress: [],
        tags: { 'cordon:isolation': 'true' },
      },
    ],
    iam: {
      roles: [{ name: 'web-role' }, { name: 'recovery-role' }, { name: 'cordon-restore' }],
      instanceProfiles: [
        { name: 'web-profile', roles: ['web-role'] },
        { name: 'recovery-profile', roles: ['recovery-role'] },
      ],
    },
    instances: [
      {
        id: WEB,
        subnet: 'subnet-0a99',
        groups: ['sg-0ebb', 'sg-0add'],
        volumes: [{ id: 'vol-0b00000000000a001' }, { id: 'vol-0b00000000000a002', size: 20 }],
        profile: 'web-profile',
        tags: { Name: 'web', team: 'payments' },
      },
      { id: FAILING, subnet: 'subnet-0a99', groups: ['sg-0ebb'] },
      { id: ISOLATED, subnet: 'subnet-0a99', groups: ['sg-0ebb', ISOLATION_GROUP] },
      {
        id: NO_BACKUP,
        subnet: 'subnet-0b99',
        groups: ['sg-0ebb'],
        volumes: [{ id: NO_BACKUP_ROOT }, { id: NO_BACKUP_DATA, size: 50, device: '/dev/sdf' }],
      },
      { id: STOPPED, subnet: 'subnet-0a99', groups: ['sg-0ebb'], state: 'stopped' },
    ],
    snapshots: [
      { id: 'snap-0c0000000000000a1', volume: NO_BACKUP_ROOT, startTime: iso(T0 - 72 * HOUR) },
      { id: 'snap-0c0000000000000a2', volume: NO_BACKUP_ROOT, startTime: iso(T0 - 24 * HOUR) },
      // The incident's evidence: after first-seen, never a source.
      {
        id: 'snap-0c0000000000000a3',
        volume: NO_BACKUP_ROOT,
        startTime: iso(T0 - HOUR / 2),
        tags: { 'cordon:incident': 'evidence' },
      },
      { id: 'snap-0c0000000000000b1', volume: NO_BACKUP_DATA, startTime: iso(T0 - HOUR / 2) },
    ],
    backup: {
      recoveryPoints: [
        { arn: POINT.threeDays, resource: WEB, created: iso(T0 - 72 * HOUR), vault: 'prod' },
        { arn: POINT.oneDay, resource: WEB, created: iso(T0 - 24 * HOUR), vault: 'prod' },
        { arn: POINT.afterFirstSeen, resource: WEB, created: iso(T0 - HOUR / 2), vault: 'prod' },
        {
          arn: POINT.failing,
          resource: FAILING,
          created: iso(T0 - 24 * HOUR),
          restoreFailure: 'Insufficient capacity in us-east-1a',
        },
        { arn: POINT.isolated, resource: ISOLATED, created: iso(T0 - 24 * HOUR) },
      ],
    },
  };
}

const config = { region: REGION, credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

/** A fresh sandbox and SDK clients attached to it. */
export function setup(accountSeed: AccountSeed = seed()) {
  const sandbox = Sandbox.create(accountSeed, { now: () => T0 });
  return {
    sandbox,
    now: () => sandbox.now(),
    backup: sandbox.attach(new BackupClient(config)),
    ec2: sandbox.attach(new EC2Client(config)),
    sts: sandbox.attach(new STSClient(config)),
  };
}

/** The inputs of every call of `command` the sandbox answered. */
export function inputsOf(sandbox: Sandbox, command: string): unknown[] {
  return sandbox.calls.filter((c) => c.command === command).map((c) => c.input);
}
