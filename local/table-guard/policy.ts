/**
 * The table guard's policies: the DynamoDB statements of a policy document (their actions, resources and
 * `dynamodb:LeadingKeys` conditions) and IAM's decision on one authorization: an explicit Deny wins, else
 * an Allow whose action, resource and conditions all match, else an implicit deny
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic.html).
 */
import { CordonError } from '#shared/errors';

/** The guard cannot evaluate a policy or a request: it refuses rather than allow. */
export class TableGuardError extends CordonError {
  override readonly name: string = 'TableGuardError';
}

/** A condition on `dynamodb:LeadingKeys` (the partition keys of the items a request touches). */
export interface LeadingKeysCondition {
  readonly operator: 'ForAllValues:StringLike' | 'ForAllValues:StringEquals';
  readonly values: readonly string[];
}

/** One policy statement that can concern DynamoDB, its intrinsics resolved. */
export interface GuardStatement {
  readonly effect: 'Allow' | 'Deny';
  /** Action patterns (`dynamodb:GetItem`, `dynamodb:Get*`, `*`), or with `notAction` the ones excluded. */
  readonly actions: readonly string[];
  readonly notAction?: boolean;
  /** ARN patterns, or with `notResource` the ones excluded. */
  readonly resources: readonly string[];
  readonly notResource?: boolean;
  /** Every one must hold. */
  readonly conditions: readonly LeadingKeysCondition[];
  /** Where the statement is in the template, for messages. */
  readonly where: string;
}

/** One authorization IAM makes for a request: an action on a resource, with the keys it touches. */
export interface Authorization {
  /** `dynamodb:<Action>`. */
  readonly action: string;
  /** The table's ARN, or `<table ARN>/index/<name>`. */
  readonly resource: string;
  /** The values of `dynamodb:LeadingKeys`; computed only when a matching statement has a condition on them. */
  readonly leadingKeys: () => readonly string[];
}

/** How IAM decides an authorization. */
export type Decision = 'allow' | 'explicit-deny' | 'implicit-deny';

/** A table as the guard knows it: its ARN and partition key. */
export interface GuardTable {
  readonly arn: string;
  readonly partitionKey: string;
}

const SUPPORTED_OPERATORS = new Set<string>(['ForAllValues:StringLike', 'ForAllValues:StringEquals']);
const LEADING_KEYS = 'dynamodb:leadingkeys';

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

const patterns = new Map<string, RegExp>();

/** IAM's wildcards: `*` any run of characters, `?` any one. */
function glob(pattern: string, text: string, ignoreCase: boolean): boolean {
  const flags = ignoreCase ? 'is' : 's';
  let regex = patterns.get(`${flags} ${pattern}`);
  if (regex === undefined) {
    const source = pattern
      .split('')
      .map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\]/g, '\\$&')))
      .join('');
    regex = new RegExp(`^${source}$`, flags);
    patterns.set(`${flags} ${pattern}`, regex);
  }
  return regex.test(text);
}

function strings(value: unknown, where: string): string[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item, i) => {
    if (typeof item !== 'string') {
      throw new TableGuardError(`${where}[${i}]: expected a string, got ${JSON.stringify(item)}`);
    }
    if (item.includes('${')) {
      throw new TableGuardError(`${where}: policy variables are not evaluated by the table guard (${item})`);
    }
    return item;
  });
}

/** Whether an action pattern can match a DynamoDB action. */
function coversDynamo(pattern: string): boolean {
  const service = pattern.includes(':') ? pattern.slice(0, pattern.indexOf(':')) : pattern;
  return glob(service, 'dynamodb', true);
}

/**
 * The statements of a policy document that can concern DynamoDB (an `Action` that can match `dynamodb:*`,
 * or any `NotAction`). `resolve` resolves a value's intrinsics. Throws a {@link TableGuardError} on what the
 * guard does not evaluate.
 */
