/** The seed's EC2 resources besides the network: volumes, instances (their interfaces, disks, profiles) and snapshots. */
import { SandboxSeedError } from '../errors.ts';
import type { InstanceState } from '../state.ts';
import { newId } from '../state.ts';
import type { SeedBuild } from './context.ts';
import { addProfile, addRole } from './iam.ts';
import type { SeedNetwork } from './network.ts';

/** Builds the volumes, instances and snapshots the seed names. */
export function seedEc2(build: SeedBuild, network: SeedNetwork): void {
  const { seed, state, now, time, setTags } = build;
  const { region } = state;
  const ec2 = state.ec2;
  const { defaultVpc, defaultSubnet, ensureSubnet, defaultGroupOf, ensureGroup } = network;
  for (const volume of seed.volumes ?? []) {
    ec2.volumes[volume.id] = {
      volumeId: volume.id,
      size: volume.size ?? 8,
      volumeType: volume.type ?? 'gp3',
      availabilityZone: volume.az ?? `${region}a`,
      encrypted: volume.encrypted ?? false,
      createTime: now,
      state: 'available',
      ...(volume.snapshot ? { snapshotId: volume.snapshot } : {}),
    };
    setTags(volume.id, volume.tags);
  }

  for (const seedInstance of seed.instances ?? []) {
    const subnetId = seedInstance.subnet ?? defaultSubnet();
    const subnet = ec2.subnets[subnetId] ?? ec2.subnets[ensureSubnet(subnetId, defaultVpc.vpcId)];
    if (!subnet) throw new SandboxSeedError(`Instance ${seedInstance.id}: unknown subnet ${subnetId}`);
    const launchTime = time(seedInstance.launchTime);
    const interfaces = seedInstance.networkInterfaces ?? [{ groups: seedInstance.groups ?? [] }];
    const interfaceIds: string[] = [];
    interfaces.forEach((nic, deviceIndex) => {
      const nicSubnet = ec2.subnets[nic.subnet ?? subnetId];
      if (!nicSubnet) throw new SandboxSeedError(`Instance ${seedInstance.id}: unknown subnet ${nic.subnet}`);
      const nicId = nic.id ?? newId(state, 'eni');
      const groups = (
        nic.groups && nic.groups.length > 0 ? nic.groups : [defaultGroupOf(nicSubnet.vpcId)]
      ).map((g) => ensureGroup(g, nicSubnet.vpcId));
      for (const g of groups) {
        if (ec2.securityGroups[g]?.vpcId !== nicSubnet.vpcId) {
          throw new SandboxSeedError(
            `Instance ${seedInstance.id}: group ${g} is not in VPC ${nicSubnet.vpcId}`,
          );
        }
      }
      ec2.networkInterfaces[nicId] = {
        networkInterfaceId: nicId,
        subnetId: nicSubnet.subnetId,
        vpcId: nicSubnet.vpcId,
        availabilityZone: nicSubnet.availabilityZone,
        privateIpAddress:
          nic.privateIp ?? `10.0.${Math.floor(state.nextId / 250) % 250}.${(state.nextId % 250) + 4}`,
        macAddress: `02:00:00:00:${(state.nextId % 256).toString(16).padStart(2, '0')}:01`,
        description: nic.description ?? (deviceIndex === 0 ? 'Primary network interface' : ''),
        groups,
        sourceDestCheck: true,
        status: 'in-use',
        attachment: {
          attachmentId: newId(state, 'eni-attach'),
          instanceId: seedInstance.id,
          deviceIndex,
          deleteOnTermination: nic.deleteOnTermination ?? deviceIndex === 0,
          attachTime: launchTime,
        },
      };
      interfaceIds.push(nicId);
    });
    const volumes = seedInstance.volumes ?? [{}];
    const blockDevices: InstanceState['blockDevices'] = volumes.map((v, index) => {
      const volumeId = v.id ?? newId(state, 'vol');
      const device = v.device ?? (index === 0 ? '/dev/xvda' : `/dev/sd${String.fromCharCode(101 + index)}`);
      const deleteOnTermination = v.deleteOnTermination ?? index === 0;
      if (ec2.volumes[volumeId]?.attachment)
        throw new SandboxSeedError(`Volume ${volumeId} is attached twice`);
      ec2.volumes[volumeId] = {
        volumeId,
        size: v.size ?? 8,
        volumeType: v.type ?? 'gp3',
        availabilityZone: subnet.availabilityZone,
        encrypted: v.encrypted ?? false,
        createTime: launchTime,
        state: 'in-use',
        attachment: { instanceId: seedInstance.id, device, deleteOnTermination, attachTime: launchTime },
      };
      setTags(volumeId, v.tags);
      return { deviceName: device, volumeId, deleteOnTermination, attachTime: launchTime };
    });
    const primary = ec2.networkInterfaces[interfaceIds[0] ?? ''];
    ec2.instances[seedInstance.id] = {
      instanceId: seedInstance.id,
      reservationId: newId(state, 'r'),
      imageId: seedInstance.image ?? 'ami-0123456789abcdef0',
      instanceType: seedInstance.type ?? 't3.micro',
      ...(seedInstance.keyName ? { keyName: seedInstance.keyName } : {}),
      launchTime,
      state: seedInstance.state ?? 'running',
      stateTransitionReason: seedInstance.state === 'stopped' ? 'User initiated' : '',
      subnetId: subnet.subnetId,
      vpcId: subnet.vpcId,
      availabilityZone: subnet.availabilityZone,
      privateIpAddress: primary?.privateIpAddress ?? '10.0.0.4',
      networkInterfaceIds: interfaceIds,
      rootDeviceName: blockDevices[0]?.deviceName ?? '/dev/xvda',
      blockDevices,
      disableApiTermination: seedInstance.terminationProtection ?? false,
      disableApiStop: seedInstance.stopProtection ?? false,
      shutdownBehavior: seedInstance.shutdownBehavior ?? 'stop',
      consoleOutput: seedInstance.consoleOutput ?? `Sandbox console of ${seedInstance.id}\nlogin: `,
    };
    setTags(seedInstance.id, seedInstance.tags);
    if (seedInstance.profile) {
      let profile = state.iam.instanceProfiles[seedInstance.profile];
      if (!profile) {
        addRole(state, { name: seedInstance.profile }, time);
        profile = addProfile(state, seedInstance.profile, [seedInstance.profile], now);
      }
      const associationId = newId(state, 'iip-assoc');
      ec2.profileAssociations[associationId] = {
        associationId,
        instanceId: seedInstance.id,
        profileArn: profile.arn,
        profileId: profile.id,
        state: 'associated',
        timestamp: launchTime,
      };
    }
  }

  for (const snapshot of seed.snapshots ?? []) {
    const startTime = time(snapshot.startTime);
    ec2.snapshots[snapshot.id] = {
      snapshotId: snapshot.id,
      volumeId: snapshot.volume,
      volumeSize: snapshot.size ?? ec2.volumes[snapshot.volume]?.size ?? 8,
      description: snapshot.description ?? '',
      encrypted: ec2.volumes[snapshot.volume]?.encrypted ?? false,
      startTime,
      completesAt: snapshot.state === 'pending' ? startTime + state.timings.snapshotMs : startTime,
      state: snapshot.state ?? 'completed',
    };
    setTags(snapshot.id, snapshot.tags);
  }
}
