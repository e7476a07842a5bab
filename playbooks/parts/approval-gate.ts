/**
 * The approval gate every playbook puts before a risky step: a `.waitForTaskToken` Lambda task whose
 * request function stores the token and emails each approver a link of their own, and that waits at
 * most `timeout` for a decision. Its first state notes when the gate was entered (in `<resultPath>Gate`):
 * the request records that time, and the timeout and the check name it again with the execution and the
 * gate, so that each holds to the request this task made and no other.
 *
 * Its outcomes, as two end states with the decision in `resultPath` (`{ decision, decidedBy, decidedAt,
 * reason }`):
 * - {@link ApprovalGate.approved}: an approver approved, or nobody decided and the default is `approve`;
 * - {@link ApprovalGate.rejected}: an approver rejected (`ApprovalRejected`), or nobody decided and the
 *   default is `reject` (the default default).
 * A timeout runs the timeout function (actor `timeout`, the default decision recorded, the approvers
 * told); `decidedBy` is then `timeout`. `gate.next(x)` continues both outcomes to `x`; or chain each:
 * `gate.approved.next(eradicate)`, `gate.rejected.next(close)`.
 *
 * Only a person's recorded decision approves: before the approved branch, the check function reads the
 * incident's verified record and goes on only if the request was approved there, by one of its approvers
 * before the deadline (or by the timeout when the gate's default is approve). Whatever a `SendTaskSuccess`
 * said is not taken for an approval. The default is the gate's, sent in the timeout's and the check's
 * payloads: a request recorded with another default decides nothing. A check that finds none, a request
 * whose emails could not be sent (`ApprovalEmailError`), and any other failure go to `failure`, the
 * playbook's recorded failure.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Phase } from '#shared/domain';
import { RETRYABLE_ERRORS } from '#shared/errors';
import { APPROVAL_REJECTED } from '../../functions/approval/errors.ts';
import type { Decision } from '../../functions/approval/model.ts';
import type { ApprovalFunctions } from './approval-functions.ts';
import { findingPlace } from './steps.ts';

export interface ApprovalGateProps {
  /** The request, timeout and check functions: an `ApprovalApi`. */
  readonly functions: ApprovalFunctions;
  /** Where any failure of the gate goes, with the error in `$.failure`: the playbook's recorded failure. */
  readonly failure: sfn.IChainable;
  /** The action that waits for approval, as approvers read it: `terminate-instance`. */
  readonly action: string;
  /** The phase the approval belongs to. Default `eradication`. */
  readonly phase?: Phase;
  /** JSONPath to the resource (`{ type, id }`) in the state. Default `$.resource`. */
  readonly resourcePath?: string;
  /** JSONPath to the incident id in the state. Default `$.incidentId`. */
  readonly incidentIdPath?: string;
  /** What the approver reads; each value a string or a `JsonPath.stringAt(...)`. */
  readonly summary: {
    /** What happened. */
    readonly happened: string;
    /** What Cordon already did. */
    readonly done: string;
    /** What Cordon asks to do next. */
    readonly asks: string;
  };
  /** How long the links work and the gate waits, 1 minute to 7 days. Default 60 minutes. */
  readonly timeout?: Duration;
  /** What a timeout decides. Default `reject`. */
  readonly defaultDecision?: Decision;
  /** Where the decision goes in the state. Default `$.approval`. */
  readonly resultPath?: string;
  /** Comment on the task. */
  readonly comment?: string;
  /**
   * JSONPath to a chosen recovery point (`{ recoveryPointArn, createdAt }`, the `recover-choose-point`
   * output) for a restore: the approvers see which point would be restored. Default none.
   */
  readonly recoveryPointPath?: string;
}

