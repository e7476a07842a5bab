/**
 * {@link PlaybookSteps} builds a playbook's tasks the same way every time: each action task has a comment,
 * a timeout, a `resultPath` of its own under `$.results` (the state is never overwritten), a retry with
 * backoff on throttling and AWS's 5xx, and a catch that goes to the playbook's recorded failure: the
 * approvers are emailed and the execution fails. infra's `Playbook` construct makes one per state machine.
 */
import { Duration } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { RETRYABLE_ERRORS } from '#shared/errors';

/** What an action task needs. */
export interface ActionTaskProps {
  /** What the task does, for a person reading the definition. */
  readonly comment: string;
  /**
   * The task's payload: the common fields (incident, execution, dry run, and the finding's account and
   * region, which no payload overrides) are added.
   */
  readonly payload?: Record<string, unknown>;
  /** Where the result goes, under `$.results`. Default the task id in camel case. */
  readonly resultKey?: string;
  /** Default 60 seconds. */
  readonly timeout?: Duration;
  /** Where a failure past the retries goes, with the error in `$.failure`. Default the recorded failure. */
  readonly onFailure?: sfn.IChainable;
}

/**
 * Where an action acts: the finding's account and region, from the execution input (`PlaybookInput`). Every
 * action task's payload carries them (functions/shared/action.ts), and the audit middleware holds them to
 * the incident's recorded place.
 */
export function findingPlace(): { account: string; region: string } {
  return {
    account: sfn.JsonPath.stringAt('$.finding.account'),
    region: sfn.JsonPath.stringAt('$.finding.region'),
  };
}

function camel(id: string): string {
  return id
    .replace(/[^A-Za-z0-9]+(.)/g, (_, c: string) => c.toUpperCase())
    .replace(/^./, (c) => c.toLowerCase());
}

/** Builds a playbook's tasks, each with the same retry and catch. */
export class PlaybookSteps {
  /** The recorded failure: email the approvers, then fail. */
  readonly failure: sfn.IChainable;

  constructor(
    private readonly scope: Construct,
    readonly playbook: string,
    notify: lambda.IFunction,
  ) {
    const notifyTask = new tasks.LambdaInvoke(scope, 'Notify approvers of the failure', {
      comment: 'Emails the approvers what failed; the failed step and the state it left are in the record.',
      lambdaFunction: notify,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        incidentId: sfn.JsonPath.stringAt('$.incidentId'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        ...findingPlace(),
        kind: 'failure',
        playbook,
        resource: sfn.JsonPath.objectAt('$.resource'),
        failure: sfn.JsonPath.objectAt('$.failure'),
      }),
      resultPath: '$.results.notifyFailure',
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
    });
    notifyTask.addRetry({
      errors: [...RETRYABLE_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 4,
      backoffRate: 2,
    });
    const failed = new sfn.Fail(scope, 'Playbook failed', {
      comment: 'A step failed past its retries; the approvers were told.',
      errorPath: '$.failure.Error',
      causePath: '$.failure.Cause',
    });
    // If even the email fails, the execution still fails visibly, with the original error.
    notifyTask.addCatch(failed, { resultPath: '$.notifyError' });
    this.failure = notifyTask.next(failed);
  }

  /**
   * A bounded Wait-and-check loop: wait, check, count; done goes on, a reported failure or running out
   * of checks fails the playbook with a named error (recorded, approvers emailed). Returns its first state.
   */
  poll(props: PollProps): sfn.IChainable {
    const { name } = props;
    const counter = `$.polls.${camel(name)}`;
    const start = new sfn.Pass(this.scope, `Count ${name} checks`, {
      result: sfn.Result.fromObject({ n: 0 }),
      resultPath: counter,
    });
    const wait = new sfn.Wait(this.scope, `Wait for ${name}`, { time: sfn.WaitTime.duration(props.every) });
    const count = new sfn.Pass(this.scope, `Count a ${name} check`, {
      parameters: { 'n.$': `States.MathAdd(${counter}.n, 1)` },
      resultPath: counter,
    });
    const failWith = (id: string, error: string, cause: string) => {
      const intrinsic = cause.startsWith('States.');
      return new sfn.Pass(this.scope, id, {
        parameters: { Error: error, [intrinsic ? 'Cause.$' : 'Cause']: cause },
        resultPath: '$.failure',
      }).next(this.failure);
    };
    let decide = new sfn.Choice(this.scope, `${name} done?`).when(props.done, props.whenDone);
    for (const failure of props.failures ?? []) {
      decide = decide.when(
        failure.condition,
        failWith(`${name}: ${failure.error}`, failure.error, failure.cause),
      );
    }
    const seconds = props.every.toSeconds();
    decide
      .when(
        sfn.Condition.numberGreaterThanEquals(`${counter}.n`, props.maxChecks),
        failWith(
          `${name} timed out`,
          props.timeoutError,
          `${name} not done after ${props.maxChecks} checks ${seconds} s apart`,
        ),
      )
      .otherwise(wait);
    start.next(wait).next(props.check).next(count).next(decide);
    return start;
  }

  /** An action task: invokes `fn` with the common fields and `payload`, retries, and catches to the failure. */
  action(id: string, fn: lambda.IFunction, props: ActionTaskProps): tasks.LambdaInvoke {
    const task = new tasks.LambdaInvoke(this.scope, id, {
      comment: props.comment,
      lambdaFunction: fn,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({
        incidentId: sfn.JsonPath.stringAt('$.incidentId'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        dryRun: sfn.JsonPath.stringAt('$.dryRun'),
        ...props.payload,
        // Last, so that no payload of a playbook sends an action anywhere but where the finding is.
        ...findingPlace(),
      }),
      resultPath: `$.results.${props.resultKey ?? camel(id)}`,
      taskTimeout: sfn.Timeout.duration(props.timeout ?? Duration.seconds(60)),
    });
    task.addRetry({
      errors: [...RETRYABLE_ERRORS],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
      jitterStrategy: sfn.JitterType.FULL,
    });
    task.addCatch(props.onFailure ?? this.failure, { errors: ['States.ALL'], resultPath: '$.failure' });
    return task;
  }
}

/** A failure a poll's check can report: its condition, and the named error the playbook fails with. */
export interface PollFailure {
  readonly condition: sfn.Condition;
  readonly error: string;
  /** An intrinsic (`States.Format(...)`) or plain text. */
  readonly cause: string;
}

/** A bounded Wait-and-check loop. */
export interface PollProps {
  /** Names the loop's states, e.g. `snapshots`. */
  readonly name: string;
  /** The time between checks (a Wait state: never a sleep in a Lambda). */
  readonly every: Duration;
  /** Checks before giving up with `timeoutError`. */
  readonly maxChecks: number;
  /** The check: an action task made with {@link PlaybookSteps.action}. */
  readonly check: tasks.LambdaInvoke;
  /** True when the awaited thing is done. */
  readonly done: sfn.Condition;
  /** Where the loop goes when done. */
  readonly whenDone: sfn.IChainable;
  readonly failures?: readonly PollFailure[];
  /** The named error when the checks run out. */
  readonly timeoutError: string;
}
