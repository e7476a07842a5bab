/**
 * The local engine: runs Cordon's deployed Step Functions playbooks on a laptop. It takes each state
 * machine's definition from the synthesized CloudFormation template, resolves intrinsics to local
 * ARNs, and runs it with aws-local-stepfunctions, each Task mapped to its function's handler
 * (in-process) or to an SDK call, each `.waitForTaskToken` task given a token the engine issues and
 * answers through {@link TaskTokenSink}, and each Wait shortened by `waitScale`.
 */
import './polyfill.ts';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { App, Stack } from 'aws-cdk-lib';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type CompiledDefinition, compileDefinition, type TaskSpec } from './definition.ts';
import {
  DefinitionInvalidError,
  EngineError,
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  InvalidNameError,
  InvalidOutputError,
  InvalidTokenError,
  PlaybookNotFoundError,
  TaskDoesNotExistError,
  TaskStateError,
  TaskTimedOutError,
  TemplateError,
  UnsupportedResourceError,
} from './errors.ts';
import { type HistoryEvent, HistoryRecorder } from './history.ts';
import { runOutsideFunctions } from './invocation.ts';
import { LambdaRunner } from './lambda.ts';
import { SdkRunner } from './sdk.ts';
import {
  type CfnTemplate,
  listFunctions,
  listPlaybooks,
  renderDefinition,
  type TemplateFunction,
  type TemplatePlaybook,
  TemplateResolver,
} from './template.ts';

/**
 * What the sandbox account forwards the SDK's `SendTaskSuccess` / `SendTaskFailure` to. Both throw
 * `TaskDoesNotExist`, `InvalidToken` or `TaskTimedOut` (named errors) as AWS does.
 */
export type TaskTokenSink = {
  success(token: string, output: string): Promise<void> | void;
  failure(token: string, error?: string, cause?: string): Promise<void> | void;
};

/** Options of {@link LocalEngine}. */
export interface EngineOptions {
  /** Region of local ARNs and of `AWS_REGION` for handlers. Default `us-east-1`. */
  readonly region?: string;
  /** Account of local ARNs. Default `000000000000`. */
  readonly accountId?: string;
  /** `AWS::StackName`. Default `cordon-local`. */
  readonly stackName?: string;
  /** Directory `cordon:entry` paths are relative to. Default: the repository root. */
  readonly root?: string;
  /**
   * Environment added to every function's own (and to SDK integrations' endpoint settings); it wins
   * over the template's values. `undefined` removes a variable. Default none.
   */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /**
   * Factor applied to Wait durations, token tasks' and executions' `TimeoutSeconds` and Retry intervals (a
   * plain Lambda task runs in real time and keeps its timeout).
   * Default 1 (real time); tests use e.g. 0.001.
   */
  readonly waitScale?: number;
  /** Called with each Wait's nominal seconds before it waits (the sandbox advances its clock). */
  readonly onWait?: (seconds: number, info: WaitInfo) => void | Promise<void>;
  /** Called with each history event as it is recorded (for a live CLI). Errors it throws are ignored. */
  readonly onEvent?: (event: HistoryEvent) => void;
  /** Called when a `.waitForTaskToken` task issues a token. Errors it throws are ignored. */
  readonly onTask?: (task: PendingTask) => void;
}

/** Which Wait is waiting. */
export interface WaitInfo {
  readonly executionArn: string;
  readonly stateName: string;
}

