/**
 * The one place SDK clients are made. Every client:
 * - takes its region from `AWS_REGION` (or the `region` option);
 * - takes its endpoint from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`, the standard settings
 *   that let any AWS-compatible endpoint stand in for AWS
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html);
 * - retries with the SDK's adaptive mode (client-side rate limiting on throttling);
 * - takes the credentials it is given (a member account's responder role, functions/shared/responder.ts),
 *   else the SDK's default chain (the function's own role);
 * - gets every plugin registered with {@link registerClientPlugin}, which is how the local runtime's
 *   sandbox attaches itself to the clients that handlers make; a plugin made from the client's facts
 *   (region, credentials) can tell which simulated account and region a call is for.
 */
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider, Pluggable } from '@smithy/types';

/** What the factory needs of an SDK v3 client class. */
export interface ClientClass<C> {
  new (config: ClientSettings): C;
}

/** The subset of SDK client configuration the factory sets. */
export interface ClientSettings {
  region?: string;
  endpoint?: string;
  retryMode?: string;
  maxAttempts?: number;
  credentials?: AwsCredentialIdentity | AwsCredentialIdentityProvider;
}

export interface ClientOptions {
  /** Service id as in `AWS_ENDPOINT_URL_<SERVICE>`, e.g. `EC2`, `DYNAMODB`, `SESV2`, `SFN`. */
  readonly service: string;
  /** Overrides `AWS_REGION`. */
  readonly region?: string;
  /** Overrides the endpoint settings. */
  readonly endpoint?: string;
  /** Attempts per call, first included. Default 3. */
  readonly maxAttempts?: number;
  /** Environment to read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /** Credentials to sign with; default the SDK's chain (the function's own role). */
  readonly credentials?: AwsCredentialIdentityProvider;
}

/** What a plugin made per client knows of it: the region and the credentials it was made with. */
export interface ClientFacts {
  readonly region: string | undefined;
  /** Undefined: the SDK's default chain (the function's own role). */
  readonly credentials: AwsCredentialIdentityProvider | undefined;
}

/** A plugin for every client, or a function that makes one from each client's facts. */
export type ClientPlugin = Pluggable<object, object> | ((client: ClientFacts) => Pluggable<object, object>);

interface Stackable {
  middlewareStack: { use(plugin: Pluggable<object, object>): void };
}

const plugins = new Set<ClientPlugin>();

/**
 * Registers a plugin that every client made from now on receives. Returns a function that removes it.
 * Used by the local runtime; production code never registers one.
 */
export function registerClientPlugin(plugin: ClientPlugin): () => void {
  plugins.add(plugin);
  return () => {
    plugins.delete(plugin);
  };
}

/** Returns the endpoint the standard settings give for a service, or undefined for AWS's own. */
export function endpointFor(service: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const key = `AWS_ENDPOINT_URL_${service.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  const value = env[key] ?? env.AWS_ENDPOINT_URL;
  return value === undefined || value === '' ? undefined : value;
}

/** Makes an SDK client with Cordon's settings. */
export function makeClient<C>(Client: ClientClass<C>, options: ClientOptions): C {
  const env = options.env ?? process.env;
  const settings: ClientSettings = {
    retryMode: 'adaptive',
    maxAttempts: options.maxAttempts ?? 3,
  };
  const region = options.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (region) settings.region = region;
  const endpoint = options.endpoint ?? endpointFor(options.service, env);
  if (endpoint) settings.endpoint = endpoint;
  if (options.credentials) settings.credentials = options.credentials;
  const client = new Client(settings);
  const facts: ClientFacts = { region: settings.region, credentials: options.credentials };
  for (const plugin of plugins) {
    (client as unknown as Stackable).middlewareStack.use(
      typeof plugin === 'function' ? plugin(facts) : plugin,
    );
  }
  return client;
}
