/** `ec2-eradicate`: stops or terminates the instance once the evidence is complete (eradication, after approval). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { setsAttribute } from '../ec2-common/attribute-conditions.ts';
import { eradicateInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-eradicate',
  phase: 'eradication',
  description: 'Stops or terminates an instance once its evidence is complete',
  clients: { ec2: EC2Client },
  calls: {
    ec2: [
      'DescribeInstances',
      'DescribeSnapshots',
      'DescribeInstanceAttribute',
      'ModifyInstanceAttribute',
      'StopInstances',
      'TerminateInstances',
    ],
  },
  // Only turns a protection off, the one its stop or termination needs.
  conditions: {
    'ec2:ModifyInstanceAttribute': [
      setsAttribute(['DisableApiTermination'], ['false']),
      setsAttribute(['DisableApiStop'], ['false']),
    ],
  },
  deps: ({ clients, settings }) => ({ ec2: clients.ec2, defaultMode: settings.ec2.eradication }),
  core: eradicateInstance,
});
