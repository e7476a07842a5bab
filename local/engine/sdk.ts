/**
 * Runs Step Functions' SDK integrations in-process: `arn:aws:states:::aws-sdk:<service>:<action>` and
 * the optimized `arn:aws:states:::dynamodb:putItem` family. Each call uses the real SDK v3 client of the
 * service, made by `makeClient` (so every registered plugin, such as the sandbox account, applies),
 * and the command named by the action. Errors are named `<Service>.<ErrorName>` as Step Functions
 * names them (https://docs.aws.amazon.com/step-functions/latest/dg/supported-services-awssdk.html).
 */
import { makeClient } from '#shared/clients';
import { TaskStateError, UnsupportedResourceError } from './errors.ts';

interface ServiceInfo {
  /** Package suffix: `@aws-sdk/client-<package>`. */
  readonly package: string;
  /** Service id of `AWS_ENDPOINT_URL_<SERVICE>`. */
  readonly endpointId: string;
  /** Error prefix of the `aws-sdk:` integration. */
  readonly errorPrefix: string;
}

const SERVICES: Record<string, ServiceInfo> = {
  dynamodb: { package: 'dynamodb', endpointId: 'DYNAMODB', errorPrefix: 'DynamoDb' },
  ec2: { package: 'ec2', endpointId: 'EC2', errorPrefix: 'Ec2' },
  iam: { package: 'iam', endpointId: 'IAM', errorPrefix: 'Iam' },
  sts: { package: 'sts', endpointId: 'STS', errorPrefix: 'Sts' },
  sfn: { package: 'sfn', endpointId: 'SFN', errorPrefix: 'Sfn' },
  sesv2: { package: 'sesv2', endpointId: 'SESV2', errorPrefix: 'SesV2' },
  backup: { package: 'backup', endpointId: 'BACKUP', errorPrefix: 'Backup' },
  lambda: { package: 'lambda', endpointId: 'LAMBDA', errorPrefix: 'Lambda' },
  autoscaling: { package: 'auto-scaling', endpointId: 'AUTO_SCALING', errorPrefix: 'AutoScaling' },
  elasticloadbalancing: {
    package: 'elastic-load-balancing',
    endpointId: 'ELASTIC_LOAD_BALANCING',
    errorPrefix: 'ElasticLoadBalancing',
  },
  elasticloadbalancingv2: {
    package: 'elastic-load-balancing-v2',
    endpointId: 'ELASTIC_LOAD_BALANCING_V2',
    errorPrefix: 'ElasticLoadBalancingV2',
  },
  sqs: { package: 'sqs', endpointId: 'SQS', errorPrefix: 'Sqs' },
  sns: { package: 'sns', endpointId: 'SNS', errorPrefix: 'Sns' },
  s3: { package: 's3', endpointId: 'S3', errorPrefix: 'S3' },
  eventbridge: { package: 'eventbridge', endpointId: 'EVENTBRIDGE', errorPrefix: 'EventBridge' },
  events: { package: 'eventbridge', endpointId: 'EVENTBRIDGE', errorPrefix: 'EventBridge' },
};

/** Error prefixes of the optimized integrations, as their pages document them. */
const OPTIMIZED_PREFIX: Record<string, string> = {
  dynamodb: 'DynamoDB',
  sqs: 'SQS',
  sns: 'SNS',
  events: 'EventBridge',
};

