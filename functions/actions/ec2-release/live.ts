/**
 * What `ec2-release` reads of the live account before it changes anything: the instance's interfaces, the
 * network ACLs of its subnets (every page), the role and instance profile it would give back, and the
 * rules ({@link RoleRules}) that say which roles Cordon may touch or pass.
 */
import { DescribeNetworkAclsCommand, type Instance, type NetworkAcl } from '@aws-sdk/client-ec2';
import { GetInstanceProfileCommand, GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import { awsCall } from '#shared/aws';
import { allItems, nextToken } from '#shared/pages';
import type { Ec2Sender } from '../ec2-common/instance.ts';

type IamSender = Pick<IAMClient, 'send'>;

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

/** A role, read live: its path and tags, for the rules; undefined when it no longer exists. */
export async function liveRole(iam: IamSender, roleName: string): Promise<LiveRole | undefined> {
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
export async function liveProfile(
  iam: IamSender,
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

/** The instance's interfaces as they are now: subnet, groups (id and name), connection tracking. */
export function currentInterfaces(instance: Instance) {
  return (instance.NetworkInterfaces ?? []).map((nic) => ({
    networkInterfaceId: nic.NetworkInterfaceId ?? '',
    subnetId: nic.SubnetId ?? '',
    groups: (nic.Groups ?? []).map((g) => ({ id: g.GroupId ?? '', name: g.GroupName ?? '' })),
    tracking: nic.ConnectionTrackingConfiguration,
  }));
}

/** The network ACLs associated with the subnets, from every page of DescribeNetworkAcls. */
export function subnetAcls(ec2: Ec2Sender, subnetIds: readonly string[]): Promise<NetworkAcl[]> {
  const doing = `ec2:DescribeNetworkAcls ${subnetIds.join(',')}`;
  return allItems({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(
          new DescribeNetworkAclsCommand({
            Filters: [{ Name: 'association.subnet-id', Values: [...subnetIds] }],
            NextToken,
          }),
        ),
      ),
    next: nextToken,
    items: (page) => page.NetworkAcls,
  });
}
