/**
 * EC2's Describe commands, each a spec of {@link describe}: what it selects by id, the filters it knows,
 * how it pages and the shape it returns.
 */
import type {
  DescribeIamInstanceProfileAssociationsCommandInput,
  DescribeInstanceStatusCommandInput,
  DescribeInstancesCommandInput,
  DescribeNetworkAclsCommandInput,
  DescribeNetworkInterfacesCommandInput,
  DescribeSecurityGroupsCommandInput,
  DescribeSnapshotsCommandInput,
  DescribeSubnetsCommandInput,
  DescribeTagsCommandOutput,
  DescribeVolumesCommandInput,
  DescribeVpcsCommandInput,
} from '@aws-sdk/client-ec2';
import type { HandlerMap } from '../context.ts';
import { sortedValues, tagList } from '../context.ts';
import type { AccountState, Ec2State, InstanceState, NetworkInterfaceState } from '../state.ts';
import type { Collection } from './lookups.ts';
import { groupNamed, liveVolume, missingIds, RESOURCE_TYPES } from './lookups.ts';
import { describe, ec2Paging } from './paging.ts';
import {
  aclShape,
  associationShape,
  groupShape,
  instanceShape,
  instanceStatusShape,
  interfaceShape,
  snapshotShape,
  subnetShape,
  volumeShape,
  vpcShape,
} from './shapes.ts';

const upTo1000 = ec2Paging(5, 1000);

/**
 * The selection of a Describe over one collection: its items by id (in the sandbox's stable order), the
 * ids the request names, and AWS's error for those that do not exist.
 */
function keyed<K extends Collection, I>(key: K, ids: (input: I) => readonly string[] | undefined) {
  const items = (state: AccountState) => state.ec2[key] as Record<string, ItemOf<K>>;
  return {
    byId: {
      ids,
      lookup: (state: AccountState, id: string) => items(state)[id],
      notFound: (missing: readonly string[]) => missingIds(key, missing),
    },
    all: (state: AccountState) => sortedValues(items(state)),
  };
}

type ItemOf<K extends Collection> = Ec2State[K][string];

const interfacesOf = (state: AccountState, i: InstanceState): NetworkInterfaceState[] =>
  i.networkInterfaceIds
    .map((id) => state.ec2.networkInterfaces[id])
    .filter((n): n is NetworkInterfaceState => n !== undefined);

/** One row of DescribeTags. */
interface TagRow {
  readonly ResourceId: string;
  readonly ResourceType: string;
  readonly Key: string;
  readonly Value: string;
}

const tagRows = (state: AccountState): TagRow[] =>
  Object.keys(state.ec2.tags)
    .sort()
    .flatMap((id) =>
      tagList(state.ec2.tags[id]).map((t) => ({
        ResourceId: id,
        ResourceType: RESOURCE_TYPES.find(([prefix]) => id.startsWith(prefix))?.[2] ?? 'instance',
        Key: t.Key,
        Value: t.Value,
      })),
    );

