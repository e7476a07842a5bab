/**
 * Every List and Describe of the simulated services but EC2 pages as its service does, on a large account:
 * following the token returns every item exactly once, in the service's order; a size out of the
 * documented range fails with the service's error; a made-up token, or one from another request, fails;
 * `pageCap` bounds every page; IAM says `IsTruncated` exactly when it gives a `Marker`.
 */
import {
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import { ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import { DescribeLoadBalancersCommand } from '@aws-sdk/client-elastic-load-balancing';
import { DescribeTargetGroupsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListMFADevicesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { ListAliasesCommand } from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { largeAccount } from '../../support/large-account.ts';
import { errorOf, setup } from './helpers.ts';

type Clients = ReturnType<typeof setup>;

/** One page as a test reads it: the items' ids, the token for the next page, and the raw answer. */
interface Read {
  readonly ids: string[];
  readonly next: string | undefined;
  readonly raw: Record<string, unknown>;
}

/** A List or Describe under test. */
interface Case {
  readonly name: string;
  /** Every id the command lists for this request, in the service's order. */
  readonly expected: readonly string[];
  readonly call: (c: Clients, size: number | undefined, token: string | undefined) => Promise<Read>;
  /** The same command for another request (another user, resource, filter...): its tokens are not this one's. */
  readonly other: (c: Clients, token: string | undefined) => Promise<Read>;
  readonly sizes: { readonly min: number; readonly max: number; readonly default: number };
  readonly sizeError: string;
  readonly tokenError: string;
  /** IAM: `IsTruncated` with every `Marker`. */
  readonly truncatedFlag?: 'IsTruncated' | 'Truncated';
}

const large = largeAccount();
const plain = setup(large.seed);
const capped = setup(large.seed, { pageCap: 7 });

const read = (raw: object, list: string, id: (item: never) => string | undefined, next: string): Read => {
  const record = raw as Record<string, unknown>;
  const items = (record[list] ?? []) as never[];
  return { ids: items.map((item) => id(item) ?? ''), next: record[next] as string | undefined, raw: record };
};

const iamCase = (
  name: string,
  expected: readonly string[],
  send: (c: Clients, who: string, size: number | undefined, token: string | undefined) => Promise<object>,
  list: string,
  id: (item: never) => string | undefined,
  owner: string,
  otherOwner: string,
): Case => ({
  name,
  expected,
  call: async (c, size, token) => read(await send(c, owner, size, token), list, id, 'Marker'),
  other: async (c, token) => read(await send(c, otherOwner, undefined, token), list, id, 'Marker'),
  sizes: { min: 1, max: 1000, default: 100 },
  sizeError: 'ValidationError',
  tokenError: 'ValidationError',
  truncatedFlag: 'IsTruncated',
});

const policyNames = large.user.policyArns.map((arn) => arn.split('/').pop() ?? '');
const inlineNames = policyNames.map((_, i) => `inline-${String(i).padStart(4, '0')}`);
const extraSeed = {
  ...large.seed,
  iam: {
    ...large.seed.iam,
    users: [
      ...(large.seed.iam?.users ?? []),
      { name: 'other-user', accessKeys: [{ id: 'AKIAOTHER00000000000' }] },
    ],
    roles: [...(large.seed.iam?.roles ?? []), { name: 'other-role' }],
  },
};
const withOthers = { plain: setup(extraSeed), capped: setup(extraSeed, { pageCap: 7 }) };

const cases: Case[] = [
  iamCase(
    'IAM ListAccessKeys',
    large.user.accessKeyIds,
    (c, UserName, MaxItems, Marker) => c.iam.send(new ListAccessKeysCommand({ UserName, MaxItems, Marker })),
    'AccessKeyMetadata',
    (k: { AccessKeyId?: string }) => k.AccessKeyId,
    'large-user',
    'other-user',
  ),
  iamCase(
    'IAM ListMFADevices',
    Array.from({ length: 8 }, (_, i) => `arn:aws:iam::123456789012:mfa/large-${i}`),
    (c, UserName, MaxItems, Marker) => c.iam.send(new ListMFADevicesCommand({ UserName, MaxItems, Marker })),
    'MFADevices',
    (d: { SerialNumber?: string }) => d.SerialNumber,
    'large-user',
    'other-user',
  ),
  iamCase(
    'IAM ListUserPolicies',
    inlineNames,
    (c, UserName, MaxItems, Marker) =>
      c.iam.send(new ListUserPoliciesCommand({ UserName, MaxItems, Marker })),
    'PolicyNames',
    (n: string) => n,
    'large-user',
    'other-user',
  ),
  iamCase(
    'IAM ListAttachedUserPolicies',
    policyNames,
    (c, UserName, MaxItems, Marker) =>
      c.iam.send(new ListAttachedUserPoliciesCommand({ UserName, MaxItems, Marker })),
    'AttachedPolicies',
    (p: { PolicyName?: string }) => p.PolicyName,
    'large-user',
    'other-user',
  ),
  iamCase(
    'IAM ListRolePolicies',
    inlineNames,
    (c, RoleName, MaxItems, Marker) =>
      c.iam.send(new ListRolePoliciesCommand({ RoleName, MaxItems, Marker })),
    'PolicyNames',
    (n: string) => n,
    'large-role',
    'other-role',
  ),
  iamCase(
    'IAM ListAttachedRolePolicies',
    policyNames,
    (c, RoleName, MaxItems, Marker) =>
      c.iam.send(new ListAttachedRolePoliciesCommand({ RoleName, MaxItems, Marker })),
    'AttachedPolicies',
    (p: { PolicyName?: string }) => p.PolicyName,
    'large-role',
    'other-role',
  ),
  iamCase(
    'IAM ListInstanceProfilesForRole',
    large.role.profileNames,
    (c, RoleName, MaxItems, Marker) =>
      c.iam.send(new ListInstanceProfilesForRoleCommand({ RoleName, MaxItems, Marker })),
    'InstanceProfiles',
    (p: { InstanceProfileName?: string }) => p.InstanceProfileName,
    'large-role',
    'other-role',
  ),
  {
    name: 'Backup ListRecoveryPointsByResource',
    expected: large.points.map((p) => p.arn),
    call: async (c, MaxResults, NextToken) =>
      read(
        await c.backup.send(
          new ListRecoveryPointsByResourceCommand({ ResourceArn: large.subject.arn, MaxResults, NextToken }),
        ),
        'RecoveryPoints',
        (p: { RecoveryPointArn?: string }) => p.RecoveryPointArn,
        'NextToken',
      ),
    other: async (c, NextToken) =>
      read(
        await c.backup.send(
          new ListRecoveryPointsByResourceCommand({
            ResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-00000000000000001',
            NextToken,
          }),
        ),
        'RecoveryPoints',
        (p: { RecoveryPointArn?: string }) => p.RecoveryPointArn,
        'NextToken',
      ),
    sizes: { min: 1, max: 1000, default: 1000 },
    sizeError: 'InvalidParameterValueException',
    tokenError: 'InvalidParameterValueException',
  },
  {
    name: 'ELBv2 DescribeTargetGroups',
    expected: [...large.targetGroupNames],
    call: async (c, PageSize, Marker) =>
      read(
        await c.elbv2.send(new DescribeTargetGroupsCommand({ PageSize, Marker })),
        'TargetGroups',
        (g: { TargetGroupName?: string }) => g.TargetGroupName,
        'NextMarker',
      ),
    other: async (c, Marker) =>
      read(
        await c.elbv2.send(new DescribeTargetGroupsCommand({ Names: ['tg-large-0001'], Marker })),
        'TargetGroups',
        (g: { TargetGroupName?: string }) => g.TargetGroupName,
        'NextMarker',
      ),
    sizes: { min: 1, max: 400, default: 400 },
    sizeError: 'ValidationError',
    tokenError: 'ValidationError',
  },
  {
    name: 'ELB DescribeLoadBalancers',
    expected: [...large.loadBalancerNames],
    call: async (c, PageSize, Marker) =>
      read(
        await c.elb.send(new DescribeLoadBalancersCommand({ PageSize, Marker })),
        'LoadBalancerDescriptions',
        (lb: { LoadBalancerName?: string }) => lb.LoadBalancerName,
        'NextMarker',
      ),
    other: async (c, Marker) =>
      read(
        await c.elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['lb-large-0001'], Marker })),
        'LoadBalancerDescriptions',
        (lb: { LoadBalancerName?: string }) => lb.LoadBalancerName,
        'NextMarker',
      ),
    sizes: { min: 1, max: 400, default: 400 },
    sizeError: 'ValidationError',
    tokenError: 'ValidationError',
  },
  {
    name: 'Auto Scaling DescribeAutoScalingInstances',
    // Groups in name order, each group's members in the order they joined.
    expected: large.autoScalingGroupNames.flatMap((_, g) =>
      large.autoScalingInstanceIds.filter((__, i) => i % large.autoScalingGroupNames.length === g),
    ),
    call: async (c, MaxRecords, NextToken) =>
      read(
        await c.asg.send(new DescribeAutoScalingInstancesCommand({ MaxRecords, NextToken })),
        'AutoScalingInstances',
        (i: { InstanceId?: string }) => i.InstanceId,
        'NextToken',
      ),
    other: async (c, NextToken) =>
      read(
        await c.asg.send(
          new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-00000000000000000'], NextToken }),
        ),
        'AutoScalingInstances',
        (i: { InstanceId?: string }) => i.InstanceId,
        'NextToken',
      ),
    sizes: { min: 1, max: 50, default: 50 },
    sizeError: 'ValidationError',
    tokenError: 'InvalidNextToken',
  },
  {
    name: 'Auto Scaling DescribeAutoScalingGroups',
    expected: [...large.autoScalingGroupNames],
    call: async (c, MaxRecords, NextToken) =>
      read(
        await c.asg.send(
          new DescribeAutoScalingGroupsCommand({
            Filters: [{ Name: 'tag:team', Values: ['large'] }],
            MaxRecords,
            NextToken,
          }),
        ),
        'AutoScalingGroups',
        (g: { AutoScalingGroupName?: string }) => g.AutoScalingGroupName,
        'NextToken',
      ),
    other: async (c, NextToken) =>
      read(
        await c.asg.send(new DescribeAutoScalingGroupsCommand({ NextToken })),
        'AutoScalingGroups',
        (g: { AutoScalingGroupName?: string }) => g.AutoScalingGroupName,
        'NextToken',
      ),
    sizes: { min: 1, max: 100, default: 50 },
    sizeError: 'ValidationError',
    tokenError: 'InvalidNextToken',
  },
  {
    name: 'KMS ListAliases',
    expected: [...large.aliasNames],
    call: async (c, Limit, Marker) =>
      read(
        await c.kms.send(new ListAliasesCommand({ Limit, Marker })),
        'Aliases',
        (a: { AliasName?: string }) => a.AliasName,
        'NextMarker',
      ),
    other: async (c, Marker) =>
      read(
        await c.kms.send(new ListAliasesCommand({ KeyId: '00000000-0000-4000-8000-000000000001', Marker })),
        'Aliases',
        (a: { AliasName?: string }) => a.AliasName,
        'NextMarker',
      ),
    sizes: { min: 1, max: 100, default: 50 },
    sizeError: 'ValidationException',
    tokenError: 'InvalidMarkerException',
    truncatedFlag: 'Truncated',
  },
];

