/**
 * What an isolation checks after isolating, in the same invocation (after, so as not to add to the time
 * until isolated). A prepared group is a setting, not proof: someone may have added rules to it or put
 * another group's id in its place, and an interface may have been attached since the instance was read
 * (between the two-step stages, or between the read and the change).
 * - Every prepared group used is described (one DescribeSecurityGroups with the `group-id` filter): one
 *   that is not the VPC's Cordon group (its name and VPC) is replaced on the spot (found or created) and
 *   the interfaces move to the replacement; one with other rules gets exactly its rules back.
 * - The instance is described again, at the same time: every interface without the isolation group gets it.
 * Each fix is returned for the record.
 */
import { type CallPlan, describeInstance, type Ec2Sender, sameIds } from '../ec2-common/instance.ts';
import type { GroupBook } from './book.ts';
import {
  describeGroupsById,
  fixGroup,
  type GroupKind,
  groupName,
  hasExactRules,
  isCordonGroup,
} from './groups.ts';
import { interfacesOf, type Nic } from './interfaces.ts';

/** What the check found and fixed. */
export interface AfterCheck {
  /** The prepared groups described. */
  readonly checkedGroups: string[];
  /** Prepared groups whose rules were not exactly theirs, and the calls that fixed them. */
  readonly fixedGroups: { groupId: string; kind: GroupKind; vpcId: string; calls: string[] }[];
  /** Interfaces found without the isolation group, and the groups they had then. */
  readonly late: Nic[];
  /** Interfaces known before that are no longer attached to the instance. */
  readonly notAttached: string[];
}

export interface AfterCheckContext {
  readonly ec2: Ec2Sender;
  readonly plan: CallPlan;
  readonly book: GroupBook;
  readonly instanceId: string;
  /** The interfaces as the run knew them before isolating. */
  readonly known: readonly Nic[];
  /** Check the allow-all groups too (the isolate stage of two-step). */
  readonly untrack: boolean;
  /** Called after each late interface is isolated, with the groups it had (for the rollback). */
  readonly isolated: (nic: Nic, to: string[]) => void;
}

export async function checkAfterIsolating(ctx: AfterCheckContext): Promise<AfterCheck> {
  const { ec2, plan, book } = ctx;
  const prepared = book.preparedUsed(ctx.untrack);
  const ids = [...new Set(prepared.map((p) => p.groupId))];
  const [instance, groups] = await Promise.all([
    describeInstance(ec2, ctx.instanceId),
    ids.length > 0 ? describeGroupsById(ec2, ids) : Promise.resolve(new Map()),
  ]);
  const fixedGroups: AfterCheck['fixedGroups'] = [];
  for (const { kind, vpcId, groupId } of prepared) {
    const group = groups.get(groupId);
    if (!group || !isCordonGroup(group, kind, vpcId)) {
      await book.fallBack(
        kind,
        vpcId,
        group
          ? `${groupId} is ${group.GroupName ?? 'a group'} of ${group.VpcId ?? 'another VPC'}, not ${groupName(kind, vpcId)}`
          : `${groupId} was not found after isolating`,
        groupId,
      );
      continue;
    }
    if (!hasExactRules(group, kind)) {
      const from = plan.calls.length;
      await fixGroup(ec2, plan, group, kind, vpcId);
      fixedGroups.push({ groupId, kind, vpcId, calls: plan.calls.slice(from) });
    }
  }

  const now = interfacesOf(instance);
  const isIsolated = (nic: Nic) => {
    const iso = book.id('isolation', nic.vpcId);
    return iso !== undefined && sameIds(nic.groups, [iso]);
  };
  const late = now.filter((nic) => !isIsolated(nic));
  const unknownVpcs = [...new Set(late.map((n) => n.vpcId))].filter((v) => !book.knows(v, ['isolation']));
  if (unknownVpcs.length > 0) {
    await book.lookup(unknownVpcs, ['isolation']);
    await book.ensure(unknownVpcs, ['isolation']);
  }
  for (const nic of late) ctx.isolated(nic, await book.put(nic, 'isolation'));
  return {
    checkedGroups: ids,
    fixedGroups,
    late,
    notAttached: ctx.known
      .filter((k) => !now.some((n) => n.networkInterfaceId === k.networkInterfaceId))
      .map((k) => k.networkInterfaceId),
  };
}