/** A playbook the template defines. */
export interface PlaybookInfo {
  /** The `cordon:playbook` id. */
  readonly id: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/** A `.waitForTaskToken` task waiting for SendTaskSuccess or SendTaskFailure. */
export interface PendingTask {
  readonly token: string;
  readonly executionArn: string;
  readonly executionName: string;
  readonly playbookId: string;
  readonly stateName: string;
  /** The task's effective input (its Parameters, token substituted), as the integration received it. */
  readonly input: unknown;
  readonly issuedAt: Date;
}

/** Status of an execution, as DescribeExecution reports it. */
export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** How an execution ended. */
export interface ExecutionResult {
  readonly executionArn: string;
  readonly name: string;
  readonly playbookId: string;
  readonly status: Exclude<ExecutionStatus, 'RUNNING'>;
  /** Output (parsed JSON) when SUCCEEDED. */
  readonly output?: unknown;
  readonly error?: string;
  readonly cause?: string;
  readonly startDate: Date;
  readonly stopDate: Date;
  /** Every event, in order. */
  readonly history: readonly HistoryEvent[];
}

/** A started execution. */
export interface LocalExecution {
  readonly arn: string;
  readonly name: string;
  readonly playbookId: string;
  readonly stateMachineArn: string;
  readonly input: unknown;
  readonly startDate: Date;
  /** `RUNNING` until {@link LocalExecution.done} settles. */
  readonly status: ExecutionStatus;
  /** Events so far. */
  readonly history: readonly HistoryEvent[];
  /** Settles when the execution ends; never rejects. */
  readonly done: Promise<ExecutionResult>;
  /** Stops the execution (status ABORTED), as StopExecution does. */
  stop(error?: string, cause?: string): void;
}

type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
type JsonValue = Parameters<LocalHandler>[0];

interface CompiledPlaybook extends CompiledDefinition {
  readonly playbook: TemplatePlaybook;
  readonly machine: StateMachine;
}

interface PendingEntry {
  readonly task: PendingTask;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{86}$/;
const NAME_FORMAT = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

/** Execution names as StartExecution accepts them: 1-80 characters, none of AWS's excluded ones. */
function isValidName(name: string): boolean {
  if (!NAME_FORMAT.test(name)) return false;
  return ![...name].some((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function replaceDeep(value: unknown, placeholder: string, token: string): unknown {
  if (typeof value === 'string')
    return value.includes(placeholder) ? value.replaceAll(placeholder, token) : value;
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, placeholder, token));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = replaceDeep(item, placeholder, token);
  return out;
}

/** Lets the interpreter's queued events (including those forwarded from branches) reach the history first. */
function flushEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

class Execution implements LocalExecution {
  status: ExecutionStatus = 'RUNNING';
  readonly startDate = new Date();
  readonly abortController = new AbortController();
  readonly recorder: HistoryRecorder;
  readonly placeholder = `cordon-local-task-token-${randomUUID()}`;
  done!: Promise<ExecutionResult>;
  abortRun: () => void = () => {};
  stopReason: { error?: string; cause?: string } | undefined;

  constructor(
    readonly arn: string,
    readonly name: string,
    readonly playbookId: string,
    readonly stateMachineArn: string,
    readonly input: unknown,
    waits: ReadonlySet<string>,
    listener: (event: HistoryEvent) => void,
  ) {
    this.recorder = new HistoryRecorder(arn, waits, listener);
  }

  get history(): readonly HistoryEvent[] {
    return this.recorder.events;
  }

  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING' || this.abortController.signal.aborted) return;
    this.stopReason = {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    };
    this.abortRun();
  }
}

/**
 * Runs playbooks from a synthesized template. Implements {@link TaskTokenSink} (`success`/`failure`,
 * also named `sendTaskSuccess`/`sendTaskFailure`).
 */
export class LocalEngine implements TaskTokenSink {
  private readonly resolver: TemplateResolver;
  private readonly lambdas: LambdaRunner;
  private readonly functionList: readonly TemplateFunction[];
  private readonly sdk: SdkRunner;
  private readonly playbookList: TemplatePlaybook[];
  private readonly compiled = new Map<string, CompiledPlaybook>();
  private readonly executions = new Map<string, Execution>();
  private readonly pending = new Map<string, PendingEntry>();
  private readonly timedOutTokens = new Set<string>();
  private readonly taskListeners = new Set<(task: PendingTask) => void>();
  private readonly eventListeners = new Set<(event: HistoryEvent) => void>();
  private readonly waitScale: number;

  private constructor(
    template: CfnTemplate,
    private readonly options: EngineOptions,
  ) {
    this.resolver = new TemplateResolver(template, options);
    this.waitScale = options.waitScale ?? 1;
    if (!(this.waitScale >= 0))
      throw new EngineError(`waitScale must be a number >= 0, got ${options.waitScale}`);
    const root = options.root ?? fileURLToPath(new URL('../../', import.meta.url));
    this.functionList = listFunctions(this.resolver);
    this.lambdas = new LambdaRunner(this.functionList, {
      root,
      region: this.resolver.region,
      env: options.env ?? {},
    });
    this.sdk = new SdkRunner({
      region: this.resolver.region,
      env: () => ({ ...process.env, ...options.env }),
    });
    this.playbookList = listPlaybooks(this.resolver);
  }

