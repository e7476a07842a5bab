/**
 * Every EC2 Describe the actions call, on an account of hundreds of items: pages as AWS's API reference
 * says (MaxResults ranges, every item by default, NextToken only when there is more), refuses sizes out of
 * range, made-up and foreign tokens, and ids that do not exist; `pageCap` bounds each page.
 */
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DescribeInstanceStatusCommand,
  DescribeInstancesCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  DescribeSecurityGroupsCommand,
  DescribeSnapshotsCommand,
  DescribeSubnetsCommand,
  DescribeTagsCommand,
  DescribeVolumesCommand,
  DescribeVpcsCommand,
  type EC2Client,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import type { AccountSeed, Sandbox } from '#local/sandbox/index';
import { errorOf, setup } from './helpers.ts';

const pad = (n: number): string => String(n).padStart(4, '0');
const INSTANCES = 300;

/** 300 instances (one in ten stopped) with two volumes each, 250 groups, 120 ACLs, 400 snapshots. */
const big: AccountSeed = {
  vpcs: [{ id: 'vpc-big', subnets: [{ id: 'subnet-big' }] }],
  securityGroups: Array.from({ length: 250 }, (_, i) => ({ id: `sg-${pad(i)}`, vpc: 'vpc-big' })),
  networkAcls: Array.from({ length: 120 }, (_, i) => ({ id: `acl-${pad(i)}`, vpc: 'vpc-big' })),
  instances: Array.from({ length: INSTANCES }, (_, i) => ({
    id: `i-${pad(i)}`,
    subnet: 'subnet-big',
    groups: [`sg-${pad(i % 250)}`],
    profile: 'big-profile',
    state: i % 10 === 0 ? ('stopped' as const) : ('running' as const),
    tags: { Name: `host-${pad(i)}` },
    volumes: [{ id: `vol-${pad(i)}` }, { id: `vol-d${pad(i)}`, size: 20 }],
  })),
  snapshots: Array.from({ length: 400 }, (_, i) => ({
    id: `snap-${pad(i)}`,
    volume: `vol-${pad(i % INSTANCES)}`,
  })),
};

type Input = Record<string, unknown> & { MaxResults?: number; NextToken?: string };
type Output = Record<string, unknown> & { NextToken?: string };

/** One Describe: how to send it, the ids of a page, the ids the account holds, and its id parameter. */
interface Case {
  readonly name: string;
  readonly send: (ec2: EC2Client, input: Input) => Promise<Output>;
  readonly idsOf: (out: Output) => string[];
  readonly expected: (sandbox: Sandbox) => string[];
  readonly max: number;
  /** MaxResults above `max` is read as `max` instead of failing. */
  readonly capsAtMax?: boolean;
  readonly idsParam?: string;
  readonly missing?: { readonly id: string; readonly code: string; readonly message: string };
  /** AWS refuses MaxResults with ids for this command. */
  readonly exclusive?: boolean;
}

const list = <T>(out: Output, key: string): T[] => (out[key] as T[] | undefined) ?? [];
const sendWith =
  (Command: new (input: never) => unknown) =>
  (ec2: EC2Client, input: Input): Promise<Output> =>
    ec2.send(new Command(input as never) as never) as Promise<unknown> as Promise<Output>;

