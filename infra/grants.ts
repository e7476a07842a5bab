/**
 * What each action function may call in AWS: exactly the actions its code sends, by service. One place,
 * so that the policy of a function reads as a list and a review compares it with the code.
 *
 * EC2's Describe actions support no resource-level permissions; the changes are scoped to this account
 * and region. IAM changes are scoped to the users and roles of this account, and denied on the roles that
 * must never be touched (functions/actions/iam-common/untouchable.ts) and on roles with the protected tag.
 * Where IAM can say more than the resource, an action is granted only under conditions (`conditions`).
 */

/** An IAM condition block as a statement's `Condition` holds it: operator → key → value(s). */
export type Conditions = Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;

export interface FunctionGrants {
  readonly ec2?: readonly string[];
  readonly autoscaling?: readonly string[];
  readonly elasticloadbalancing?: readonly string[];
  readonly iam?: readonly string[];
  readonly backup?: readonly string[];
  readonly ses?: boolean;
  /**
   * Actions granted only under conditions, by `service:Action` (each also listed in its service above):
   * one Allow statement per condition block, on the resources the service's changes get, and no grant of
   * the action without one. A call is allowed when any one block holds.
   */
  readonly conditions?: Readonly<Record<string, readonly Conditions[]>>;
  /** `iam:PassRole` on the restore role only. */
  readonly passRestoreRole?: boolean;
  /**
   * `iam:PassRole`, to EC2 only, on exactly the settings' `instanceRoles` (re-associating an instance
   * profile passes its role); none at all when the settings list none.
   */
  readonly passInstanceRoles?: boolean;
}

/**
 * ModifyInstanceAttribute sets one attribute per call
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_ModifyInstanceAttribute.html), and EC2 says
 * which in `ec2:Attribute` (its name as the request gives it, `DisableApiTermination`) and the value set in
 * `ec2:Attribute/<Name>`, for attributes with a single `Value`; the key "can't be used with complex objects
 * that contain multiple properties" (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/iam-policies-for-amazon-ec2.html#attribute-key;
 * both keys in https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonec2.html).
 * Without conditions the grant would let a function rewrite a stopped instance's user data (cloud-init can
 * be told to run it as root at every start, with the instance's role), or change its type, kernel or groups.
 *
 * Each block requires the attribute's name (`Null`: `ForAllValues` passes when the key is absent) and
 * allows that name only. Names compare ignoring case: the API spells them `disableApiTermination` in its
 * `Attribute` parameter and `DisableApiTermination` as parameters of their own.
 */
function setsAttribute(names: readonly string[], values?: readonly string[]): Conditions {
  const [name] = names;
  return {
    Null: { 'ec2:Attribute': 'false' },
    'ForAllValues:StringEqualsIgnoreCase': { 'ec2:Attribute': names },
    ...(values && name ? { StringEquals: { [`ec2:Attribute/${name}`]: values } } : {}),
  };
}

/**
 * The block device mappings (`DeleteOnTermination` of the attached volumes) are a list of objects: no
 * condition can say their value. The request parameter is `BlockDeviceMapping` on the wire and
 * `BlockDeviceMappings` in the SDKs, and AWS does not document which `ec2:Attribute` shows: both names
 * denote this one parameter. GAP: a function holding this block may set DeleteOnTermination either way on
 * any attached volume of any instance in this account and region; the code only ever turns it off
 * (protect-evidence) or back to the recorded value (release).
 */
const BLOCK_DEVICE_MAPPINGS = setsAttribute(['BlockDeviceMapping', 'BlockDeviceMappings']);

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
    // Protections on, shutdown to stop, volumes kept: never the other way (the block device mappings apart).
    conditions: {
      'ec2:ModifyInstanceAttribute': [
        setsAttribute(['DisableApiTermination'], ['true']),
        setsAttribute(['DisableApiStop'], ['true']),
        setsAttribute(['InstanceInitiatedShutdownBehavior'], ['stop']),
        BLOCK_DEVICE_MAPPINGS,
      ],
    },
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
    // GetRole: the role's path and tags, to refuse the roles that must never be touched.
    iam: ['GetInstanceProfile', 'GetRole', 'GetRolePolicy', 'PutRolePolicy', 'DeleteRolePolicy'],
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
    // Only turns a protection off, the one its stop or termination needs.
    conditions: {
      'ec2:ModifyInstanceAttribute': [
        setsAttribute(['DisableApiTermination'], ['false']),
        setsAttribute(['DisableApiStop'], ['false']),
      ],
    },
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
    // GetInstanceProfile and GetRole: the profile's role, checked before it is passed again.
    iam: ['GetInstanceProfile', 'GetRole', 'GetRolePolicy', 'DeleteRolePolicy'],
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
  // No PutUserPolicy or PutRolePolicy: a release only deletes its own incident's deny, never puts one.
  'iam-release': {
    iam: [
      'ListAccessKeys',
      'UpdateAccessKey',
      'GetUserPolicy',
      'DeleteUserPolicy',
      'GetLoginProfile',
      'GetRole',
      'GetRolePolicy',
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
