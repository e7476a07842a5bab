/**
 * The approval gate every playbook puts before a risky step: a `.waitForTaskToken` Lambda task whose
 * request function stores the token and emails each approver a link of their own, and that waits at
 * most `timeout` for a decision.
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
 * A request function that cannot email the approvers fails the task with `ApprovalEmailError`: add a
 * `Catch` on {@link ApprovalGate.task} (the playbook's recorded failure) so the gate fails visibly.
 */
import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import type { Phase } from '#shared/domain';
import { RETRYABLE_ERRORS } from '#shared/errors';
import { APPROVAL_REJECTED } from '../../functions/approval/errors.ts';
import type { Decision } from '../../functions/approval/model.ts';
import type { ApprovalFunctions } from './approval-api.ts';

export interface ApprovalGateProps {
  /** The request and timeout functions: an `ApprovalApi`. */
  readonly functions: ApprovalFunctions;
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
}

export class ApprovalGate extends sfn.StateMachineFragment {
  readonly startState: sfn.State;
  readonly endStates: sfn.INextable[];
  /** The waiting task; add a `Catch` for `ApprovalEmailError` and other failures. */
  readonly task: tasks.LambdaInvoke;
  /** The task that applies the default decision on a timeout; add the same `Catch`. */
  readonly applyTimeout: tasks.LambdaInvoke;
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
        gate: id,
        action: props.action,
        phase: props.phase ?? 'eradication',
        resource: sfn.JsonPath.objectAt(props.resourcePath ?? '$.resource'),
        summary: props.summary,
        timeoutSeconds: seconds,
        defaultDecision: this.defaultDecision,
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
    // A person may have decided just before the timeout: the function returns the decision that stands.
    const which = new sfn.Choice(this, 'DecisionAfterTimeout', { stateName: `${id}: decision after timeout` })
      .when(sfn.Condition.stringEquals(`${resultPath}.decision`, 'approve'), this.approved)
      .otherwise(this.rejected);

    this.task.addCatch(parseRejection.next(placeRejection).next(this.rejected), {
      errors: [APPROVAL_REJECTED],
      resultPath,
    });
    this.task.addCatch(applyTimeout.next(which), { errors: [sfn.Errors.TIMEOUT], resultPath });
    this.task.next(this.approved);

    this.startState = this.task;
    this.endStates = [this.approved, this.rejected];
  }
}
