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
 */
import { AttachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  DescribeNetworkAclsCommand,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import { RegisterInstancesWithLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import {
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  type IAMClient,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import type { Step } from '#shared/domain';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError } from '#shared/errors';
import {
  type CallPlan,
  describeInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  mutation,
  newPlan,
  sameIds,
  tagsOf,
} from '../ec2-common/instance.ts';
import {
  type DetachBefore,
  DetachBeforeSchema,
  IsolateAclChangesSchema,
  type IsolateBefore,
  IsolateBeforeSchema,
  type ProtectBefore,
  ProtectBeforeSchema,
  type RevokeBefore,
  RevokeBeforeSchema,
  type TagBefore,
  TagBeforeSchema,
} from '../ec2-common/records.ts';
import { detachCalls, type MembershipClients, readMemberships } from '../ec2-detach/memberships.ts';
import { applyProtections, readProtections } from '../ec2-protect-evidence/core.ts';
import { currentAssociation, rolePolicy } from '../ec2-revoke-sessions/core.ts';
import { releaseRevokePolicy, revokePolicyName } from '../iam-common/iam.ts';
import { ReleaseRefusedError } from './errors.ts';

/** The event of `ec2-release`. */
export const ReleaseInputSchema = z.extend(Ec2EventSchema, {
  /** The incident whose containment is undone; default: the event's own `incidentId`. */
  containmentIncidentId: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
});

/** What the release reads of the audit record: the steps, verified (an `AuditRecorder` has it). */
export interface StepSource {
  verified(incidentId: string): Promise<{
    readonly steps: readonly Pick<
      Step,
      'seq' | 'action' | 'status' | 'before' | 'changes' | 'dryRun' | 'recordedAt'
    >[];
  }>;
}

/** A role as the release checks it, read live. */
export interface LiveRole {
  readonly roleName: string;
  readonly path: string;
  readonly tags: readonly { Key?: string; Value?: string }[];
}

/** Which roles the release may act on, from the settings. */
export interface RoleRules {
  /** Why Cordon must never touch this role (service-linked, bootstrap, its own, break-glass, protected), or undefined. */
  untouchable(role: LiveRole): string | undefined;
  /** Whether Cordon may pass this role to an instance: it is in `settings.instanceRoles`. */
  passable(role: LiveRole): boolean;
}

/** What the core needs: the clients of every service containment touched, the audit record, the role rules. */
export interface ReleaseDeps extends MembershipClients {
  readonly ec2: Ec2Sender;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly recorder: StepSource;
  readonly roles: RoleRules;
}

type Steps = Awaited<ReturnType<StepSource['verified']>>['steps'];
type RecordedStep = Steps[number];

/** Steps of one action for the instance, each with its `before` read. */
type Recorded<T> = { step: RecordedStep; before: T }[];

/** Every succeeded step of `action` for the instance (not a dry run), with its `before` read; oldest first. */
function recorded<T extends { instanceId: string }>(
  steps: Steps,
  action: string,
  schema: z.ZodMiniType<T>,
  instanceId: string,
): Recorded<T> {
  const found: Recorded<T> = [];
  for (const step of steps) {
    if (step.action !== action || step.status !== 'succeeded' || step.dryRun === true) continue;
    const parsed = z.safeParse(schema, step.before);
    if (!parsed.success) {
      throw new ReleaseRefusedError(`step ${step.seq} (${action}) has a before the release cannot read`);
    }
    if (parsed.data.instanceId === instanceId) found.push({ step, before: parsed.data });
  }
  return found;
}

const CORDON_GROUP = /^cordon-(isolation|untrack)-/;

/** A subnet's network ACL as the incident changed it: the one it had, and the quarantine put instead. */
interface AclUndo {
  subnetId: string;
  networkAclId: string;
  quarantineAclId: string;
  seq: number;
}

/** The deny this incident put on a role: the last document its steps recorded putting there. */
interface DenyUndo {
  roleName: string;
  put: { document: string; seq: number; recordedAt: string };
}

interface Plan {
  isolate?: IsolateBefore;
  acls: AclUndo[];
  protect?: ProtectBefore;
  detach?: DetachBefore;
  revoke?: RevokeBefore;
  denies: DenyUndo[];
  tags?: TagBefore;
}

const RevokeChangesSchema = z.looseObject({
  revokePolicy: z.optional(
    z.looseObject({
      policyName: z.optional(z.string()),
      roleName: z.string(),
      document: z.optional(z.string()),
    }),
  ),
});

const CallsSchema = z.looseObject({ calls: z.array(z.string()) });

/**
 * The subnets whose network ACL the incident replaced: each taken from a step that records both the ACL
 * the subnet had (its `before`) and the replacement, from that ACL to the quarantine (its `changes`).
 */
function aclUndos(isolations: Recorded<IsolateBefore>): AclUndo[] {
  const acls = new Map<string, AclUndo>();
  for (const { step, before } of isolations) {
    const changes = z.safeParse(IsolateAclChangesSchema, step.changes);
    for (const acl of before.networkAcls) {
      if (acls.has(acl.subnetId)) continue;
      const change = changes.success
        ? changes.data.networkAcls?.find((c) => c.subnetId === acl.subnetId && c.from === acl.networkAclId)
        : undefined;
      if (!change) {
        throw new ReleaseRefusedError(
          `step ${step.seq} (ec2-isolate) records the network ACL of ${acl.subnetId} before containment but not that it replaced it`,
        );
      }
      acls.set(acl.subnetId, {
        subnetId: acl.subnetId,
        networkAclId: acl.networkAclId,
        quarantineAclId: change.to,
        seq: step.seq,
      });
    }
  }
  return [...acls.values()];
}

/**
 * The memberships the incident took away: the first detach step's `before`, every membership of which
 * its `changes.calls` must record removing, of this instance. Anything else is refused, not given back.
 */
function detachUndo(detaches: Recorded<DetachBefore>, instanceId: string): DetachBefore | undefined {
  const first = detaches[0];
  if (!first) return undefined;
  const { step, before } = first;
  const changes = z.safeParse(CallsSchema, step.changes);
  const calls = changes.success ? changes.data.calls : [];
  const unrecorded = [
    ...(before.autoScalingGroup
      ? [detachCalls.autoScalingGroup(before.autoScalingGroup.name, instanceId)]
      : []),
    ...before.targetGroups.map((t) => detachCalls.targetGroup(t.targetGroupArn, instanceId)),
    ...before.loadBalancers.map((name) => detachCalls.loadBalancer(name, instanceId)),
  ].filter((call) => !calls.includes(call));
  if (unrecorded.length > 0) {
    throw new ReleaseRefusedError(
      `step ${step.seq} (ec2-detach) records memberships of ${instanceId} that it does not record removing (${unrecorded.join(', ')}): the release gives back only what containment took away; restore them by hand if they are right`,
    );
  }
  return before;
}

/**
 * The denies the incident put, by role: from each revoke step's own `changes`, which must name the
 * incident's policy ({@link revokePolicyName}) and the role of its own `before`; the last one per role is
 * what the role should carry now.
 */
function denyUndos(revokes: Recorded<RevokeBefore>, policyName: string): DenyUndo[] {
  const denies = new Map<string, DenyUndo>();
  for (const { step, before } of revokes) {
    const changes = z.safeParse(RevokeChangesSchema, step.changes);
    const put = changes.success ? changes.data.revokePolicy : undefined;
    if (put?.document === undefined) continue;
    if (put.policyName !== policyName || put.roleName !== before.role?.roleName) {
      throw new ReleaseRefusedError(
        `step ${step.seq} (ec2-revoke-sessions) records putting ${put.policyName ?? 'a policy'} on role ${put.roleName}, not this incident's ${policyName} on the role of its instance profile (${before.role?.roleName ?? 'none'}): review the role's policies and remove the deny by hand`,
      );
    }
    denies.set(put.roleName, {
      roleName: put.roleName,
      put: { document: put.document, seq: step.seq, recordedAt: step.recordedAt },
    });
  }
  return [...denies.values()];
}

function readPlan(steps: Steps, instanceId: string, policyName: string): Plan {
  const isolations = recorded(steps, 'ec2-isolate', IsolateBeforeSchema, instanceId);
  const revokes = recorded(steps, 'ec2-revoke-sessions', RevokeBeforeSchema, instanceId);
  return {
    isolate: isolations[0]?.before,
    acls: aclUndos(isolations),
    protect: recorded(steps, 'ec2-protect-evidence', ProtectBeforeSchema, instanceId)[0]?.before,
    detach: detachUndo(recorded(steps, 'ec2-detach', DetachBeforeSchema, instanceId), instanceId),
    revoke: revokes.find((r) => r.before.association !== null)?.before,
    denies: denyUndos(revokes, policyName),
    tags: recorded(steps, 'ec2-tag', TagBeforeSchema, instanceId)[0]?.before,
  };
}

/** A role, read live: its path and tags, for the rules; undefined when it no longer exists. */
async function liveRole(iam: ReleaseDeps['iam'], roleName: string): Promise<LiveRole | undefined> {
  try {
    const out = await awsCall(`iam:GetRole ${roleName}`, () =>
      iam.send(new GetRoleCommand({ RoleName: roleName })),
    );
    return { roleName, path: out.Role?.Path ?? '/', tags: out.Role?.Tags ?? [] };
  } catch (error) {
    if (error instanceof Error && /NoSuchEntity/.test(error.name)) return undefined;
    throw error;
  }
}

/** An instance profile, read live: its ARN and the name of its role; undefined when it no longer exists. */
async function liveProfile(
  iam: ReleaseDeps['iam'],
  profileName: string,
): Promise<{ arn: string; roleName: string | undefined } | undefined> {
  try {
    const out = await awsCall(`iam:GetInstanceProfile ${profileName}`, () =>
      iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName })),
    );
    return { arn: out.InstanceProfile?.Arn ?? '', roleName: out.InstanceProfile?.Roles?.[0]?.RoleName };
  } catch (error) {
    if (error instanceof Error && /NoSuchEntity/.test(error.name)) return undefined;
    throw error;
  }
}

