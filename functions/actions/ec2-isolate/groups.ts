/**
 * The two security groups isolation uses, one of each per VPC, created once and reused:
 * - `cordon-isolation-<vpc>` (tag `cordon:isolation=true`): no rules at all, so nothing new gets in or out;
 * - `cordon-untrack-<vpc>` (tag `cordon:isolation=untrack`): all traffic in and out from 0.0.0.0/0 and ::/0.
 *   With such rules in both directions, flows are not tracked
 *   (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html#untracked-connections),
 *   so that the isolation group that follows cuts them at once, as AWS's AWSSupport-ContainEC2Instance
 *   runbook does (https://docs.aws.amazon.com/systems-manager-automation-runbooks/latest/userguide/AWSSupport-ContainEC2Instance.html).
 */
import {
  AuthorizeSecurityGroupEgressCommand,
  AuthorizeSecurityGroupIngressCommand,
  CreateSecurityGroupCommand,
  DescribeSecurityGroupsCommand,
  type Filter,
  type IpPermission,
  RevokeSecurityGroupEgressCommand,
  RevokeSecurityGroupIngressCommand,
  type SecurityGroup,
} from '@aws-sdk/client-ec2';
import { awsCall } from '#shared/aws';
import { allItems, nextToken } from '#shared/pages';
import { type CallPlan, type Ec2Sender, ec2Mutation, isAwsError, TAG } from '../ec2-common/instance.ts';

/** `isolation`: no rules; `untrack`: all traffic both ways. */
export type GroupKind = 'isolation' | 'untrack';

/** The name of a VPC's group of a kind: `cordon-isolation-vpc-...`. */
export const groupName = (kind: GroupKind, vpcId: string): string => `cordon-${kind}-${vpcId}`;

/** The cordon groups found in some VPCs, by `<kind>:<vpc>`. */
export type FoundGroups = Map<string, SecurityGroup>;

const key = (kind: GroupKind, vpcId: string): string => `${kind}:${vpcId}`;

/** The groups a DescribeSecurityGroups with these filters lists, every page read. */
function describeGroups(ec2: Ec2Sender, doing: string, Filters: Filter[]): Promise<SecurityGroup[]> {
  return allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () => ec2.send(new DescribeSecurityGroupsCommand({ Filters, NextToken }))),
    next: nextToken,
    items: (page) => page.SecurityGroups,
  });
}

/** Finds the cordon groups of the given VPCs with one DescribeSecurityGroups listing (every page of it). */
export async function findGroups(ec2: Ec2Sender, vpcIds: readonly string[]): Promise<FoundGroups> {
  const names = vpcIds.flatMap((vpc) => [groupName('isolation', vpc), groupName('untrack', vpc)]);
  const groups = await describeGroups(ec2, `ec2:DescribeSecurityGroups ${vpcIds.join(',')}`, [
    { Name: 'vpc-id', Values: [...vpcIds] },
    { Name: 'group-name', Values: names },
  ]);
  const found: FoundGroups = new Map();
  for (const group of groups) {
    for (const kind of ['isolation', 'untrack'] as const) {
      if (group.VpcId && group.GroupName === groupName(kind, group.VpcId))
        found.set(key(kind, group.VpcId), group);
    }
  }
  return found;
}

/** The VPC's group of a kind, if the lookup found one. */
export function foundGroup(found: FoundGroups, kind: GroupKind, vpcId: string): SecurityGroup | undefined {
  return found.get(key(kind, vpcId));
}

const ALL_V4 = '0.0.0.0/0';
const ALL_V6 = '::/0';

/** The CIDRs of 0.0.0.0/0 and ::/0 that an all-traffic (`-1`) permission does not yet cover. */
function missingAllTraffic(permissions: readonly IpPermission[] | undefined): { v4: boolean; v6: boolean } {
  const all = (permissions ?? []).filter((p) => p.IpProtocol === '-1');
  return {
    v4: !all.some((p) => p.IpRanges?.some((r) => r.CidrIp === ALL_V4)),
    v6: !all.some((p) => p.Ipv6Ranges?.some((r) => r.CidrIpv6 === ALL_V6)),
  };
}

