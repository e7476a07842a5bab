/** Security group rules: AWS's `IpPermissions` split into single-source rules, authorized and revoked. */
import type {
  AuthorizeSecurityGroupEgressCommandInput,
  AuthorizeSecurityGroupIngressCommandInput,
  AuthorizeSecurityGroupIngressCommandOutput,
  IpPermission,
  RevokeSecurityGroupEgressCommandInput,
  RevokeSecurityGroupIngressCommandInput,
  RevokeSecurityGroupIngressCommandOutput,
} from '@aws-sdk/client-ec2';
import type { CallContext, Out } from '../context.ts';
import { fail } from '../context.ts';
import type { SecurityGroupRuleState } from '../state.ts';
import { newId } from '../state.ts';
import { groupOrFail, requireDefined } from './lookups.ts';
import { permissionsOf } from './shapes.ts';

/** Splits `IpPermissions` into single-source rules. */
export function rulesOf(
  ctx: CallContext,
  permissions: readonly IpPermission[] | undefined,
  egress: boolean,
): Omit<SecurityGroupRuleState, 'ruleId'>[] {
  const rules: Omit<SecurityGroupRuleState, 'ruleId'>[] = [];
  for (const p of permissions ?? []) {
    const protocol = requireDefined(ctx, p.IpProtocol, 'IpProtocol');
    const base = {
      egress,
      ipProtocol: protocol,
      ...(protocol === '-1' || p.FromPort === undefined
        ? {}
        : { fromPort: p.FromPort, toPort: p.ToPort ?? p.FromPort }),
    };
    const withDescription = (d: string | undefined) => (d ? { description: d } : {});
    for (const r of p.IpRanges ?? [])
      rules.push({ ...base, cidrIpv4: r.CidrIp, ...withDescription(r.Description) });
    for (const r of p.Ipv6Ranges ?? [])
      rules.push({ ...base, cidrIpv6: r.CidrIpv6, ...withDescription(r.Description) });
    for (const r of p.PrefixListIds ?? []) {
      rules.push({ ...base, prefixListId: r.PrefixListId, ...withDescription(r.Description) });
    }
    for (const r of p.UserIdGroupPairs ?? []) {
      const referenced = groupOrFail(ctx, r.GroupId, r.GroupName);
      rules.push({ ...base, referencedGroupId: referenced.groupId, ...withDescription(r.Description) });
    }
  }
  return rules;
}

export const sameRule = (
  a: Omit<SecurityGroupRuleState, 'ruleId'>,
  b: Omit<SecurityGroupRuleState, 'ruleId'>,
): boolean =>
  a.egress === b.egress &&
  a.ipProtocol === b.ipProtocol &&
  a.fromPort === b.fromPort &&
  a.toPort === b.toPort &&
  a.cidrIpv4 === b.cidrIpv4 &&
  a.cidrIpv6 === b.cidrIpv6 &&
  a.referencedGroupId === b.referencedGroupId &&
  a.prefixListId === b.prefixListId;

/** What AuthorizeSecurityGroup* and RevokeSecurityGroup* both say of a rule they changed. */
function ruleShape(groupId: string, r: SecurityGroupRuleState) {
  return {
    SecurityGroupRuleId: r.ruleId,
    GroupId: groupId,
    IsEgress: r.egress,
    IpProtocol: r.ipProtocol,
    FromPort: r.fromPort ?? -1,
    ToPort: r.toPort ?? -1,
    ...(r.cidrIpv4 ? { CidrIpv4: r.cidrIpv4 } : {}),
    ...(r.cidrIpv6 ? { CidrIpv6: r.cidrIpv6 } : {}),
  };
}

export function authorize(
  ctx: CallContext,
  input: AuthorizeSecurityGroupIngressCommandInput | AuthorizeSecurityGroupEgressCommandInput,
  egress: boolean,
): Out<AuthorizeSecurityGroupIngressCommandOutput> {
  const group = groupOrFail(ctx, input.GroupId, 'GroupName' in input ? input.GroupName : undefined);
  let permissions = input.IpPermissions;
  if (!permissions && 'IpProtocol' in input && input.IpProtocol !== undefined) {
    permissions = [
      {
        IpProtocol: input.IpProtocol,
        FromPort: input.FromPort,
        ToPort: input.ToPort,
        ...(input.CidrIp ? { IpRanges: [{ CidrIp: input.CidrIp }] } : {}),
      },
    ];
  }
  const added: SecurityGroupRuleState[] = [];
  for (const rule of rulesOf(ctx, permissions, egress)) {
    if (group.rules.some((existing) => sameRule(existing, rule)) || added.some((r) => sameRule(r, rule))) {
      fail(
        ctx,
        'InvalidPermission.Duplicate',
        `the specified rule "peer: ${rule.cidrIpv4 ?? rule.cidrIpv6 ?? rule.referencedGroupId ?? rule.prefixListId}, ${rule.ipProtocol.toUpperCase()}, from port: ${rule.fromPort}, to port: ${rule.toPort}, ALLOW" already exists`,
      );
    }
    added.push({ ...rule, ruleId: newId(ctx.state, 'sgr') });
  }
  group.rules.push(...added);
  return {
    Return: true,
    SecurityGroupRules: added.map((r) => ({
      ...ruleShape(group.groupId, r),
      GroupOwnerId: ctx.state.accountId,
      ...(r.referencedGroupId
        ? { ReferencedGroupInfo: { GroupId: r.referencedGroupId, UserId: ctx.state.accountId } }
        : {}),
      ...(r.description ? { Description: r.description } : {}),
    })),
  };
}

/**
 * Rules that do not exist are not an error: AWS returns them in `UnknownIpPermissions`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_RevokeSecurityGroupIngress.html).
 */
export function revoke(
  ctx: CallContext,
  input: RevokeSecurityGroupIngressCommandInput | RevokeSecurityGroupEgressCommandInput,
  egress: boolean,
): Out<RevokeSecurityGroupIngressCommandOutput> {
  const group = groupOrFail(ctx, input.GroupId, 'GroupName' in input ? input.GroupName : undefined);
  const revokedIds = new Set(input.SecurityGroupRuleIds ?? []);
  for (const id of revokedIds) {
    if (!group.rules.some((r) => r.ruleId === id && r.egress === egress)) {
      fail(ctx, 'InvalidSecurityGroupRuleId.NotFound', `The security group rule ID '${id}' does not exist`);
    }
  }
  const unknown: IpPermission[] = [];
  for (const permission of input.IpPermissions ?? []) {
    for (const rule of rulesOf(ctx, [permission], egress)) {
      const match = group.rules.find((existing) => sameRule(existing, rule));
      if (match) revokedIds.add(match.ruleId);
      else unknown.push(...permissionsOf(ctx.state, [{ ...rule, ruleId: '' }]));
    }
  }
  const revoked = group.rules.filter((r) => revokedIds.has(r.ruleId));
  group.rules = group.rules.filter((r) => !revokedIds.has(r.ruleId));
  return {
    Return: true,
    ...(unknown.length > 0 ? { UnknownIpPermissions: unknown } : {}),
    RevokedSecurityGroupRules: revoked.map((r) => ({
      ...ruleShape(group.groupId, r),
      ...(r.referencedGroupId ? { ReferencedGroupId: r.referencedGroupId } : {}),
    })),
  };
}
