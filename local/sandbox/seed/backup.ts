/** The seed's AWS Backup vaults and recovery points. */
import type { AccountState } from '../state.ts';
import { newId } from '../state.ts';
import type { SeedBuild } from './context.ts';

/** Builds the vaults and recovery points the seed names (after instances and volumes, whose metadata they copy). */
export function seedBackup(build: SeedBuild): void {
  const { seed, state, now, time } = build;
  const { accountId, region } = state;
  for (const vault of seed.backup?.vaults ?? []) addVault(state, vault.name, now);
  for (const point of seed.backup?.recoveryPoints ?? []) {
    const vaultName = point.vault ?? 'Default';
    if (!state.backup.vaults[vaultName]) addVault(state, vaultName, now);
    const isVolume = point.resource.includes('vol-');
    const resourceId = point.resource.split('/').pop() ?? point.resource;
    const resourceArn = point.resource.startsWith('arn:')
      ? point.resource
      : `arn:aws:ec2:${region}:${accountId}:${isVolume ? 'volume' : 'instance'}/${resourceId}`;
    const arn =
      point.arn ??
      (isVolume
        ? `arn:aws:ec2:${region}::snapshot/${newId(state, 'snap')}`
        : `arn:aws:ec2:${region}::image/${newId(state, 'ami')}`);
    state.backup.recoveryPoints[arn] = {
      arn,
      vaultName,
      resourceArn,
      resourceType: isVolume ? 'EBS' : 'EC2',
      creationDate: time(point.created),
      iamRoleArn: `arn:aws:iam::${accountId}:role/service-role/AWSBackupDefaultServiceRole`,
      backupSizeInBytes: 8 * 1024 ** 3,
      encrypted: false,
      restoreMetadata: { ...defaultRestoreMetadata(state, resourceId, isVolume), ...point.metadata },
      ...(point.restoreFailure ? { restoreFailure: point.restoreFailure } : {}),
    };
  }
}

function addVault(state: AccountState, name: string, now: number): void {
  state.backup.vaults[name] = {
    name,
    arn: `arn:aws:backup:${state.region}:${state.accountId}:backup-vault:${name}`,
    creationDate: now,
  };
}

function defaultRestoreMetadata(
  state: AccountState,
  resourceId: string,
  isVolume: boolean,
): Record<string, string> {
  if (isVolume) {
    const volume = state.ec2.volumes[resourceId];
    return {
      availabilityZone: volume?.availabilityZone ?? `${state.region}a`,
      volumeType: volume?.volumeType ?? 'gp3',
      volumeSize: String(volume?.size ?? 8),
      encrypted: String(volume?.encrypted ?? false),
    };
  }
  const instance = state.ec2.instances[resourceId];
  if (!instance) return { InstanceType: 't3.micro' };
  const primary = state.ec2.networkInterfaces[instance.networkInterfaceIds[0] ?? ''];
  const association = Object.values(state.ec2.profileAssociations).find((a) => a.instanceId === resourceId);
  const profileName = association?.profileArn.split('/').pop();
  return {
    InstanceType: instance.instanceType,
    SubnetId: instance.subnetId,
    SecurityGroupIds: JSON.stringify(primary?.groups ?? []),
    ImageId: instance.imageId,
    ...(profileName ? { IamInstanceProfileName: profileName } : {}),
  };
}