function currentInterfaces(instance: Instance) {
  return (instance.NetworkInterfaces ?? []).map((nic) => ({
    networkInterfaceId: nic.NetworkInterfaceId ?? '',
    subnetId: nic.SubnetId ?? '',
    groups: (nic.Groups ?? []).map((g) => ({ id: g.GroupId ?? '', name: g.GroupName ?? '' })),
    tracking: nic.ConnectionTrackingConfiguration,
  }));
}

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
      ? awsCall(`ec2:DescribeNetworkAcls ${record.acls.map((a) => a.subnetId).join(',')}`, () =>
          ec2.send(
            new DescribeNetworkAclsCommand({
              Filters: [{ Name: 'association.subnet-id', Values: record.acls.map((a) => a.subnetId) }],
            }),
          ),
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
    const current = acls?.NetworkAcls?.find((a) => a.Associations?.some((x) => x.SubnetId === acl.subnetId));
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

  // ---- restore, network first so that the instance is healthy before it takes traffic again
  if (record.isolate) {
    for (const was of record.isolate.interfaces) {
      const nic = nics.find((n) => n.networkInterfaceId === was.networkInterfaceId);
      if (!nic) continue;
      if (
        !sameIds(
          nic.groups.map((g) => g.id),
          was.groups,
        )
      ) {
        await ec2Mutation(
          plan,
          `ec2:ModifyNetworkInterfaceAttribute ${was.networkInterfaceId} groups`,
          (DryRun) =>
            ec2.send(
              new ModifyNetworkInterfaceAttributeCommand({
                DryRun,
                NetworkInterfaceId: was.networkInterfaceId,
                Groups: was.groups,
              }),
            ),
        );
      }
      const tracking = was.connectionTracking;
      const trackingNow = nic.tracking;
      if (tracking) {
        const differs =
          trackingNow?.TcpEstablishedTimeout !== tracking.tcpEstablishedTimeout ||
          trackingNow?.UdpStreamTimeout !== tracking.udpStreamTimeout ||
          trackingNow?.UdpTimeout !== tracking.udpTimeout;
        if (differs) {
          await ec2Mutation(
            plan,
            `ec2:ModifyNetworkInterfaceAttribute ${was.networkInterfaceId} connection-tracking`,
            (DryRun) =>
              ec2.send(
                new ModifyNetworkInterfaceAttributeCommand({
                  DryRun,
                  NetworkInterfaceId: was.networkInterfaceId,
                  ConnectionTrackingSpecification: {
                    TcpEstablishedTimeout: tracking.tcpEstablishedTimeout,
                    UdpStreamTimeout: tracking.udpStreamTimeout,
                    UdpTimeout: tracking.udpTimeout,
                  },
                }),
              ),
          );
        }
      } else if (trackingNow?.TcpEstablishedTimeout !== undefined) {
        notes.push(
          `${was.networkInterfaceId} keeps its lowered connection-tracking timeouts: it had AWS's defaults, which depend on the instance type`,
        );
      }
    }
  }
  for (const acl of aclRestores) {
    await ec2Mutation(plan, `ec2:ReplaceNetworkAclAssociation ${acl.subnetId}`, (DryRun) =>
      ec2.send(
        new ReplaceNetworkAclAssociationCommand({
          DryRun,
          AssociationId: acl.associationId,
          NetworkAclId: acl.networkAclId,
        }),
      ),
    );
  }

  for (const roleName of deletes) {
    await mutation(plan, `iam:DeleteRolePolicy ${roleName} ${policyName}`, () =>
      deps.iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    );
  }
  if (reassociate && profile) {
    // AssociateIamInstanceProfile has no DryRun parameter
    // (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_AssociateIamInstanceProfile.html).
    await mutation(plan, `ec2:AssociateIamInstanceProfile ${id} ${profile.profileName}`, () =>
      ec2.send(
        new AssociateIamInstanceProfileCommand({
          InstanceId: id,
          IamInstanceProfile: { Arn: profile.profileArn },
        }),
      ),
    );
  }

  if (record.protect && protections) {
    const target = record.protect;
    const attached = target.volumes.filter((v) => protections.volumes.some((c) => c.volumeId === v.volumeId));
    if (attached.length < target.volumes.length)
      notes.push('some recorded volumes are no longer attached: their DeleteOnTermination is left as it is');
    await applyProtections(ec2, plan, protections, { ...target, volumes: attached });
  }

  if (record.tags) {
    const tagsNow = tagsOf(instance.Tags);
    const toDelete = Object.entries(record.tags.tags).filter(
      ([key, value]) => value === null && tagsNow[key] !== undefined,
    );
    const toSet = Object.entries(record.tags.tags).filter(
      (entry): entry is [string, string] => entry[1] !== null && tagsNow[entry[0]] !== entry[1],
    );
    if (toDelete.length > 0) {
      await ec2Mutation(plan, `ec2:DeleteTags ${id}`, (DryRun) =>
        ec2.send(
          new DeleteTagsCommand({ DryRun, Resources: [id], Tags: toDelete.map(([Key]) => ({ Key })) }),
        ),
      );
    }
    if (toSet.length > 0) {
      await ec2Mutation(plan, `ec2:CreateTags ${id}`, (DryRun) =>
        ec2.send(
          new CreateTagsCommand({
            DryRun,
            Resources: [id],
            Tags: toSet.map(([Key, Value]) => ({ Key, Value })),
          }),
        ),
      );
    }
  }

  if (record.detach && memberships) {
    if (attach && group) {
      await mutation(plan, `autoscaling:AttachInstances ${group.name} ${id}`, () =>
        deps.autoScaling.send(
          new AttachInstancesCommand({ AutoScalingGroupName: group.name, InstanceIds: [id] }),
        ),
      );
      notes.push(`AttachInstances raised the desired capacity of ${group.name} by one`);
      if (group.protectedFromScaleIn) notes.push(`scale-in protection in ${group.name} is not restored`);
    }
    const missing = record.detach.targetGroups.filter(
      (r) =>
        !memberships.targetGroups.some((m) => m.targetGroupArn === r.targetGroupArn && m.port === r.port),
    );
    const byGroup = new Map<string, number[]>();
    for (const r of missing)
      byGroup.set(r.targetGroupArn, [...(byGroup.get(r.targetGroupArn) ?? []), r.port]);
    for (const [arn, ports] of byGroup) {
      await mutation(plan, `elasticloadbalancing:RegisterTargets ${arn} ${id}`, () =>
        deps.elbv2.send(
          new RegisterTargetsCommand({
            TargetGroupArn: arn,
            Targets: ports.map((Port) => ({ Id: id, Port })),
          }),
        ),
      );
    }
    for (const name of record.detach.loadBalancers.filter((n) => !memberships.loadBalancers.includes(n))) {
      await mutation(plan, `elasticloadbalancing:RegisterInstancesWithLoadBalancer ${name} ${id}`, () =>
        deps.elb.send(
          new RegisterInstancesWithLoadBalancerCommand({
            LoadBalancerName: name,
            Instances: [{ InstanceId: id }],
          }),
        ),
      );
    }
  }

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
