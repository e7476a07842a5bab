/**
 * An execution's event history in the shape of Step Functions' GetExecutionHistory: AWS event types
 * (`TaskStateEntered`, `TaskScheduled`, `LambdaFunctionSucceeded`, `ExecutionSucceeded`...), ids and
 * timestamps. Built from aws-local-stepfunctions' event log plus the engine's own task events.
 */
import type { StateMachine } from 'aws-local-stepfunctions';

/** One event of aws-local-stepfunctions' log (the package does not export the type). */
export type LibraryEvent =
  ReturnType<StateMachine['run']>['eventLogs'] extends AsyncGenerator<infer E> ? E : never;

/** What an event says, by kind; only the fields that apply are set. */
export interface HistoryDetails {
  /** JSON input (execution, state, task parameters). */
  readonly input?: string;
  /** JSON output (execution, state, task). */
  readonly output?: string;
  readonly error?: string;
  readonly cause?: string;
  /** Task resource type (`lambda`, `dynamodb`, `ec2`...) and resource (`invoke.waitForTaskToken`, a function ARN). */
  readonly resourceType?: string;
  readonly resource?: string;
  /** Map iteration index. */
  readonly index?: number;
}

/** One history event, shaped like the SDK's `HistoryEvent` with a flat `details`. */
export interface HistoryEvent {
  readonly executionArn: string;
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  /** AWS's HistoryEventType, e.g. `TaskStateEntered`. */
  readonly type: string;
  /** The state this event is about, when it is about one. */
  readonly stateName?: string;
  readonly details: HistoryDetails;
}

function json(value: unknown): string {
  return JSON.stringify(value ?? null);
}

function causeText(cause: unknown): string {
  if (typeof cause === 'string') return cause;
  if (cause instanceof Error) return cause.message;
  return json(cause);
}

/** Collects one execution's events in order and forwards each to a listener as it is recorded. */
export class HistoryRecorder {
  readonly events: HistoryEvent[] = [];
  /** Error and cause of the last `ExecutionFailed` the interpreter reported. */
  failure: { error: string; cause: string } | undefined;
  /** Set when the engine stopped the execution for its `TimeoutSeconds`. */
  timedOut = false;

  constructor(
    private readonly executionArn: string,
    private readonly waits: ReadonlySet<string>,
    private readonly listener: (event: HistoryEvent) => void,
  ) {}

  /** Records an event now and returns it. */
  push(
    type: string,
    stateName: string | undefined,
    details: HistoryDetails,
    at: Date = new Date(),
  ): HistoryEvent {
    const id = this.events.length + 1;
    const event: HistoryEvent = {
      executionArn: this.executionArn,
      id,
      previousEventId: id - 1,
      timestamp: at,
      type,
      ...(stateName === undefined ? {} : { stateName }),
      details,
    };
    this.events.push(event);
    this.listener(event);
    return event;
  }

  /** Records the AWS events that correspond to one interpreter event (some have none); returns the last. */
  library(event: LibraryEvent): HistoryEvent | undefined {
    const at = new Date(event.timestamp);
    switch (event.type) {
      case 'ExecutionStarted':
        return this.push('ExecutionStarted', undefined, { input: json(event.input) }, at);
      case 'ExecutionSucceeded':
        return this.push('ExecutionSucceeded', undefined, { output: json(event.output) }, at);
      case 'ExecutionFailed': {
        this.failure = { error: event.Error, cause: causeText(event.Cause) };
        return this.push('ExecutionFailed', undefined, this.failure, at);
      }
      case 'ExecutionAborted':
        return this.timedOut
          ? this.push(
              'ExecutionTimedOut',
              undefined,
              { error: 'States.Timeout', cause: 'The execution timed out' },
              at,
            )
          : this.push('ExecutionAborted', undefined, {}, at);
      case 'ExecutionTimeout':
        return this.push('ExecutionTimedOut', undefined, { error: 'States.Timeout' }, at);
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
        return this.push(event.type, event.parentState.name, { index: event.index }, at);
      case 'MapIterationFailed':
        return this.push(
          event.type,
          event.parentState.name,
          { index: event.index, error: event.Error, cause: causeText(event.Cause) },
          at,
        );
      case 'StateEntered': {
        const type = this.typeOf(event.state.name, event.state.type);
        this.push(`${type}StateEntered`, event.state.name, { input: json(event.state.input) }, at);
        if (type === 'Parallel' || type === 'Map')
          return this.push(`${type}StateStarted`, event.state.name, {}, at);
        return this.events.at(-1);
      }
      case 'StateExited': {
        const type = this.typeOf(event.state.name, event.state.type);
        if (type === 'Parallel' || type === 'Map')
          this.push(`${type}StateSucceeded`, event.state.name, {}, at);
        return this.push(`${type}StateExited`, event.state.name, { output: json(event.state.output) }, at);
      }
      case 'StateFailed': {
        const type = this.typeOf(event.state.name, event.state.type);
        if (type === 'Parallel' || type === 'Map') {
          this.push(
            `${type}StateFailed`,
            event.state.name,
            { error: event.Error, cause: causeText(event.Cause) },
            at,
          );
        }
        return;
      }
      default:
        // StateRetried, StateCaught and ParallelBranch* have no AWS counterpart: AWS shows a retry as
        // a new TaskScheduled and a catch as the next state's entry.
        return undefined;
    }
  }

  private typeOf(stateName: string, type: string): string {
    return this.waits.has(stateName) ? 'Wait' : type;
  }
}
