/**
 * Runs one execution to its end on the interpreter: its Task states through the engine's task runner, its
 * Retry intervals and its `TimeoutSeconds` scaled by `waitScale`, the context object (`$$`) as Step
 * Functions fills it, and its outcome (SUCCEEDED, FAILED with the error and cause, TIMED_OUT, ABORTED).
 */
import type { RunOptions } from 'aws-local-stepfunctions';
import type { CompiledPlaybook } from './compile.ts';
import { type Execution, scaledMs, sleep } from './execution.ts';
import type { TaskRunner } from './tasks.ts';
import type { TokenBook } from './tokens.ts';
import type { ExecutionResult } from './types.ts';

type LocalHandler = NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>[string];
type JsonValue = Parameters<LocalHandler>[0];

/** What running an execution needs of its engine. */
export interface RunDeps {
  readonly tasks: TaskRunner;
  readonly tokens: TokenBook;
  readonly waitScale: number;
  readonly accountId: string;
}

/** Runs `execution` of `compiled`; settles with its result, never rejects. */
export async function runExecution(
  compiled: CompiledPlaybook,
  execution: Execution,
  { tasks, tokens, waitScale, accountId }: RunDeps,
): Promise<ExecutionResult> {
  const handlers: Record<string, LocalHandler> = {};
  for (const [stateName, spec] of compiled.tasks) {
    handlers[stateName] = async (input) => (await tasks.runTask(execution, spec, input)) as JsonValue;
  }
  const retryIntervalOverrides: Record<string, number[]> = {};
  if (waitScale !== 1) {
    for (const [stateName, intervals] of compiled.retryIntervals) {
      retryIntervalOverrides[stateName] = intervals.map((seconds) => scaledMs(seconds, waitScale));
    }
  }
  const { playbook } = compiled;
  const context = {
    Execution: {
      Id: execution.arn,
      Name: execution.name,
      StartTime: execution.startDate.toISOString(),
      RoleArn: `arn:aws:iam::${accountId}:role/${playbook.name}-role`,
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
    timer = setTimeout(
      () => {
        execution.recorder.timedOut = true;
        execution.abortRun();
      },
      scaledMs(compiled.timeoutSeconds, waitScale),
    );
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
    cause = execution.recorder.failure?.cause ?? (thrown instanceof Error ? thrown.message : String(thrown));
  } finally {
    clearTimeout(timer);
    execution.abortController.abort();
    tokens.endExecution(execution.arn);
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
