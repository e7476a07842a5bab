/**
 * The changes of `ec2-release`, made only after everything was read and checked (functions/actions/
 * ec2-release/core.ts): network first (each interface's groups and connection tracking, then each
 * subnet's network ACL), so that the instance is healthy before it takes traffic again; then the
 * incident's denies, the instance profile, the evidence protections, the tags, and last the memberships.
 * Each call is made only where the current state differs from the record.
 */
import { AttachInstancesCommand } from '@aws-sdk/client-auto-scaling';
import {
  AssociateIamInstanceProfileCommand,
  CreateTagsCommand,
  DeleteTagsCommand,
  type Instance,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import { RegisterInstancesWithLoadBalancerCommand } from '@aws-sdk/client-elastic-load-balancing';
import { RegisterTargetsCommand } from '@aws-sdk/client-elastic-load-balancing-v2';
import { DeleteRolePolicyCommand, type IAMClient } from '@aws-sdk/client-iam';
import {
  type CallPlan,
  type Ec2Sender,
  ec2Mutation,
  mutation,
  sameIds,
  tagsOf,
} from '../ec2-common/instance.ts';
import type { DetachBefore, RevokeBefore } from '../ec2-common/records.ts';
import type { MembershipClients } from '../ec2-detach/memberships.ts';
import { applyProtections, type readProtections } from '../ec2-protect-evidence/core.ts';
import type { currentInterfaces } from './live.ts';
import type { ReleasePlan } from './record.ts';

/** What was decided, after the checks, to put back. */
export interface Restores {
  readonly id: string;
  readonly record: ReleasePlan;
  readonly instance: Instance;
  readonly nics: ReturnType<typeof currentInterfaces>;
  readonly aclRestores: readonly { subnetId: string; associationId: string; networkAclId: string }[];
  /** The roles whose deny (`policyName`) is deleted. */
  readonly deletes: readonly string[];
  readonly policyName: string;
  /** The profile to associate again, when the instance has none now. */
  readonly reassociate: RevokeBefore['association'] | undefined;
  readonly protections: Awaited<ReturnType<typeof readProtections>>['protections'] | undefined;
  readonly memberships: DetachBefore | undefined;
  /** Attach the instance to the recorded Auto Scaling group. */
  readonly attach: boolean;
}

/** Makes the restores (or, with a dry run, checks and reports them); `notes` gets what could not be exact. */
export async function applyRestores(
  deps: MembershipClients & { readonly ec2: Ec2Sender; readonly iam: Pick<IAMClient, 'send'> },
  plan: CallPlan,
  restores: Restores,
  notes: string[],
): Promise<void> {
  const { ec2 } = deps;
  const { id, record, instance, nics, aclRestores, deletes, policyName, protections, memberships, attach } =
    restores;
  const profile = restores.reassociate ?? undefined;
  const reassociate = profile !== undefined;
  const group = record.detach?.autoScalingGroup;
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
}
