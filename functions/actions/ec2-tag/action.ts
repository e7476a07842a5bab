/** `ec2-tag`: tags the instance with the incident and its status (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { tagInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-tag',
  phase: 'containment',
  description: 'Tags an instance with its incident',
  clients: { ec2: EC2Client },
  calls: { ec2: ['DescribeInstances', 'CreateTags'] },
  deps: ({ clients, settings }) => ({ ec2: clients.ec2, protectedTag: settings.protectedTag }),
  core: tagInstance,
});
