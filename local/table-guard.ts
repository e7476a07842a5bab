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
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import type { Pluggable } from '@smithy/types';
import { CordonError } from '#shared/errors';
import { type CfnResource, type CfnTemplate, currentFunction, TemplateResolver } from './engine/index.ts';

/** The guard cannot evaluate a policy or a request: it refuses rather than allow. */
export class TableGuardError extends CordonError {}

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

/** A function's identity and the statements of its role. */
export interface FunctionPolicy {
  readonly logicalId: string;
  /** The caller AWS names in an AccessDenied: `arn:aws:sts::<account>:assumed-role/<role>/<function>`. */
  readonly principalArn: string;
  readonly statements: readonly GuardStatement[];
}

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

export interface TableGuardOptions {
  readonly region: string;
  readonly accountId: string;
  /**
   * The local name of each table of the template, by its name in the template (`cordon-audit` → the test's
   * table): policy resources and requests then name the same ARN. Default: the template's names.
   */
  readonly tableNames?: Readonly<Record<string, string>>;
}

const SUPPORTED_OPERATORS = new Set<string>(['ForAllValues:StringLike', 'ForAllValues:StringEquals']);
const LEADING_KEYS = 'dynamodb:leadingkeys';

/**
 * AWS managed policies a Lambda role commonly has that grant nothing on DynamoDB. Any other AWS managed
 * policy is refused: its statements are not in the template.
 */
const MANAGED_WITHOUT_DYNAMODB = new Set([
  'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole',
  'arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole',
  'arn:aws:iam::aws:policy/AWSXRayDaemonWriteAccess',
  'arn:aws:iam::aws:policy/AWSXrayWriteOnlyAccess',
]);

function isRecord(value: unknown): value is Record<string, unknown> {
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

/** Finds a table by the ARN a request names. */
export type TableLookup = (arn: string) => GuardTable | undefined;

interface RequestContext {
  readonly region: string;
  readonly accountId: string;
  readonly tables: TableLookup;
}

/** The partition key's string value, from a document-client (plain) or marshalled (`{ S }`) attribute. */
function stringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && Object.keys(value).length === 1 && typeof value.S === 'string') return value.S;
  return undefined;
}

function tableArn(name: unknown, context: RequestContext, where: string): string {
  if (typeof name !== 'string' || name === '') throw new TableGuardError(`${where}: no TableName`);
  if (name.startsWith('arn:')) return name;
  return `arn:aws:dynamodb:${context.region}:${context.accountId}:table/${name}`;
}

function partitionKeyOf(arn: string, context: RequestContext, where: string): string {
  const table = context.tables(arn);
  if (!table) {
    throw new TableGuardError(
      `${where}: ${arn} is not a table of the template; its partition key is unknown`,
    );
  }
  return table.partitionKey;
}

/** An item access: the partition key of its `Key` (or `Item`). */
function itemAccess(
  action: string,
  input: Record<string, unknown>,
  field: 'Key' | 'Item',
  context: RequestContext,
  where: string,
): Authorization {
  const resource = tableArn(input.TableName, context, where);
  return {
    action: `dynamodb:${action}`,
    resource,
    leadingKeys: () => {
      const pk = partitionKeyOf(resource, context, where);
      const record = input[field];
      const value = isRecord(record) ? stringValue(record[pk]) : undefined;
      if (value === undefined)
        throw new TableGuardError(`${where}: cannot tell the partition key ${pk} of its ${field}`);
      return [value];
    },
  };
}

/**
 * The partition key value a Query binds: `pk = :v` or `#n = :v` in KeyConditionExpression (names and
 * values resolved), or an `EQ` in the legacy KeyConditions.
 */
