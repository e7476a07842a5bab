/** `recover-from-snapshots`: volumes from the last snapshots before first-seen, when no recovery point exists (recovery). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { recoverFromSnapshots } from './core.ts';

export const action = defineAction({
  name: 'recover-from-snapshots',
  phase: 'recovery',
  description: "Creates volumes from an instance's last snapshots before the compromise",
  clients: { ec2: EC2Client },
  calls: {
    ec2: ['DescribeInstances', 'DescribeVolumes', 'DescribeSnapshots', 'CreateVolume', 'CreateTags'],
  },
  deps: ({ clients }) => ({ ec2: clients.ec2 }),
  core: recoverFromSnapshots,
});
