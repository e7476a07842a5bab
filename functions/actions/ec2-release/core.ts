/**
 * The core of `ec2-release` (recovery, after approval): puts back exactly the state the containment
 * actions recorded in the incident's audit record, as their `before`. The record is read verified (its
 * chain, key and anchor: functions/shared/audit-verify.ts); on a break the release refuses
 * (`RecordTamperedError`, recorded and emailed by the playbook). It undoes only what Cordon did:
 * - `ec2-isolate`: the groups of each interface, the network ACL of each quarantined subnet (only a subnet
 *   of the instance's own interfaces, recorded replaced by the quarantine ACL that it still has), and
 *   explicit connection-tracking timeouts;
 * - `ec2-revoke-sessions`: deletes the incident's own deny (`cordon-revoke-sessions-<incident>`, see
 *   `revokePolicyName`) from the role its step recorded putting it on, only while it is still exactly the
 *   document that step put; another incident's deny on the same role (another instance with the same
 *   profile) has another name and stays. It never puts a policy. It associates the instance profile again
 *   only when live state agrees with the record (the profile exists with that ARN and still holds the
 *   recorded role), the role is one Cordon may pass (`settings.instanceRoles`, the only roles it has
 *   `iam:PassRole` for) and not one it must never touch; otherwise it refuses and says what to do by hand;
 * - `ec2-protect-evidence`: termination and stop protection, shutdown behaviour, DeleteOnTermination;
 * - `ec2-tag`: the previous value of each tag, or no tag;
 * - `ec2-detach`: AttachInstances to the Auto Scaling group, RegisterTargets,
 *   RegisterInstancesWithLoadBalancer, each only for a membership whose removal, of this instance, the
 *   detach step records.
 *
 * For each action the first step that succeeded (not a dry run, not `already-done`) holds the state
 * before the incident: a later step of the same action (the isolate stage of the two-step swap, a retry)
 * found the state the first one left.
 *
 * A record with no containment of the instance (never contained, only dry runs) has nothing to release:
 * the result is `skipped`, with the reason, and the release playbook then leaves the incident as it is.
 *
 * It reads everything and checks it before changing anything, and refuses with {@link ReleaseRefusedError}
 * when the instance changed in a way the record does not cover: terminated, an interface added or removed,
 * an interface whose groups are neither the recorded ones nor Cordon's, a subnet's ACL changed by hand,
 * the deny changed by hand, another instance profile, another Auto Scaling group. Each restore is made
 * only where the current state differs, so a second run changes nothing and reports `already-done`.
 *
 * What stays: the isolation (and untrack) groups and the quarantine network ACL, reused by later incidents.
 * What cannot be exact: AttachInstances raises the group's desired capacity by one (the group launched a
 * replacement when the instance was detached:
 * https://docs.aws.amazon.com/autoscaling/ec2/APIReference/API_AttachInstances.html); the profile
 * association and network ACL association get new ids; an interface that had AWS's default
 * connection-tracking timeouts keeps the lowered ones (the default depends on the instance type, so there
 * is no value to put back), which `note` reports.
 *
 * The module holds the reads and checks; record.ts reads the record, live.ts the live account, restore.ts
 * makes the changes.
 */
import type { Instance } from '@aws-sdk/client-ec2';
import type { IAMClient } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import {
  type CallPlan,
  describeInstance,
  Ec2EventSchema,
  type Ec2Sender,
  newPlan,
  sameIds,
  tagsOf,
} from '../ec2-common/instance.ts';
import { type MembershipClients, readMemberships } from '../ec2-detach/memberships.ts';
import { readProtections } from '../ec2-protect-evidence/core.ts';
import { currentAssociation, rolePolicy } from '../ec2-revoke-sessions/core.ts';
import { releaseRevokePolicy, revokePolicyName } from '../iam-common/iam.ts';
import { ReleaseRefusedError } from './errors.ts';
import { currentInterfaces, liveProfile, liveRole, type RoleRules, subnetAcls } from './live.ts';
import { readPlan, type StepSource } from './record.ts';
import { applyRestores } from './restore.ts';

export type { LiveRole, RoleRules } from './live.ts';
export type { StepSource } from './record.ts';

/** The event of `ec2-release`. */
export const ReleaseInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** The incident whose containment is undone; default: the event's own `incidentId`. */
    containmentIncidentId: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
  }),
);

/** What the core needs: the clients of every service containment touched, the audit record, the role rules. */
export interface ReleaseDeps extends MembershipClients {
  readonly ec2: Ec2Sender;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly recorder: StepSource;
  readonly roles: RoleRules;
}

const CORDON_GROUP = /^cordon-(isolation|untrack)-/;