const cases: Case[] = [
  {
    name: 'DescribeInstances',
    send: sendWith(DescribeInstancesCommand),
    idsOf: (out) =>
      list<{ Instances?: { InstanceId?: string }[] }>(out, 'Reservations').flatMap(
        (r) => r.Instances?.map((i) => i.InstanceId ?? '') ?? [],
      ),
    expected: (s) => Object.keys(s.state().ec2.instances),
    max: 1000,
    idsParam: 'InstanceIds',
    missing: {
      id: 'i-missing',
      code: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-missing' does not exist",
    },
    exclusive: true,
  },
  {
    name: 'DescribeInstanceStatus',
    send: sendWith(DescribeInstanceStatusCommand),
    idsOf: (out) => list<{ InstanceId?: string }>(out, 'InstanceStatuses').map((s) => s.InstanceId ?? ''),
    expected: (s) =>
      Object.values(s.state().ec2.instances)
        .filter((i) => i.state === 'running')
        .map((i) => i.instanceId),
    max: 1000,
    idsParam: 'InstanceIds',
    missing: {
      id: 'i-missing',
      code: 'InvalidInstanceID.NotFound',
      message: "The instance ID 'i-missing' does not exist",
    },
    exclusive: true,
  },
  {
    name: 'DescribeSecurityGroups',
    send: sendWith(DescribeSecurityGroupsCommand),
    idsOf: (out) => list<{ GroupId?: string }>(out, 'SecurityGroups').map((g) => g.GroupId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.securityGroups),
    max: 1000,
    idsParam: 'GroupIds',
    missing: {
      id: 'sg-missing',
      code: 'InvalidGroup.NotFound',
      message: "The security group 'sg-missing' does not exist",
    },
  },
  {
    name: 'DescribeNetworkInterfaces',
    send: sendWith(DescribeNetworkInterfacesCommand),
    idsOf: (out) =>
      list<{ NetworkInterfaceId?: string }>(out, 'NetworkInterfaces').map((n) => n.NetworkInterfaceId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.networkInterfaces),
    max: 1000,
    idsParam: 'NetworkInterfaceIds',
    missing: {
      id: 'eni-missing',
      code: 'InvalidNetworkInterfaceID.NotFound',
      message: "The networkInterface ID 'eni-missing' does not exist",
    },
    exclusive: true,
  },
  {
    name: 'DescribeNetworkAcls',
    send: sendWith(DescribeNetworkAclsCommand),
    idsOf: (out) => list<{ NetworkAclId?: string }>(out, 'NetworkAcls').map((a) => a.NetworkAclId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.networkAcls),
    max: 1000,
    idsParam: 'NetworkAclIds',
    missing: {
      id: 'acl-missing',
      code: 'InvalidNetworkAclID.NotFound',
      message: "The network ACL 'acl-missing' does not exist",
    },
  },
  {
    name: 'DescribeSnapshots',
    send: sendWith(DescribeSnapshotsCommand),
    idsOf: (out) => list<{ SnapshotId?: string }>(out, 'Snapshots').map((s) => s.SnapshotId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.snapshots),
    max: 1000,
    capsAtMax: true,
    idsParam: 'SnapshotIds',
    missing: {
      id: 'snap-missing',
      code: 'InvalidSnapshot.NotFound',
      message: "The snapshot 'snap-missing' does not exist.",
    },
    exclusive: true,
  },
  {
    name: 'DescribeVolumes',
    send: sendWith(DescribeVolumesCommand),
    idsOf: (out) => list<{ VolumeId?: string }>(out, 'Volumes').map((v) => v.VolumeId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.volumes),
    max: 500,
    capsAtMax: true,
    idsParam: 'VolumeIds',
    missing: {
      id: 'vol-missing',
      code: 'InvalidVolume.NotFound',
      message: "The volume 'vol-missing' does not exist.",
    },
    exclusive: true,
  },
  {
    name: 'DescribeIamInstanceProfileAssociations',
    send: sendWith(DescribeIamInstanceProfileAssociationsCommand),
    idsOf: (out) =>
      list<{ AssociationId?: string }>(out, 'IamInstanceProfileAssociations').map(
        (a) => a.AssociationId ?? '',
      ),
    expected: (s) => Object.keys(s.state().ec2.profileAssociations),
    max: 1000,
    idsParam: 'AssociationIds',
    missing: {
      id: 'iip-assoc-missing',
      code: 'InvalidAssociationID.NotFound',
      message: 'An association with ID iip-assoc-missing does not exist.',
    },
  },
  {
    name: 'DescribeTags',
    send: sendWith(DescribeTagsCommand),
    idsOf: (out) =>
      list<{ ResourceId?: string; Key?: string }>(out, 'Tags').map((t) => `${t.ResourceId}/${t.Key}`),
    expected: (s) =>
      Object.entries(s.state().ec2.tags).flatMap(([id, tags]) =>
        Object.keys(tags).map((key) => `${id}/${key}`),
      ),
    max: 1000,
  },
  {
    name: 'DescribeVpcs',
    send: sendWith(DescribeVpcsCommand),
    idsOf: (out) => list<{ VpcId?: string }>(out, 'Vpcs').map((v) => v.VpcId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.vpcs),
    max: 1000,
  },
  {
    name: 'DescribeSubnets',
    send: sendWith(DescribeSubnetsCommand),
    idsOf: (out) => list<{ SubnetId?: string }>(out, 'Subnets').map((v) => v.SubnetId ?? ''),
    expected: (s) => Object.keys(s.state().ec2.subnets),
    max: 1000,
  },
];