  /** An engine over a synthesized template (the JSON of `cdk synth`). */
  static fromTemplate(template: CfnTemplate, options: EngineOptions = {}): LocalEngine {
    return new LocalEngine(template, options);
  }

  /**
   * An engine over a CDK app or stack, synthesized in-process. For an app with several stacks, the one
   * holding `cordon:playbook` state machines is used (exactly one must).
   */
  static fromApp(scope: App | Stack, options: EngineOptions = {}): LocalEngine {
    const { template, region, account } = synthesize(scope);
    // The stack's own environment is the default when it is concrete.
    return new LocalEngine(template, {
      ...(region === undefined ? {} : { region }),
      ...(account === undefined ? {} : { accountId: account }),
      ...options,
    });
  }

  /** The synthesized template the engine runs (the local runtime's table guard reads its policies). */
  get template(): CfnTemplate {
    return this.resolver.template;
  }

  /** The region of every local ARN. */
  get region(): string {
    return this.resolver.region;
  }

  /** The account of every local ARN. */
  get accountId(): string {
    return this.resolver.accountId;
  }

  /** The template's Lambda functions, in template order, with their template environment. */
  functions(): readonly TemplateFunction[] {
    return this.functionList;
  }

  /** The playbooks of the template, in template order. */
  playbooks(): PlaybookInfo[] {
    return this.playbookList.map(({ id, logicalId, name, arn }) => ({ id, logicalId, name, arn }));
  }

  /** Plain ASL of a playbook (id, logical id, name or ARN), intrinsics resolved. */
  definition(playbook: string): Record<string, unknown> {
    return renderDefinition(this.resolver, this.findPlaybook(playbook).logicalId);
  }

  private findPlaybook(key: string): TemplatePlaybook {
    const found = this.playbookList.find(
      (p) => p.id === key || p.logicalId === key || p.arn === key || p.name === key,
    );
    if (found === undefined)
      throw new PlaybookNotFoundError(
        key,
        this.playbookList.map((p) => p.id),
      );
    return found;
  }

  private compile(playbook: TemplatePlaybook): CompiledPlaybook {
    const cached = this.compiled.get(playbook.logicalId);
    if (cached !== undefined) return cached;
    const plain = renderDefinition(this.resolver, playbook.logicalId);
    try {
      new StateMachine(plain as unknown as StateMachineDefinition, {
        validationOptions: { checkArn: true, checkPaths: true },
      });
    } catch (error) {
      throw new DefinitionInvalidError(
        `Playbook ${playbook.id}: ${error instanceof Error ? error.message : String(error)}`,
        {
          cause: error,
        },
      );
    }
    const compiledDefinition = compileDefinition(plain);
    for (const spec of compiledDefinition.tasks.values()) {
      if (spec.kind === 'lambda' && spec.style === 'arn' && spec.functionName !== undefined) {
        const fn = this.lambdas.find(spec.functionName);
        if (fn === undefined)
          throw new UnsupportedResourceError(
            spec.stateName,
            spec.resource,
            'no such function in the template',
          );
      }
    }
    const machine = new StateMachine(compiledDefinition.definition as unknown as StateMachineDefinition, {
      validationOptions: { noValidate: true },
    });
    const result: CompiledPlaybook = { ...compiledDefinition, playbook, machine };
    this.compiled.set(playbook.logicalId, result);
    return result;
  }

  /**
   * StartExecution as the SDK sends it (the sandbox forwards the router's call here): the input is JSON
   * text, and an unknown state machine is `StateMachineDoesNotExist`.
   */
  startExecution(
    stateMachineArn: string,
    name: string | undefined,
    input: string,
  ): { executionArn: string; startDate: Date } {
    let parsed: unknown;
    try {
      parsed = JSON.parse(input);
    } catch {
      const error = new EngineError('Invalid execution input: not JSON');
      error.name = 'InvalidExecutionInput';
      throw error;
    }
    if (!this.playbookList.some((p) => p.arn === stateMachineArn)) {
      const error = new EngineError(`State Machine Does Not Exist: '${stateMachineArn}'`);
      error.name = 'StateMachineDoesNotExist';
      throw error;
    }
    const execution = this.start(stateMachineArn, parsed, name === undefined ? {} : { name });
    return { executionArn: execution.arn, startDate: execution.startDate };
  }

