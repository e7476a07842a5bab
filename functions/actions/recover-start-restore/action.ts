/** `recover-start-restore`: restores the chosen recovery point where the configuration says (recovery, after approval). */
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { readRestoreDefaults } from '../recover-common/config.ts';
import { startRestore } from './core.ts';

export const action = defineAction({
  name: 'recover-start-restore',
  phase: 'recovery',
  description: 'Starts the restore of a recovery point where the settings say',
  clients: { backup: BackupClient, ec2: EC2Client },
  calls: {
    backup: ['GetRecoveryPointRestoreMetadata', 'StartRestoreJob', 'DescribeRestoreJob'],
    ec2: ['DescribeSecurityGroups'],
  },
  passRestoreRole: true,
  deps: ({ clients, member, place }) => ({
    ...clients,
    defaults: readRestoreDefaults(
      process.env,
      member && place.account ? { account: place.account } : undefined,
    ),
  }),
  core: startRestore,
});
