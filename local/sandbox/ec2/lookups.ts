/** EC2 lookups that fail with AWS's not-found errors, and the small helpers every EC2 command shares. */
import type { TagSpecification } from '@aws-sdk/client-ec2';
import type { CallContext } from '../context.ts';
import { fail, tagMap } from '../context.ts';
import type {
  AccountState,
  InstanceState,
  InstanceStateName,
  NetworkAclState,
  NetworkInterfaceState,
  SecurityGroupState,
  TagMap,
  VolumeState,
} from '../state.ts';

/** AWS's numeric code of each instance state. */
export const STATE_CODES: Record<InstanceStateName, number> = {
  pending: 0,
  running: 16,
  'shutting-down': 32,
  terminated: 48,
  stopping: 64,
  stopped: 80,
};

export const date = (ms: number): Date => new Date(ms);

/** The EC2 collections a command can look an id up in. */
export type Collection = Exclude<keyof AccountState['ec2'], 'tags'>;

/** AWS's not-found error for an id of each collection. */
export const NOT_FOUND: Record<
  Collection,
  (id: string | undefined) => readonly [code: string, message: string]
> = {
  vpcs: (id) => ['InvalidVpcID.NotFound', `The vpc ID '${id}' does not exist`],
  subnets: (id) => ['InvalidSubnetID.NotFound', `The subnet ID '${id}' does not exist`],
  networkAcls: (id) => ['InvalidNetworkAclID.NotFound', `The network ACL '${id}' does not exist`],
  securityGroups: (id) => ['InvalidGroup.NotFound', `The security group '${id}' does not exist`],
  networkInterfaces: (id) => [
    'InvalidNetworkInterfaceID.NotFound',
    `The networkInterface ID '${id}' does not exist`,
  ],
  instances: (id) => ['InvalidInstanceID.NotFound', `The instance ID '${id}' does not exist`],
  volumes: (id) => ['InvalidVolume.NotFound', `The volume '${id}' does not exist.`],
  snapshots: (id) => ['InvalidSnapshot.NotFound', `The snapshot '${id}' does not exist.`],
  profileAssociations: (id) => [
    'InvalidAssociationID.NotFound',
    `An association with ID ${id} does not exist.`,
  ],
};

/**
 * AWS's error for ids of a collection that do not exist: instances name all of them ("The instance IDs
 * 'i-1, i-2' do not exist"), the others the first.
 */
export function missingIds(collection: Collection, missing: readonly string[]): readonly [string, string] {
  if (collection === 'instances' && missing.length > 1) {
    return ['InvalidInstanceID.NotFound', `The instance IDs '${missing.join(', ')}' do not exist`];
  }
  return NOT_FOUND[collection](missing[0]);
}

export function instanceOrFail(ctx: CallContext, id: string | undefined): InstanceState {
  const instance = id === undefined ? undefined : ctx.state.ec2.instances[id];
  if (!instance) fail(ctx, ...NOT_FOUND.instances(id));
  return instance;
}

export function instancesOrFail(ctx: CallContext, ids: readonly string[] | undefined): InstanceState[] {
  const missing = (ids ?? []).filter((id) => !ctx.state.ec2.instances[id]);
  if (missing.length > 0) fail(ctx, ...missingIds('instances', missing));
  return (ids ?? []).map((id) => instanceOrFail(ctx, id));
}

/** A group by id, or by name when no id is given. */
export function groupNamed(state: AccountState, id: string | undefined, name?: string) {
  return id !== undefined
    ? state.ec2.securityGroups[id]
    : Object.values(state.ec2.securityGroups).find((g) => g.groupName === name);
}

export function groupOrFail(ctx: CallContext, id: string | undefined, name?: string): SecurityGroupState {
  const group = groupNamed(ctx.state, id, name);
  if (!group) fail(ctx, ...NOT_FOUND.securityGroups(id ?? name));
  return group;
}

export function interfaceOrFail(ctx: CallContext, id: string | undefined): NetworkInterfaceState {
  const nic = id === undefined ? undefined : ctx.state.ec2.networkInterfaces[id];
  if (!nic) fail(ctx, ...NOT_FOUND.networkInterfaces(id));
  return nic;
}

/** A volume that still exists (a deleted one is kept in the state but is gone for every command). */
export function liveVolume(state: AccountState, id: string): VolumeState | undefined {
  const volume = state.ec2.volumes[id];
  return volume && volume.state !== 'deleted' ? volume : undefined;
}

export function volumeOrFail(ctx: CallContext, id: string | undefined): VolumeState {
  const volume = id === undefined ? undefined : liveVolume(ctx.state, id);
  if (!volume) fail(ctx, ...NOT_FOUND.volumes(id));
  return volume;
}

export function aclOrFail(ctx: CallContext, id: string | undefined): NetworkAclState {
  const acl = id === undefined ? undefined : ctx.state.ec2.networkAcls[id];
  if (!acl) fail(ctx, ...NOT_FOUND.networkAcls(id));
  return acl;
}

export function requireDefined<T>(ctx: CallContext, value: T | undefined, parameter: string): T {
  if (value === undefined)
    fail(ctx, 'MissingParameter', `The request must contain the parameter ${parameter}`);
  return value;
}

/** The tags a create request gives a resource of `resourceType` (a specification with no type applies to all). */
export function tagsFromSpecifications(
  specs: readonly TagSpecification[] | undefined,
  resourceType: string,
): TagMap {
  const out: TagMap = {};
  for (const spec of specs ?? []) {
    if (spec.ResourceType === undefined || spec.ResourceType === resourceType)
      Object.assign(out, tagMap(spec.Tags));
  }
  return out;
}

export function setTags(state: AccountState, id: string, tags: TagMap): void {
  if (Object.keys(tags).length > 0) state.ec2.tags[id] = { ...state.ec2.tags[id], ...tags };
}

/** Each taggable resource: its id prefix, its collection, AWS's resource type and not-found error. */
export const RESOURCE_TYPES: readonly [string, keyof AccountState['ec2'], string, string][] = [
  ['i-', 'instances', 'instance', 'InvalidInstanceID.NotFound'],
  ['vol-', 'volumes', 'volume', 'InvalidVolume.NotFound'],
  ['snap-', 'snapshots', 'snapshot', 'InvalidSnapshot.NotFound'],
  ['sg-', 'securityGroups', 'security-group', 'InvalidGroup.NotFound'],
  ['eni-', 'networkInterfaces', 'network-interface', 'InvalidNetworkInterfaceID.NotFound'],
  ['vpc-', 'vpcs', 'vpc', 'InvalidVpcID.NotFound'],
  ['subnet-', 'subnets', 'subnet', 'InvalidSubnetID.NotFound'],
  ['acl-', 'networkAcls', 'network-acl', 'InvalidNetworkAclID.NotFound'],
];

/** The resource type of an id that exists; fails as AWS does for one that does not. */
export function resourceType(ctx: CallContext, id: string): string {
  for (const [prefix, collection, type, code] of RESOURCE_TYPES) {
    if (!id.startsWith(prefix)) continue;
    const items = ctx.state.ec2[collection] as Record<string, unknown>;
    if (!items[id]) fail(ctx, code, `The ID '${id}' does not exist`);
    return type;
  }
  return fail(ctx, 'InvalidID', `The ID '${id}' is not valid`);
}