/** EC2's Describe commands. */
export const describeHandlers: HandlerMap = {
  DescribeVpcs: describe({
    ...keyed('vpcs', (input: DescribeVpcsCommandInput) => input.VpcIds),
    fields: () => (v, name) =>
      ({ 'vpc-id': [v.vpcId], 'cidr-block': [v.cidrBlock], 'is-default': [String(v.isDefault)] })[name],
    tagId: (v) => v.vpcId,
    output: (ctx, vpcs) => ({ Vpcs: vpcs.map((v) => vpcShape(ctx.state, v)) }),
  }),

  DescribeSubnets: describe({
    ...keyed('subnets', (input: DescribeSubnetsCommandInput) => input.SubnetIds),
    fields: () => (s, name) =>
      ({ 'subnet-id': [s.subnetId], 'vpc-id': [s.vpcId], 'availability-zone': [s.availabilityZone] })[name],
    tagId: (s) => s.subnetId,
    output: (ctx, subnets) => ({ Subnets: subnets.map((s) => subnetShape(ctx.state, s)) }),
  }),

  DescribeNetworkAcls: describe({
    ...keyed('networkAcls', (input: DescribeNetworkAclsCommandInput) => input.NetworkAclIds),
    fields: () => (a, name) =>
      ({
        'network-acl-id': [a.networkAclId],
        'vpc-id': [a.vpcId],
        default: [String(a.isDefault)],
        'association.subnet-id': a.associations.map((x) => x.subnetId),
        'association.association-id': a.associations.map((x) => x.associationId),
      })[name],
    tagId: (a) => a.networkAclId,
    output: (ctx, acls) => ({ NetworkAcls: acls.map((a) => aclShape(ctx.state, a)) }),
  }),

  /** Ids and names select together: every id and every name must exist. */
  DescribeSecurityGroups: describe({
    byId: {
      ids: (input: DescribeSecurityGroupsCommandInput) => [
        ...(input.GroupIds ?? []),
        ...(input.GroupNames ?? []),
      ],
      lookup: (state, id) => state.ec2.securityGroups[id] ?? groupNamed(state, undefined, id),
      notFound: (missing) => missingIds('securityGroups', missing),
    },
    all: (state) => sortedValues(state.ec2.securityGroups),
    fields: (state) => (g, name) =>
      ({
        'group-id': [g.groupId],
        'group-name': [g.groupName],
        'vpc-id': [g.vpcId],
        description: [g.description],
        'owner-id': [state.accountId],
      })[name],
    tagId: (g) => g.groupId,
    output: (ctx, groups) => ({ SecurityGroups: groups.map((g) => groupShape(ctx.state, g)) }),
  }),

  /** One reservation per instance, which is how the sandbox launches them. */
  DescribeInstances: describe({
    // The one message of this kind known verbatim: "The parameter instancesSet cannot be used with the parameter maxResults".
    paging: { rules: upTo1000, exclusiveIds: 'instancesSet' },
    ...keyed('instances', (input: DescribeInstancesCommandInput) => input.InstanceIds),
    fields: (state) => (i, name) => {
      const nics = interfacesOf(state, i);
      return {
        'instance-id': [i.instanceId],
        'instance-state-name': [i.state],
        'instance-type': [i.instanceType],
        'vpc-id': [i.vpcId],
        'subnet-id': [i.subnetId],
        'availability-zone': [i.availabilityZone],
        'private-ip-address': [i.privateIpAddress],
        'image-id': [i.imageId],
        'instance.group-id': nics.flatMap((n) => n.groups),
        'network-interface.network-interface-id': nics.map((n) => n.networkInterfaceId),
        'iam-instance-profile.arn': Object.values(state.ec2.profileAssociations)
          .filter((a) => a.instanceId === i.instanceId)
          .map((a) => a.profileArn),
      }[name];
    },
    tagId: (i) => i.instanceId,
    output: (ctx, instances) => ({
      Reservations: instances.map((i) => ({
        ReservationId: i.reservationId,
        OwnerId: ctx.state.accountId,
        Groups: [],
        Instances: [instanceShape(ctx.state, i)],
      })),
    }),
  }),

  /** Only running instances unless `IncludeAllInstances` (then the others' checks are `not-applicable`). */
  DescribeInstanceStatus: describe({
    paging: { rules: upTo1000, exclusiveIds: 'instancesSet' },
    ...keyed('instances', (input: DescribeInstanceStatusCommandInput) => input.InstanceIds),
    where: (input) => (input.IncludeAllInstances === true ? undefined : (i) => i.state === 'running'),
    fields: () => (i, name) => {
      const status = instanceStatusShape(i);
      return {
        'availability-zone': [i.availabilityZone],
        'instance-state-name': [i.state],
        'instance-state-code': [String(status.InstanceState?.Code)],
        'instance-status.status': [status.InstanceStatus?.Status ?? ''],
        'system-status.status': [status.SystemStatus?.Status ?? ''],
      }[name];
    },
    output: (_ctx, instances) => ({ InstanceStatuses: instances.map(instanceStatusShape) }),
  }),

  DescribeNetworkInterfaces: describe({
    paging: { rules: upTo1000, exclusiveIds: 'NetworkInterfaceIds' },
    ...keyed(
      'networkInterfaces',
      (input: DescribeNetworkInterfacesCommandInput) => input.NetworkInterfaceIds,
    ),
    fields: () => (n, name) =>
      ({
        'network-interface-id': [n.networkInterfaceId],
        'attachment.instance-id': n.attachment ? [n.attachment.instanceId] : [],
        'attachment.attachment-id': n.attachment ? [n.attachment.attachmentId] : [],
        'vpc-id': [n.vpcId],
        'subnet-id': [n.subnetId],
        'group-id': n.groups,
        status: [n.status],
        'private-ip-address': [n.privateIpAddress],
      })[name],
    tagId: (n) => n.networkInterfaceId,
    output: (ctx, nics) => ({ NetworkInterfaces: nics.map((n) => interfaceShape(ctx.state, n)) }),
  }),

  DescribeIamInstanceProfileAssociations: describe({
    ...keyed(
      'profileAssociations',
      (input: DescribeIamInstanceProfileAssociationsCommandInput) => input.AssociationIds,
    ),
    fields: () => (a, name) => ({ 'instance-id': [a.instanceId], state: [a.state] })[name],
    output: (_ctx, associations) => ({
      IamInstanceProfileAssociations: associations.map((a) => associationShape(a)),
    }),
  }),

  DescribeTags: describe({
    all: tagRows,
    fields: () => (r, name) =>
      ({ 'resource-id': [r.ResourceId], 'resource-type': [r.ResourceType], key: [r.Key], value: [r.Value] })[
        name
      ],
    output: (_ctx, rows) => ({ Tags: rows as NonNullable<DescribeTagsCommandOutput['Tags']> }),
  }),

  DescribeVolumes: describe({
    // "This value can be between 5 and 500; if you specify a value larger than 500, only 500 items are returned."
    paging: { rules: ec2Paging(5, 500), capsAtMax: true, exclusiveIds: 'VolumeIds' },
    byId: {
      ids: (input: DescribeVolumesCommandInput) => input.VolumeIds,
      lookup: liveVolume,
      notFound: (missing) => missingIds('volumes', missing),
    },
    all: (state) => sortedValues(state.ec2.volumes).filter((v) => v.state !== 'deleted'),
    fields: () => (v, name) =>
      ({
        'volume-id': [v.volumeId],
        status: [v.state],
        'availability-zone': [v.availabilityZone],
        'attachment.instance-id': v.attachment ? [v.attachment.instanceId] : [],
        'attachment.device': v.attachment ? [v.attachment.device] : [],
        'snapshot-id': v.snapshotId ? [v.snapshotId] : [],
        'volume-type': [v.volumeType],
      })[name],
    tagId: (v) => v.volumeId,
    output: (ctx, volumes) => ({ Volumes: volumes.map((v) => volumeShape(ctx.state, v)) }),
  }),

  DescribeSnapshots: describe({
    // "This value can be between 5 and 1,000; if this value is larger than 1,000, only 1,000 results are returned."
    paging: { rules: upTo1000, capsAtMax: true, exclusiveIds: 'SnapshotIds' },
    ...keyed('snapshots', (input: DescribeSnapshotsCommandInput) => input.SnapshotIds),
    fields: (state) => (s, name) =>
      ({
        'snapshot-id': [s.snapshotId],
        'volume-id': [s.volumeId],
        status: [s.state],
        description: [s.description],
        'owner-id': [state.accountId],
      })[name],
    tagId: (s) => s.snapshotId,
    output: (ctx, snapshots) => ({ Snapshots: snapshots.map((s) => snapshotShape(ctx.state, s, ctx.now)) }),
  }),
};
