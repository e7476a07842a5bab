/** `ec2-snapshot`: snapshots every volume and keeps the console output (evidence). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { snapshotInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-snapshot',
  phase: 'evidence',
  description: "Snapshots an instance's volumes and keeps its console output",
  clients: { ec2: EC2Client },
  calls: {
    ec2: ['DescribeInstances', 'DescribeSnapshots', 'CreateSnapshots', 'CreateTags', 'GetConsoleOutput'],
  },
  deps: ({ clients }) => ({ ec2: clients.ec2 }),
  core: snapshotInstance,
});
