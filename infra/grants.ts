/**
 * What each action function may call in AWS: exactly the actions its code sends, by service. One place,
 * so that the policy of a function reads as a list and a review compares it with the code.
 *
 * EC2's Describe actions support no resource-level permissions; the changes are scoped to this account
 * and region. IAM changes are scoped to the users and roles of this account.
 */
export interface FunctionGrants {
  readonly ec2?: readonly string[];
  readonly autoscaling?: readonly string[];
  readonly elasticloadbalancing?: readonly string[];
  readonly iam?: readonly string[];
  readonly backup?: readonly string[];
  readonly ses?: boolean;
  /** `iam:PassRole` on the restore role only. */
  readonly passRestoreRole?: boolean;
  /** `iam:PassRole` on this account's roles, passed to EC2 only (re-associating an instance profile). */
  readonly passRoleToEc2?: boolean;
}

export const GRANTS: Readonly<Record<string, FunctionGrants>> = {
  'ec2-isolate': {
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
  'ec2-protect-evidence': {
    ec2: ['DescribeInstances', 'DescribeInstanceAttribute', 'ModifyInstanceAttribute'],
  },
  'ec2-detach': {
    ec2: ['DescribeInstances'],
    autoscaling: ['DescribeAutoScalingInstances', 'DetachInstances'],
    elasticloadbalancing: [
      'DescribeTargetGroups',
      'DescribeTargetHealth',
      'DeregisterTargets',
      'DescribeLoadBalancers',
      'DeregisterInstancesFromLoadBalancer',
    ],
  },
  'ec2-revoke-sessions': {
    ec2: ['DescribeInstances', 'DescribeIamInstanceProfileAssociations', 'DisassociateIamInstanceProfile'],
    iam: ['GetInstanceProfile', 'GetRolePolicy', 'PutRolePolicy', 'DeleteRolePolicy'],
  },
  'ec2-tag': { ec2: ['DescribeInstances', 'CreateTags'] },
  'ec2-snapshot': {
    ec2: ['DescribeInstances', 'DescribeSnapshots', 'CreateSnapshots', 'CreateTags', 'GetConsoleOutput'],
  },
  'ec2-check-snapshots': { ec2: ['DescribeSnapshots'] },
  'ec2-eradicate': {
    ec2: [
      'DescribeInstances',
      'DescribeSnapshots',
      'DescribeInstanceAttribute',
      'ModifyInstanceAttribute',
      'StopInstances',
      'TerminateInstances',
    ],
  },
  'ec2-release': {
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
    autoscaling: ['DescribeAutoScalingInstances', 'AttachInstances'],
    elasticloadbalancing: [
      'DescribeTargetGroups',
      'DescribeTargetHealth',
      'RegisterTargets',
      'DescribeLoadBalancers',
      'RegisterInstancesWithLoadBalancer',
    ],
    iam: ['GetRolePolicy', 'PutRolePolicy', 'DeleteRolePolicy'],
    // AssociateIamInstanceProfile passes the profile's role to EC2.
    passRoleToEc2: true,
  },
  'iam-contain-user-key': {
    iam: [
      'GetUser',
      'ListAccessKeys',
      'GetAccessKeyLastUsed',
      'GetLoginProfile',
      'ListMFADevices',
      'ListUserPolicies',
      'ListAttachedUserPolicies',
      'GetUserPolicy',
      'UpdateAccessKey',
      'PutUserPolicy',
      'DeleteLoginProfile',
    ],
  },
  'iam-revoke-role-sessions': { iam: ['GetRole', 'GetRolePolicy', 'PutRolePolicy'] },
  'iam-root-manual': {},
  'iam-delete-key': { iam: ['ListAccessKeys', 'GetAccessKeyLastUsed', 'DeleteAccessKey'] },
  'iam-release': {
    iam: [
      'ListAccessKeys',
      'UpdateAccessKey',
      'GetUserPolicy',
      'PutUserPolicy',
      'DeleteUserPolicy',
      'GetLoginProfile',
      'GetRolePolicy',
      'PutRolePolicy',
      'DeleteRolePolicy',
    ],
  },
  'recover-choose-point': { backup: ['ListRecoveryPointsByResource'] },
  'recover-start-restore': {
    backup: ['GetRecoveryPointRestoreMetadata', 'StartRestoreJob', 'DescribeRestoreJob'],
    ec2: ['DescribeSecurityGroups'],
    passRestoreRole: true,
  },
  'recover-check-restore': { backup: ['DescribeRestoreJob'], ec2: ['CreateTags'] },
  'recover-validate': { ec2: ['DescribeInstances', 'DescribeInstanceStatus'] },
  'recover-from-snapshots': {
    ec2: ['DescribeInstances', 'DescribeVolumes', 'DescribeSnapshots', 'CreateVolume', 'CreateTags'],
  },
  notify: { ses: true },
  'mark-incident': {},
};
