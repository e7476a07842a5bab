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
 * AWS calls for an instance with n interfaces whose groups exist: DescribeInstances, DescribeSecurityGroups,
 * then n ModifyNetworkInterfaceAttribute (`conntrack`: 2n; `nacl`: + DescribeNetworkInterfaces,
 * DescribeNetworkAcls, ReplaceNetworkAclAssociation per subnet). The first isolation in a VPC adds
 * CreateSecurityGroup and RevokeSecurityGroupEgress (and, for the swap, CreateSecurityGroup and two
 * Authorize calls). Each Describe reads every page.
 *
 * groups.ts holds the isolation groups, nacl.ts the `nacl` strategy's reads and quarantine ACL,
 * interfaces.ts the interfaces as recorded.
 */
import {
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError, ValidationError } from '#shared/errors';
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
import { ensureGroup, type FoundGroups, findGroups, foundGroup, type GroupKind } from './groups.ts';
import { interfacesOf, isMinimal, MIN_TRACKING, type Nic } from './interfaces.ts';
import { ensureQuarantineAcl, type NaclView, readNaclView } from './nacl.ts';

export { MIN_TRACKING } from './interfaces.ts';

/** How tracked connections are cut; see the module's comment. */
export const STRATEGIES = ['two-step', 'nacl', 'conntrack', 'direct'] as const;
export type Strategy = (typeof STRATEGIES)[number];

/** The event of `ec2-isolate`. */
export const IsolateInputSchema = z.extend(Ec2EventSchema, {
  /** Default: the deployment's `ec2.isolation` setting. */
  strategy: z.optional(z.enum(STRATEGIES)),
  /** For `two-step` only: `swap` (the allow-all window opens), then `isolate`. */
  stage: z.optional(z.enum(['swap', 'isolate'])),
  /** A person approved acting on a protected instance. */
  approved: z.optional(z.boolean()),
});
export type IsolateInput = z.infer<typeof IsolateInputSchema>;

/** What the core needs: the EC2 client, the clock, and the settings it reads. */
export interface IsolateDeps {
  readonly ec2: Ec2Sender;
  readonly now: () => Date;
  /** Instances with this tag are refused unless the input says `approved`. */
  readonly protectedTag: { readonly key: string; readonly value: string };
  /** The strategy when the input names none. Default `two-step`. */
  readonly defaultStrategy?: Strategy;
}