  /**
   * Starts an execution, as StartExecution does. A repeat with the name of a running execution and the
   * same input returns that execution; otherwise a used name throws `ExecutionAlreadyExists` (AWS keeps
   * names for 90 days). Default name: a random UUID.
   */
  start(playbookId: string, input: unknown = {}, options: { name?: string } = {}): LocalExecution {
    const compiled = this.compile(this.findPlaybook(playbookId));
    const { playbook } = compiled;
    const name = options.name ?? randomUUID();
    if (!isValidName(name)) throw new InvalidNameError(name);
    const arn = `arn:aws:states:${this.resolver.region}:${this.resolver.accountId}:execution:${playbook.name}:${name}`;
    const inputJson = JSON.stringify(input ?? {});
    const existing = this.executions.get(arn);
    if (existing !== undefined) {
      if (existing.status === 'RUNNING' && JSON.stringify(existing.input) === inputJson) return existing;
      throw new ExecutionAlreadyExistsError(arn);
    }
    const execution = new Execution(
      arn,
      name,
      playbook.id,
      playbook.arn,
      JSON.parse(inputJson),
      compiled.waits,
      (event) => this.emitEvent(event),
    );
    this.executions.set(arn, execution);
    // An execution a function starts (the router's StartExecution) runs as nobody's call: its tasks name
    // their own functions.
    execution.done = runOutsideFunctions(() => this.runExecution(compiled, execution));
    return execution;
  }

  /** Starts an execution and waits for its end. */
  run(playbookId: string, input: unknown = {}, options: { name?: string } = {}): Promise<ExecutionResult> {
    return this.start(playbookId, input, options).done;
  }

  /** An execution by ARN, or `ExecutionDoesNotExist`. */
  execution(executionArn: string): LocalExecution {
    const execution = this.executions.get(executionArn);
    if (execution === undefined) throw new ExecutionDoesNotExistError(executionArn);
    return execution;
  }

  /** Every execution started, oldest first; optionally of one playbook. */
  executionList(playbookId?: string): LocalExecution[] {
    return [...this.executions.values()].filter(
      (e) => playbookId === undefined || e.playbookId === playbookId,
    );
  }

  /** Stops an execution (StopExecution). */
  stopExecution(executionArn: string, error?: string, cause?: string): void {
    this.execution(executionArn).stop(error, cause);
  }

  /** Stops every running execution and waits for them to end; use in test teardown. */
  async close(): Promise<void> {
    const running = [...this.executions.values()].filter((e) => e.status === 'RUNNING');
    for (const execution of running) execution.stop('Engine.Closed', 'The local engine was closed');
    await Promise.all(running.map((e) => e.done));
  }

  private emitEvent(event: HistoryEvent): void {
    for (const listener of [this.options.onEvent, ...this.eventListeners]) {
      try {
        listener?.(event);
      } catch {
        // A listener must not break an execution.
      }
    }
  }

  /** Subscribes to history events of every execution; returns the unsubscribe function. */
  onEvent(listener: (event: HistoryEvent) => void): () => void {
    this.eventListeners.add(listener);
    return () => this.eventListeners.delete(listener);
  }

  /** Subscribes to newly issued task tokens; returns the unsubscribe function. */
  onTask(listener: (task: PendingTask) => void): () => void {
    this.taskListeners.add(listener);
    return () => this.taskListeners.delete(listener);
  }

  /** Tasks waiting for a token answer, oldest first. */
  pendingTasks(): PendingTask[] {
    return [...this.pending.values()].map((entry) => entry.task);
  }

