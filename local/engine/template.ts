/**
 * Reads a synthesized CloudFormation template the way the local engine needs it: resolves the
 * intrinsics of a state machine definition or a function's environment to local names and ARNs, and
 * finds Cordon's functions (`cordon:entry`) and playbooks (`cordon:playbook`) from resource metadata
 * (`template-contents.ts`). The intrinsics themselves are evaluated in `intrinsics.ts`.
 */
import { TemplateError, UnsupportedIntrinsicError } from './errors.ts';
import { type IntrinsicScope, NO_VALUE, resolveValue } from './intrinsics.ts';
import type { CfnResource, CfnTemplate, ResolveOptions } from './template-types.ts';

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

/**
 * Resolves CloudFormation intrinsics against one template, giving each resource a stable local
 * physical name (its name property when set, else its logical id) and ARNs of the right form.
 */
export class TemplateResolver implements IntrinsicScope {
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

  /** What `Ref name` gives: a pseudo parameter, a resource's `Ref`, or a parameter's default. */
  refValue(name: string, where: string): unknown {
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
    const resolved = resolveValue(this, value, where);
    return resolved === NO_VALUE ? undefined : resolved;
  }

  /** Resolves a value that must end up a string. */
  resolveString(value: unknown, where = '$'): string {
    const resolved = this.resolve(value, where);
    if (typeof resolved === 'string') return resolved;
    if (typeof resolved === 'number' || typeof resolved === 'boolean') return String(resolved);
    throw new TemplateError(`Expected a string at ${where}, got ${JSON.stringify(resolved)}`);
  }
}
