/**
 * The action functions: one per declaration of functions/actions/index.ts, each granted exactly the AWS
 * actions its declaration calls, under the conditions it lists, and denied IAM changes on the roles that
 * must never be touched.
 *
 * The functions are made in the stack's own scope, not in a construct of their own, so that their logical
 * ids (`Ec2Isolate…`) stay those already deployed.
 */
import type { Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { type ActionFacts, iamCalls } from '#shared/define-action';
import type { Settings } from '#shared/settings';
import { STACK_NAME_ENV } from '../../functions/actions/iam-common/untouchable.ts';
import { acknowledge } from '../nag.ts';
import {
  acknowledgeInstanceRoles,
  denyUntouchable,
  instanceRoleArns,
  passInstanceRoles,
  shownEnvironment,
} from '../role-guards.ts';
import { ActionFunction } from './action-function.ts';
import type { AuditTable } from './audit-table.ts';

export interface ActionFunctionsProps {
  /** The declarations, each made a function named after it: `ec2-isolate` → `Ec2Isolate`. */
  readonly actions: readonly ActionFacts[];
  readonly audit: AuditTable;
  readonly settings: Settings;
  /** The role a declaration with `passRestoreRole` starts restores with. */
  readonly restoreRole: iam.IRole;
}

/** AWS actions that only read: granted on "*", as they support no resource-level permissions. */
const READ_ACTION = /^(Describe|Get|List)/;

/** The IAM services whose actions the grants know how to scope; any other fails the synth. */
const SCOPED_SERVICES = ['ec2', 'autoscaling', 'elasticloadbalancing', 'iam', 'backup', 'ses'];

/** A construct id from an action or playbook name: `ec2-isolate` → `Ec2Isolate`. */
export function logicalName(name: string): string {
  return name.replace(/(^|-)([a-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}

export class ActionFunctions {
  /** Every action function, by action name. */
  readonly byName: ReadonlyMap<string, ActionFunction>;

  constructor(
    private readonly stack: Stack,
    private readonly props: ActionFunctionsProps,
  ) {
    const byName = new Map<string, ActionFunction>();
    for (const action of props.actions) {
      if (byName.has(action.name)) throw new Error(`ActionFunctions: ${action.name} is declared twice`);
      const fn = new ActionFunction(stack, logicalName(action.name), {
        entry: `functions/actions/${action.name}/handler.ts`,
        description: action.description,
      })
        .recordsTo(props.audit)
        .withSettings(props.settings);
      this.grant(fn, action);
      if (action.passRestoreRole) fn.restoresWith(props.restoreRole, props.settings.recovery);
      byName.set(action.name, fn);
    }
    this.byName = byName;
  }

  /** The function of an action; throws when none is declared by that name. */
  get(name: string): ActionFunction {
    const found = this.byName.get(name);
    if (!found) throw new Error(`ActionFunctions: no action function ${name} (functions/actions/index.ts)`);
    return found;
  }

  /**
   * Grants a function exactly the AWS actions its declaration calls, under the conditions it lists, and
   * denies its IAM changes on the roles that must never be touched.
   */
  private grant(fn: ActionFunction, action: ActionFacts): void {
    const { stack } = this;
    const { settings } = this.props;
    const byService = new Map<string, string[]>();
    for (const call of iamCalls(action)) {
      const [service = '', verb = ''] = call.split(':');
      if (!SCOPED_SERVICES.includes(service)) {
        throw new Error(
          `ActionFunctions: ${action.name} calls ${call}, and no grant scope is known for ${service}`,
        );
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
        fn.addToRolePolicy(
          new iam.PolicyStatement({ actions: plain.map((a) => `${service}:${a}`), resources }),
        );
      }
      for (const verb of actions) {
        for (const block of conditioned[`${service}:${verb}`] ?? []) {
          fn.addToRolePolicy(
            new iam.PolicyStatement({
              actions: [`${service}:${verb}`],
              resources,
              conditions: structuredClone(block) as Record<string, unknown>,
            }),
          );
        }
      }
    };
    // Reads support no resource-level permissions; changes are kept to this account and region.
    const reads = (service: string) => calls(service).filter((a) => READ_ACTION.test(a));
    const writes = (service: string) => calls(service).filter((a) => !READ_ACTION.test(a));
    const here = (service: string) => `arn:${stack.partition}:${service}:${stack.region}:${stack.account}`;
    scoped('ec2', reads('ec2'), ['*']);
    const snapshots = calls('ec2').includes('CreateSnapshots')
      ? [`arn:${stack.partition}:ec2:${stack.region}::snapshot/*`]
      : [];
    scoped('ec2', writes('ec2'), [`${here('ec2')}:*`, ...snapshots]);
    scoped('autoscaling', reads('autoscaling'), ['*']);
    scoped('autoscaling', writes('autoscaling'), [`${here('autoscaling')}:autoScalingGroup:*`]);
    // AWS Backup's recovery points and restore jobs are whatever the incident's resource has.
    scoped('backup', calls('backup'), ['*']);
    scoped('elasticloadbalancing', reads('elasticloadbalancing'), ['*']);
    scoped('elasticloadbalancing', writes('elasticloadbalancing'), [`${here('elasticloadbalancing')}:*`]);
    scoped('iam', calls('iam'), [
      `arn:${stack.partition}:iam::${stack.account}:user/*`,
      `arn:${stack.partition}:iam::${stack.account}:role/*`,
      `arn:${stack.partition}:iam::${stack.account}:instance-profile/*`,
    ]);
    // Re-associating an instance profile passes its role to EC2: only the roles the settings list.
    const instanceRoles = action.passInstanceRoles ? instanceRoleArns(stack, settings) : [];
    if (instanceRoles.length > 0) fn.addToRolePolicy(passInstanceRoles(instanceRoles));
    const iamWrites = writes('iam').map((a) => `iam:${a}`);
    if (instanceRoles.length > 0 || iamWrites.some((a) => a.includes('Role'))) {
      // Whatever a finding names, no change to the roles that must never be touched: no escalation through
      // them. The code refuses them too, with the stack's name for its own roles.
      denyUntouchable(
        stack,
        settings,
        (statement) => fn.addToRolePolicy(statement),
        [...iamWrites, ...(instanceRoles.length > 0 ? ['iam:PassRole'] : [])],
        iamWrites,
      );
      fn.addEnvironment(STACK_NAME_ENV, stack.stackName);
    }
    // Email goes out from the settings' sender identity only.
    scoped('ses', calls('ses'), [
      stack.formatArn({ service: 'ses', resource: 'identity', resourceName: settings.sender }),
    ]);
    const { partition, region, account } = shownEnvironment(stack);
    const scopedWrites = [
      ...(writes('ec2').length ? [`ec2:${region}:${account}:*`] : []),
      ...(snapshots.length ? [`ec2:${region}::snapshot/*`] : []),
      ...(writes('autoscaling').length ? [`autoscaling:${region}:${account}:autoScalingGroup:*`] : []),
      ...(writes('elasticloadbalancing').length ? [`elasticloadbalancing:${region}:${account}:*`] : []),
      ...(calls('iam').length
        ? ['user', 'role', 'instance-profile'].map((kind) => `iam::${account}:${kind}/*`)
        : []),
    ];
    for (const resource of scopedWrites) {
      acknowledge(
        fn.executionRole,
        `AwsSolutions-IAM5[Resource::arn:${partition}:${resource}]`,
        `${action.name} acts on whichever instance, group, registration, user or role a finding names, in this account (and region) only; its actions are exactly those its code calls (its declaration, functions/actions/${action.name}/action.ts), ModifyInstanceAttribute only for the attributes it sets.`,
      );
    }
    if (instanceRoles.length > 0) acknowledgeInstanceRoles(stack, settings, fn.executionRole, action.name);
  }
}
