/**
 * What a declaration's calls (functions/actions/<name>/action.ts) are granted as, in one account: exactly
 * the IAM actions it calls, under the conditions it lists, its changes kept to the account and the regions
 * covered, and its IAM changes denied on the roles that must never be touched. The hub's action functions
 * (infra/constructs/action-functions.ts) get one declaration's grants each, in the hub's account; the
 * responder role of a member account (infra/responder-template.ts) gets the union of every declaration's,
 * in its own account.
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type { IConstruct } from 'constructs';
import { type ActionFacts, iamCalls } from '#shared/define-action';
import type { Settings } from '#shared/settings';
import { acknowledge } from './nag.ts';
import {
  acknowledgeInstanceRoles,
  denyUntouchable,
  instanceRoleArns,
  passInstanceRoles,
  type RoleScope,
  shown,
} from './role-guards.ts';

/** AWS actions that only read: granted on "*", as they support no resource-level permissions. */
const READ_ACTION = /^(Describe|Get|List)/;

/** The IAM services whose actions the grants know how to scope; any other fails the synth. */
export const SCOPED_SERVICES = ['ec2', 'autoscaling', 'elasticloadbalancing', 'iam', 'backup', 'ses'];

/**
 * The regions Cordon acts in: `home` (the stack's, or the template's, own region) first, then the settings'
 * `organization.regions` not already named.
 */
export function coveredRegions(home: string, settings: Settings): string[] {
  // A token (`${AWS::Region}`) may turn out to be one of the settings' regions: the statement then names it twice.
  return [...new Set([home, ...settings.organization.regions])];
}

/** Where a declaration's calls are granted. */
export interface GrantScope {
  readonly partition: string;
  /** The account its changes are kept to (a literal, or a token such as `${AWS::AccountId}`). */
  readonly account: string;
  /** The regions its regional changes are kept to: the hub's (or the template's) own, then the settings'. */
  readonly regions: readonly string[];
  /** The roles of the account its IAM changes are denied on, and its instance roles are in. */
  readonly roles: RoleScope;
  /** The SES identity its email goes out from; a declaration that calls SES needs one. */
  readonly sesIdentity?: string;
  /** Where its calls act, for the cdk-nag reasons: `this account`, `the member account`. */
  readonly where: string;
  /** Where its calls are declared, for the cdk-nag reasons. Default its own declaration's file. */
  readonly declaredIn?: string;
}

/** The role the grants go to: its statements, and the construct cdk-nag findings are acknowledged on. */
export interface GrantTarget {
  readonly add: (statement: iam.PolicyStatement) => void;
  readonly role: IConstruct;
}

/**
 * Grants `action`'s calls to `target` in `scope`. Returns whether its IAM changes or role passing were
 * denied on the untouchable roles (the function then needs the stack's name to refuse its own roles too).
 */
