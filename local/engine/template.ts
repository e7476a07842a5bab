/**
 * Reads a synthesized CloudFormation template the way the local engine needs it: resolves the
 * intrinsics of a state machine definition or a function's environment to local names and ARNs, and
 * finds Cordon's functions (`cordon:entry`) and playbooks (`cordon:playbook`) from resource metadata.
 */
import { TemplateError, UnsupportedIntrinsicError } from './errors.ts';

/** One resource of a CloudFormation template. */
export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly Metadata?: Record<string, unknown>;
}

/** The parts of a CloudFormation template the engine reads. */
export interface CfnTemplate {
  readonly Resources?: Record<string, CfnResource>;
  readonly Parameters?: Record<string, { readonly Default?: unknown }>;
  readonly Mappings?: Record<string, Record<string, Record<string, unknown>>>;
}

/** Where resolved ARNs point. Defaults: `us-east-1`, `000000000000`, stack `cordon-local`. */
export interface ResolveOptions {
  /** Region of every local ARN. Default `us-east-1`. */
  readonly region?: string;
  /** Account of every local ARN. Default `000000000000`. */
  readonly accountId?: string;
  /** Value of `AWS::StackName`. Default `cordon-local`. */
  readonly stackName?: string;
}

/** Metadata key of a Lambda function: the repo-relative module whose `handler` export is deployed. */
export const ENTRY_METADATA = 'cordon:entry';
/** Metadata key of a state machine: the playbook id. */
export const PLAYBOOK_METADATA = 'cordon:playbook';

const NO_VALUE = Symbol('AWS::NoValue');

/** Physical-name property of each resource type whose `Ref` is a name. */
const NAME_PROPERTY: Record<string, string> = {
  'AWS::Lambda::Function': 'FunctionName',
  'AWS::DynamoDB::Table': 'TableName',
  'AWS::DynamoDB::GlobalTable': 'TableName',
  'AWS::StepFunctions::StateMachine': 'StateMachineName',
  'AWS::SQS::Queue': 'QueueName',
  'AWS::SNS::Topic': 'TopicName',
  'AWS::S3::Bucket': 'BucketName',
  'AWS::IAM::Role': 'RoleName',
  'AWS::IAM::User': 'UserName',
  'AWS::IAM::ManagedPolicy': 'ManagedPolicyName',
  'AWS::Events::Rule': 'Name',
  'AWS::Events::EventBus': 'Name',
  'AWS::Logs::LogGroup': 'LogGroupName',
  'AWS::SecretsManager::Secret': 'Name',
  'AWS::SSM::Parameter': 'Name',
  'AWS::ApiGatewayV2::Api': 'Name',
};

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Resolves CloudFormation intrinsics against one template, giving each resource a stable local
 * physical name (its name property when set, else its logical id) and ARNs of the right form.
 */
export class TemplateResolver {
  readonly region: string;
  readonly accountId: string;
  readonly stackName: string;
  readonly template: CfnTemplate;
  private readonly names = new Map<string, string>();

  constructor(template: CfnTemplate, options: ResolveOptions = {}) {
    this.template = template;
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '000000000000';
    this.stackName = options.stackName ?? 'cordon-local';
  }

  /** The template's resources (empty when it has none). */
  get resources(): Record<string, CfnResource> {
    return this.template.Resources ?? {};
  }

  /** The resource with this logical id, or a {@link TemplateError}. */
  resource(logicalId: string): CfnResource {
    const resource = this.resources[logicalId];
    if (resource === undefined) throw new TemplateError(`No resource "${logicalId}" in the template`);
    return resource;
  }

  /** The local physical name of a resource: its name property when it has one, else its logical id. */
  physicalName(logicalId: string): string {
    const cached = this.names.get(logicalId);
    if (cached !== undefined) return cached;
    const resource = this.resource(logicalId);
    const property = NAME_PROPERTY[resource.Type];
    const raw = property === undefined ? undefined : resource.Properties?.[property];
    const name = raw === undefined ? logicalId : this.resolveString(raw, `${logicalId}.${property}`);
    this.names.set(logicalId, name);
    return name;
  }

