/**
 * What keeps Cordon's IAM changes and role passing off the roles that must never be touched, shared by
 * the action functions (infra/declared-grants.ts), the restore role (infra/constructs/restore-role.ts) and
 * the responder role of each member account (infra/responder-template.ts). Each takes the account its
 * roles are in: the hub stack's own, or `${AWS::AccountId}` of the member the responder template is in.
 */
import { type Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { roleRefParts, type Settings } from '#shared/settings';
import { matchesPattern, untouchableRoleResources } from '../functions/actions/iam-common/untouchable.ts';
import { acknowledge } from './nag.ts';

/** The account whose roles are guarded, and which of them are Cordon's own. */
export interface RoleScope {
  readonly partition: string;
  readonly account: string;
  /** The stack whose roles (`<stack>-*`) are Cordon's own, when they are named after it. */
  readonly stackName?: string;
  /** Cordon's own roles in the account by name, besides `cordon-*` (a member's responder and restore roles). */
  readonly ownRoles?: readonly string[];
}

/** The roles of a stack's own account: its roles are named after it. */
export function roleScopeOf(stack: Stack): RoleScope {
  return { partition: stack.partition, account: stack.account, stackName: stack.stackName };
}

/** The ARNs of the settings' `instanceRoles` in an account: the only roles a release or a restore may pass, to EC2. */
export function instanceRoleArns(scope: RoleScope, settings: Settings): string[] {
  return settings.instanceRoles.map((ref) => {
    const { path, name } = roleRefParts(ref);
    return `arn:${scope.partition}:iam::${scope.account}:role${path ?? '/'}${name}`;
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
 * Denies `actions` on the roles of the scope's account that must never be touched (service-linked,
 * AWS-reserved, CDK bootstrap, Cordon's own, the settings' break-glass roles:
 * functions/actions/iam-common/untouchable.ts, and the scope's own roles), and `tagged` on every role that
 * carries the protected tag. PassRole is not denied by the tag: associating a profile changes the instance,
 * not its role, and the roles it may pass are the settings' own list.
 */
export function denyUntouchable(
  scope: RoleScope,
  settings: Settings,
  add: (statement: iam.PolicyStatement) => void,
  actions: readonly string[],
  tagged: readonly string[],
): void {
  const roles = untouchableRoleResources({
    breakGlassRoles: settings.breakGlassRoles,
    stackName: scope.stackName,
    responderRoleName: settings.organization.responderRoleName,
  }).flatMap((kind) => kind.resources);
  const own = (scope.ownRoles ?? [])
    .map((name) => `/${name}`)
    .filter((role) => !roles.some((pattern) => matchesPattern(pattern, role)));
  add(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...actions],
      resources: [...roles, ...own].map((role) => `arn:${scope.partition}:iam::${scope.account}:role${role}`),
    }),
  );
  if (tagged.length === 0) return;
  const { key, value } = settings.protectedTag;
  add(
    new iam.PolicyStatement({
      effect: iam.Effect.DENY,
      actions: [...tagged],
      resources: [`arn:${scope.partition}:iam::${scope.account}:role/*`],
      conditions: { StringEquals: { [`aws:ResourceTag/${key}`]: value } },
    }),
  );
}

/** The partition, region and account as cdk-nag renders them in a finding: literals, or `<AWS::X>`. */
export function shownEnvironment(stack: Stack): { partition: string; region: string; account: string } {
  return {
    partition: shown(stack.partition, 'Partition'),
    region: shown(stack.region, 'Region'),
    account: shown(stack.account, 'AccountId'),
  };
}

/** A value as cdk-nag renders it in a finding: the literal, or `<AWS::<pseudo>>` for the pseudo parameter it stands for. */
export function shown(value: string, pseudo: 'Partition' | 'Region' | 'AccountId'): string {
  return Token.isUnresolved(value) ? `<AWS::${pseudo}>` : value;
}
