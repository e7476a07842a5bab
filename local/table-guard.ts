/**
 * The table guard: enforces, on every DynamoDB call a function makes on the local runtime, exactly the
 * IAM policy the synthesized template gives that function's role. DynamoDB Local enforces no IAM, so
 * without it a function whose code touches an item its grant does not cover (infra/table-access.ts) would
 * pass every local test and fail with AccessDenied once deployed.
 *
 * What it reads, per function with `cordon:entry`: the statements of its role's policies (`AWS::IAM::Policy`,
 * `AWS::IAM::RolePolicy` and `AWS::IAM::ManagedPolicy` resources attached to the role, and the role's inline
 * `Policies`) that can concern DynamoDB, with their resources resolved to the local table's ARN, and their
 * conditions: `ForAllValues:StringLike` and `ForAllValues:StringEquals` on `dynamodb:LeadingKeys`.
 *
 * What it decides, as IAM does (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html):
 * an explicit Deny wins, else an Allow whose action, resource and conditions all match, else an implicit
 * deny. A transaction's items are authorized each as its own action (`Put` as `dynamodb:PutItem`, ...,
 * `ConditionCheck` as `dynamodb:ConditionCheckItem`) and one denied item denies the whole call. A denied
 * call fails with DynamoDB's own `AccessDeniedException`.
 *
 * What it refuses to evaluate, loudly (a {@link TableGuardError}, never an allow): any other condition
 * operator or key, policy variables, a permissions boundary, a table resource policy, an AWS managed policy
 * it does not know to grant nothing on DynamoDB, a command other than GetItem, PutItem, UpdateItem,
 * DeleteItem, Query and TransactWriteItems, LeadingKeys on an index, and a request whose partition key it
 * cannot tell.
 *
 * By concern: `table-guard/policy.ts` reads statements and decides, `table-guard/requests.ts` turns a call
 * into authorizations, `table-guard/template.ts` reads the template's tables and roles.
 */
import type { Pluggable } from '@smithy/types';
import { type CfnTemplate, currentFunction } from './engine/index.ts';
import { evaluate, type GuardTable, TableGuardError } from './table-guard/policy.ts';
import { accessDeniedException, authorizationsOf, type RequestContext } from './table-guard/requests.ts';
import { type FunctionPolicy, readTemplate, type TableGuardOptions } from './table-guard/template.ts';

export type {
  Authorization,
  Decision,
  GuardStatement,
  GuardTable,
  LeadingKeysCondition,
} from './table-guard/policy.ts';
export { TableGuardError } from './table-guard/policy.ts';
export type { FunctionPolicy, TableGuardOptions } from './table-guard/template.ts';

/** A call the guard refused. */
export interface DeniedCall {
  readonly function: string;
  /** The command, e.g. `GetItemCommand`. */
  readonly command: string;
  readonly action: string;
  readonly resource: string;
  /** The partition keys of the items, when they could be told. */
  readonly leadingKeys: readonly string[] | undefined;
  readonly explicit: boolean;
}

/** Enforces each function's policy of a synthesized template on its DynamoDB calls. */
export class TableGuard {
  /** Every call refused so far, oldest first. */
  readonly denials: DeniedCall[] = [];
  readonly #policies: ReadonlyMap<string, FunctionPolicy>;
  readonly #tables: ReadonlyMap<string, GuardTable>;
  readonly #context: RequestContext;

  constructor(options: {
    readonly region: string;
    readonly accountId: string;
    readonly tables: readonly GuardTable[];
    readonly policies: readonly FunctionPolicy[];
  }) {
    this.#tables = new Map(options.tables.map((table) => [table.arn, table]));
    this.#policies = new Map(options.policies.map((policy) => [policy.logicalId, policy]));
    this.#context = {
      region: options.region,
      accountId: options.accountId,
      tables: (arn) => this.#tables.get(arn),
    };
  }

  /**
   * The guard of a synthesized template: the tables and, for every function with `cordon:entry` (what the
   * engine runs), its role's DynamoDB statements. Throws a {@link TableGuardError} on what it does not
   * evaluate, so that a policy it cannot read never allows.
   */
  static fromTemplate(template: CfnTemplate, options: TableGuardOptions): TableGuard {
    const { tables, policies } = readTemplate(template, options);
    return new TableGuard({ region: options.region, accountId: options.accountId, tables, policies });
  }

  /** The policy the guard enforces on a function, or undefined when it knows none. */
  policyOf(logicalId: string): FunctionPolicy | undefined {
    return this.#policies.get(logicalId);
  }

  /**
   * Authorizes one call of the function `logicalId`: returns when IAM would allow it, throws DynamoDB's
   * `AccessDeniedException` when it would not, and a {@link TableGuardError} when the guard cannot tell.
   */
  authorize(logicalId: string, command: string, input: unknown): void {
    const policy = this.#policies.get(logicalId);
    if (!policy) {
      throw new TableGuardError(
        `function ${logicalId} has no policy the table guard knows; it refuses its calls`,
      );
    }
    for (const request of authorizationsOf(command, input, this.#context)) {
      const decision = evaluate(policy.statements, request);
      if (decision === 'allow') continue;
      const explicit = decision === 'explicit-deny';
      let leadingKeys: readonly string[] | undefined;
      try {
        leadingKeys = request.leadingKeys();
      } catch {
        leadingKeys = undefined;
      }
      this.denials.push({
        function: logicalId,
        command,
        action: request.action,
        resource: request.resource,
        leadingKeys,
        explicit,
      });
      throw accessDeniedException(policy.principalArn, request.action, request.resource, explicit);
    }
  }
}

/**
 * A client plugin (for `registerClientPlugin`) that authorizes every DynamoDB call made inside a function's
 * invocation with the guard `current()` gives; calls outside any invocation, or with no guard, go through.
 */
export function tableGuardPlugin(current: () => TableGuard | undefined): Pluggable<object, object> {
  return {
    applyToStack: (stack) => {
      stack.add(
        (next, context) => async (args) => {
          const guard = current();
          const fn = currentFunction();
          if (guard && fn !== undefined && context.clientName === 'DynamoDBClient') {
            guard.authorize(fn, String(context.commandName), args.input);
          }
          return next(args);
        },
        { step: 'initialize', priority: 'high', name: 'cordonTableGuard', override: true },
      );
    },
  };
}