/** Follows NextToken from the first page to the last; returns every page's ids. */
async function drain(c: Case, ec2: EC2Client, input: Input = {}): Promise<string[][]> {
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const out = await c.send(ec2, { ...input, ...(token ? { NextToken: token } : {}) });
    pages.push(c.idsOf(out));
    token = out.NextToken;
    if (pages.length > 1000) throw new Error('the pages never end');
  } while (token);
  return pages;
}

const sorted = (ids: readonly string[]): string[] => [...ids].sort();

describe('EC2 Describes on a large account', () => {
  const { ec2, sandbox } = setup(big);

  it('holds hundreds of each item the Describes list', () => {
    const state = sandbox.state().ec2;
    expect(Object.keys(state.instances)).toHaveLength(INSTANCES);
    expect(Object.keys(state.volumes)).toHaveLength(2 * INSTANCES);
    expect(Object.keys(state.snapshots)).toHaveLength(400);
    expect(Object.keys(state.securityGroups).length).toBeGreaterThanOrEqual(250);
    expect(Object.keys(state.networkAcls).length).toBeGreaterThanOrEqual(120);
  });

  describe.each(cases)('$name', (c) => {
    it('returns every item exactly once across pages of MaxResults, with NextToken only when there is more', async () => {
      const pages = await drain(c, ec2, { MaxResults: 37 });
      const expected = c.expected(sandbox);
      expect(pages.flat()).toHaveLength(expected.length);
      expect(sorted(pages.flat())).toEqual(sorted(expected));
      for (const page of pages.slice(0, -1)) expect(page).toHaveLength(37);
      expect(pages.at(-1)?.length).toBeGreaterThan(0);
      expect(pages).toHaveLength(Math.max(1, Math.ceil(expected.length / 37)));
    });

    it('returns every item in one page, with no NextToken, when no MaxResults is asked', async () => {
      const out = await c.send(ec2, {});
      expect(out.NextToken).toBeUndefined();
      expect(sorted(c.idsOf(out))).toEqual(sorted(c.expected(sandbox)));
    });

    it('refuses a MaxResults below 5 with InvalidParameterValue', async () => {
      const error = await errorOf(c.send(ec2, { MaxResults: 4 }));
      expect(error.name).toBe('InvalidParameterValue');
      expect(error.message).toBe(
        'Value ( 4 ) for parameter maxResults is invalid. Expecting a value greater than 5.',
      );
    });

    it(`${c.capsAtMax ? 'reads' : 'refuses'} a MaxResults above its maximum`, async () => {
      const asked = c.send(ec2, { MaxResults: c.max + 1 });
      if (c.capsAtMax) {
        const out = await asked;
        expect(c.idsOf(out)).toHaveLength(Math.min(c.max, c.expected(sandbox).length));
      } else {
        const error = await errorOf(asked);
        expect(error.name).toBe('InvalidParameterValue');
        expect(error.message).toBe(
          `Value ( ${c.max + 1} ) for parameter maxResults is invalid. Expecting a value less than or equal to ${c.max}.`,
        );
      }
    });

    it('refuses a made-up token and a token of another request', async () => {
      const forged = await errorOf(
        c.send(ec2, { NextToken: 'eyJjb21tYW5kIjoiRGVzY3JpYmUiLCJvZmZzZXQiOjV9' }),
      );
      expect(forged.name).toBe('InvalidParameterValue');
      expect(forged.message).toContain('for parameter NextToken is invalid');
      const other = cases.find((o) => o.name !== c.name && o.expected(sandbox).length > 5) as Case;
      const foreign = (await other.send(ec2, { MaxResults: 5 })).NextToken;
      expect(foreign).toBeDefined();
      expect((await errorOf(c.send(ec2, { NextToken: foreign }))).name).toBe('InvalidParameterValue');
    });

    it('bounds every page by pageCap even with no MaxResults', async () => {
      const capped = setup(big, { pageCap: 41 });
      const pages = await drain(c, capped.ec2);
      const expected = c.expected(capped.sandbox);
      for (const page of pages) expect(page.length).toBeLessThanOrEqual(41);
      expect(sorted(pages.flat())).toEqual(sorted(expected));
      expect(pages).toHaveLength(Math.max(1, Math.ceil(expected.length / 41)));
    });

    if (c.idsParam && c.missing) {
      const { idsParam, missing } = c;
      it('fails for an id that does not exist, as before', async () => {
        const known = c.expected(sandbox)[0] as string;
        const error = await errorOf(c.send(ec2, { [idsParam]: [known, missing.id] }));
        expect(error.name).toBe(missing.code);
        expect(error.message).toBe(missing.message);
      });

      it(`${c.exclusive ? 'refuses' : 'accepts'} MaxResults with ${idsParam}`, async () => {
        const ids = c.expected(sandbox).slice(0, 6);
        const asked = c.send(ec2, { [idsParam]: ids, MaxResults: 5 });
        if (c.exclusive) expect((await errorOf(asked)).name).toBe('InvalidParameterCombination');
        else expect(c.idsOf(await asked)).toHaveLength(5);
      });
    }
  });
});