function queriedPartition(input: Record<string, unknown>, pk: string, where: string): string {
  const names = isRecord(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
  const values = isRecord(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
  const expression = input.KeyConditionExpression;
  if (typeof expression === 'string') {
    const bound: unknown[] = [];
    for (const match of expression.matchAll(/(?<![\w#:])([#A-Za-z][\w]*)\s*=\s*(:[\w]+)/g)) {
      const [, operand = '', placeholder = ''] = match;
      const name = operand.startsWith('#') ? names[operand] : operand;
      if (name === pk) bound.push(values[placeholder]);
    }
    const [only] = bound;
    const value = bound.length === 1 ? stringValue(only) : undefined;
    if (value === undefined) {
      throw new TableGuardError(
        `${where}: cannot tell the partition key ${pk} bound by KeyConditionExpression "${expression}"`,
      );
    }
    return value;
  }
  const conditions = isRecord(input.KeyConditions) ? input.KeyConditions[pk] : undefined;
  if (
    isRecord(conditions) &&
    conditions.ComparisonOperator === 'EQ' &&
    Array.isArray(conditions.AttributeValueList)
  ) {
    const value = stringValue(conditions.AttributeValueList[0]);
    if (value !== undefined) return value;
  }
  throw new TableGuardError(`${where}: cannot tell the partition key ${pk} the Query binds`);
}

function queryAccess(input: Record<string, unknown>, context: RequestContext, where: string): Authorization {
  const table = tableArn(input.TableName, context, where);
  const index = input.IndexName;
  if (index !== undefined && typeof index !== 'string')
    throw new TableGuardError(`${where}: IndexName is not a string`);
  return {
    action: 'dynamodb:Query',
    resource: index === undefined ? table : `${table}/index/${index}`,
    leadingKeys: () => {
      if (index !== undefined) {
        throw new TableGuardError(
          `${where}: dynamodb:LeadingKeys of a Query on index ${index} is not evaluated by the table guard`,
        );
      }
      return [queriedPartition(input, partitionKeyOf(table, context, where), where)];
    },
  };
}

const TRANSACT_ACTIONS = [
  ['Put', 'PutItem', 'Item'],
  ['Update', 'UpdateItem', 'Key'],
  ['Delete', 'DeleteItem', 'Key'],
  ['ConditionCheck', 'ConditionCheckItem', 'Key'],
] as const;

/**
 * The authorizations IAM makes for one call of the DynamoDB client (`command` as the SDK names it, e.g.
 * `PutItemCommand`). The input may be the document client's (plain values) or marshalled.
 */
export function authorizationsOf(command: string, input: unknown, context: RequestContext): Authorization[] {
  const name = command.replace(/Command$/, '');
  const where = `dynamodb:${name}`;
  if (!isRecord(input)) throw new TableGuardError(`${where}: the input is not an object`);
  switch (name) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [itemAccess(name, input, 'Key', context, where)];
    case 'PutItem':
      return [itemAccess(name, input, 'Item', context, where)];
    case 'Query':
      return [queryAccess(input, context, where)];
    case 'TransactWriteItems': {
      const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      return items.map((item, i) => {
        const at = `${where} TransactItems[${i}]`;
        for (const [member, action, field] of TRANSACT_ACTIONS) {
          const part = isRecord(item) ? item[member] : undefined;
          if (isRecord(part)) return itemAccess(action, part, field, context, at);
        }
        throw new TableGuardError(`${at}: neither Put, Update, Delete nor ConditionCheck`);
      });
    }
    default:
      throw new TableGuardError(`${where} is not evaluated by the table guard`);
  }
}

/** DynamoDB's answer to a call IAM denies. */
export function accessDeniedException(
  principalArn: string,
  action: string,
  resource: string,
  explicit: boolean,
): DynamoDBServiceException {
  const why = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  return new DynamoDBServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    message: `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
    $metadata: {
      httpStatusCode: 400,
      requestId: randomBytes(26).toString('hex').toUpperCase(),
      attempts: 1,
      totalRetryDelay: 0,
    },
  });
}

/** Resolves intrinsics with each table under its local name. */
class LocalNames extends TemplateResolver {
  constructor(
    template: CfnTemplate,
    options: TableGuardOptions,
    private readonly renames: Readonly<Record<string, string>>,
  ) {
    super(template, { region: options.region, accountId: options.accountId });
  }

  override physicalName(logicalId: string): string {
    const name = super.physicalName(logicalId);
    const type = this.resource(logicalId).Type;
    if (type !== 'AWS::DynamoDB::Table' && type !== 'AWS::DynamoDB::GlobalTable') return name;
    return Object.hasOwn(this.renames, name) ? (this.renames[name] ?? name) : name;
  }
}

function refersTo(value: unknown, logicalId: string): boolean {
  return isRecord(value) && value.Ref === logicalId;
}

/** The role logical id of `Fn::GetAtt [role, Arn]` (either form). */
function roleIdOf(role: unknown): string | undefined {
  if (!isRecord(role)) return undefined;
  const attribute = role['Fn::GetAtt'];
  const parts = typeof attribute === 'string' ? attribute.split('.') : attribute;
  if (Array.isArray(parts) && parts.length === 2 && parts[1] === 'Arn' && typeof parts[0] === 'string') {
    return parts[0];
  }
  return undefined;
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
    const resolver = new LocalNames(template, options, options.tableNames ?? {});
    const resources = resolver.resources;
    const resolve = (value: unknown, where: string) => resolver.resolve(value, where);
    const tables: GuardTable[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable')
        continue;
      tables.push(tableOf(id, resource, resolver));
    }
    const policies: FunctionPolicy[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      if (
        resource.Type !== 'AWS::Lambda::Function' ||
        typeof resource.Metadata?.['cordon:entry'] !== 'string'
      ) {
        continue;
      }
      const roleId = roleIdOf(resource.Properties?.Role);
      const role = roleId === undefined ? undefined : resources[roleId];
      if (roleId === undefined || role?.Type !== 'AWS::IAM::Role') {
        throw new TableGuardError(
          `function ${id}: its Role is not a role of the template; its policy is unknown`,
        );
      }
      const statements = roleStatements(roleId, role, resources, resolve);
      // A role CloudFormation names has a generated name; its logical id stands in for it.
      const roleName = resolver.physicalName(roleId);
      policies.push({
        logicalId: id,
        principalArn: `arn:aws:sts::${options.accountId}:assumed-role/${roleName}/${resolver.physicalName(id)}`,
        statements,
      });
    }
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

function tableOf(id: string, resource: CfnResource, resolver: TemplateResolver): GuardTable {
  const props = resource.Properties ?? {};
  const replicas = Array.isArray(props.Replicas) ? props.Replicas : [];
  if (
    props.ResourcePolicy !== undefined ||
    replicas.some((r) => isRecord(r) && r.ResourcePolicy !== undefined)
  ) {
    throw new TableGuardError(`table ${id}: a resource policy is not evaluated by the table guard`);
  }
  const schema = resolver.resolve(props.KeySchema, `${id}.KeySchema`);
  const hash = Array.isArray(schema)
    ? schema.find((key) => isRecord(key) && key.KeyType === 'HASH')
    : undefined;
  if (!isRecord(hash) || typeof hash.AttributeName !== 'string') {
    throw new TableGuardError(`table ${id}: no HASH key in its KeySchema`);
  }
  return { arn: resolver.arn(id), partitionKey: hash.AttributeName };
}

/** The DynamoDB statements of every policy attached to a role. */
function roleStatements(
  roleId: string,
  role: CfnResource,
  resources: Record<string, CfnResource>,
  resolve: (value: unknown, where: string) => unknown,
): GuardStatement[] {
  const props = role.Properties ?? {};
  if (props.PermissionsBoundary !== undefined) {
    throw new TableGuardError(`role ${roleId}: a permissions boundary is not evaluated by the table guard`);
  }
  const statements: GuardStatement[] = [];
  const inline = Array.isArray(props.Policies) ? props.Policies : [];
  inline.forEach((policy, i) => {
    statements.push(
      ...dynamoStatements(
        isRecord(policy) ? policy.PolicyDocument : undefined,
        `${roleId}.Policies[${i}]`,
        resolve,
      ),
    );
  });
  const managed = new Set<string>();
  const attached = Array.isArray(props.ManagedPolicyArns) ? props.ManagedPolicyArns : [];
  attached.forEach((arn, i) => {
    const where = `${roleId}.ManagedPolicyArns[${i}]`;
    if (
      isRecord(arn) &&
      typeof arn.Ref === 'string' &&
      resources[arn.Ref]?.Type === 'AWS::IAM::ManagedPolicy'
    ) {
      managed.add(arn.Ref);
      return;
    }
    const resolved = resolve(arn, where);
    if (
      typeof resolved === 'string' &&
      MANAGED_WITHOUT_DYNAMODB.has(resolved.replace(/^arn:aws[\w-]*:/, 'arn:aws:'))
    ) {
      return;
    }
    throw new TableGuardError(
      `${where}: the managed policy ${JSON.stringify(resolved)} is not in the template`,
    );
  });
  for (const [id, resource] of Object.entries(resources)) {
    const p = resource.Properties ?? {};
    const roles = Array.isArray(p.Roles) ? p.Roles : [];
    const toRole = roles.some((r) => refersTo(r, roleId)) || refersTo(p.RoleName, roleId);
    if (resource.Type === 'AWS::IAM::ManagedPolicy' && (toRole || managed.has(id))) {
      statements.push(...dynamoStatements(p.PolicyDocument, id, resolve));
    } else if ((resource.Type === 'AWS::IAM::Policy' || resource.Type === 'AWS::IAM::RolePolicy') && toRole) {
      statements.push(...dynamoStatements(p.PolicyDocument, id, resolve));
    }
  }
  return statements;
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
