/**
 * The one place SDK clients are made. Every client:
 * - takes its region from `AWS_REGION` (or the `region` option);
 * - takes its endpoint from `AWS_ENDPOINT_URL_<SERVICE>` or `AWS_ENDPOINT_URL`, the standard settings
 *   that let any AWS-compatible endpoint stand in for AWS
 *   (https://docs.aws.amazon.com/sdkref/latest/guide/feature-ss-endpoints.html);
 * - retries with the SDK's adaptive mode (client-side rate limiting on throttling);
 * - gets every plugin registered with {@link registerClientPlugin}, which is how the local runtime's
 *   sandbox account attaches itself to the clients that handlers make at module scope.
 */
import type { Pluggable } from '@smithy/types';

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
}

interface Stackable {
  middlewareStack: { use(plugin: Pluggable<object, object>): void };
}

const plugins = new Set<Pluggable<object, object>>();

/**
 * Registers a plugin that every client made from now on receives. Returns a function that removes it.
 * Used by the local runtime; production code never registers one.
 */
export function registerClientPlugin(plugin: Pluggable<object, object>): () => void {
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
  const client = new Client(settings);
  for (const plugin of plugins) (client as unknown as Stackable).middlewareStack.use(plugin);
  return client;
}
