/** `ec2-check-snapshots`: reports whether the incident's snapshots are complete (evidence). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { checkSnapshots } from './core.ts';

export const action = defineAction({
  name: 'ec2-check-snapshots',
  phase: 'evidence',
  description: 'Checks the evidence snapshots',
  clients: { ec2: EC2Client },
  calls: { ec2: ['DescribeSnapshots'] },
  deps: ({ clients }) => ({ ec2: clients.ec2 }),
  core: checkSnapshots,
});