/** Follows the token from the first page to the last; returns every page. */
async function allPages(c: Clients, one: Case, size?: number): Promise<Read[]> {
  const pages: Read[] = [];
  let token: string | undefined;
  do {
    const page = await one.call(c, size, token);
    pages.push(page);
    token = page.next;
    if (pages.length > 10_000) throw new Error(`${one.name}: the token never ends`);
  } while (token !== undefined);
  return pages;
}

describe.each(cases)('$name', (one) => {
  const clients = one.name.startsWith('IAM') ? withOthers : { plain, capped };

  it('returns every item exactly once, in order, following the token from the default page size', async () => {
    expect(one.expected.length).toBeGreaterThan(1);
    const pages = await allPages(clients.plain, one);
    expect(pages.flatMap((p) => p.ids)).toEqual(one.expected);
    for (const p of pages) expect(p.ids.length).toBeLessThanOrEqual(one.sizes.default);
    if (one.expected.length > one.sizes.default) expect(pages.length).toBeGreaterThan(1);
  });

  it('returns every item exactly once with a page size that does not divide the count', async () => {
    const size = one.expected.length <= 10 ? one.sizes.min : Math.min(one.sizes.max, 37);
    const pages = await allPages(clients.plain, one, size);
    expect(pages.flatMap((p) => p.ids)).toEqual(one.expected);
    expect(pages).toHaveLength(Math.ceil(one.expected.length / size));
  });

  it('holds at most pageCap items a page, even at the largest page size, and still returns every item', async () => {
    const pages = await allPages(clients.capped, one, one.sizes.max);
    expect(pages.flatMap((p) => p.ids)).toEqual(one.expected);
    expect(pages).toHaveLength(Math.ceil(one.expected.length / 7));
    for (const p of pages) expect(p.ids.length).toBeLessThanOrEqual(7);
  });

  it('refuses a page size below or above the documented range with the service error', async () => {
    for (const size of [one.sizes.min - 1, one.sizes.max + 1]) {
      expect((await errorOf(one.call(clients.plain, size, undefined))).name).toBe(one.sizeError);
    }
    const edge = await one.call(clients.plain, one.sizes.max, undefined);
    expect(edge.ids.length).toBe(Math.min(one.sizes.max, one.expected.length));
  });

  it('refuses a made-up token and a token of another request', async () => {
    expect((await errorOf(one.call(clients.plain, undefined, 'forged'))).name).toBe(one.tokenError);
    const forgedJson = Buffer.from(JSON.stringify({ command: 'X', scope: 'y', offset: 1 })).toString(
      'base64url',
    );
    expect((await errorOf(one.call(clients.plain, undefined, forgedJson))).name).toBe(one.tokenError);
    const first = await one.call(clients.plain, one.sizes.min, undefined);
    expect(first.next).toBeDefined();
    expect((await errorOf(one.other(clients.plain, first.next))).name).toBe(one.tokenError);
    // The token itself is fine for the request it came from.
    expect((await one.call(clients.plain, one.sizes.min, first.next)).ids).toEqual(one.expected.slice(1, 2));
  });

  if (one.truncatedFlag !== undefined) {
    const flag = one.truncatedFlag;
    it(`says ${flag} exactly when it gives a marker`, async () => {
      const pages = [
        ...(await allPages(clients.capped, one)),
        ...(await allPages(clients.plain, one)),
        ...(one.expected.length <= 10 ? await allPages(clients.plain, one, one.sizes.min) : []),
      ];
      expect(pages.some((p) => p.next !== undefined)).toBe(true);
      for (const p of pages) expect(p.raw[flag]).toBe(p.next !== undefined);
    });
  }
});

