/** The local engine's public types: its options, executions, results and pending token tasks. */
import type { HistoryEvent } from './history.ts';

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