export function dynamoStatements(
  document: unknown,
  where: string,
  resolve: (value: unknown, where: string) => unknown = (value) => value,
): GuardStatement[] {
  if (!isRecord(document)) throw new TableGuardError(`${where}: a policy document must be an object`);
  const raw = document.Statement;
  const list = Array.isArray(raw) ? raw : raw === undefined ? [] : [raw];
  const out: GuardStatement[] = [];
  list.forEach((statement, i) => {
    const at = `${where}.Statement[${i}]`;
    if (!isRecord(statement)) throw new TableGuardError(`${at}: a statement must be an object`);
    const notAction = statement.NotAction !== undefined;
    if (notAction === (statement.Action !== undefined)) {
      throw new TableGuardError(`${at}: a statement needs exactly one of Action and NotAction`);
    }
    const actions = strings(resolve(notAction ? statement.NotAction : statement.Action, at), `${at}.Action`);
    if (!notAction && !actions.some(coversDynamo)) return;
    const effect = statement.Effect;
    if (effect !== 'Allow' && effect !== 'Deny') {
      throw new TableGuardError(`${at}: Effect must be Allow or Deny, got ${JSON.stringify(effect)}`);
    }
    const notResource = statement.NotResource !== undefined;
    if (notResource === (statement.Resource !== undefined)) {
      throw new TableGuardError(`${at}: a statement needs exactly one of Resource and NotResource`);
    }
    const resources = strings(
      resolve(notResource ? statement.NotResource : statement.Resource, `${at}.Resource`),
      `${at}.Resource`,
    );
    out.push({
      effect,
      actions,
      ...(notAction ? { notAction } : {}),
      resources,
      ...(notResource ? { notResource } : {}),
      conditions: conditionsOf(resolve(statement.Condition, `${at}.Condition`), `${at}.Condition`),
      where: at,
    });
  });
  return out;
}

function conditionsOf(condition: unknown, where: string): LeadingKeysCondition[] {
  if (condition === undefined) return [];
  if (!isRecord(condition)) throw new TableGuardError(`${where}: a Condition must be an object`);
  const out: LeadingKeysCondition[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    if (!SUPPORTED_OPERATORS.has(operator)) {
      throw new TableGuardError(
        `${where}: the condition operator ${operator} is not evaluated by the table guard (only ${[...SUPPORTED_OPERATORS].join(', ')} on dynamodb:LeadingKeys)`,
      );
    }
    if (!isRecord(keys))
      throw new TableGuardError(`${where}.${operator}: expected an object of condition keys`);
    for (const [key, values] of Object.entries(keys)) {
      if (key.toLowerCase() !== LEADING_KEYS) {
        throw new TableGuardError(
          `${where}.${operator}: the condition key ${key} is not evaluated by the table guard (only dynamodb:LeadingKeys)`,
        );
      }
      out.push({
        operator: operator as LeadingKeysCondition['operator'],
        values: strings(values, `${where}.${operator}.${key}`),
      });
    }
  }
  return out;
}

function holds(condition: LeadingKeysCondition, keys: readonly string[]): boolean {
  // ForAllValues: every value of the request matches one of the condition's (true for none, as in IAM).
  return keys.every((key) =>
    condition.values.some((value) =>
      condition.operator === 'ForAllValues:StringLike' ? glob(value, key, false) : value === key,
    ),
  );
}

function applies(statement: GuardStatement, request: Authorization): boolean {
  const action = statement.actions.some((pattern) => glob(pattern, request.action, true));
  if (action === Boolean(statement.notAction)) return false;
  const resource = statement.resources.some((pattern) => glob(pattern, request.resource, false));
  if (resource === Boolean(statement.notResource)) return false;
  if (statement.conditions.length === 0) return true;
  const keys = request.leadingKeys();
  return statement.conditions.every((condition) => holds(condition, keys));
}

/** IAM's decision on one authorization: an explicit Deny wins, else a matching Allow, else implicit deny. */
export function evaluate(statements: readonly GuardStatement[], request: Authorization): Decision {
  if (statements.some((s) => s.effect === 'Deny' && applies(s, request))) return 'explicit-deny';
  if (statements.some((s) => s.effect === 'Allow' && applies(s, request))) return 'allow';
  return 'implicit-deny';
}