describe('a token of one command', () => {
  it('is refused by another command of the same service', async () => {
    const { next } = (await cases[0]?.call(withOthers.plain, 1, undefined)) ?? { next: undefined };
    expect(next).toBeDefined();
    const error = await errorOf(
      withOthers.plain.iam.send(new ListMFADevicesCommand({ UserName: 'large-user', Marker: next })),
    );
    expect(error.name).toBe('ValidationError');
  });
});

describe('ELBv2 DescribeTargetGroups by name or ARN', () => {
  it('fails with TargetGroupNotFound when one name does not exist', async () => {
    const error = await errorOf(
      plain.elbv2.send(new DescribeTargetGroupsCommand({ Names: ['tg-large-0001', 'tg-missing'] })),
    );
    expect(error.name).toBe('TargetGroupNotFoundException');
  });

  it('pages the groups it names, in the order asked', async () => {
    const names = ['tg-large-0003', 'tg-large-0001', 'tg-large-0002'];
    const first = await capped.elbv2.send(new DescribeTargetGroupsCommand({ Names: names, PageSize: 2 }));
    expect(first.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(names.slice(0, 2));
    const second = await capped.elbv2.send(
      new DescribeTargetGroupsCommand({ Names: names, PageSize: 2, Marker: first.NextMarker }),
    );
    expect(second.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(names.slice(2));
    expect(second.NextMarker).toBeUndefined();
  });
});

describe('Auto Scaling DescribeAutoScalingGroups filters', () => {
  it('keeps the groups a tag filter matches and refuses an unknown filter', async () => {
    const one = await plain.asg.send(
      new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'tag:index', Values: ['1'] }] }),
    );
    expect(one.AutoScalingGroups?.map((g) => g.AutoScalingGroupName)).toEqual(['asg-large-1']);
    const error = await errorOf(
      plain.asg.send(new DescribeAutoScalingGroupsCommand({ Filters: [{ Name: 'colour', Values: ['x'] }] })),
    );
    expect(error.name).toBe('ValidationError');
  });
});