function allTraffic(missing: { v4: boolean; v6: boolean }): IpPermission[] {
  return [
    {
      IpProtocol: '-1',
      ...(missing.v4 ? { IpRanges: [{ CidrIp: ALL_V4, Description: 'cordon: untrack flows' }] } : {}),
      ...(missing.v6 ? { Ipv6Ranges: [{ CidrIpv6: ALL_V6, Description: 'cordon: untrack flows' }] } : {}),
    },
  ];
}

/** The parts of described permissions that are not all traffic from 0.0.0.0/0 or ::/0, stripped for Revoke. */
function extraRules(permissions: readonly IpPermission[] | undefined): IpPermission[] {
  const extra: IpPermission[] = [];
  for (const p of permissions ?? []) {
    if (p.IpProtocol !== '-1') {
      extra.push(p);
      continue;
    }
    const rest: IpPermission = {
      IpProtocol: '-1',
      IpRanges: (p.IpRanges ?? []).filter((r) => r.CidrIp !== ALL_V4),
      Ipv6Ranges: (p.Ipv6Ranges ?? []).filter((r) => r.CidrIpv6 !== ALL_V6),
      PrefixListIds: p.PrefixListIds ?? [],
      UserIdGroupPairs: p.UserIdGroupPairs ?? [],
    };
    if (
      (rest.IpRanges?.length ?? 0) + (rest.Ipv6Ranges?.length ?? 0) + (rest.PrefixListIds?.length ?? 0) > 0 ||
      (rest.UserIdGroupPairs?.length ?? 0) > 0
    )
      extra.push(rest);
  }
  return strip(extra);
}

/** True when a described group has exactly the rules of its kind (what {@link ensureGroup} would leave). */
export function hasExactRules(group: SecurityGroup, kind: GroupKind): boolean {
  if (kind === 'isolation') {
    return (group.IpPermissions?.length ?? 0) === 0 && (group.IpPermissionsEgress?.length ?? 0) === 0;
  }
  const complete = (p: readonly IpPermission[] | undefined) => {
    const missing = missingAllTraffic(p);
    return !missing.v4 && !missing.v6 && extraRules(p).length === 0;
  };
  return complete(group.IpPermissions) && complete(group.IpPermissionsEgress);
}

/** True when a described group is the VPC's Cordon group of that kind: its name and its VPC. */
export function isCordonGroup(group: SecurityGroup, kind: GroupKind, vpcId: string): boolean {
  return group.VpcId === vpcId && group.GroupName === groupName(kind, vpcId);
}

/**
 * Describes groups by id with the `group-id` filter (every page), so that a deleted group is missing from
 * the answer instead of failing the call.
 */
export async function describeGroupsById(
  ec2: Ec2Sender,
  groupIds: readonly string[],
): Promise<Map<string, SecurityGroup>> {
  const groups = await describeGroups(ec2, `ec2:DescribeSecurityGroups ${groupIds.join(',')}`, [
    { Name: 'group-id', Values: [...groupIds] },
  ]);
  return new Map(groups.flatMap((g) => (g.GroupId ? [[g.GroupId, g] as const] : [])));
}

/** Only what the rules need of a described permission (Describe returns empty lists that Revoke ignores). */
function strip(permissions: readonly IpPermission[]): IpPermission[] {
  return permissions.map((p) => ({
    IpProtocol: p.IpProtocol,
    ...(p.FromPort === undefined ? {} : { FromPort: p.FromPort, ToPort: p.ToPort }),
    ...(p.IpRanges?.length ? { IpRanges: p.IpRanges.map((r) => ({ CidrIp: r.CidrIp })) } : {}),
    ...(p.Ipv6Ranges?.length ? { Ipv6Ranges: p.Ipv6Ranges.map((r) => ({ CidrIpv6: r.CidrIpv6 })) } : {}),
    ...(p.PrefixListIds?.length
      ? { PrefixListIds: p.PrefixListIds.map((r) => ({ PrefixListId: r.PrefixListId })) }
      : {}),
    ...(p.UserIdGroupPairs?.length
      ? { UserIdGroupPairs: p.UserIdGroupPairs.map((r) => ({ GroupId: r.GroupId })) }
      : {}),
  }));
}

/** A group that was made (or found) ready; `groupId` is undefined for a group a dry run would create. */
export interface EnsuredGroup {
  readonly groupId: string | undefined;
  readonly created: boolean;
}