  /** The local ARN of a resource, as `Fn::GetAtt [id, Arn]` gives it. */
  arn(logicalId: string): string {
    const { region: r, accountId: a } = this;
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    switch (resource.Type) {
      case 'AWS::Lambda::Function':
        return `arn:aws:lambda:${r}:${a}:function:${name}`;
      case 'AWS::StepFunctions::StateMachine':
        return `arn:aws:states:${r}:${a}:stateMachine:${name}`;
      case 'AWS::StepFunctions::Activity':
        return `arn:aws:states:${r}:${a}:activity:${name}`;
      case 'AWS::DynamoDB::Table':
      case 'AWS::DynamoDB::GlobalTable':
        return `arn:aws:dynamodb:${r}:${a}:table/${name}`;
      case 'AWS::SQS::Queue':
        return `arn:aws:sqs:${r}:${a}:${name}`;
      case 'AWS::SNS::Topic':
        return `arn:aws:sns:${r}:${a}:${name}`;
      case 'AWS::S3::Bucket':
        return `arn:aws:s3:::${name}`;
      case 'AWS::IAM::Role':
        return `arn:aws:iam::${a}:role/${name}`;
      case 'AWS::IAM::User':
        return `arn:aws:iam::${a}:user/${name}`;
      case 'AWS::IAM::ManagedPolicy':
        return `arn:aws:iam::${a}:policy/${name}`;
      case 'AWS::Events::Rule':
        return `arn:aws:events:${r}:${a}:rule/${name}`;
      case 'AWS::Events::EventBus':
        return `arn:aws:events:${r}:${a}:event-bus/${name}`;
      case 'AWS::Logs::LogGroup':
        return `arn:aws:logs:${r}:${a}:log-group:${name}:*`;
      case 'AWS::KMS::Key':
        return `arn:aws:kms:${r}:${a}:key/${name}`;
      case 'AWS::SecretsManager::Secret':
        return `arn:aws:secretsmanager:${r}:${a}:secret:${name}`;
      case 'AWS::SSM::Parameter':
        return `arn:aws:ssm:${r}:${a}:parameter/${name}`;
      default:
        throw new UnsupportedIntrinsicError(
          `Fn::GetAtt ${logicalId}.Arn`,
          `no local ARN form for ${resource.Type}`,
        );
    }
  }

  /** What `Ref` gives for a resource: AWS's documented return value (a name, an ARN or a URL). */
  ref(logicalId: string): string {
    const resource = this.resource(logicalId);
    switch (resource.Type) {
      case 'AWS::StepFunctions::StateMachine':
      case 'AWS::StepFunctions::Activity':
      case 'AWS::SNS::Topic':
      case 'AWS::IAM::ManagedPolicy':
      case 'AWS::SecretsManager::Secret':
        return this.arn(logicalId);
      case 'AWS::SQS::Queue':
        return this.queueUrl(logicalId);
      default:
        return this.physicalName(logicalId);
    }
  }

  private queueUrl(logicalId: string): string {
    return `https://sqs.${this.region}.amazonaws.com/${this.accountId}/${this.physicalName(logicalId)}`;
  }

  /** What `Fn::GetAtt [logicalId, attribute]` gives. */
  getAtt(logicalId: string, attribute: string): string {
    const resource = this.resource(logicalId);
    const name = this.physicalName(logicalId);
    if (attribute === 'Arn') return this.arn(logicalId);
    switch (`${resource.Type}.${attribute}`) {
      case 'AWS::StepFunctions::StateMachine.Name':
      case 'AWS::SQS::Queue.QueueName':
      case 'AWS::SNS::Topic.TopicName':
      case 'AWS::Events::EventBus.Name':
        return name;
      case 'AWS::SQS::Queue.QueueUrl':
        return this.queueUrl(logicalId);
      case 'AWS::SNS::Topic.TopicArn':
        return this.arn(logicalId);
      case 'AWS::DynamoDB::Table.StreamArn':
        return `${this.arn(logicalId)}/stream/1970-01-01T00:00:00.000`;
      case 'AWS::IAM::Role.RoleId':
        return `AROA${logicalId.toUpperCase().slice(0, 17)}`;
      case 'AWS::S3::Bucket.DomainName':
        return `${name}.s3.amazonaws.com`;
      case 'AWS::S3::Bucket.RegionalDomainName':
        return `${name}.s3.${this.region}.amazonaws.com`;
      case 'AWS::ApiGatewayV2::Api.ApiEndpoint':
        return `https://${logicalId.toLowerCase()}.execute-api.${this.region}.amazonaws.com`;
      case 'AWS::ApiGatewayV2::Api.ApiId':
        return logicalId.toLowerCase();
      case 'AWS::KMS::Key.KeyId':
        return name;
      default:
        throw new UnsupportedIntrinsicError(`Fn::GetAtt ${logicalId}.${attribute}`, `on ${resource.Type}`);
    }
  }

