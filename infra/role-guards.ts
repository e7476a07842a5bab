/**
 * What keeps Cordon's IAM changes and role passing off the roles that must never be touched, shared by
 * the action functions (infra/constructs/action-functions.ts) and the restore role
 * (infra/constructs/restore-role.ts).
 */
import { type Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { roleRefParts, type Settings } from '#shared/settings';
import { untouchableRoleResources } from '../functions/actions/iam-common/untouchable.ts';
import { acknowledge } from './nag.ts';

/** The ARNs of the settings' `instanceRoles`: the only roles a release or a restore may pass, to EC2. */
export function instanceRoleArns(stack: Stack, settings: Settings): string[] {
  return settings.instanceRoles.map((ref) => {
    const { path, name } = roleRefParts(ref);
    return `arn:${stack.partition}:iam::${stack.account}:role${path ?? '/'}${name}`;
  });
}

/** `iam:PassRole` of the settings' instance roles, to EC2 only. */
export function passInstanceRoles(roles: readonly string[]): iam.PolicyStatement {
  return new iam.PolicyStatement({
    actions: ['iam:PassRole'],
    resources: [...roles],
    conditions: { StringEquals: { 'iam:PassedToService': 'ec2.amazonaws.com' } },
  });
}

/** Acknowledges the `*` of the settings' instance role patterns, on a role that passes them. */
export function acknowledgeInstanceRoles(
  stack: Stack,
  settings: Settings,
  role: IConstruct,
  who: string,
): void {
  const { partition, account } = shownEnvironment(stack);
  for (const ref of settings.instanceRoles.filter((r) => r.includes('*'))) {
    const { path, name } = roleRefParts(ref);
    acknowledge(
      role,
      `AwsSolutions-IAM5[Resource::arn:${partition}:iam::${account}:role${path ?? '/'}${name}]`,
      `${who} passes to EC2 only the roles the settings list as instance roles (instanceRoles: ${ref}), never the roles that must not be touched (denied).`,
    );
  }
}

/**
 * Denies `actions` on the roles that must never be touched (service-linked, AWS-reserved, CDK bootstrap,
 * Cordon's own, the settings' break-glass roles: functions/actions/iam-common/untouchable.ts), and
 * `tagged` on every role that carries the protected tag. PassRole is not denied by the tag: associating a
 * profile changes the instance, not its role, and the roles it may pass are the settings' own list.
 */
export function denyUntouchable(
  stack: Stack,
  settings: Settings,
  add: (statement: iam.PolicyStatement) => void,
  actions: readonly string[],
  tagged: readonly string[],
): void {
  const roles = untouchableRoleResources({
    breakGlassRoles: settings.breakGlassRoles,
    stackName: stack.stackName,
  }).flatMap((kind) => kind.resources);
  add(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...actions],
      resources: roles.map((role) => `arn:${stack.partition}:iam::${stack.account}:role${role}`),
    }),
  );
  if (tagged.length === 0) return;
  const { key, value } = settings.protectedTag;
  add(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...tagged],
      resources: [`arn:${stack.partition}:iam::${stack.account}:role/*`],
      conditions: { StringEquals: { [`aws:ResourceTag/${key}`]: value } },
    }),
  );
}

/** The partition, region and account as cdk-nag renders them in a finding: literals, or `<AWS::X>`. */
export function shownEnvironment(stack: Stack): { partition: string; region: string; account: string } {
  const shown = (value: string, token: string) => (Token.isUnresolved(value) ? `<AWS::${token}>` : value);
  return {
    partition: shown(stack.partition, 'Partition'),
    region: shown(stack.region, 'Region'),
    account: shown(stack.account, 'AccountId'),
  };
}
