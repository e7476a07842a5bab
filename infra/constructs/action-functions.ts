/**
 * The action functions: one per declaration of functions/actions/index.ts, each granted exactly the AWS
 * actions its declaration calls, under the conditions it lists, and denied IAM changes on the roles that
 * must never be touched (infra/declared-grants.ts).
 *
 * The functions are made in the stack's own scope, not in a construct of their own, so that their logical
 * ids (`Ec2Isolate…`) stay those already deployed.
 */
import type { Stack } from 'aws-cdk-lib';
import type * as iam from 'aws-cdk-lib/aws-iam';
import type { ActionFacts } from '#shared/define-action';
import type { Settings } from '#shared/settings';
import { STACK_NAME_ENV } from '../../functions/actions/iam-common/untouchable.ts';
import { coveredRegions, grantDeclared } from '../declared-grants.ts';
import { roleScopeOf } from '../role-guards.ts';
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
   * Grants a function exactly the AWS actions its declaration calls, under the conditions it lists, in
   * this account and the regions covered (infra/declared-grants.ts), and denies its IAM changes on the
   * roles that must never be touched.
   */
  private grant(fn: ActionFunction, action: ActionFacts): void {
    const { stack } = this;
    const { settings } = this.props;
    const { guardsRoles } = grantDeclared(
      stack,
      action,
      settings,
      {
        partition: stack.partition,
        account: stack.account,
        regions: coveredRegions(stack.region, settings),
        roles: roleScopeOf(stack),
        sesIdentity: stack.formatArn({ service: 'ses', resource: 'identity', resourceName: settings.sender }),
        where: 'this account',
      },
      { add: (statement) => fn.addToRolePolicy(statement), role: fn.executionRole },
    );
    // The code refuses the roles that must never be touched too, with the stack's name for its own roles.
    if (guardsRoles) fn.addEnvironment(STACK_NAME_ENV, stack.stackName);
  }
}