  private pseudo(name: string): string | typeof NO_VALUE {
    switch (name) {
      case 'AWS::Region':
        return this.region;
      case 'AWS::AccountId':
        return this.accountId;
      case 'AWS::Partition':
        return 'aws';
      case 'AWS::URLSuffix':
        return 'amazonaws.com';
      case 'AWS::StackName':
        return this.stackName;
      case 'AWS::StackId':
        return `arn:aws:cloudformation:${this.region}:${this.accountId}:stack/${this.stackName}/00000000-0000-0000-0000-000000000000`;
      case 'AWS::NoValue':
        return NO_VALUE;
      default:
        throw new UnsupportedIntrinsicError(`Ref ${name}`, 'unknown pseudo parameter');
    }
  }

  private refValue(name: string, where: string): unknown {
    if (name.startsWith('AWS::')) return this.pseudo(name);
    if (this.template.Resources?.[name] !== undefined) return this.ref(name);
    const parameter = this.template.Parameters?.[name];
    if (parameter !== undefined) {
      if (parameter.Default === undefined) {
        throw new UnsupportedIntrinsicError(
          `Ref ${name}`,
          `template parameter without a Default (at ${where})`,
        );
      }
      return parameter.Default;
    }
    throw new TemplateError(`Ref to unknown "${name}" at ${where}`);
  }

  /**
   * Resolves every intrinsic in a value. Supports `Ref`, `Fn::GetAtt`, `Fn::Join`, `Fn::Sub`,
   * `Fn::Select`, `Fn::Split`, `Fn::FindInMap`, `Fn::Base64` and `AWS::NoValue`; any other `Fn::*`
   * throws an {@link UnsupportedIntrinsicError} naming it and where it was found.
   */
  resolve(value: unknown, where = '$'): unknown {
    const resolved = this.resolveInner(value, where);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves a value that must end up a string. */
  resolveString(value: unknown, where = '$'): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new TemplateError(`Expected a string at ${where}, got ${JSON.stringify(resolved)}`);
  }

  private resolveInner(value: unknown, where: string): unknown {
    if (Array.isArray(value)) {
      return value
        .map((item, i) => this.resolveInner(item, `${where}[${i}]`))
        .filter((item) => item !== NO_VALUE);
    }
    if (!isRecord(value)) return value;
    const keys = Object.keys(value);
    const only = keys.length === 1 ? keys[0] : undefined;
    if (only !== undefined && (only === 'Ref' || only.startsWith('Fn::') || only === 'Condition')) {
      return this.intrinsic(only, value[only], `${where}.${only}`);
    }
    const out: Record<string, unknown> = {};
    for (const key of keys) {
      const resolved = this.resolveInner(value[key], `${where}.${key}`);
      if (resolved !== NO_VALUE) out[key] = resolved;
    }
    return out;
  }

