/**
 * Runs one Task state of an execution: records its history events, calls its integration (a function's
 * handler in process, an SDK call, or a `.waitForTaskToken` task that waits for its token's answer),
 * holds it to its `TimeoutSeconds`, and runs the engine's Wait states (shortened by `waitScale`).
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { TaskSpec } from './definition.ts';
import { TaskStateError } from './errors.ts';
import { type Execution, flushEvents, isRecord, replaceDeep, scaledMs, sleep } from './execution.ts';
import type { LambdaRunner } from './lambda.ts';
import type { SdkRunner } from './sdk.ts';
import type { TokenBook } from './tokens.ts';
import type { EngineOptions } from './types.ts';

/** Runs the Task states of every execution of one engine. */
export class TaskRunner {
  constructor(
    private readonly lambdas: LambdaRunner,
    private readonly sdk: SdkRunner,
    private readonly tokens: TokenBook,
    private readonly waitScale: number,
    private readonly onWait: EngineOptions['onWait'],
  ) {}

  /** Races a task with its `TimeoutSeconds` (scaled when asked); the timeout fails it with `States.Timeout`. */
  private withTimeout<T>(
    work: Promise<T>,
    timeoutSeconds: number | undefined,
    scaled: boolean,
    onTimeout?: () => void,
  ): Promise<T> {
    if (timeoutSeconds === undefined) return work;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => {
          onTimeout?.();
          reject(
            new TaskStateError('States.Timeout', `Task timed out after ${timeoutSeconds} seconds (nominal)`),
          );
        },
        scaled ? scaledMs(timeoutSeconds, this.waitScale) : timeoutSeconds * 1000,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  async runTask(execution: Execution, spec: TaskSpec, input: unknown): Promise<unknown> {
    await flushEvents();
    if (execution.abortController.signal.aborted)
      throw new TaskStateError('States.Runtime', 'The execution ended');
    if (spec.kind === 'wait') return this.runWait(execution, spec.stateName, input);
    const { recorder } = execution;
    const direct = spec.kind === 'lambda' && spec.style === 'arn';
    const prefix = direct ? 'LambdaFunction' : 'Task';
    const resourceParts = /^arn:aws[\w-]*:states:::(?:aws-sdk:)?([\w-]+):(.+)$/.exec(spec.resource);
    const scheduled = direct
      ? { resource: spec.resource, input: JSON.stringify(input) }
      : {
          resourceType: resourceParts?.[1] ?? 'unknown',
          resource: resourceParts?.[2] ?? spec.resource,
          input: JSON.stringify(input),
        };
    recorder.push(`${prefix}Scheduled`, spec.stateName, scheduled);
    recorder.push(`${prefix}Started`, spec.stateName, {});
    let token: string | undefined;
    const attempt = async (): Promise<unknown> => {
      if (!spec.waitForTaskToken) return this.callIntegration(spec, input);
      token = randomBytes(64).toString('base64url');
      const effective = replaceDeep(input, execution.placeholder, token);
      const answered = this.tokens.issue({
        token,
        executionArn: execution.arn,
        executionName: execution.name,
        playbookId: execution.playbookId,
        stateName: spec.stateName,
        input: effective,
        issuedAt: new Date(),
      });
      let submitted: unknown;
      try {
        submitted = await this.callIntegration(spec, effective);
      } catch (error) {
        if (token !== undefined) this.tokens.withdraw(token);
        throw error;
      }
      recorder.push('TaskSubmitted', spec.stateName, { output: JSON.stringify(submitted ?? null) });
      return answered;
    };
    try {
      // A token task waits for a person or a callback: its timeout is scaled like a Wait. A plain invocation
      // runs the handler in real time, so its timeout is not.
      const output = await this.withTimeout(attempt(), spec.timeoutSeconds, spec.waitForTaskToken, () => {
        if (token !== undefined) this.tokens.timeOut(token);
      });
      recorder.push(`${prefix}Succeeded`, spec.stateName, { output: JSON.stringify(output ?? null) });
      return output ?? null;
    } catch (error) {
      const failed =
        error instanceof TaskStateError ? error : new TaskStateError('States.Runtime', String(error), error);
      if (failed.name === 'States.Timeout') {
        recorder.push(`${prefix}TimedOut`, spec.stateName, { error: failed.name, cause: failed.message });
      } else {
        recorder.push(`${prefix}Failed`, spec.stateName, { error: failed.name, cause: failed.message });
      }
      throw failed;
    }
  }

  private async callIntegration(spec: Exclude<TaskSpec, { kind: 'wait' }>, input: unknown): Promise<unknown> {
    if (spec.kind === 'sdk') {
      return this.sdk.call({ ...spec, input });
    }
    if (spec.style === 'arn') {
      const fn = spec.functionName === undefined ? undefined : this.lambdas.find(spec.functionName);
      if (fn === undefined)
        throw new TaskStateError('Lambda.ResourceNotFoundException', `Function not found: ${spec.resource}`);
      return this.lambdas.invoke(fn, input);
    }
    const parameters = isRecord(input) ? input : {};
    const functionName = parameters.FunctionName;
    const fn = typeof functionName === 'string' ? this.lambdas.find(functionName) : undefined;
    if (fn === undefined) {
      throw new TaskStateError(
        'Lambda.ResourceNotFoundException',
        `Function not found: ${String(functionName)} (Service: Lambda, Status Code: 404, Request ID: local)`,
      );
    }
    const payload = 'Payload' in parameters ? parameters.Payload : {};
    const base = {
      ExecutedVersion: '$LATEST',
      SdkHttpMetadata: { HttpStatusCode: 200 },
      SdkResponseMetadata: { RequestId: randomUUID() },
    };
    if (parameters.InvocationType === 'Event') {
      this.lambdas.invoke(fn, payload).catch(() => {});
      return { ...base, Payload: '', StatusCode: 202 };
    }
    const result = await this.lambdas.invoke(fn, payload);
    return { ...base, Payload: result, StatusCode: 200 };
  }

  private async runWait(execution: Execution, stateName: string, input: unknown): Promise<unknown> {
    const parameters = isRecord(input) ? input : {};
    let seconds = 0;
    if (typeof parameters.seconds === 'number') seconds = parameters.seconds;
    else if (typeof parameters.timestamp === 'string') {
      seconds = Math.max(0, (Date.parse(parameters.timestamp) - Date.now()) / 1000);
      if (Number.isNaN(seconds)) {
        throw new TaskStateError(
          'States.Runtime',
          `Wait ${stateName}: invalid timestamp ${parameters.timestamp}`,
        );
      }
    }
    await this.onWait?.(seconds, { executionArn: execution.arn, stateName });
    await sleep(scaledMs(seconds, this.waitScale), execution.abortController.signal);
    return parameters.input ?? null;
  }
}
