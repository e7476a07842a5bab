/**
 * The role AWS Backup restores with: it launches the restored instance and nothing else, and passes to EC2
 * only the settings' instance roles (the profile a restore launches with), none when the settings list
 * none: a recovery point's own profile is never kept unless configured.
 */
import { Annotations, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import type { Settings } from '#shared/settings';
import { acknowledge } from '../nag.ts';
import * as guards from '../role-guards.ts';

export interface RestoreRoleProps {
  /** The validated settings: their instance roles and recovery profile. */
  readonly settings: Settings;
  /** Default `cordon-restore-<the stack's region>`. */
  readonly roleName?: string;
  /** The regions it restores in. Default the stack's own. */
  readonly regions?: readonly string[];
  /** The account's roles it guards. Default the stack's own (guards.roleScopeOf). */
  readonly roles?: guards.RoleScope;
}

export class RestoreRole extends iam.Role {
  constructor(scope: Construct, id: string, props: RestoreRoleProps) {
    const stack = Stack.of(scope);
    super(scope, id, {
      roleName: props.roleName ?? `cordon-restore-${stack.region}`,
      assumedBy: new iam.ServicePrincipal('backup.amazonaws.com'),
      description: "Lets AWS Backup restore an instance for Cordon's recovery",
    });
    const { settings } = props;
    const regions = props.regions ?? [stack.region];
    const roles = props.roles ?? guards.roleScopeOf(stack);
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: ['ec2:RunInstances', 'ec2:CreateTags'],
        resources: regions.flatMap((region) => [
          `arn:${stack.partition}:ec2:${region}:${stack.account}:*`,
          `arn:${stack.partition}:ec2:${region}::image/*`,
          `arn:${stack.partition}:ec2:${region}::snapshot/*`,
        ]),
      }),
    );
    this.addToPrincipalPolicy(
      new iam.PolicyStatement({
        actions: [
          'ec2:DescribeImages',
          'ec2:DescribeInstances',
          'ec2:DescribeSnapshots',
          'ec2:DescribeVolumes',
        ],
        resources: ['*'],
      }),
    );
    const instanceRoles = guards.instanceRoleArns(roles, settings);
    if (instanceRoles.length > 0) {
      this.addToPrincipalPolicy(guards.passInstanceRoles(instanceRoles));
      guards.denyUntouchable(
        roles,
        settings,
        (statement) => this.addToPrincipalPolicy(statement),
        ['iam:PassRole'],
        [],
      );
      guards.acknowledgeInstanceRoles(stack, settings, this, 'The restore role');
    } else if (settings.recovery.instanceProfileName) {
      Annotations.of(stack).addWarningV2(
        'cordon:restore-profile-without-instance-roles',
        `recovery.instanceProfileName is ${settings.recovery.instanceProfileName} but instanceRoles is empty: the restore role may pass no role, so a restore with that profile fails. List its role in instanceRoles.`,
      );
    }
    const { partition, account } = guards.shownEnvironment(stack);
    for (const resource of [
      ...regions
        .map((r) => guards.shown(r, 'Region'))
        .flatMap((region) => [
          `ec2:${region}:${account}:*`,
          `ec2:${region}::image/*`,
          `ec2:${region}::snapshot/*`,
        ]),
      '*',
    ]) {
      acknowledge(
        this,
        resource === '*'
          ? 'AwsSolutions-IAM5[Resource::*]'
          : `AwsSolutions-IAM5[Resource::arn:${partition}:${resource}]`,
        "A restore launches an instance from whichever recovery point the incident's resource has, in this account and region; EC2 Describe actions support no resource-level permissions.",
      );
    }
  }
}
