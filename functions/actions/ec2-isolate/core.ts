/**
 * The core of `ec2-isolate`: takes an instance off the network by putting one security group with no
 * rules on **every** network interface, with ModifyNetworkInterfaceAttribute per interface
 * (ModifyInstanceAttribute `Groups` only reaches the primary interface and fails when there are several:
 * https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html).
 *
 * A security group change does not cut connections that are already tracked: they go on until they
 * time out (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/security-group-connection-tracking.html).
 * Each remedy costs something, so the strategy is configuration:
 * - `two-step`: stage `swap` puts an allow-all group, which makes flows untracked, stage `isolate` then
 *   puts the isolation group, which cuts untracked flows at once. The playbook's Wait state between the
 *   two stages is the window (it admits new traffic); this action never sleeps.
 * - `nacl`: a quarantine network ACL, stateless, so it cuts every flow at once
 *   (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-network-acls.html); it applies to a whole
 *   subnet, so it is used only when the instance is alone in its subnets, otherwise `direct` runs and
 *   `note` says why. The isolation group goes on as well.
 * - `conntrack`: lowers each interface's idle connection-tracking timeouts to their minimums, so that
 *   tracked flows that go idle end within a minute (an active flow is not cut), then isolates.
 * - `direct`: the isolation group alone.
 *
 * On failure the interfaces' groups and the network ACLs already changed are put back before the error is
 * rethrown, so that a failed run leaves the state it found and the record says "failed", not "contained"
 * (lowered connection-tracking timeouts, which only end idle flows sooner, are left as they are).
 *
 * The groups exist before an incident: `cordon prepare` makes both groups of every VPC and puts their ids
 * in `settings.ec2.isolationGroups`. EC2 calls until isolated, for an instance with n interfaces in
 * prepared VPCs: `direct` DescribeInstances then n ModifyNetworkInterfaceAttribute (1 + n); `two-step`
 * the same for the swap stage, which hands what it read to the isolate stage through the state machine
 * (handover.ts), and n more for the isolate stage, which describes nothing before it isolates (1 + 2n);
 * `conntrack` adds n, `nacl` DescribeNetworkInterfaces, DescribeNetworkAcls and
 * ReplaceNetworkAclAssociation per subnet. A VPC not prepared costs one DescribeSecurityGroups listing
 * and, the first time, the groups' creation (CreateSecurityGroup, then RevokeSecurityGroupEgress or two
 * Authorize calls), and the record says so. Each Describe reads every page.
 *
 * After isolating, in the same invocation, a run that isolates checks what it took on trust (after.ts):
 * the prepared groups still have exactly their rules, and every interface of the instance carries the
 * isolation group (DescribeInstances and DescribeSecurityGroups, together); it fixes what is not so and
 * records the fix. The swap stage checks nothing: its checks would come before the isolation; the isolate
 * stage checks both groups.
 *
 * groups.ts holds the isolation groups, book.ts which group each VPC uses and where it came from,
 * after.ts the check after isolating, handover.ts what the swap stage hands over, nacl.ts the `nacl`
 * strategy's reads and quarantine ACL, interfaces.ts the interfaces as recorded.
 */
import { ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError, ValidationError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { describeError } from '#shared/log';
import {
  assertNotProtected,
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  newPlan,
  sameIds,
} from '../ec2-common/instance.ts';
import type { IsolateBefore } from '../ec2-common/records.ts';
import { type AfterCheck, checkAfterIsolating } from './after.ts';
import { GroupBook, type PreparedGroups } from './book.ts';
import type { GroupKind } from './groups.ts';
import { HandoverSchema, interfacesLeftBySwap } from './handover.ts';
import { interfacesOf, isMinimal, MIN_TRACKING, type Nic } from './interfaces.ts';
import { type AclChange, type NaclView, quarantineSubnets, readNaclView } from './nacl.ts';
import { describeRun } from './notes.ts';

export { MIN_TRACKING } from './interfaces.ts';

/** How tracked connections are cut; see the module's comment. */
export const STRATEGIES = ['two-step', 'nacl', 'conntrack', 'direct'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The event of `ec2-isolate`. */
export const IsolateInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** Default: the deployment's `ec2.isolation` setting. */
    strategy: z.optional(z.enum(STRATEGIES)),
    /** For `two-step` only: `swap` (the allow-all window opens), then `isolate`. */
    stage: z.optional(z.enum(['swap', 'isolate'])),
    /** A person approved acting on a protected instance. */
    approved: z.optional(z.boolean()),
    /** For the isolate stage only: what the swap stage read and used (its `output.handover`). */
    handover: z.optional(HandoverSchema),
  }),
);
export type IsolateInput = z.infer<typeof IsolateInputSchema>;