/** Restores the instance to the state its containment recorded. */
export async function releaseInstance(deps: ReleaseDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ReleaseInputSchema, event, 'ec2-release input');
  const id = input.instanceId;
  const { ec2 } = deps;
  const plan: CallPlan = newPlan(input.dryRun);
  // The record is evidence, not instruction, until it verifies: a break throws RecordTamperedError.
  const containment = input.containmentIncidentId ?? input.incidentId;
  const { steps } = await deps.recorder.verified(containment);
  const policyName = revokePolicyName(containment);
  const record = readPlan(steps, id, policyName);
  if (
    !record.isolate &&
    !record.protect &&
    !record.detach &&
    !record.revoke &&
    record.denies.length === 0 &&
    !record.tags
  ) {
    // Nothing to release is a refusal with a reason, not a failure: the playbook leaves the incident as it is.
    return {
      status: 'skipped',
      changes: { calls: [] },
      note: `nothing to release: the record of incident ${containment} holds no containment of ${id} that changed anything`,
      ...(input.dryRun === true ? { dryRun: true } : {}),
    };
  }

  // ---- read and check everything first
  let instance: Instance;
  try {
    instance = await describeInstance(ec2, id);
  } catch (error) {
    if (error instanceof ResourceNotFoundError)
      throw new ReleaseRefusedError(`instance ${id} no longer exists`, { cause: error });
    throw error;
  }
  const state = instance.State?.Name ?? 'unknown';
  if (state === 'terminated' || state === 'shutting-down')
    throw new ReleaseRefusedError(`instance ${id} is ${state}`);
  const nics = currentInterfaces(instance);
  const notes: string[] = [];

  if (record.isolate) {
    const recordedIds = record.isolate.interfaces.map((n) => n.networkInterfaceId);
    const nowIds = nics.map((n) => n.networkInterfaceId);
    const added = nowIds.filter((n) => !recordedIds.includes(n));
    const removed = recordedIds.filter((n) => !nowIds.includes(n));
    if (added.length > 0 || removed.length > 0) {
      throw new ReleaseRefusedError(
        `the interfaces of ${id} changed since containment (${[
          ...added.map((n) => `${n} added`),
          ...removed.map((n) => `${n} removed`),
        ].join(', ')}): the record does not say which groups they should have`,
      );
    }
    for (const nic of nics) {
      const was = record.isolate.interfaces.find((n) => n.networkInterfaceId === nic.networkInterfaceId);
      const ids = nic.groups.map((g) => g.id);
      const ours = nic.groups.every((g) => CORDON_GROUP.test(g.name));
      if (was && !sameIds(ids, was.groups) && !ours) {
        throw new ReleaseRefusedError(
          `the groups of ${nic.networkInterfaceId} changed since containment (now ${ids.join(', ')}): someone else changed them`,
        );
      }
    }
  }

  const [protections, association, memberships, acls] = await Promise.all([
    record.protect ? readProtections(ec2, id, instance).then((r) => r.protections) : undefined,
    record.revoke ? currentAssociation(ec2, id) : undefined,
    record.detach ? readMemberships(deps, id, instance.VpcId) : undefined,
    record.acls.length > 0
      ? subnetAcls(
          ec2,
          record.acls.map((a) => a.subnetId),
        )
      : undefined,
  ]);

  const profile = record.revoke?.association;
  const profileArnNow = association?.IamInstanceProfile?.Arn;
  if (profile && profileArnNow && profileArnNow !== profile.profileArn) {
    throw new ReleaseRefusedError(
      `instance ${id} now has instance profile ${profileArnNow}, not ${profile.profileArn}`,
    );
  }
  // The network ACLs: only of the instance's own subnets, each put back from the quarantine this incident
  // put there; a subnet whose ACL someone changed since is refused.
  const liveSubnets = new Set(nics.map((n) => n.subnetId));
  const recordedSubnets = new Set(record.isolate?.interfaces.map((n) => n.subnetId) ?? []);
  const aclRestores: { subnetId: string; associationId: string; networkAclId: string }[] = [];
  for (const acl of record.acls) {
    if (!liveSubnets.has(acl.subnetId) || !recordedSubnets.has(acl.subnetId)) {
      throw new ReleaseRefusedError(
        `step ${acl.seq} (ec2-isolate) records replacing the network ACL of ${acl.subnetId}, which is not a subnet of ${id}'s interfaces: the release changes only the instance's own subnets`,
      );
    }
    const current = acls?.find((a) => a.Associations?.some((x) => x.SubnetId === acl.subnetId));
    const associationId = current?.Associations?.find(
      (x) => x.SubnetId === acl.subnetId,
    )?.NetworkAclAssociationId;
    if (current?.NetworkAclId === acl.networkAclId) continue;
    if (!associationId || current?.NetworkAclId !== acl.quarantineAclId) {
      throw new ReleaseRefusedError(
        `the network ACL of ${acl.subnetId} is now ${current?.NetworkAclId ?? 'unknown'}, neither the quarantine ACL this incident put there (${acl.quarantineAclId}) nor the one it had (${acl.networkAclId}): someone changed it; put it back by hand if that is right (aws ec2 replace-network-acl-association --association-id ${associationId ?? '<the subnet association>'} --network-acl-id ${acl.networkAclId})`,
      );
    }
    aclRestores.push({ subnetId: acl.subnetId, associationId, networkAclId: acl.networkAclId });
  }
  // The denies this incident put: each deleted only while it is still the document the incident put
  // there, on a role Cordon may touch; another incident's deny on the same role has another name.
  const denies = await Promise.all(
    record.denies.map(async (deny) => ({
      deny,
      live: await rolePolicy(deps.iam, deny.roleName, policyName),
    })),
  );
  const deletes: string[] = [];
  for (const { deny, live } of denies) {
    const manual = `aws iam delete-role-policy --role-name ${deny.roleName} --policy-name ${policyName}`;
    const decision = releaseRevokePolicy(`role ${deny.roleName}`, policyName, deny.put, live, manual);
    if (decision.action === 'refuse') throw new ReleaseRefusedError(decision.reason);
    if (decision.action === 'none') continue;
    const role = await liveRole(deps.iam, deny.roleName);
    const why = role ? deps.roles.untouchable(role) : undefined;
    if (why) {
      throw new ReleaseRefusedError(
        `role ${deny.roleName} is one Cordon must not touch (${why}): remove its ${policyName} policy by hand (${manual})`,
      );
    }
    deletes.push(deny.roleName);
  }
  // The profile goes back only as the record and live state agree, with a role Cordon may pass.
  const reassociate = profile !== undefined && !profileArnNow;
  if (reassociate && profile) {
    const manual = `aws ec2 associate-iam-instance-profile --instance-id ${id} --iam-instance-profile Name=${profile.profileName}`;
    const live = await liveProfile(deps.iam, profile.profileName);
    if (!live || live.arn !== profile.profileArn) {
      throw new ReleaseRefusedError(
        `instance profile ${profile.profileName} ${live ? `is now ${live.arn}, not ${profile.profileArn}` : 'no longer exists'}: the record does not say what to associate`,
      );
    }
    const recordedRole = record.revoke?.role?.roleName;
    if (live.roleName !== recordedRole) {
      throw new ReleaseRefusedError(
        `instance profile ${profile.profileName} now holds role ${live.roleName ?? 'none'}, not ${recordedRole ?? 'none'}: associate it by hand if that is right (${manual})`,
      );
    }
    if (live.roleName) {
      const role = await liveRole(deps.iam, live.roleName);
      if (!role) {
        throw new ReleaseRefusedError(
          `role ${live.roleName} of instance profile ${profile.profileName} no longer exists`,
        );
      }
      const why = deps.roles.untouchable(role);
      if (why) {
        throw new ReleaseRefusedError(
          `role ${live.roleName} is one Cordon must not pass (${why}): ${manual}`,
        );
      }
      if (!deps.roles.passable(role)) {
        throw new ReleaseRefusedError(
          `role ${live.roleName} is not in settings.instanceRoles, so Cordon may not give it back to an instance: add it there, or associate the profile by hand (${manual})`,
        );
      }
    }
  }
  const group = record.detach?.autoScalingGroup;
  const groupNow = memberships?.autoScalingGroup;
  if (group && groupNow && groupNow.name !== group.name) {
    throw new ReleaseRefusedError(
      `instance ${id} is now in Auto Scaling group ${groupNow.name}, not ${group.name}`,
    );
  }
  const attach = group !== undefined && group !== null && !groupNow;
  if (attach && state !== 'running') {
    throw new ReleaseRefusedError(
      `instance ${id} is ${state}: Auto Scaling attaches only running instances; start it first`,
    );
  }

  const before = {
    instanceId: id,
    state,
    interfaces: nics.map((n) => ({
      networkInterfaceId: n.networkInterfaceId,
      groups: n.groups.map((g) => g.id),
    })),
    ...(protections ? { protections } : {}),
    ...(record.revoke ? { profileArn: profileArnNow ?? null } : {}),
    ...(denies.length > 0
      ? { revokePolicies: Object.fromEntries(denies.map(({ deny, live }) => [deny.roleName, live !== null])) }
      : {}),
    ...(memberships ? { memberships } : {}),
    tags: tagsOf(instance.Tags),
  };

  await applyRestores(
    deps,
    plan,
    {
      id,
      record,
      instance,
      nics,
      aclRestores,
      deletes,
      policyName,
      reassociate: reassociate ? profile : undefined,
      protections,
      memberships,
      attach,
    },
    notes,
  );

  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (plan.calls.length === 0) {
    return {
      status: 'already-done',
      before,
      changes: { calls: [] },
      note: ['the instance is already in its recorded state', ...notes].join('; '),
      ...dryRun,
    };
  }
  return {
    status: 'succeeded',
    before,
    changes: { calls: plan.calls },
    ...(notes.length > 0 ? { note: notes.join('; ') } : {}),
    ...dryRun,
  };
}
