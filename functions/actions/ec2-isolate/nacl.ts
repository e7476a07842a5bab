/**
 * The `nacl` strategy's reads and its one shared resource: who else has an interface in the instance's
 * subnets (every page of DescribeNetworkInterfaces: one stranger keeps the quarantine off the subnet),
 * each subnet's network ACL association (every page of DescribeNetworkAcls), and the VPC's quarantine
 * network ACL, created once and reused.
 */
import {
  CreateNetworkAclCommand,
  DescribeNetworkAclsCommand,
  DescribeNetworkInterfacesCommand,
  ReplaceNetworkAclAssociationCommand,
} from '@aws-sdk/client-ec2';
import { awsCall } from '#shared/aws';
import { ResourceNotFoundError } from '#shared/errors';
import { allItems, nextToken } from '#shared/pages';
import { type CallPlan, type Ec2Sender, ec2Mutation, TAG } from '../ec2-common/instance.ts';
import type { Nic } from './interfaces.ts';

/** What the `nacl` strategy reads: who else is in the subnets, and each subnet's ACL association. */
export interface NaclView {
  readonly strangers: string[];
  readonly quarantine: Map<string, string>;
  readonly associations: { subnetId: string; vpcId: string; networkAclId: string; associationId: string }[];
}

export async function readNaclView(
  ec2: Ec2Sender,
  instanceId: string,
  nics: readonly Nic[],
): Promise<NaclView> {
  const subnets = [...new Set(nics.map((n) => n.subnetId))];
  const vpcs = [...new Set(nics.map((n) => n.vpcId))];
  const enisDoing = `ec2:DescribeNetworkInterfaces ${subnets.join(',')}`;
  const aclsDoing = `ec2:DescribeNetworkAcls ${vpcs.join(',')}`;
  // Every page of both: a stranger on a later page must still keep the quarantine off a shared subnet.
  const [enis, acls] = await Promise.all([
    allItems({
      doing: enisDoing,
      fetch: (NextToken) =>
        awsCall(enisDoing, () =>
          ec2.send(
            new DescribeNetworkInterfacesCommand({
              Filters: [{ Name: 'subnet-id', Values: subnets }],
              NextToken,
            }),
          ),
        ),
      next: nextToken,
      items: (page) => page.NetworkInterfaces,
    }),
    allItems({
      doing: aclsDoing,
      fetch: (NextToken) =>
        awsCall(aclsDoing, () =>
          ec2.send(
            new DescribeNetworkAclsCommand({ Filters: [{ Name: 'vpc-id', Values: vpcs }], NextToken }),
          ),
        ),
      next: nextToken,
      items: (page) => page.NetworkAcls,
    }),
  ]);
  const strangers = enis
    .filter((e) => e.Attachment?.InstanceId !== instanceId)
    .map((e) => e.NetworkInterfaceId ?? '?');
  const quarantine = new Map<string, string>();
  for (const acl of acls) {
    const tagged = acl.Tags?.some((t) => t.Key === TAG.quarantine && t.Value === 'true');
    if (tagged && acl.VpcId && acl.NetworkAclId && !quarantine.has(acl.VpcId))
      quarantine.set(acl.VpcId, acl.NetworkAclId);
  }
  const associations = subnets.map((subnetId) => {
    for (const acl of acls) {
      const association = acl.Associations?.find((a) => a.SubnetId === subnetId);
      if (association?.NetworkAclAssociationId && acl.NetworkAclId) {
        return {
          subnetId,
          vpcId: acl.VpcId ?? '',
          networkAclId: acl.NetworkAclId,
          associationId: association.NetworkAclAssociationId,
        };
      }
    }
    throw new ResourceNotFoundError(`subnet ${subnetId} has no network ACL association`);
  });
  return { strangers, quarantine, associations };
}

/**
 * A new network ACL denies all inbound and outbound traffic until rules are added
 * (https://docs.aws.amazon.com/vpc/latest/userguide/custom-network-acl.html), which is the quarantine.
 */
export async function ensureQuarantineAcl(
  ec2: Ec2Sender,
  plan: CallPlan,
  view: NaclView,
  vpcId: string,
): Promise<string | undefined> {
  const existing = view.quarantine.get(vpcId);
  if (existing) return existing;
  const out = await ec2Mutation(plan, `ec2:CreateNetworkAcl cordon-quarantine-${vpcId}`, (DryRun) =>
    ec2.send(
      new CreateNetworkAclCommand({
        DryRun,
        VpcId: vpcId,
        TagSpecifications: [
          {
            ResourceType: 'network-acl',
            Tags: [
              { Key: TAG.quarantine, Value: 'true' },
              { Key: 'Name', Value: `cordon-quarantine-${vpcId}` },
            ],
          },
        ],
      }),
    ),
  );
  const id = out?.NetworkAcl?.NetworkAclId;
  if (id) view.quarantine.set(vpcId, id);
  return id;
}

/** One subnet moved to the quarantine ACL: from the ACL it had. */
export interface AclChange {
  readonly subnetId: string;
  readonly from: string;
  readonly to: string;
  readonly newAssociationId?: string;
}

/**
 * Moves each subnet to its VPC's quarantine ACL (created when missing), one ReplaceNetworkAclAssociation
 * each; `undo` receives what puts each one back if the run fails later.
 */
export async function quarantineSubnets(
  ec2: Ec2Sender,
  plan: CallPlan,
  view: NaclView,
  work: NaclView['associations'],
  undo: (step: { what: string; run: () => Promise<unknown> }) => void,
): Promise<AclChange[]> {
  const changes: AclChange[] = [];
  for (const association of work) {
    const aclId = await ensureQuarantineAcl(ec2, plan, view, association.vpcId);
    const doing = `ec2:ReplaceNetworkAclAssociation ${association.subnetId}`;
    if (!aclId) {
      // A dry run of an ACL that does not exist yet: the call cannot be checked, only reported.
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
    changes.push({
      subnetId: association.subnetId,
      from: association.networkAclId,
      to: aclId,
      ...(newAssociationId ? { newAssociationId } : {}),
    });
    if (newAssociationId) {
      undo({
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
  return changes;
}