/** What the core needs: the EC2 client, the clock, and the settings it reads. */
export interface IsolateDeps {
  readonly ec2: Ec2Sender;
  readonly now: () => Date;
  /** Instances with this tag are refused unless the input says `approved`. */
  readonly protectedTag: { readonly key: string; readonly value: string };
  /** The strategy when the input names none. Default `two-step`. */
  readonly defaultStrategy?: Strategy;
  /** The groups prepared before the incident, by VPC (`settings.ec2.isolationGroups`). Default none. */
  readonly isolationGroups?: PreparedGroups;
}

/** What puts back one change of a run that fails. */
export interface Undo {
  readonly what: string;
  readonly run: () => Promise<unknown>;
}

/** Puts back what a failed run changed, newest first; failures to undo are added to the error's message. */
async function rollback(undo: readonly Undo[], error: unknown): Promise<void> {
  const failures: string[] = [];
  for (const step of [...undo].reverse()) {
    try {
      await step.run();
    } catch (undoError) {
      failures.push(`${step.what}: ${describeError(undoError).message}`);
    }
  }
  if (failures.length > 0 && error instanceof Error) {
    error.message += `; could not put back: ${failures.join('; ')}`;
  }
}

/** Reads the input and checks what goes together: the stage with `two-step`, the handover with its stage. */
function readInput(deps: IsolateDeps, event: unknown) {
  const input = parseOrThrow(IsolateInputSchema, event, 'ec2-isolate input');
  const strategy = input.strategy ?? deps.defaultStrategy ?? 'two-step';
  const problems: string[] = [];
  if (strategy === 'two-step' && input.stage === undefined)
    problems.push('stage: is required with strategy two-step (swap, then isolate)');
  if (strategy !== 'two-step' && input.stage !== undefined)
    problems.push(`stage: applies to strategy two-step only, not ${strategy}`);
  const stage = strategy === 'two-step' ? input.stage : undefined;
  if (input.handover && stage !== 'isolate')
    problems.push('handover: applies to the isolate stage of two-step only');
  // The instance is the incident's: a handover of another instance is not this isolation's.
  if (input.handover && input.handover.instanceId !== input.instanceId)
    problems.push(`handover: is of instance ${input.handover.instanceId}, not ${input.instanceId}`);
  if (problems.length > 0) throw new ValidationError('ec2-isolate input', problems);
  return { input, strategy, stage, handover: stage === 'isolate' ? input.handover : undefined };
}

