/** `recover-validate`: the restored instance runs, passes its status checks and has its volumes (recovery). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { validateRestore } from './core.ts';

export const action = defineAction({
  name: 'recover-validate',
  phase: 'recovery',
  description: 'Validates a restored instance',
  clients: { ec2: EC2Client },
  calls: { ec2: ['DescribeInstances', 'DescribeInstanceStatus'] },
  deps: ({ clients }) => ({ ec2: clients.ec2 }),
  core: validateRestore,
});
