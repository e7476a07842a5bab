/**
 * The core of `ec2-release` (recovery, after approval): puts back exactly the state the containment
 * actions recorded in the incident's audit record, as their `before`:
 * - `ec2-isolate`: the groups of each interface, the network ACL of each quarantined subnet, and explicit
 *   connection-tracking timeouts;
 * - `ec2-revoke-sessions`: removes `cordon-revoke-sessions` from the role (or puts back the policy of that
 *   name the role had before) and associates the instance profile again;
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
import { DeleteRolePolicyCommand, type IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
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
import { ReleaseRefusedError } from './errors.ts';

/** The event of `ec2-release`. */
export const ReleaseInputSchema = z.extend(Ec2EventSchema, {
  /** The incident whose containment is undone; default: the event's own `incidentId`. */
  containmentIncidentId: z.optional(z.string().check(z.minLength(1, 'must not be empty'))),
});

/** What the release reads of the audit record (an `AuditRecorder` has it). */
export interface StepSource {
  steps(
    incidentId: string,
  ): Promise<readonly Pick<Step, 'seq' | 'action' | 'status' | 'before' | 'dryRun'>[]>;
}

/** What the core needs: the clients of every service containment touched, and the audit record. */
export interface ReleaseDeps extends MembershipClients {
  readonly ec2: Ec2Sender;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly recorder: StepSource;
}

type Steps = Awaited<ReturnType<StepSource['steps']>>;

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
  tags?: TagBefore;
}

function readPlan(steps: Steps, instanceId: string): Plan {
  const isolations = recorded(steps, 'ec2-isolate', IsolateBeforeSchema, instanceId);
  const acls = new Map<string, string>();
  for (const isolation of isolations) {
    for (const acl of isolation.networkAcls)
      if (!acls.has(acl.subnetId)) acls.set(acl.subnetId, acl.networkAclId);
  }
  return {
    isolate: isolations[0],
    acls: [...acls].map(([subnetId, networkAclId]) => ({ subnetId, networkAclId })),
    protect: recorded(steps, 'ec2-protect-evidence', ProtectBeforeSchema, instanceId)[0],
    detach: recorded(steps, 'ec2-detach', DetachBeforeSchema, instanceId)[0],
    revoke: recorded(steps, 'ec2-revoke-sessions', RevokeBeforeSchema, instanceId).find(
      (r) => r.association !== null,
    ),
    tags: recorded(steps, 'ec2-tag', TagBeforeSchema, instanceId)[0],
  };
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
  const steps = await deps.recorder.steps(input.containmentIncidentId ?? input.incidentId);
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

  const revokeRole =
    record.revoke?.role && !record.revoke.role.path.startsWith('/aws-service-role/')
      ? record.revoke.role
      : undefined;
  const policyNow = revokeRole ? await rolePolicy(deps.iam, revokeRole.roleName, REVOKE_POLICY_NAME) : null;
  const profile = record.revoke?.association;
  const profileArnNow = association?.IamInstanceProfile?.Arn;
  if (profile && profileArnNow && profileArnNow !== profile.profileArn) {
    throw new ReleaseRefusedError(
      `instance ${id} now has instance profile ${profileArnNow}, not ${profile.profileArn}`,
    );
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

  if (revokeRole) {
    const was = revokeRole.revokePolicy;
    if (was === null && policyNow !== null) {
      await mutation(plan, `iam:DeleteRolePolicy ${revokeRole.roleName} ${REVOKE_POLICY_NAME}`, () =>
        deps.iam.send(
          new DeleteRolePolicyCommand({ RoleName: revokeRole.roleName, PolicyName: REVOKE_POLICY_NAME }),
        ),
      );
    } else if (was !== null && policyNow !== was) {
      await mutation(plan, `iam:PutRolePolicy ${revokeRole.roleName} ${REVOKE_POLICY_NAME}`, () =>
        deps.iam.send(
          new PutRolePolicyCommand({
            RoleName: revokeRole.roleName,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument: was,
          }),
        ),
      );
    }
  }
  if (profile && !profileArnNow) {
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
