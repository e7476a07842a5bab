/**
 * The core of `ec2-release` (recovery, after approval): puts back exactly the state the containment
 * actions recorded in the incident's audit record, as their `before`. The record is read verified (its
 * chain, key and anchor: functions/shared/audit-verify.ts); on a break the release refuses
 * (`RecordTamperedError`, recorded and emailed by the playbook). It undoes only what Cordon did:
 * - `ec2-isolate`: the groups of each interface, the network ACL of each quarantined subnet, and explicit
 *   connection-tracking timeouts;
 * - `ec2-revoke-sessions`: deletes `cordon-revoke-sessions` from the role if Cordon put it there and it is
 *   still exactly Cordon's deny (the one shape the code builds); never puts a policy back (a policy of that
 *   name the role had before containment was left as it was). It associates the instance profile again
 *   only when live state agrees with the record (the profile exists with that ARN and still holds the
 *   recorded role), the role is one Cordon may pass (`settings.instanceRoles`, the only roles it has
 *   `iam:PassRole` for) and not one it must never touch; otherwise it refuses and says what to do by hand;
 * - `ec2-protect-evidence`: termination and stop protection, shutdown behaviour, DeleteOnTermination;
 * - `ec2-tag`: the previous value of each tag, or no tag;
 * - `ec2-detach`: AttachInstances to the Auto Scaling group, RegisterTargets, RegisterInstancesWithLoadBalancer.
 *
 * For each action the first step that succeeded (not a dry run, not `already-done`) holds the state
 * before the incident: a later step of the same action (the isolate stage of the two-step swap, a retry)
 * found the state the first one left.
 *
 * It reads everything and checks it before changing anything, and refuses with {@link ReleaseRefusedError}
 * when the instance changed in a way the record does not cover: terminated, an interface added or removed,
 * an interface whose groups are neither the recorded ones nor Cordon's, another instance profile, another
 * Auto Scaling group. Each restore is made only where the current state differs, so a second run changes
 * nothing and reports `already-done`.
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
  type IsolateBefore,
  IsolateBeforeSchema,
  type ProtectBefore,
  ProtectBeforeSchema,
  REVOKE_POLICY_NAME,
  type RevokeBefore,
  RevokeBeforeSchema,
  type TagBefore,
  TagBeforeSchema,
} from '../ec2-common/records.ts';
import { type MembershipClients, readMemberships } from '../ec2-detach/memberships.ts';
import { applyProtections, readProtections } from '../ec2-protect-evidence/core.ts';
import { currentAssociation, rolePolicy } from '../ec2-revoke-sessions/core.ts';
import { revokedBefore } from '../iam-common/iam.ts';
import { ReleaseRefusedError } from './errors.ts';

/** The event of `ec2-release`. */
export const ReleaseInputSchema = z.extend(Ec2EventSchema, {
  /** The incident whose containment is undone; default: the event's own `incidentId`. */
  containmentIncidentId: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
});