function pascal(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function serviceInfo(service: string): ServiceInfo {
  return (
    SERVICES[service] ?? {
      package: service,
      endpointId: service.toUpperCase().replace(/[^A-Z0-9]/g, '_'),
      errorPrefix: pascal(service),
    }
  );
}

interface Sender {
  send(command: unknown): Promise<unknown>;
}
type CommandClass = new (input: unknown) => unknown;

function isSender(value: unknown): value is Sender {
  return (
    typeof value === 'object' && value !== null && typeof (value as { send?: unknown }).send === 'function'
  );
}

/** Settings of {@link SdkRunner}. */
export interface SdkRunnerOptions {
  readonly region: string;
  /** Environment for endpoint settings; default `process.env` at call time. */
  readonly env: () => NodeJS.ProcessEnv;
}

/** Calls SDK integrations, one cached client per service. */
export class SdkRunner {
  private readonly modules = new Map<string, Promise<Record<string, unknown>>>();
  private readonly clients = new Map<string, Sender>();

  constructor(private readonly options: SdkRunnerOptions) {}

  private module(info: ServiceInfo, stateName: string, resource: string): Promise<Record<string, unknown>> {
    let cached = this.modules.get(info.package);
    if (cached === undefined) {
      const specifier = `@aws-sdk/client-${info.package}`;
      cached = (import(specifier) as Promise<Record<string, unknown>>).catch((error: unknown) => {
        this.modules.delete(info.package);
        throw new TaskStateError(
          'States.Runtime',
          new UnsupportedResourceError(stateName, resource, `${specifier} is not installed`).message,
          error,
        );
      });
      this.modules.set(info.package, cached);
    }
    return cached;
  }

  private client(info: ServiceInfo, module: Record<string, unknown>): Sender {
    const cached = this.clients.get(info.package);
    if (cached !== undefined) return cached;
    const entry = Object.entries(module).find(
      ([name, value]) => name.endsWith('Client') && typeof value === 'function' && name !== 'Client',
    );
    if (entry === undefined)
      throw new TaskStateError('States.Runtime', `No client class in @aws-sdk/client-${info.package}`);
    const Client = entry[1] as new (config: object) => unknown;
    const client = makeClient(Client, {
      service: info.endpointId,
      region: this.options.region,
      env: this.options.env(),
    });
    if (!isSender(client)) throw new TaskStateError('States.Runtime', `${entry[0]} has no send method`);
    this.clients.set(info.package, client);
    return client;
  }

  /**
   * Calls `<service>:<action>` with the state's effective input (top-level keys PascalCased, as Step
   * Functions does) and returns the response without `$metadata`.
   */
  async call(spec: {
    readonly stateName: string;
    readonly resource: string;
    readonly service: string;
    readonly action: string;
    readonly optimized: boolean;
    readonly input: unknown;
  }): Promise<unknown> {
    const info = serviceInfo(spec.service);
    const module = await this.module(info, spec.stateName, spec.resource);
    const commandName = `${pascal(spec.action)}Command`;
    const Command = module[commandName];
    if (typeof Command !== 'function') {
      throw new TaskStateError('States.Runtime', `@aws-sdk/client-${info.package} has no ${commandName}`);
    }
    const input: Record<string, unknown> = {};
    if (typeof spec.input === 'object' && spec.input !== null && !Array.isArray(spec.input)) {
      for (const [key, value] of Object.entries(spec.input)) input[pascal(key)] = value;
    }
    const client = this.client(info, module);
    const prefix = spec.optimized ? (OPTIMIZED_PREFIX[spec.service] ?? info.errorPrefix) : info.errorPrefix;
    try {
      const response = await client.send(new (Command as CommandClass)(input));
      const { $metadata: _metadata, ...rest } = (response ?? {}) as Record<string, unknown>;
      return JSON.parse(JSON.stringify(rest));
    } catch (error) {
      throw sdkTaskError(prefix, info.errorPrefix, error);
    }
  }
}

/** An SDK error as Step Functions names it: `<Service>.<Name>Exception`, cause with status and request id. */
export function sdkTaskError(prefix: string, service: string, error: unknown): TaskStateError {
  const raw = error instanceof Error ? error.name : 'Unknown';
  const name = raw.endsWith('Exception') ? raw : `${raw}Exception`;
  const message = error instanceof Error ? error.message : String(error);
  const metadata = (error as { $metadata?: { httpStatusCode?: number; requestId?: string } } | null)
    ?.$metadata;
  const cause = `${message} (Service: ${service}, Status Code: ${metadata?.httpStatusCode ?? 400}, Request ID: ${metadata?.requestId ?? 'local'})`;
  return new TaskStateError(`${prefix}.${name}`, cause, error);
}