  /**
   * The first pending task that matches (already pending, or the next one issued). Rejects after
   * `timeoutMs` (default 10 000 ms, real time) so a test does not hang.
   */
  nextTask(match: (task: PendingTask) => boolean = () => true, timeoutMs = 10_000): Promise<PendingTask> {
    const found = this.pendingTasks().find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new EngineError(`No matching task token within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.onTask((task) => {
        if (!match(task)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(task);
      });
    });
  }

  private takeToken(token: string): PendingEntry {
    if (typeof token !== 'string' || !TOKEN_FORMAT.test(token)) throw new InvalidTokenError();
    if (this.timedOutTokens.has(token)) throw new TaskTimedOutError();
    const entry = this.pending.get(token);
    if (entry === undefined) throw new TaskDoesNotExistError();
    return entry;
  }

  /** SendTaskSuccess: completes the task with `output` (a JSON string). */
  success(token: string, output: string): void {
    const entry = this.takeToken(token);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch (error) {
      throw new InvalidOutputError({ cause: error });
    }
    this.pending.delete(token);
    entry.resolve(parsed);
  }

  /** SendTaskFailure: fails the task with `error` (what `ErrorEquals` matches; default empty) and `cause`. */
  failure(token: string, error?: string, cause?: string): void {
    const entry = this.takeToken(token);
    this.pending.delete(token);
    entry.reject(new TaskStateError(error ?? '', cause ?? ''));
  }

  /** Alias of {@link LocalEngine.success}, named as the SDK command. */
  sendTaskSuccess(token: string, output: string): void {
    this.success(token, output);
  }

  /** Alias of {@link LocalEngine.failure}, named as the SDK command. */
  sendTaskFailure(token: string, error?: string, cause?: string): void {
    this.failure(token, error, cause);
  }

  private scaledMs(seconds: number): number {
    return seconds * 1000 * this.waitScale;
  }

  private async runExecution(compiled: CompiledPlaybook, execution: Execution): Promise<ExecutionResult> {
    const handlers: Record<string, LocalHandler> = {};
    for (const [stateName, spec] of compiled.tasks) {
      handlers[stateName] = async (input) => (await this.runTask(execution, spec, input)) as JsonValue;
    }
    const retryIntervalOverrides: Record<string, number[]> = {};
    if (this.waitScale !== 1) {
      for (const [stateName, intervals] of compiled.retryIntervals) {
        retryIntervalOverrides[stateName] = intervals.map((seconds) => this.scaledMs(seconds));
      }
    }
    const { playbook } = compiled;
    const context = {
      Execution: {
        Id: execution.arn,
        Name: execution.name,
        StartTime: execution.startDate.toISOString(),
        RoleArn: `arn:aws:iam::${this.resolver.accountId}:role/${playbook.name}-role`,
      },
      StateMachine: { Id: playbook.arn, Name: playbook.name },
      State: {
        Name: '',
        get EnteredTime(): string {
          return new Date().toISOString();
        },
        RetryCount: 0,
      },
      Task: { Token: execution.placeholder },
    };
    const run = compiled.machine.run(execution.input as JsonValue, {
      overrides: { taskResourceLocalHandlers: handlers, retryIntervalOverrides },
      context,
      noThrowOnAbort: true,
    });
    execution.abortRun = () => {
      execution.abortController.abort();
      run.abort();
    };
    let timer: NodeJS.Timeout | undefined;
    if (compiled.timeoutSeconds !== undefined) {
      timer = setTimeout(() => {
        execution.recorder.timedOut = true;
        execution.abortRun();
      }, this.scaledMs(compiled.timeoutSeconds));
    }
    const consumer = (async () => {
      for await (const event of run.eventLogs) execution.recorder.library(event);
    })();

    let status: ExecutionResult['status'];
    let output: unknown;
    let error: string | undefined;
    let cause: string | undefined;
    try {
      output = await run.result;
      if (execution.recorder.timedOut) {
        status = 'TIMED_OUT';
        error = 'States.Timeout';
        output = undefined;
      } else if (execution.abortController.signal.aborted) {
        status = 'ABORTED';
        error = execution.stopReason?.error;
        cause = execution.stopReason?.cause;
        output = undefined;
      } else {
        status = 'SUCCEEDED';
      }
    } catch (thrown) {
      status = 'FAILED';
      output = undefined;
      await Promise.race([consumer, sleep(1000, new AbortController().signal)]);
      error = execution.recorder.failure?.error ?? (thrown instanceof Error ? thrown.name : 'States.Runtime');
      cause =
        execution.recorder.failure?.cause ?? (thrown instanceof Error ? thrown.message : String(thrown));
    } finally {
      clearTimeout(timer);
      execution.abortController.abort();
      for (const [token, entry] of this.pending) {
        if (entry.task.executionArn !== execution.arn) continue;
        this.pending.delete(token);
        entry.reject(new TaskStateError('States.Runtime', 'The execution ended'));
      }
    }
    // The interpreter closes its log with the execution's last event; never wait long for it.
    await Promise.race([consumer, sleep(1000, new AbortController().signal)]);
    execution.status = status;
    return {
      executionArn: execution.arn,
      name: execution.name,
      playbookId: execution.playbookId,
      status,
      ...(output === undefined ? {} : { output }),
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
      startDate: execution.startDate,
      stopDate: new Date(),
      history: execution.recorder.events,
    };
  }

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
        scaled ? this.scaledMs(timeoutSeconds) : timeoutSeconds * 1000,
      );
    });
    return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
  }

  private async runTask(execution: Execution, spec: TaskSpec, input: unknown): Promise<unknown> {
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
      const answered = new Promise<unknown>((resolve, reject) => {
        const task: PendingTask = {
          token: token ?? '',
          executionArn: execution.arn,
          executionName: execution.name,
          playbookId: execution.playbookId,
          stateName: spec.stateName,
          input: effective,
          issuedAt: new Date(),
        };
        this.pending.set(task.token, { task, resolve, reject });
        for (const listener of [this.options.onTask, ...this.taskListeners]) {
          try {
            listener?.(task);
          } catch {
            // A listener must not break an execution.
          }
        }
      });
      // Keep an answer that arrives before the integration returns from being reported as unhandled.
      answered.catch(() => {});
      let submitted: unknown;
      try {
        submitted = await this.callIntegration(spec, effective);
      } catch (error) {
        if (token !== undefined) this.pending.delete(token);
        throw error;
      }
      recorder.push('TaskSubmitted', spec.stateName, { output: JSON.stringify(submitted ?? null) });
      return answered;
    };
    try {
      // A token task waits for a person or a callback: its timeout is scaled like a Wait. A plain invocation
      // runs the handler in real time, so its timeout is not.
      const output = await this.withTimeout(attempt(), spec.timeoutSeconds, spec.waitForTaskToken, () => {
        if (token === undefined) return;
        this.pending.delete(token);
        this.timedOutTokens.add(token);
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
    await this.options.onWait?.(seconds, { executionArn: execution.arn, stateName });
    await sleep(this.scaledMs(seconds), execution.abortController.signal);
    return parameters.input ?? null;
  }
}

interface StackArtifactLike {
  readonly template: unknown;
  readonly stackName: string;
  readonly environment: { readonly account: string; readonly region: string };
}

interface AssemblyLike {
  readonly stacks: readonly StackArtifactLike[];
  getStackArtifact(artifactId: string): StackArtifactLike;
}

interface Synthesized {
  readonly template: CfnTemplate;
  readonly region: string | undefined;
  readonly account: string | undefined;
}

function concrete(value: string): string | undefined {
  return /^unknown-|\$\{Token/.test(value) ? undefined : value;
}

function fromArtifact(artifact: StackArtifactLike): Synthesized {
  return {
    template: artifact.template as CfnTemplate,
    region: concrete(artifact.environment.region),
    account: concrete(artifact.environment.account),
  };
}

function synthesize(scope: App | Stack): Synthesized {
  if ('artifactId' in scope) {
    const root = scope.node.root as unknown as { synth?: () => AssemblyLike };
    if (typeof root.synth !== 'function')
      throw new TemplateError('The stack is not in an App; cannot synthesize');
    return fromArtifact(root.synth().getStackArtifact(scope.artifactId));
  }
  const assembly = (scope as unknown as { synth(): AssemblyLike }).synth();
  const withPlaybooks = assembly.stacks.filter((stack) =>
    JSON.stringify(stack.template).includes('"cordon:playbook"'),
  );
  const [only, ...others] = withPlaybooks;
  if (only === undefined || others.length > 0) {
    throw new TemplateError(
      `Expected exactly one stack with cordon:playbook state machines, found ${withPlaybooks.length}; pass the stack instead`,
    );
  }
  return fromArtifact(only);
}