/** What the release reads of the audit record: the steps, verified (an `AuditRecorder` has it). */
export interface StepSource {
  verified(incidentId: string): Promise<{
    readonly steps: readonly Pick<Step, 'seq' | 'action' | 'status' | 'before' | 'changes' | 'dryRun'>[];
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

/** The `before` of every succeeded step of `action` for the instance, oldest first. */
function recorded<T extends { instanceId: string }>(
  steps: Steps,
  action: string,
  schema: z.ZodMiniType<T>,
  instanceId: string,
): T[] {
  const found: T[] = [];
  for (const step of steps) {
    if (step.action !== action || step.status !== 'succeeded' || step.dryRun === true) continue;
    const parsed = z.safeParse(schema, step.before);
    if (!parsed.success) {
      throw new ReleaseRefusedError(`step ${step.seq} (${action}) has a before the release cannot read`);
    }
    if (parsed.data.instanceId === instanceId) found.push(parsed.data);
  }
  return found;
}

const CORDON_GROUP = /^cordon-(isolation|untrack)-/;

interface Plan {
  isolate?: IsolateBefore;
  acls: IsolateBefore['networkAcls'];
  protect?: ProtectBefore;
  detach?: DetachBefore;
  revoke?: RevokeBefore;
  /** The role Cordon put its deny on (its own `changes` say so), when it did. */
  deniedRole?: string;
  tags?: TagBefore;
}

const RevokeChangesSchema = z.looseObject({
  revokePolicy: z.optional(z.looseObject({ roleName: z.string(), document: z.optional(z.string()) })),
});

/** The roles on which `ec2-revoke-sessions` put its deny, as its own recorded changes say. */
function deniedRoles(steps: Steps, instanceId: string): Set<string> {
  const roles = new Set<string>();
  for (const step of steps) {
    if (step.action !== 'ec2-revoke-sessions' || step.status !== 'succeeded' || step.dryRun === true)
      continue;
    const before = z.safeParse(RevokeBeforeSchema, step.before);
    const changes = z.safeParse(RevokeChangesSchema, step.changes);
    if (!before.success || before.data.instanceId !== instanceId || !changes.success) continue;
    const put = changes.data.revokePolicy;
    if (put?.document !== undefined) roles.add(put.roleName);
  }
  return roles;
}

function readPlan(steps: Steps, instanceId: string): Plan {
  const isolations = recorded(steps, 'ec2-isolate', IsolateBeforeSchema, instanceId);
  const acls = new Map<string, string>();
  for (const isolation of isolations) {
    for (const acl of isolation.networkAcls)
      if (!acls.has(acl.subnetId)) acls.set(acl.subnetId, acl.networkAclId);
  }
  const revoke = recorded(steps, 'ec2-revoke-sessions', RevokeBeforeSchema, instanceId).find(
    (r) => r.association !== null,
  );
  const denied = deniedRoles(steps, instanceId);
  const roleName = revoke?.role?.roleName;
  return {
    isolate: isolations[0],
    acls: [...acls].map(([subnetId, networkAclId]) => ({ subnetId, networkAclId })),
    protect: recorded(steps, 'ec2-protect-evidence', ProtectBeforeSchema, instanceId)[0],
    detach: recorded(steps, 'ec2-detach', DetachBeforeSchema, instanceId)[0],
    revoke,
    // Cordon's deny is undone only where Cordon put it, and the role had no policy of that name before.
    ...(roleName && denied.has(roleName) && revoke?.role?.revokePolicy === null
      ? { deniedRole: roleName }
      : {}),
    tags: recorded(steps, 'ec2-tag', TagBeforeSchema, instanceId)[0],
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
  const { steps } = await deps.recorder.verified(input.containmentIncidentId ?? input.incidentId);
  const record = readPlan(steps, id);
  if (!record.isolate && !record.protect && !record.detach && !record.revoke && !record.tags) {
    throw new ReleaseRefusedError(
      `the record of incident ${input.containmentIncidentId ?? input.incidentId} holds no containment of ${id}`,
    );
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
  // The role Cordon denied: still Cordon's exact deny, on a role it may touch, or the release refuses.
  const deniedRole = record.deniedRole;
  const policyNow = deniedRole ? await rolePolicy(deps.iam, deniedRole, REVOKE_POLICY_NAME) : null;
  if (deniedRole && policyNow !== null) {
    if (revokedBefore(policyNow) === undefined) {
      throw new ReleaseRefusedError(
        `the ${REVOKE_POLICY_NAME} policy on role ${deniedRole} is no longer the deny Cordon put there: someone changed it; review and remove it by hand`,
      );
    }
    const role = await liveRole(deps.iam, deniedRole);
    const why = role ? deps.roles.untouchable(role) : undefined;
    if (why) {
      throw new ReleaseRefusedError(
        `role ${deniedRole} is one Cordon must not touch (${why}): remove its ${REVOKE_POLICY_NAME} policy by hand`,
      );
    }
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
    ...(record.revoke ? { profileArn: profileArnNow ?? null, revokePolicy: policyNow !== null } : {}),
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
  for (const acl of record.acls) {
    const current = acls?.NetworkAcls?.find((a) => a.Associations?.some((x) => x.SubnetId === acl.subnetId));
    const associationId = current?.Associations?.find(
      (x) => x.SubnetId === acl.subnetId,
    )?.NetworkAclAssociationId;
    if (!current || !associationId || current.NetworkAclId === acl.networkAclId) continue;
    await ec2Mutation(plan, `ec2:ReplaceNetworkAclAssociation ${acl.subnetId}`, (DryRun) =>
      ec2.send(
        new ReplaceNetworkAclAssociationCommand({
          DryRun,
          AssociationId: associationId,
          NetworkAclId: acl.networkAclId,
        }),
      ),
    );
  }

  if (deniedRole && policyNow !== null) {
    await mutation(plan, `iam:DeleteRolePolicy ${deniedRole} ${REVOKE_POLICY_NAME}`, () =>
      deps.iam.send(new DeleteRolePolicyCommand({ RoleName: deniedRole, PolicyName: REVOKE_POLICY_NAME })),
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