export class ApprovalGate extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  /** The gate's first state: notes when the gate was entered, which its request, timeout and check name. */
  readonly enter: sfn.Pass;
  readonly endStates: sfn.INextable[];
  /** The waiting task; add a `Catch` for `ApprovalEmailError` and other failures. */
  readonly task: tasks.LambdaInvoke;
  /** The task that applies the default decision on a timeout. */
  readonly applyTimeout: tasks.LambdaInvoke;
  /** The task that confirms an approval from the record before the approved branch. */
  readonly check: tasks.LambdaInvoke;
  /** Reached when approved (by a person, or by a timeout whose default is `approve`). */
  readonly approved: sfn.Pass;
  /** Reached when rejected (by a person, or by a timeout whose default is `reject`). */
  readonly rejected: sfn.Pass;
  readonly timeout: Duration;
  readonly defaultDecision: Decision;

  constructor(scope: Construct, id: string, props: ApprovalGateProps) {
    super(scope, id);
    const timeout = props.timeout ?? Duration.minutes(60);
    const seconds = timeout.toSeconds();
    if (!Number.isInteger(seconds) || seconds < 60 || seconds > 7 * 24 * 3600) {
      throw new Error(`ApprovalGate ${id}: timeout must be whole seconds from 60 to 604800, got ${seconds}`);
    }
    if (id.length > 60)
      throw new Error(
        `ApprovalGate ${id}: id must be at most 60 characters (it names states), got ${id.length}`,
      );
    this.timeout = timeout;
    this.defaultDecision = props.defaultDecision ?? 'reject';
    const resultPath = props.resultPath ?? '$.approval';
    const incidentIdPath = props.incidentIdPath ?? '$.incidentId';
    const gatePath = `${resultPath}Gate`;
    const enteredTime = sfn.JsonPath.stringAt(`${gatePath}.enteredTime`);

    this.enter = new sfn.Pass(this, 'Enter', {
      stateName: `${id}: enter`,
      comment:
        'Notes when the gate was entered: its deadline counts from here, and its timeout and check find its request by it.',
      parameters: { 'enteredTime.$': '$$.State.EnteredTime' },
      resultPath: gatePath,
    });

    this.task = new tasks.LambdaInvoke(this, 'Request', {
      stateName: id,
      comment:
        props.comment ??
        `Asks the approvers to approve ${props.action}; waits up to ${seconds} s, then applies the default (${this.defaultDecision}).`,
      lambdaFunction: props.functions.requestFunction,
      integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
      payload: sfn.TaskInput.fromObject({
        taskToken: sfn.JsonPath.taskToken,
        incidentId: sfn.JsonPath.stringAt(incidentIdPath),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        // The deadline counts from the gate's entry, just before this task's: no link outlives the token.
        enteredTime,
        reasons: sfn.JsonPath.listAt('$.reasons'),
        gate: id,
        action: props.action,
        phase: props.phase ?? 'eradication',
        resource: sfn.JsonPath.objectAt(props.resourcePath ?? '$.resource'),
        summary: props.summary,
        timeoutSeconds: seconds,
        defaultDecision: this.defaultDecision,
        ...(props.recoveryPointPath === undefined
          ? {}
          : {
              recoveryPoint: {
                arn: sfn.JsonPath.stringAt(`${props.recoveryPointPath}.recoveryPointArn`),
                createdAt: sfn.JsonPath.stringAt(`${props.recoveryPointPath}.createdAt`),
              },
            }),
      }),
      taskTimeout: sfn.Timeout.duration(timeout),
      resultPath,
    });

    this.approved = new sfn.Pass(this, 'Approved', { stateName: `${id}: approved` });
    this.rejected = new sfn.Pass(this, 'Rejected', { stateName: `${id}: rejected` });

    // SendTaskFailure's cause is the decision as JSON: parse it, then put it where an approval goes.
    const parseRejection = new sfn.Pass(this, 'ParseRejection', {
      stateName: `${id}: read rejection`,
      parameters: { 'decision.$': `States.StringToJson(${resultPath}.Cause)` },
      resultPath,
    });
    const placeRejection = new sfn.Pass(this, 'PlaceRejection', {
      stateName: `${id}: record rejection`,
      inputPath: `${resultPath}.decision`,
      resultPath,
    });

    const applyTimeout = new tasks.LambdaInvoke(this, 'ApplyTimeout', {
      stateName: `${id}: timed out`,
      comment: `Nobody decided in ${seconds} s: records the default decision (${this.defaultDecision}) as actor "timeout" and tells the approvers.`,
      lambdaFunction: props.functions.timeoutFunction,
      payload: sfn.TaskInput.fromObject({
        incidentId: sfn.JsonPath.stringAt(incidentIdPath),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        gate: id,
        enteredTime,
        // The gate's own default: the timeout returns it, or refuses.
        defaultDecision: this.defaultDecision,
      }),
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(90)),
      resultPath,
    });
    // The timeout's own record and email are retried like any action; `applyTimeout` is exposed so that a
    // playbook catches its failure into its recorded failure as well.
    applyTimeout.addRetry({
      errors: [...RETRYABLE_ERRORS],
      interval: Duration.seconds(2),
      maxAttempts: 5,
      backoffRate: 2,
    });
    this.applyTimeout = applyTimeout;
    // Only a person's recorded decision (or the default, after the deadline) approves: the check reads the
    // record; what the callback sent is not looked at.
    const check = new tasks.LambdaInvoke(this, 'Check', {
      stateName: `${id}: check the record`,
      comment: 'Confirms from the verified record that one of the approvers approved in time, or fails.',
      lambdaFunction: props.functions.checkFunction,
      payload: sfn.TaskInput.fromObject({
        incidentId: sfn.JsonPath.stringAt(incidentIdPath),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        gate: id,
        enteredTime,
        defaultDecision: this.defaultDecision,
        phase: props.phase ?? 'eradication',
        // The check runs in the audit middleware, which holds the place to the incident's recorded one.
        ...findingPlace(),
      }),
      payloadResponseOnly: true,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(60)),
      resultPath: `${resultPath}Check`,
    });
    check.addRetry({
      errors: [...RETRYABLE_ERRORS],
      interval: Duration.seconds(1),
      maxAttempts: 5,
      backoffRate: 2,
    });
    this.check = check;
    check.next(this.approved);
    // The timeout returns the default decision, never a person's: a late decision is refused.
    const which = new sfn.Choice(this, 'DecisionAfterTimeout', { stateName: `${id}: default after timeout` })
      .when(sfn.Condition.stringEquals(`${resultPath}.decision`, 'approve'), check)
      .otherwise(this.rejected);

    this.task.addCatch(parseRejection.next(placeRejection).next(this.rejected), {
      errors: [APPROVAL_REJECTED],
      resultPath,
    });
    this.task.addCatch(applyTimeout.next(which), { errors: [sfn.Errors.TIMEOUT], resultPath });
    this.task.next(check);
    for (const task of [this.task, applyTimeout, check]) {
      task.addCatch(props.failure, { errors: ['States.ALL'], resultPath: '$.failure' });
    }

    this.enter.next(this.task);
    this.startState = this.enter;
    this.endStates = [this.approved, this.rejected];
  }
}
