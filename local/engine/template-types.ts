/** The parts of a synthesized CloudFormation template the local engine reads, and what it finds there. */

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
