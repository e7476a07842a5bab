/**
 * Runs the template's Lambda functions in-process: finds each function's module from its
 * `cordon:entry` metadata, sets the function's environment before the module is first imported
 * (handlers read config once at module scope), and invokes the named export `handler` with a
 * Lambda-like context. A thrown error becomes a Step Functions error named by the error's `name`,
 * with AWS's JSON `Cause` (`errorType`, `errorMessage`, `trace`). Each invocation runs in a context that
 * names the function (./invocation.ts); the import, like a cold start's module scope, does not.
 */
import { randomUUID } from 'node:crypto';
import { isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Context } from 'aws-lambda';
import { HandlerNotFoundError, TaskStateError } from './errors.ts';
import { runAsFunction } from './invocation.ts';
import type { TemplateFunction } from './template-types.ts';

/** A deployed handler as Lambda calls it. */
export type LambdaHandler = (event: unknown, context: Context) => unknown;

/** Settings of {@link LambdaRunner}. */
export interface LambdaRunnerOptions {
  /** Directory that `cordon:entry` paths are relative to (the repo root). */
  readonly root: string;
  readonly region: string;
  /** Added to (and overriding) every function's environment; `undefined` removes a variable. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

function lastSegment(nameOrArn: string): string {
  const match = /:function:([^:]+)/.exec(nameOrArn);
  if (match?.[1] !== undefined) return match[1];
  return nameOrArn.split(':')[0] ?? nameOrArn;
}

let runners = 0;

/** Loads and invokes the template's functions. */
export class LambdaRunner {
  /** Each runner imports its own module instances: a new engine gets handlers that read config anew. */
  private readonly instance = ++runners;
  private readonly byName = new Map<string, TemplateFunction>();
  private readonly loaded = new Map<string, Promise<LambdaHandler>>();

  constructor(
    functions: readonly TemplateFunction[],
    private readonly options: LambdaRunnerOptions,
  ) {
    for (const fn of functions) {
      this.byName.set(fn.name, fn);
      this.byName.set(fn.logicalId, fn);
    }
  }

  /** The function a name, ARN, partial ARN or `name:qualifier` designates, or undefined. */
  find(nameOrArn: string): TemplateFunction | undefined {
    return this.byName.get(lastSegment(nameOrArn));
  }

  /** The environment a function runs with: Lambda's own variables, the template's, then the caller's. */
  environmentOf(fn: TemplateFunction): Record<string, string | undefined> {
    return {
      AWS_REGION: this.options.region,
      AWS_DEFAULT_REGION: this.options.region,
      AWS_LAMBDA_FUNCTION_NAME: fn.name,
      AWS_LAMBDA_FUNCTION_VERSION: '$LATEST',
      AWS_LAMBDA_FUNCTION_MEMORY_SIZE: String(fn.memorySize),
      ...fn.environment,
      ...this.options.env,
    };
  }

  private applyEnvironment(fn: TemplateFunction): void {
    for (const [key, value] of Object.entries(this.environmentOf(fn))) {
      if (value === undefined) delete process.env[key];
      else process.env[key] = value;
    }
  }

  /**
   * Imports a function's handler once. The module URL carries the function's logical id and the runner
   * as a query, so two functions sharing an entry get their own module instance, as two Lambda functions
   * would, and so do two engines in one process (each cold start reads its own configuration).
   */
  load(fn: TemplateFunction): Promise<LambdaHandler> {
    const cached = this.loaded.get(fn.logicalId);
    if (cached !== undefined) return cached;
    const promise = this.importHandler(fn);
    this.loaded.set(fn.logicalId, promise);
    promise.catch(() => this.loaded.delete(fn.logicalId));
    return promise;
  }

  private async importHandler(fn: TemplateFunction): Promise<LambdaHandler> {
    if (fn.entry === undefined) {
      throw new HandlerNotFoundError(`Function ${fn.logicalId} has no "cordon:entry" metadata`);
    }
    const path = isAbsolute(fn.entry) ? fn.entry : resolve(this.options.root, fn.entry);
    const url = `${pathToFileURL(path).href}?cordon-function=${encodeURIComponent(fn.logicalId)}&engine=${this.instance}`;
    this.applyEnvironment(fn);
    let module: Record<string, unknown>;
    try {
      module = (await import(url)) as Record<string, unknown>;
    } catch (error) {
      throw new HandlerNotFoundError(`Cannot import ${fn.entry} (function ${fn.logicalId})`, {
        cause: error,
      });
    }
    const handler = module.handler;
    if (typeof handler !== 'function') {
      throw new HandlerNotFoundError(
        `${fn.entry} (function ${fn.logicalId}) has no exported function "handler"`,
      );
    }
    return (event, context) => handler(event, context);
  }

  /** A Lambda context for one invocation; `getRemainingTimeInMillis` counts down from the function's Timeout. */
  contextFor(fn: TemplateFunction): Context {
    const deadline = Date.now() + fn.timeoutSeconds * 1000;
    const requestId = randomUUID();
    const day = new Date().toISOString().slice(0, 10).replaceAll('-', '/');
    return {
      callbackWaitsForEmptyEventLoop: true,
      functionName: fn.name,
      functionVersion: '$LATEST',
      invokedFunctionArn: fn.arn,
      memoryLimitInMB: String(fn.memorySize),
      awsRequestId: requestId,
      logGroupName: `/aws/lambda/${fn.name}`,
      logStreamName: `${day}/[$LATEST]${requestId.replaceAll('-', '')}`,
      getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
      done: () => {},
      fail: () => {},
      succeed: () => {},
    };
  }

  /**
   * Invokes a function with an event and returns its JSON result (`null` for `undefined`). A thrown
   * error rejects with a {@link TaskStateError} carrying the error's name and AWS's JSON cause.
   */
  async invoke(fn: TemplateFunction, event: unknown): Promise<unknown> {
    const handler = await this.load(fn);
    // Config read at invocation time sees this function's environment, not the last one loaded.
    this.applyEnvironment(fn);
    try {
      const result = await runAsFunction(fn.logicalId, () => handler(event, this.contextFor(fn)));
      return result === undefined ? null : JSON.parse(JSON.stringify(result));
    } catch (error) {
      throw toTaskError(error);
    }
  }
}

/** A Lambda function error as Step Functions reports it. */
export function toTaskError(error: unknown): TaskStateError {
  if (error instanceof TaskStateError) return error;
  const errorType = error instanceof Error ? error.name : 'Error';
  const errorMessage = error instanceof Error ? error.message : String(error);
  const trace = error instanceof Error && error.stack !== undefined ? error.stack.split('\n') : [];
  return new TaskStateError(errorType, JSON.stringify({ errorType, errorMessage, trace }), error);
}