/** Isolates an instance; see the module's comment for the strategies. */
export async function isolateInstance(deps: IsolateDeps, event: unknown): Promise<ActionResult> {
  const { input, strategy, stage, handover } = readInput(deps, event);
  const { ec2 } = deps;
  const plan = newPlan(input.dryRun);

  // The isolate stage takes the interfaces from the swap stage: no read before isolating.
  let nics: Nic[];
  let instanceVpc: string | undefined;
  if (handover) {
    nics = interfacesLeftBySwap(handover);
  } else {
    const instance = await describeLiveInstance(ec2, input.instanceId);
    assertNotProtected(instance, deps.protectedTag, input.approved);
    nics = interfacesOf(instance);
    instanceVpc = instance.VpcId;
  }
  if (nics.length === 0)
    throw new ResourceNotFoundError(`instance ${input.instanceId} has no network interface`);
  const describedAt = handover?.describedAt ?? deps.now().toISOString();
  const vpcIds = [...new Set(nics.map((n) => n.vpcId))];
  const kind: GroupKind = stage === 'swap' ? 'untrack' : 'isolation';
  const kinds: GroupKind[] = kind === 'untrack' ? ['untrack', 'isolation'] : ['isolation'];
  const book = new GroupBook(ec2, plan, deps.isolationGroups ?? {}, handover);
  const [, view] = await Promise.all([
    book.lookup(vpcIds, kinds),
    strategy === 'nacl' ? readNaclView(ec2, input.instanceId, nics) : Promise.resolve(undefined),
  ]);

  const isIsolated = (nic: Nic): boolean => {
    const iso = book.id('isolation', nic.vpcId);
    return iso !== undefined && sameIds(nic.groups, [iso]);
  };
  const onAllowAll = (nic: Nic): boolean => {
    const untrack = book.allowAllOf(nic.vpcId);
    return untrack !== undefined && sameIds(nic.groups, [untrack]);
  };
  // The swap never reopens an interface that is already isolated.
  const isDone = (nic: Nic): boolean => isIsolated(nic) || (kind === 'untrack' && onAllowAll(nic));
  const dirtyIsolation = vpcIds.filter((vpc) => book.isDirty(vpc));
  const groupWork = nics.filter((nic) => !isDone(nic));
  const trackingWork = strategy === 'conntrack' ? nics.filter((nic) => !isMinimal(nic)) : [];
  let strangers: string | undefined;
  let naclWork: NaclView['associations'] = [];
  if (view) {
    if (view.strangers.length > 0) {
      strangers = `nacl: the instance is not alone in its subnet (${view.strangers.join(', ')} also there), so the direct swap ran instead`;
    } else {
      naclWork = view.associations.filter((a) => view.quarantine.get(a.vpcId) !== a.networkAclId);
    }
  }

  const before: IsolateBefore = {
    instanceId: input.instanceId,
    vpcId: instanceVpc ?? nics[0]?.vpcId ?? '',
    interfaces: nics,
    networkAcls: naclWork.map((a) => ({ subnetId: a.subnetId, networkAclId: a.networkAclId })),
  };
  const nothingToDo =
    groupWork.length === 0 &&
    trackingWork.length === 0 &&
    naclWork.length === 0 &&
    dirtyIsolation.length === 0;
  // What was taken on trust is checked after isolating: the handover, the prepared groups, and an
  // instance read before its interfaces changed. The swap stage checks nothing (it would come before).
  const check =
    kind === 'isolation' &&
    !plan.dryRun &&
    (!nothingToDo || handover !== undefined || book.preparedUsed(stage === 'isolate').length > 0);

  const undo: Undo[] = [];
  const interfaceChanges: { networkInterfaceId: string; from: string[]; to: string[] }[] = [];
  const trackingChanges: { networkInterfaceId: string; from: Nic['connectionTracking'] }[] = [];
  const aclChanges: AclChange[] = [];
  let containedAt: string | undefined;
  let swappedAt: string | undefined;
  let after: AfterCheck | undefined;
  const changed = (nic: Nic, to: string[]) => {
    interfaceChanges.push({ networkInterfaceId: nic.networkInterfaceId, from: nic.groups, to });
    // A failed isolation never puts the allow-all group of the two-step swap back: an interface
    // already isolated stays isolated, the others keep what they have, and the error says so.
    if (!plan.dryRun && !(kind === 'isolation' && onAllowAll(nic))) {
      undo.push({
        what: `groups of ${nic.networkInterfaceId}`,
        run: () =>
          ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({
              NetworkInterfaceId: nic.networkInterfaceId,
              Groups: nic.groups,
            }),
          ),
      });
    }
  };
  if (!nothingToDo || check) {
    try {
      // 1. The groups looked up: made ready (for the swap, the isolation group too, so that the stage that
      //    closes the window has nothing to create). Prepared groups are used as they are.
      await book.ensure(vpcIds, kinds);

      // 2. Connection tracking, before the groups change: an interface's timeouts apply to its flows from now.
      for (const nic of trackingWork) {
        await ec2Mutation(
          plan,
          `ec2:ModifyNetworkInterfaceAttribute ${nic.networkInterfaceId} connection-tracking`,
          (DryRun) =>
            ec2.send(
              new ModifyNetworkInterfaceAttributeCommand({
                DryRun,
                NetworkInterfaceId: nic.networkInterfaceId,
                ConnectionTrackingSpecification: { ...MIN_TRACKING },
              }),
            ),
        );
        trackingChanges.push({ networkInterfaceId: nic.networkInterfaceId, from: nic.connectionTracking });
      }

      // 3. The quarantine network ACL: stateless, it cuts every flow of the subnet at once.
      if (view) aclChanges.push(...(await quarantineSubnets(ec2, plan, view, naclWork, (u) => undo.push(u))));

      // 4. The groups of every interface, one call each.
      for (const nic of groupWork) changed(nic, await book.put(nic, kind));
      if (!plan.dryRun && !nothingToDo) {
        // The group takes effect when the call returns: that is the time of the last interface's change.
        const at = deps.now().toISOString();
        if (kind === 'isolation') containedAt = at;
        else swappedAt = at;
      }

      // 5. What was taken on trust, checked now that the instance is isolated.
      if (check) {
        after = await checkAfterIsolating({
          ec2,
          plan,
          book,
          instanceId: input.instanceId,
          known: nics,
          untrack: stage === 'isolate',
          isolated: changed,
        });
        if (after.late.length > 0) containedAt = deps.now().toISOString();
      }
    } catch (error) {
      if (!plan.dryRun) await rollback(undo, error);
      throw error;
    }
  }

  // The state before in full: an interface found only after isolating is recorded as it was found.
  const late = after?.late ?? [];
  const unknown = late.filter((n) => !nics.some((k) => k.networkInterfaceId === n.networkInterfaceId));
  if (unknown.length > 0) before.interfaces = [...nics, ...unknown];
  const fixed = after?.fixedGroups ?? [];
  const alreadyDone = nothingToDo && late.length === 0 && fixed.length === 0 && book.fallbacks.length === 0;
  const note = describeRun({
    kind,
    dryRun: plan.dryRun,
    alreadyDone,
    allIsolated: nics.every(isIsolated),
    sources: book.sources(),
    fallbacks: book.fallbacks,
    after,
    handover: handover ? describedAt : undefined,
    strangers,
  });

  const primaryVpc = nics[0]?.vpcId ?? '';
  const isolationGroupIds: Record<string, string> = {};
  for (const [vpc, ids] of Object.entries(book.ids()))
    if (ids.isolation) isolationGroupIds[vpc] = ids.isolation;
  const untrackGroupId = kind === 'untrack' ? book.id('untrack', primaryVpc) : undefined;
  const output: Record<string, unknown> = {
    strategy: strangers ? 'direct' : strategy,
    ...(stage ? { stage } : {}),
    isolationGroupId: isolationGroupIds[primaryVpc],
    isolationGroupIds,
    isolated: alreadyDone ? nics.every(isIsolated) : kind === 'isolation' && !plan.dryRun,
    ...(containedAt ? { containedAt } : {}),
    ...(swappedAt ? { swappedAt } : {}),
    ...(untrackGroupId ? { untrackGroupId } : {}),
    ...(aclChanges.length > 0 ? { quarantineNetworkAclId: aclChanges[0]?.to } : {}),
    // What the isolate stage needs so as to describe nothing before it isolates.
    ...(stage === 'swap'
      ? {
          handover: {
            instanceId: input.instanceId,
            describedAt,
            interfaces: nics,
            swapped: plan.dryRun ? [] : interfaceChanges.map((c) => c.networkInterfaceId),
            groups: book.ids(),
          },
        }
      : {}),
  };
  const groups = book.sources();
  if (alreadyDone) {
    return {
      status: 'already-done',
      before,
      changes: {
        strategy,
        ...(stage ? { stage } : {}),
        calls: [],
        groups,
        ...(after ? { checkedAfter: { groups: after.checkedGroups } } : {}),
      },
      ...(note ? { note } : {}),
      ...(plan.dryRun ? { dryRun: true } : {}),
      output,
    };
  }
  return {
    status: 'succeeded',
    before,
    changes: {
      strategy,
      ...(stage ? { stage } : {}),
      calls: plan.calls,
      createdGroups: book.createdGroups,
      interfaces: interfaceChanges,
      groups,
      ...(book.fallbacks.length > 0 ? { fallbacks: book.fallbacks } : {}),
      ...(after
        ? {
            checkedAfter: {
              groups: after.checkedGroups,
              fixedGroups: fixed,
              lateInterfaces: late.map((n) => n.networkInterfaceId),
              notAttached: after.notAttached,
            },
          }
        : {}),
      ...(trackingChanges.length > 0
        ? { connectionTracking: { to: MIN_TRACKING, interfaces: trackingChanges } }
        : {}),
      ...(aclChanges.length > 0 ? { networkAcls: aclChanges } : {}),
    },
    ...(note ? { note } : {}),
    ...(plan.dryRun ? { dryRun: true } : {}),
    output,
  };
}