export function grantDeclared(
  stack: Stack,
  action: ActionFacts,
  settings: Settings,
  scope: GrantScope,
  target: GrantTarget,
): { readonly guardsRoles: boolean } {
  const { partition, account, regions } = scope;
  const byService = new Map<string, string[]>();
  for (const call of iamCalls(action)) {
    const [service = '', verb = ''] = call.split(':');
    if (!SCOPED_SERVICES.includes(service)) {
      throw new Error(`grants: ${action.name} calls ${call}, and no grant scope is known for ${service}`);
    }
    byService.set(service, [...(byService.get(service) ?? []), verb]);
  }
  const calls = (service: string) => byService.get(service) ?? [];
  const conditioned = action.conditions ?? {};
  // An action with conditions is granted once per condition block, never without one.
  const scoped = (service: string, actions: readonly string[], resources: string[]) => {
    if (actions.length === 0) return;
    const plain = actions.filter((a) => conditioned[`${service}:${a}`] === undefined);
    if (plain.length > 0) {
      target.add(new iam.PolicyStatement({ actions: plain.map((a) => `${service}:${a}`), resources }));
    }
    for (const verb of actions) {
      for (const block of conditioned[`${service}:${verb}`] ?? []) {
        target.add(
          new iam.PolicyStatement({
            actions: [`${service}:${verb}`],
            resources,
            conditions: structuredClone(block) as Record<string, unknown>,
          }),
        );
      }
    }
  };
  // Reads support no resource-level permissions; changes are kept to the account and the regions covered.
  const reads = (service: string) => calls(service).filter((a) => READ_ACTION.test(a));
  const writes = (service: string) => calls(service).filter((a) => !READ_ACTION.test(a));
  const here = (service: string, suffix: string) =>
    regions.map((region) => `arn:${partition}:${service}:${region}:${account}:${suffix}`);
  scoped('ec2', reads('ec2'), ['*']);
  const snapshots = calls('ec2').includes('CreateSnapshots')
    ? regions.map((region) => `arn:${partition}:ec2:${region}::snapshot/*`)
    : [];
  scoped('ec2', writes('ec2'), [...here('ec2', '*'), ...snapshots]);
  scoped('autoscaling', reads('autoscaling'), ['*']);
  scoped('autoscaling', writes('autoscaling'), here('autoscaling', 'autoScalingGroup:*'));
  // AWS Backup's recovery points and restore jobs are whatever the incident's resource has.
  scoped('backup', calls('backup'), ['*']);
  scoped('elasticloadbalancing', reads('elasticloadbalancing'), ['*']);
  scoped('elasticloadbalancing', writes('elasticloadbalancing'), here('elasticloadbalancing', '*'));
  scoped('iam', calls('iam'), [
    `arn:${partition}:iam::${account}:user/*`,
    `arn:${partition}:iam::${account}:role/*`,
    `arn:${partition}:iam::${account}:instance-profile/*`,
  ]);
  // Re-associating an instance profile passes its role to EC2: only the roles the settings list.
  const instanceRoles = action.passInstanceRoles ? instanceRoleArns(scope.roles, settings) : [];
  if (instanceRoles.length > 0) target.add(passInstanceRoles(instanceRoles));
  const iamWrites = writes('iam').map((a) => `iam:${a}`);
  const guardsRoles = instanceRoles.length > 0 || iamWrites.some((a) => a.includes('Role'));
  if (guardsRoles) {
    // Whatever a finding names, no change to the roles that must never be touched: no escalation through
    // them. The code refuses them too.
    denyUntouchable(
      scope.roles,
      settings,
      target.add,
      [...iamWrites, ...(instanceRoles.length > 0 ? ['iam:PassRole'] : [])],
      iamWrites,
    );
  }
  if (calls('ses').length > 0) {
    if (scope.sesIdentity === undefined) {
      throw new Error(`grants: ${action.name} sends email, and no sender identity is given where it runs`);
    }
    // Email goes out from the settings' sender identity only.
    scoped('ses', calls('ses'), [scope.sesIdentity]);
  }
  const shownPartition = shown(partition, 'Partition');
  const shownAccount = shown(account, 'AccountId');
  const shownRegions = regions.map((region) => shown(region, 'Region'));
  const scopedWrites = [
    ...(writes('ec2').length ? shownRegions.map((r) => `ec2:${r}:${shownAccount}:*`) : []),
    ...(snapshots.length ? shownRegions.map((r) => `ec2:${r}::snapshot/*`) : []),
    ...(writes('autoscaling').length
      ? shownRegions.map((r) => `autoscaling:${r}:${shownAccount}:autoScalingGroup:*`)
      : []),
    ...(writes('elasticloadbalancing').length
      ? shownRegions.map((r) => `elasticloadbalancing:${r}:${shownAccount}:*`)
      : []),
    ...(calls('iam').length
      ? ['user', 'role', 'instance-profile'].map((kind) => `iam::${shownAccount}:${kind}/*`)
      : []),
  ];
  const source = scope.declaredIn ?? `its declaration, functions/actions/${action.name}/action.ts`;
  for (const resource of new Set(scopedWrites)) {
    acknowledge(
      target.role,
      `AwsSolutions-IAM5[Resource::arn:${shownPartition}:${resource}]`,
      `${action.name} acts on whichever instance, group, registration, user or role a finding names, in ${scope.where} (and the regions covered) only; its actions are exactly those its code calls (${source}), ModifyInstanceAttribute only for the attributes it sets.`,
    );
  }
  if (instanceRoles.length > 0) acknowledgeInstanceRoles(stack, settings, target.role, action.name);
  return { guardsRoles };
}
