/** `ec2-protect-evidence`: termination and stop protection, shutdown behaviour, DeleteOnTermination (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { BLOCK_DEVICE_MAPPINGS, setsAttribute } from '../ec2-common/attribute-conditions.ts';
import { protectEvidence } from './core.ts';

export const action = defineAction({
  name: 'ec2-protect-evidence',
  phase: 'containment',
  description: 'Turns on termination and stop protection and keeps the volumes',
  clients: { ec2: EC2Client },
  calls: { ec2: ['DescribeInstances', 'DescribeInstanceAttribute', 'ModifyInstanceAttribute'] },
  // Protections on, shutdown to stop, volumes kept: never the other way (the block device mappings apart).
  conditions: {
    'ec2:ModifyInstanceAttribute': [
      setsAttribute(['DisableApiTermination'], ['true']),
      setsAttribute(['DisableApiStop'], ['true']),
      setsAttribute(['InstanceInitiatedShutdownBehavior'], ['stop']),
      BLOCK_DEVICE_MAPPINGS,
    ],
  },
  deps: ({ clients, settings }) => ({ ec2: clients.ec2, protectedTag: settings.protectedTag }),
  core: protectEvidence,
});