async function createGroup(
  ec2: Ec2Sender,
  plan: CallPlan,
  kind: GroupKind,
  vpcId: string,
): Promise<{ groupId: string | undefined; permissions: SecurityGroup | undefined }> {
  const name = groupName(kind, vpcId);
  try {
    const out = await ec2Mutation(plan, `ec2:CreateSecurityGroup ${name}`, (DryRun) =>
      ec2.send(
        new CreateSecurityGroupCommand({
          DryRun,
          GroupName: name,
          VpcId: vpcId,
          Description:
            kind === 'isolation'
              ? 'Cordon isolation: no inbound or outbound rules'
              : 'Cordon untrack window: all traffic, so that flows become untracked',
          TagSpecifications: [
            {
              ResourceType: 'security-group',
              Tags: [
                { Key: TAG.isolation, Value: kind === 'isolation' ? 'true' : 'untrack' },
                { Key: 'Name', Value: name },
              ],
            },
          ],
        }),
      ),
    );
    // A new group allows all outbound IPv4 traffic and nothing inbound
    // (https://docs.aws.amazon.com/vpc/latest/userguide/creating-security-groups.html).
    const groupId = out?.GroupId;
    return {
      groupId,
      permissions: {
        GroupId: groupId,
        IpPermissions: [],
        IpPermissionsEgress: [{ IpProtocol: '-1', IpRanges: [{ CidrIp: ALL_V4 }] }],
      },
    };
  } catch (error) {
    // Another run created it between our lookup and our create: use theirs.
    if (!isAwsError(error, 'InvalidGroup.Duplicate')) throw error;
    const again = await findGroups(ec2, [vpcId]);
    const group = foundGroup(again, kind, vpcId);
    if (!group?.GroupId) throw error;
    return { groupId: group.GroupId, permissions: group };
  }
}

/**
 * Makes sure the VPC's group of `kind` exists with exactly its rules, creating it or fixing its rules
 * when needed; a group found as it should be costs no call.
 */
export async function ensureGroup(
  ec2: Ec2Sender,
  plan: CallPlan,
  found: FoundGroups,
  kind: GroupKind,
  vpcId: string,
): Promise<EnsuredGroup> {
  const existing = foundGroup(found, kind, vpcId);
  let groupId = existing?.GroupId;
  let group = existing;
  let created = false;
  if (!groupId) {
    const made = await createGroup(ec2, plan, kind, vpcId);
    groupId = made.groupId;
    group = made.permissions;
    created = true;
  }
  const name = groupName(kind, vpcId);
  if (!groupId) {
    // A dry run of a group that does not exist yet: its rule calls cannot be checked, only reported.
    plan.calls.push(
      ...(kind === 'isolation'
        ? [`ec2:RevokeSecurityGroupEgress ${name}`]
        : [`ec2:AuthorizeSecurityGroupIngress ${name}`, `ec2:AuthorizeSecurityGroupEgress ${name}`]),
    );
    return { groupId: undefined, created };
  }
  const id = groupId;
  if (kind === 'isolation') {
    const ingress = group?.IpPermissions ?? [];
    const egress = group?.IpPermissionsEgress ?? [];
    if (ingress.length > 0) {
      await ec2Mutation(plan, `ec2:RevokeSecurityGroupIngress ${id}`, (DryRun) =>
        ec2.send(
          new RevokeSecurityGroupIngressCommand({ DryRun, GroupId: id, IpPermissions: strip(ingress) }),
        ),
      );
    }
    if (egress.length > 0) {
      await ec2Mutation(plan, `ec2:RevokeSecurityGroupEgress ${id}`, (DryRun) =>
        ec2.send(new RevokeSecurityGroupEgressCommand({ DryRun, GroupId: id, IpPermissions: strip(egress) })),
      );
    }
  } else {
    // Anything besides all traffic from 0.0.0.0/0 and ::/0 is not the group's: revoked, so that the group
    // has exactly its rules (an extra rule on an allow-all group opens nothing more, but is not Cordon's).
    const extraIn = extraRules(group?.IpPermissions);
    const extraOut = extraRules(group?.IpPermissionsEgress);
    if (extraIn.length > 0) {
      await ec2Mutation(plan, `ec2:RevokeSecurityGroupIngress ${id}`, (DryRun) =>
        ec2.send(new RevokeSecurityGroupIngressCommand({ DryRun, GroupId: id, IpPermissions: extraIn })),
      );
    }
    if (extraOut.length > 0) {
      await ec2Mutation(plan, `ec2:RevokeSecurityGroupEgress ${id}`, (DryRun) =>
        ec2.send(new RevokeSecurityGroupEgressCommand({ DryRun, GroupId: id, IpPermissions: extraOut })),
      );
    }
    const ingress = missingAllTraffic(group?.IpPermissions);
    const egress = missingAllTraffic(group?.IpPermissionsEgress);
    if (ingress.v4 || ingress.v6) {
      await ec2Mutation(plan, `ec2:AuthorizeSecurityGroupIngress ${id}`, (DryRun) =>
        ec2.send(
          new AuthorizeSecurityGroupIngressCommand({
            DryRun,
            GroupId: id,
            IpPermissions: allTraffic(ingress),
          }),
        ),
      );
    }
    if (egress.v4 || egress.v6) {
      await ec2Mutation(plan, `ec2:AuthorizeSecurityGroupEgress ${id}`, (DryRun) =>
        ec2.send(
          new AuthorizeSecurityGroupEgressCommand({ DryRun, GroupId: id, IpPermissions: allTraffic(egress) }),
        ),
      );
    }
  }
  return { groupId: id, created };
}

