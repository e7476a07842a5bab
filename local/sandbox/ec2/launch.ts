/** Launching an instance outside any command: what Backup restores and the seed use. */
import type { AccountState, InstanceState, TagMap } from '../state.ts';
import { newId } from '../state.ts';
import { setTags } from './lookups.ts';

/** Options of {@link launchInstance}. */
export interface LaunchOptions {
  readonly instanceType: string;
  readonly imageId: string;
  readonly subnetId: string;
  readonly groups: readonly string[];
  readonly profileName?: string;
  readonly tags?: TagMap;
}

/** Creates a running instance with one interface and a root volume (used by Backup restores). */
export function launchInstance(state: AccountState, now: number, options: LaunchOptions): InstanceState {
  const subnet = state.ec2.subnets[options.subnetId] ?? Object.values(state.ec2.subnets)[0];
  if (!subnet) throw new Error('The sandbox account has no subnet to launch into');
  const instanceId = newId(state, 'i');
  const nicId = newId(state, 'eni');
  const groups = options.groups.filter((g) => state.ec2.securityGroups[g]?.vpcId === subnet.vpcId);
  const defaultGroup = Object.values(state.ec2.securityGroups).find(
    (g) => g.vpcId === subnet.vpcId && g.groupName === 'default',
  );
  const ip = `10.0.${Math.floor(state.nextId / 250) % 250}.${(state.nextId % 250) + 4}`;
  state.ec2.networkInterfaces[nicId] = {
    networkInterfaceId: nicId,
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: ip,
    macAddress: `02:00:00:00:${(state.nextId % 256).toString(16).padStart(2, '0')}:02`,
    description: 'Primary network interface',
    groups: groups.length > 0 ? [...groups] : defaultGroup ? [defaultGroup.groupId] : [],
    sourceDestCheck: true,
    status: 'in-use',
    attachment: {
      attachmentId: newId(state, 'eni-attach'),
      instanceId,
      deviceIndex: 0,
      deleteOnTermination: true,
      attachTime: now,
    },
  };
  const volumeId = newId(state, 'vol');
  state.ec2.volumes[volumeId] = {
    volumeId,
    size: 8,
    volumeType: 'gp3',
    availabilityZone: subnet.availabilityZone,
    encrypted: false,
    createTime: now,
    state: 'in-use',
    attachment: { instanceId, device: '/dev/xvda', deleteOnTermination: true, attachTime: now },
  };
  const instance: InstanceState = {
    instanceId,
    reservationId: newId(state, 'r'),
    imageId: options.imageId,
    instanceType: options.instanceType,
    launchTime: now,
    state: 'running',
    stateTransitionReason: '',
    subnetId: subnet.subnetId,
    vpcId: subnet.vpcId,
    availabilityZone: subnet.availabilityZone,
    privateIpAddress: ip,
    networkInterfaceIds: [nicId],
    rootDeviceName: '/dev/xvda',
    blockDevices: [{ deviceName: '/dev/xvda', volumeId, deleteOnTermination: true, attachTime: now }],
    disableApiTermination: false,
    disableApiStop: false,
    shutdownBehavior: 'stop',
    consoleOutput: '',
  };
  state.ec2.instances[instanceId] = instance;
  if (options.tags) setTags(state, instanceId, options.tags);
  const profile = options.profileName ? state.iam.instanceProfiles[options.profileName] : undefined;
  if (profile) {
    const associationId = newId(state, 'iip-assoc');
    state.ec2.profileAssociations[associationId] = {
      associationId,
      instanceId,
      profileArn: profile.arn,
      profileId: profile.id,
      state: 'associated',
      timestamp: now,
    };
  }
  return instance;
}
