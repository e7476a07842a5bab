/** `recover-check-restore`: one look at the restore job, for the playbook's Wait-and-check loop (recovery). */
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { checkRestore } from './core.ts';

export const action = defineAction({
  name: 'recover-check-restore',
  phase: 'recovery',
  description: 'Checks a restore job',
  clients: { backup: BackupClient, ec2: EC2Client },
  calls: { backup: ['DescribeRestoreJob'], ec2: ['CreateTags'] },
  deps: ({ clients }) => ({ ...clients }),
  core: checkRestore,
});
