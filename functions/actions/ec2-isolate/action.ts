/** `ec2-isolate`: takes an instance off the network (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { defineAction } from '#shared/define-action';
import { isolateInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-isolate',
  phase: 'containment',
  description: 'Isolates every network interface of an instance',
  clients: { ec2: EC2Client },
  calls: {
    ec2: [
      'DescribeInstances',
      'DescribeSecurityGroups',
      'DescribeNetworkInterfaces',
      'DescribeNetworkAcls',
      'CreateSecurityGroup',
      'CreateTags',
      'AuthorizeSecurityGroupIngress',
      'AuthorizeSecurityGroupEgress',
      'RevokeSecurityGroupIngress',
      'RevokeSecurityGroupEgress',
      'ModifyNetworkInterfaceAttribute',
      'CreateNetworkAcl',
      'ReplaceNetworkAclAssociation',
    ],
  },
  deps: ({ clients, settings }) => ({
    ec2: clients.ec2,
    now: () => new Date(),
    protectedTag: settings.protectedTag,
    defaultStrategy: settings.ec2.isolation,
    isolationGroups: settings.ec2.isolationGroups,
  }),
  core: isolateInstance,
});