interface Undo {
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

const idOf = (found: FoundGroups, kind: GroupKind, vpcId: string): string | undefined =>
  foundGroup(found, kind, vpcId)?.GroupId;

/** Isolates an instance; see the module's comment for the strategies. */
export async function isolateInstance(deps: IsolateDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(IsolateInputSchema, event, 'ec2-isolate input');
  const strategy = input.strategy ?? deps.defaultStrategy ?? 'two-step';
  if (strategy === 'two-step' && input.stage === undefined) {
    throw new ValidationError('ec2-isolate input', [
      'stage: is required with strategy two-step (swap, then isolate)',
    ]);
  }
  if (strategy !== 'two-step' && input.stage !== undefined) {
    throw new ValidationError('ec2-isolate input', [
      `stage: applies to strategy two-step only, not ${strategy}`,
    ]);
  }
  const stage = strategy === 'two-step' ? input.stage : undefined;
  const { ec2 } = deps;
  const plan = newPlan(input.dryRun);

  const instance = await describeLiveInstance(ec2, input.instanceId);
  assertNotProtected(instance, deps.protectedTag, input.approved);
  const nics = interfacesOf(instance);
  if (nics.length === 0)
    throw new ResourceNotFoundError(`instance ${input.instanceId} has no network interface`);
  const vpcIds = [...new Set(nics.map((n) => n.vpcId))];
  const [found, view] = await Promise.all([
    findGroups(ec2, vpcIds),
    strategy === 'nacl' ? readNaclView(ec2, input.instanceId, nics) : Promise.resolve(undefined),
  ]);

  const kind: GroupKind = stage === 'swap' ? 'untrack' : 'isolation';
  const isIsolated = (nic: Nic): boolean => {
    const iso = idOf(found, 'isolation', nic.vpcId);
    return iso !== undefined && sameIds(nic.groups, [iso]);
  };
  const isDone = (nic: Nic): boolean => {
    if (isIsolated(nic)) return true;
    const untrack = idOf(found, 'untrack', nic.vpcId);
    // The swap never reopens an interface that is already isolated.
    return kind === 'untrack' && untrack !== undefined && sameIds(nic.groups, [untrack]);
  };
  const dirtyIsolation = vpcIds.filter((vpc) => {
    const group = foundGroup(found, 'isolation', vpc);
    return group && ((group.IpPermissions?.length ?? 0) > 0 || (group.IpPermissionsEgress?.length ?? 0) > 0);
  });
  const groupWork = nics.filter((nic) => !isDone(nic));
  const trackingWork = strategy === 'conntrack' ? nics.filter((nic) => !isMinimal(nic)) : [];
  let note: string | undefined;
  let naclWork: NaclView['associations'] = [];
  if (view) {
    if (view.strangers.length > 0) {
      note = `nacl: the instance is not alone in its subnet (${view.strangers.join(', ')} also there), so the direct swap ran instead`;
    } else {
      naclWork = view.associations.filter((a) => view.quarantine.get(a.vpcId) !== a.networkAclId);
    }
  }

  const before: IsolateBefore = {
    instanceId: input.instanceId,
    vpcId: instance.VpcId ?? nics[0]?.vpcId ?? '',
    interfaces: nics,
    networkAcls: naclWork.map((a) => ({ subnetId: a.subnetId, networkAclId: a.networkAclId })),
  };
  const isolationGroupIds: Record<string, string> = {};
  const output = (): Record<string, unknown> => {
    for (const vpc of vpcIds) {
      const id = idOf(found, 'isolation', vpc) ?? isolationGroupIds[vpc];
      if (id) isolationGroupIds[vpc] = id;
    }
    const primaryVpc = nics[0]?.vpcId ?? '';
    return {
      strategy: view && view.strangers.length > 0 ? 'direct' : strategy,
      ...(stage ? { stage } : {}),
      isolationGroupId: isolationGroupIds[primaryVpc],
      isolationGroupIds,
    };
  };

  if (
    groupWork.length === 0 &&
    trackingWork.length === 0 &&
    naclWork.length === 0 &&
    dirtyIsolation.length === 0
  ) {
    return {
      status: 'already-done',
      before,
      changes: { strategy, ...(stage ? { stage } : {}), calls: [] },
      note: [
        stage === 'swap' && nics.every(isIsolated)
          ? 'every interface already carries the isolation group: the swap window is not reopened'
          : `every interface already carries the ${kind === 'untrack' ? 'untrack or isolation' : 'isolation'} group`,
        note,
      ]
        .filter((n) => n !== undefined)
        .join('; '),
      ...(plan.dryRun ? { dryRun: true } : {}),
      output: { ...output(), isolated: nics.every(isIsolated) },
    };
  }

  const undo: Undo[] = [];
  const createdGroups: string[] = [];
  const interfaceChanges: { networkInterfaceId: string; from: string[]; to: string[] }[] = [];
  const trackingChanges: { networkInterfaceId: string; from: Nic['connectionTracking'] }[] = [];
  const aclChanges: { subnetId: string; from: string; to: string; newAssociationId?: string }[] = [];
  let containedAt: string | undefined;
  let swappedAt: string | undefined;
  let untrackGroupId: string | undefined;
  try {
    // 1. The groups: the one going on now, and for the swap also the isolation group, so that the
    //    isolate stage that closes the window has nothing to create.
    const groupFor = new Map<string, string | undefined>();
    for (const vpc of vpcIds) {
      const needed: GroupKind[] = kind === 'untrack' ? ['untrack', 'isolation'] : ['isolation'];
      for (const k of needed) {
        const ensured = await ensureGroup(ec2, plan, found, k, vpc);
        if (ensured.created) createdGroups.push(ensured.groupId ?? `cordon-${k}-${vpc}`);
        if (k === 'isolation' && ensured.groupId) isolationGroupIds[vpc] = ensured.groupId;
        if (k === kind) groupFor.set(vpc, ensured.groupId);
        if (k === 'untrack') untrackGroupId = ensured.groupId;
      }
    }

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
    for (const association of naclWork) {
      const aclId = view ? await ensureQuarantineAcl(ec2, plan, view, association.vpcId) : undefined;
      const doing = `ec2:ReplaceNetworkAclAssociation ${association.subnetId}`;
      if (!aclId) {
        plan.calls.push(doing);
        continue;
      }
      const out = await ec2Mutation(plan, doing, (DryRun) =>
        ec2.send(
          new ReplaceNetworkAclAssociationCommand({
            DryRun,
            AssociationId: association.associationId,
            NetworkAclId: aclId,
          }),
        ),
      );
      const newAssociationId = out?.NewAssociationId;
      aclChanges.push({
        subnetId: association.subnetId,
        from: association.networkAclId,
        to: aclId,
        ...(newAssociationId ? { newAssociationId } : {}),
      });
      if (newAssociationId) {
        undo.push({
          what: `network ACL of ${association.subnetId}`,
          run: () =>
            ec2.send(
              new ReplaceNetworkAclAssociationCommand({
                AssociationId: newAssociationId,
                NetworkAclId: association.networkAclId,
              }),
            ),
        });
      }
    }

    // 4. The groups of every interface, one call each.
    for (const nic of groupWork) {
      const target = groupFor.get(nic.vpcId);
      // A dry run whose group does not exist yet checks the call with the interface's own groups.
      const groups = target ? [target] : nic.groups;
      await ec2Mutation(
        plan,
        `ec2:ModifyNetworkInterfaceAttribute ${nic.networkInterfaceId} groups`,
        (DryRun) =>
          ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({
              DryRun,
              NetworkInterfaceId: nic.networkInterfaceId,
              Groups: groups,
            }),
          ),
      );
      interfaceChanges.push({
        networkInterfaceId: nic.networkInterfaceId,
        from: nic.groups,
        to: target ? [target] : [],
      });
      const onAllowAll = sameIds(nic.groups, [idOf(found, 'untrack', nic.vpcId) ?? '']);
      // A failed isolation never puts the allow-all group of the two-step swap back: an interface
      // already isolated stays isolated, the others keep what they have, and the error says so.
      if (!plan.dryRun && !(kind === 'isolation' && onAllowAll)) {
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
    }
    if (!plan.dryRun) {
      // The group takes effect when the call returns: that is the time of the last interface's change.
      const at = deps.now().toISOString();
      if (kind === 'isolation') containedAt = at;
      else swappedAt = at;
    }
  } catch (error) {
    if (!plan.dryRun) await rollback(undo, error);
    throw error;
  }

  const isolatedNow = kind === 'isolation' && !plan.dryRun;
  return {
    status: 'succeeded',
    before,
    changes: {
      strategy,
      ...(stage ? { stage } : {}),
      calls: plan.calls,
      createdGroups,
      interfaces: interfaceChanges,
      ...(trackingChanges.length > 0
        ? { connectionTracking: { to: MIN_TRACKING, interfaces: trackingChanges } }
        : {}),
      ...(aclChanges.length > 0 ? { networkAcls: aclChanges } : {}),
    },
    ...(note ? { note } : {}),
    ...(plan.dryRun ? { dryRun: true } : {}),
    output: {
      ...output(),
      isolated: isolatedNow,
      ...(containedAt ? { containedAt } : {}),
      ...(swappedAt ? { swappedAt } : {}),
      ...(untrackGroupId ? { untrackGroupId } : {}),
      ...(aclChanges.length > 0 ? { quarantineNetworkAclId: aclChanges[0]?.to } : {}),
    },
  };
}