  private intrinsic(name: string, arg: unknown, where: string): unknown {
    switch (name) {
      case 'Ref': {
        const target = this.resolveInner(arg, where);
        if (typeof target !== 'string') throw new TemplateError(`Ref needs a string at ${where}`);
        return this.refValue(target, where);
      }
      case 'Fn::GetAtt': {
        const resolved = this.resolveInner(arg, where);
        const parts = typeof resolved === 'string' ? splitOnce(resolved, '.') : resolved;
        if (
          !Array.isArray(parts) ||
          parts.length !== 2 ||
          typeof parts[0] !== 'string' ||
          typeof parts[1] !== 'string'
        ) {
          throw new TemplateError(`Fn::GetAtt needs [logicalId, attribute] at ${where}`);
        }
        return this.getAtt(parts[0], parts[1]);
      }
      case 'Fn::Join': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
          throw new TemplateError(`Fn::Join needs [delimiter, list] at ${where}`);
        }
        const list = this.resolveInner(arg[1], `${where}[1]`);
        if (!Array.isArray(list)) throw new TemplateError(`Fn::Join needs a list at ${where}[1]`);
        return list.map((item, i) => this.asString(item, `${where}[1][${i}]`)).join(arg[0]);
      }
      case 'Fn::Sub':
        return this.sub(arg, where);
      case 'Fn::Select': {
        if (!Array.isArray(arg) || arg.length !== 2)
          throw new TemplateError(`Fn::Select needs [index, list] at ${where}`);
        const index = Number(this.resolveInner(arg[0], `${where}[0]`));
        const list = this.resolveInner(arg[1], `${where}[1]`);
        if (!Array.isArray(list) || !Number.isInteger(index) || index < 0 || index >= list.length) {
          throw new TemplateError(`Fn::Select index ${index} out of range at ${where}`);
        }
        return list[index];
      }
      case 'Fn::Split': {
        if (!Array.isArray(arg) || arg.length !== 2 || typeof arg[0] !== 'string') {
          throw new TemplateError(`Fn::Split needs [delimiter, string] at ${where}`);
        }
        return this.asString(this.resolveInner(arg[1], `${where}[1]`), `${where}[1]`).split(arg[0]);
      }
      case 'Fn::FindInMap': {
        const parts = this.resolveInner(arg, where);
        if (!Array.isArray(parts) || parts.length < 3)
          throw new TemplateError(`Fn::FindInMap needs 3 keys at ${where}`);
        const [map, top, second] = parts.map((part) => this.asString(part, where));
        const found =
          map === undefined || top === undefined || second === undefined
            ? undefined
            : this.template.Mappings?.[map]?.[top]?.[second];
        if (found === undefined) throw new TemplateError(`Fn::FindInMap found nothing at ${where}`);
        return found;
      }
      case 'Fn::Base64':
        return Buffer.from(this.asString(this.resolveInner(arg, where), where)).toString('base64');
      default:
        throw new UnsupportedIntrinsicError(name, `at ${where}`);
    }
  }

  private asString(value: unknown, where: string): string {
    if (value === NO_VALUE) return '';
    if (typeof value === 'string') return value;
    if (typeof value === 'number' || typeof value === 'boolean') return String(value);
    throw new TemplateError(`Expected a string at ${where}, got ${JSON.stringify(value)}`);
  }

  private sub(arg: unknown, where: string): string {
    let text: unknown = arg;
    let vars: Record<string, unknown> = {};
    if (Array.isArray(arg)) {
      text = arg[0];
      const rawVars = arg[1];
      if (isRecord(rawVars)) vars = rawVars;
    }
    if (typeof text !== 'string') throw new TemplateError(`Fn::Sub needs a string at ${where}`);
    return text.replace(/\$\{(!?)([^}]*)\}/g, (_whole: string, bang: string, name: string) => {
      if (bang === '!') return `\${${name}}`;
      if (name in vars) return this.asString(this.resolveInner(vars[name], `${where}.${name}`), where);
      const [id, attribute] = splitOnce(name, '.');
      if (attribute !== undefined && id !== undefined && this.template.Resources?.[id] !== undefined) {
        return this.getAtt(id, attribute);
      }
      return this.asString(this.refValue(name, where), where);
    });
  }
}

function splitOnce(text: string, separator: string): [string, string] | [string] {
  const at = text.indexOf(separator);
  return at < 0 ? [text] : [text.slice(0, at), text.slice(at + 1)];
}

/** A Lambda function of the template that Cordon runs. */
export interface TemplateFunction {
  readonly logicalId: string;
  /** Local physical name (FunctionName, else the logical id). */
  readonly name: string;
  readonly arn: string;
  /** Repo-relative module path from `cordon:entry`; undefined when the function has none. */
  readonly entry: string | undefined;
  /** Resolved `Environment.Variables`. */
  readonly environment: Record<string, string>;
  /** `Timeout` in seconds; Lambda's default is 3. */
  readonly timeoutSeconds: number;
  /** `MemorySize` in MB; Lambda's default is 128. */
  readonly memorySize: number;
}