describe('EC2 Describe tokens', () => {
  it('binds a token to the filters it was given for', async () => {
    const { ec2 } = setup(big);
    const Filters = [{ Name: 'instance-state-name', Values: ['running'] }];
    const first = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 5 }));
    expect(first.NextToken).toBeDefined();
    const error = await errorOf(ec2.send(new DescribeInstancesCommand({ NextToken: first.NextToken })));
    expect(error.name).toBe('InvalidParameterValue');
  });

  it('pages a filtered list: every stopped instance once, across pages', async () => {
    const { ec2 } = setup(big);
    const Filters = [{ Name: 'instance-state-name', Values: ['stopped'] }];
    const ids: string[] = [];
    let NextToken: string | undefined;
    do {
      const out = await ec2.send(new DescribeInstancesCommand({ Filters, MaxResults: 6, NextToken }));
      ids.push(...(out.Reservations ?? []).map((r) => r.Instances?.[0]?.InstanceId ?? ''));
      NextToken = out.NextToken;
    } while (NextToken);
    expect(ids).toEqual(Array.from({ length: INSTANCES / 10 }, (_, i) => `i-${pad(i * 10)}`));
  });

  it('pages ids by pageCap, since a caller of ids must follow NextToken too', async () => {
    const { ec2 } = setup(big, { pageCap: 2 });
    const InstanceIds = ['i-0001', 'i-0002', 'i-0003'];
    const first = await ec2.send(new DescribeInstancesCommand({ InstanceIds }));
    expect(first.Reservations).toHaveLength(2);
    const second = await ec2.send(new DescribeInstancesCommand({ InstanceIds, NextToken: first.NextToken }));
    expect(second.Reservations?.map((r) => r.Instances?.[0]?.InstanceId)).toEqual(['i-0003']);
    expect(second.NextToken).toBeUndefined();
  });
});