/** Fixes the rules of a described group of a kind ({@link ensureGroup} on that group alone). */
export function fixGroup(
  ec2: Ec2Sender,
  plan: CallPlan,
  group: SecurityGroup,
  kind: GroupKind,
  vpcId: string,
): Promise<EnsuredGroup> {
  return ensureGroup(ec2, plan, new Map([[key(kind, vpcId), group]]), kind, vpcId);
}

/** What preparing one VPC found and did. */
export interface PreparedVpc {
  readonly isolation: string;
  readonly untrack: string;
  /** The mutating calls made: none when both groups were there with exactly their rules. */
  readonly calls: readonly string[];
  readonly created: readonly string[];
}

/** At most this many VPCs per lookup: two group names each, and EC2 takes up to 200 values per filter. */
const VPCS_PER_LOOKUP = 100;

/**
 * Finds or creates both groups of each VPC with exactly their rules, fixing any that changed: what
 * `cordon prepare` does before an incident, so that an isolation looks nothing up and creates nothing.
 * Idempotent: a second run makes no mutating call. One DescribeSecurityGroups listing per 100 VPCs.
 */
export async function prepareGroups(
  ec2: Ec2Sender,
  vpcIds: readonly string[],
): Promise<Record<string, PreparedVpc>> {
  const unique = [...new Set(vpcIds)];
  const out: Record<string, PreparedVpc> = {};
  for (let i = 0; i < unique.length; i += VPCS_PER_LOOKUP) {
    const chunk = unique.slice(i, i + VPCS_PER_LOOKUP);
    const found = await findGroups(ec2, chunk);
    for (const vpc of chunk) {
      const plan: CallPlan = { dryRun: false, calls: [] };
      const created: string[] = [];
      const ids: Partial<Record<GroupKind, string>> = {};
      for (const kind of ['isolation', 'untrack'] as const) {
        const ensured = await ensureGroup(ec2, plan, found, kind, vpc);
        if (!ensured.groupId) throw new Error(`${groupName(kind, vpc)}: no group id after creating it`);
        if (ensured.created) created.push(ensured.groupId);
        ids[kind] = ensured.groupId;
      }
      out[vpc] = { isolation: ids.isolation ?? '', untrack: ids.untrack ?? '', calls: plan.calls, created };
    }
  }
  return out;
}

/** {@link prepareGroups}, returning only the ids: what `settings.ec2.isolationGroups` takes. */
export async function prepareIsolationGroups(
  ec2: Ec2Sender,
  vpcIds: readonly string[],
): Promise<Record<string, { isolation: string; untrack: string }>> {
  const prepared = await prepareGroups(ec2, vpcIds);
  return Object.fromEntries(
    Object.entries(prepared).map(([vpc, p]) => [vpc, { isolation: p.isolation, untrack: p.untrack }]),
  );
}
