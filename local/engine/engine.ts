/**
 * The local engine: runs Cordon's deployed Step Functions playbooks on a laptop. It takes each state
 * machine's definition from the synthesized CloudFormation template, resolves intrinsics to local
 * ARNs, and runs it with aws-local-stepfunctions, each Task mapped to its function's handler
 * (in-process) or to an SDK call, each `.waitForTaskToken` task given a token the engine issues and
 * answers through {@link TaskTokenSink}, and each Wait shortened by `waitScale`.
 *
 * By stage: `template.ts` reads the template, `compile.ts` compiles a playbook, this file starts and
 * tracks executions, `run.ts` runs one, `tasks.ts` runs its Task and Wait states, `tokens.ts` holds the
 * task tokens; `synthesize.ts` turns a CDK app into a template.
 */
import './polyfill.ts';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { App, Stack } from 'aws-cdk-lib';
import { type CompiledPlaybook, compilePlaybook } from './compile.ts';
import {
  EngineError,
  ExecutionAlreadyExistsError,
  ExecutionDoesNotExistError,
  InvalidNameError,
  PlaybookNotFoundError,
} from './errors.ts';
import { Execution, isValidName } from './execution.ts';
import type { HistoryEvent } from './history.ts';
import { runOutsideFunctions } from './invocation.ts';
import { LambdaRunner } from './lambda.ts';
import { runExecution } from './run.ts';
import { SdkRunner } from './sdk.ts';
import { synthesize } from './synthesize.ts';
import { TaskRunner } from './tasks.ts';
import { TemplateResolver } from './template.ts';
import { listFunctions, listPlaybooks, renderDefinition } from './template-contents.ts';
import type { CfnTemplate, TemplateFunction, TemplatePlaybook } from './template-types.ts';
import { TokenBook } from './tokens.ts';
import type {
  EngineOptions,
  ExecutionResult,
  LocalExecution,
  PendingTask,
  PlaybookInfo,
  TaskTokenSink,
} from './types.ts';

/**
 * Runs playbooks from a synthesized template. Implements {@link TaskTokenSink} (`success`/`failure`,
 * also named `sendTaskSuccess`/`sendTaskFailure`).
 */
export class LocalEngine implements TaskTokenSink {
  private readonly resolver: TemplateResolver;
  private readonly lambdas: LambdaRunner;
  private readonly functionList: readonly TemplateFunction[];
  private readonly playbookList: TemplatePlaybook[];
  private readonly compiled = new Map<string, CompiledPlaybook>();
  private readonly executions = new Map<string, Execution>();
  private readonly tokens: TokenBook;
  private readonly tasks: TaskRunner;
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
    const sdk = new SdkRunner({
      region: this.resolver.region,
      env: () => ({ ...process.env, ...options.env }),
    });
    this.tokens = new TokenBook(options.onTask);
    this.tasks = new TaskRunner(this.lambdas, sdk, this.tokens, this.waitScale, options.onWait);
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
    const result = compilePlaybook(this.resolver, this.lambdas, playbook);
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
    execution.done = runOutsideFunctions(() =>
      runExecution(compiled, execution, {
        tasks: this.tasks,
        tokens: this.tokens,
        waitScale: this.waitScale,
        accountId: this.resolver.accountId,
      }),
    );
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
    return this.tokens.subscribe(listener);
  }

  /** Tasks waiting for a token answer, oldest first. */
  pendingTasks(): PendingTask[] {
    return this.tokens.list();
  }

  /**
   * The first pending task that matches (already pending, or the next one issued). Rejects after
   * `timeoutMs` (default 10 000 ms, real time) so a test does not hang.
   */
  nextTask(match: (task: PendingTask) => boolean = () => true, timeoutMs = 10_000): Promise<PendingTask> {
    return this.tokens.next(match, timeoutMs);
  }

  /** SendTaskSuccess: completes the task with `output` (a JSON string). */
  success(token: string, output: string): void {
    this.tokens.success(token, output);
  }

  /** SendTaskFailure: fails the task with `error` (what `ErrorEquals` matches; default empty) and `cause`. */
  failure(token: string, error?: string, cause?: string): void {
    this.tokens.failure(token, error, cause);
  }

  /** Alias of {@link LocalEngine.success}, named as the SDK command. */
  sendTaskSuccess(token: string, output: string): void {
    this.success(token, output);
  }

  /** Alias of {@link LocalEngine.failure}, named as the SDK command. */
  sendTaskFailure(token: string, error?: string, cause?: string): void {
    this.failure(token, error, cause);
  }
}
