/** `ec2-release`: restores the state the containment recorded (recovery, after approval). */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { roleRefParts } from '#shared/settings';
import { BLOCK_DEVICE_MAPPINGS, setsAttribute } from '../ec2-common/attribute-conditions.ts';
import { matchesPattern, untouchableReason, untouchableRules } from '../iam-common/untouchable.ts';
import { type LiveRole, releaseInstance } from './core.ts';

export const action = defineAction({
  name: 'ec2-release',
  phase: 'recovery',
  description: 'Restores an instance to its recorded state before containment',
  clients: {
    ec2: EC2Client,
    iam: IAMClient,
    autoScaling: AutoScalingClient,
    elbv2: ElasticLoadBalancingV2Client,
    elb: ElasticLoadBalancingClient,
  },
  calls: {
    ec2: [
      'DescribeInstances',
      'DescribeInstanceAttribute',
      'DescribeNetworkAcls',
      'DescribeIamInstanceProfileAssociations',
      'ModifyNetworkInterfaceAttribute',
      'ModifyInstanceAttribute',
      'ReplaceNetworkAclAssociation',
      'AssociateIamInstanceProfile',
      'CreateTags',
      'DeleteTags',
    ],
    // GetInstanceProfile and GetRole: the profile's role, checked before it is passed again.
    iam: ['GetInstanceProfile', 'GetRole', 'GetRolePolicy', 'DeleteRolePolicy'],
    autoScaling: ['DescribeAutoScalingInstances', 'AttachInstances'],
    elbv2: ['DescribeTargetGroups', 'DescribeTargetHealth', 'RegisterTargets'],
    elb: ['DescribeLoadBalancers', 'RegisterInstancesWithLoadBalancer'],
  },
  // Puts the four protections back to their recorded values. GAP: the values come from the record, which
  // IAM cannot see, so each may be set either way (protection off, shutdown to terminate) on any instance
  // of this account and region; the code sets only what the record says (and verifies the record first).
  conditions: {
    'ec2:ModifyInstanceAttribute': [
      setsAttribute(['DisableApiTermination'], ['true', 'false']),
      setsAttribute(['DisableApiStop'], ['true', 'false']),
      setsAttribute(['InstanceInitiatedShutdownBehavior'], ['stop', 'terminate']),
      BLOCK_DEVICE_MAPPINGS,
    ],
  },
  // AssociateIamInstanceProfile passes the profile's role to EC2: only the settings' instance roles.
  passInstanceRoles: true,
  deps: ({ clients, settings, recorder }) => {
    const rules = untouchableRules(settings);
    /** `settings.instanceRoles` as `<path><name>` patterns: a name without a path is a role at the root path. */
    const passable = settings.instanceRoles.map((ref) => {
      const { path, name } = roleRefParts(ref);
      return `${path ?? '/'}${name}`;
    });
    return {
      ...clients,
      recorder,
      roles: {
        untouchable: (role: LiveRole) => untouchableReason(role, rules),
        passable: (role: LiveRole) =>
          passable.some((pattern) => matchesPattern(pattern, `${role.path}${role.roleName}`)),
      },
    };
  },
  core: releaseInstance,
});
