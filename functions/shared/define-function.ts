/**
 * What every Lambda handler of Cordon does at cold start, in one place: read its configuration once, make
 * the document client, the recorder and its SDK clients once (through the one factory, with each service's
 * endpoint name), name its logger, and build its middy chain once, middlewares first and the handler last.
 * A handler module is then its dependencies and its core:
 *
 * ```ts
 * export const handler = makeHandler({
 *   name: 'approval-timeout',
 *   clients: { ses: SESv2Client },
 *   deps: ({ clients, recorder, logger }) => ({ ses: clients.ses, recorder, logger }),
 *   run: (deps, event) => applyTimeout(deps, event),
 * });
 * ```
 *
 * Actions build on it (./define-action.ts). Nothing here runs at import: {@link makeHandler} does its work
 * when the handler module calls it, at the module scope of its own bundle.
 */

import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import middy, { type MiddlewareObj } from '@middy/core';
import type { AwsCredentialIdentityProvider } from '@smithy/types';
import type { Context as LambdaContext } from 'aws-lambda';
import type { AuditRecorder } from './audit.ts';
import { type ClientClass, makeClient } from './clients.ts';
import { type AuditConfig, readAuditConfig } from './config.ts';
import { makeDocumentClient } from './dynamo.ts';
import { createLogger, type Logger } from './log.ts';
import { makeRecorder } from './record.ts';
import { readSettingsFromEnv, type Settings } from './settings.ts';

/**
 * The AWS services a function may have a client of, by the key its definition names them with: the id of
 * its endpoint setting (`AWS_ENDPOINT_URL_<endpoint>`, ./clients.ts) and its IAM service prefix
 * (https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html).
 * `free`: actions that need no permission, declared for the reader and granted nothing.
 */
export const SERVICES = {
  ec2: { endpoint: 'EC2', iam: 'ec2' },
  iam: { endpoint: 'IAM', iam: 'iam' },
  autoScaling: { endpoint: 'AUTO_SCALING', iam: 'autoscaling' },
  elbv2: { endpoint: 'ELASTIC_LOAD_BALANCING_V2', iam: 'elasticloadbalancing' },
  elb: { endpoint: 'ELASTIC_LOAD_BALANCING', iam: 'elasticloadbalancing' },
  backup: { endpoint: 'BACKUP', iam: 'backup' },
  // https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html: "No permissions are required".
  sts: { endpoint: 'STS', iam: 'sts', free: ['GetCallerIdentity'] },
  ses: { endpoint: 'SESV2', iam: 'ses' },
  sfn: { endpoint: 'SFN', iam: 'states' },
} as const satisfies Readonly<Record<string, { endpoint: string; iam: string; free?: readonly string[] }>>;

/** A key of {@link SERVICES}. */
export type ServiceKey = keyof typeof SERVICES;

/** The SDK client classes a function uses, by service key: `{ ec2: EC2Client }`. */
export type ClientClasses = Partial<Record<ServiceKey, ClientClass<unknown>>>;

/** The clients made from {@link ClientClasses}: `{ ec2: EC2Client }` gives `{ ec2: <an EC2Client> }`. */
export type ClientsOf<C extends ClientClasses> = {
  readonly [K in keyof C]: C[K] extends ClientClass<infer I> ? I : never;
};

/** What a function's dependencies are made from, once, at cold start. */
export interface FunctionContext<C extends ClientClasses, Config extends AuditConfig = AuditConfig> {
  readonly config: Config;
  /** The one document client, shared by the recorder and whatever else reads the table. */
  readonly documents: DynamoDBDocumentClient;
  readonly recorder: AuditRecorder;
  /** Named after the function. */
  readonly logger: Logger;
  readonly clients: ClientsOf<C>;
  /** The settings the stack deployed (`CORDON_SETTINGS`), each section read and validated on first use, once. */
  readonly settings: Settings;
}

export interface HandlerSpec<C extends ClientClasses, Config extends AuditConfig, D, E, R> {
  /** The function's name, as its logger reports it: `ec2-isolate`, `router`, `approval-decide`. */
  readonly name: string;
  /** Reads the configuration; default {@link readAuditConfig}. */
  readonly config?: () => Config;
  /** The SDK clients to make; default none. */
  readonly clients?: C;
  /** The dependencies of the core, from the context; made on the first invocation, once. */
  readonly deps: (context: FunctionContext<C, Config>) => D;
  /** Middlewares, outermost first; default none. */
  readonly use?: (context: FunctionContext<C, Config>) => readonly MiddlewareObj<E, R>[];
  /** Handles one event; `lambda` is the invocation's Lambda context. */
  readonly run: (deps: D, event: E, context: FunctionContext<C, Config>, lambda: LambdaContext) => Promise<R>;
}

/** Where and as whom clients are made: default the function's region and its own role. */
export interface ClientsOptions {
  /** Overrides `AWS_REGION`: a finding's region. */
  readonly region?: string;
  /** A member account's responder role (./responder.ts); default the function's own role. */
  readonly credentials?: AwsCredentialIdentityProvider;
  /** Environment to read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
}

/** Makes each client of a definition through the factory, with its service's endpoint name. */
export function makeClients<C extends ClientClasses>(classes: C, options: ClientsOptions = {}): ClientsOf<C> {
  const clients: Record<string, unknown> = {};
  for (const [key, Client] of Object.entries(classes) as [ServiceKey, ClientClass<unknown>][]) {
    clients[key] = makeClient(Client, { service: SERVICES[key].endpoint, ...options });
  }
  return clients as ClientsOf<C>;
}

/**
 * Builds a handler: configuration, document client, recorder, logger, clients and the middy chain made
 * now, the dependencies on the first invocation. Call it at a handler module's scope, so that all of it
 * happens once per cold start and a misconfigured function fails on its first invocation with a message
 * that says what to fix. The settings are read when the dependencies first use them, each section once
 * (./settings.ts), so that the import builds no schema and parses no settings.
 */
export function makeHandler<C extends ClientClasses, Config extends AuditConfig, D, E, R>(
  spec: HandlerSpec<C, Config, D, E, R>,
): middy.MiddyfiedHandler<E, R> {
  const config = (spec.config ?? (readAuditConfig as () => Config))();
  const documents = makeDocumentClient();
  const recorder = makeRecorder(config, { client: documents });
  const logger = createLogger(spec.name);
  const clients = makeClients(spec.clients ?? ({} as C));
  let settings: Settings | undefined;
  const context: FunctionContext<C, Config> = {
    config,
    documents,
    recorder,
    logger,
    clients,
    get settings() {
      settings ??= readSettingsFromEnv();
      return settings;
    },
  };
  // The dependencies are made on the first invocation, once: they read the settings (and some their own
  // configuration), which costs nothing at import that way, and the first invocation of a misconfigured
  // function still fails with the message that says what to fix.
  let deps: D | undefined;
  const chain = middy<E, R>();
  for (const middleware of spec.use?.(context) ?? []) chain.use(middleware);
  return chain.handler(async (event, lambda) => {
    deps ??= spec.deps(context);
    return spec.run(deps, event, context, lambda);
  });
}