/** A state machine of the template that carries `cordon:playbook`. */
export interface TemplatePlaybook {
  readonly id: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/** Every `AWS::Lambda::Function`, with its entry (if any) and resolved environment. */
export function listFunctions(resolver: TemplateResolver): TemplateFunction[] {
  const out: TemplateFunction[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::Lambda::Function') continue;
    const entry = resource.Metadata?.[ENTRY_METADATA];
    const environment: Record<string, string> = {};
    const env = resource.Properties?.Environment;
    const variables = isRecord(env) ? env.Variables : undefined;
    if (isRecord(variables)) {
      for (const [key, value] of Object.entries(variables)) {
        const resolved = resolver.resolve(value, `${logicalId}.Environment.Variables.${key}`);
        if (resolved !== undefined)
          environment[key] = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
      }
    }
    const timeout = resource.Properties?.Timeout;
    const memory = resource.Properties?.MemorySize;
    out.push({
      logicalId,
      name: resolver.physicalName(logicalId),
      arn: resolver.arn(logicalId),
      entry: typeof entry === 'string' ? entry : undefined,
      environment,
      timeoutSeconds: typeof timeout === 'number' ? timeout : 3,
      memorySize: typeof memory === 'number' ? memory : 128,
    });
  }
  return out;
}

/** Every state machine with `cordon:playbook` metadata, in template order. */
export function listPlaybooks(resolver: TemplateResolver): TemplatePlaybook[] {
  const out: TemplatePlaybook[] = [];
  for (const [logicalId, resource] of Object.entries(resolver.resources)) {
    if (resource.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const id = resource.Metadata?.[PLAYBOOK_METADATA];
    if (typeof id !== 'string') continue;
    out.push({ id, logicalId, name: resolver.physicalName(logicalId), arn: resolver.arn(logicalId) });
  }
  return out;
}

/**
 * The plain Amazon States Language of a state machine resource: its `DefinitionString` (or
 * `Definition`) with every intrinsic resolved and `DefinitionSubstitutions` applied. Useful on its own
 * for `asl-validator`. Throws {@link UnsupportedIntrinsicError} or {@link TemplateError}.
 */
export function renderDefinition(
  template: CfnTemplate | TemplateResolver,
  logicalId: string,
  options: ResolveOptions = {},
): Record<string, unknown> {
  const resolver = template instanceof TemplateResolver ? template : new TemplateResolver(template, options);
  const resource = resolver.resource(logicalId);
  if (resource.Type !== 'AWS::StepFunctions::StateMachine') {
    throw new TemplateError(`"${logicalId}" is a ${resource.Type}, not an AWS::StepFunctions::StateMachine`);
  }
  const props = resource.Properties ?? {};
  const substitutions: Record<string, string> = {};
  if (isRecord(props.DefinitionSubstitutions)) {
    for (const [key, value] of Object.entries(props.DefinitionSubstitutions)) {
      substitutions[key] = resolver.resolveString(value, `${logicalId}.DefinitionSubstitutions.${key}`);
    }
  }
  const substitute = (text: string): string =>
    text.replace(/\$\{([^}]+)\}/g, (whole: string, key: string) => substitutions[key] ?? whole);
  let definition: unknown;
  if (props.DefinitionString !== undefined) {
    const text = substitute(resolver.resolveString(props.DefinitionString, `${logicalId}.DefinitionString`));
    try {
      definition = JSON.parse(text);
    } catch (error) {
      throw new TemplateError(`${logicalId}.DefinitionString is not JSON`, { cause: error });
    }
  } else if (props.Definition !== undefined) {
    const resolved = resolver.resolve(props.Definition, `${logicalId}.Definition`);
    definition = JSON.parse(substitute(JSON.stringify(resolved)));
  } else {
    throw new TemplateError(
      `${logicalId} has neither DefinitionString nor Definition (DefinitionS3Location is not supported)`,
    );
  }
  if (!isRecord(definition)) throw new TemplateError(`${logicalId}'s definition is not a JSON object`);
  return definition;
}
