/**
 * What the table guard reads from a synthesized template: each table's ARN and partition key, and each
 * function's role with the DynamoDB statements of every policy attached to it (`AWS::IAM::Policy`,
 * `AWS::IAM::RolePolicy`, `AWS::IAM::ManagedPolicy` and the role's inline `Policies`).
 */
import { type CfnResource, type CfnTemplate, TemplateResolver } from '../engine/index.ts';
import {
  dynamoStatements,
  type GuardStatement,
  type GuardTable,
  isRecord,
  TableGuardError,
} from './policy.ts';

/** A function's identity and the statements of its role. */
export interface FunctionPolicy {
  readonly logicalId: string;
  /** The caller AWS names in an AccessDenied: `arn:aws:sts::<account>:assumed-role/<role>/<function>`. */
  readonly principalArn: string;
  readonly statements: readonly GuardStatement[];
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
export function roleIdOf(role: unknown): string | undefined {
  if (!isRecord(role)) return undefined;
  const attribute = role['Fn::GetAtt'];
  const parts = typeof attribute === 'string' ? attribute.split('.') : attribute;
  if (Array.isArray(parts) && parts.length === 2 && parts[1] === 'Arn' && typeof parts[0] === 'string') {
    return parts[0];
  }
  return undefined;
}

/**
 * The tables of a synthesized template and, for every function with `cordon:entry` (what the engine runs),
 * its role's DynamoDB statements. Throws a {@link TableGuardError} on what it does not evaluate, so that a
 * policy it cannot read never allows.
 */
export function readTemplate(
  template: CfnTemplate,
  options: TableGuardOptions,
): { tables: GuardTable[]; policies: FunctionPolicy[] } {
  const resolver = new LocalNames(template, options, options.tableNames ?? {});
  const resources = resolver.resources;
  const resolve = (value: unknown, where: string) => resolver.resolve(value, where);
  const tables: GuardTable[] = [];
  for (const [id, resource] of Object.entries(resources)) {
    if (resource.Type !== 'AWS::DynamoDB::Table' && resource.Type !== 'AWS::DynamoDB::GlobalTable') continue;
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
  return { tables, policies };
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
