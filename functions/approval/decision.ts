/**
 * What follows a won decision, wherever it came from (a link, the console): the decision is recorded as
 * a step with its decider, then handed to Step Functions (`SendTaskSuccess`, or `SendTaskFailure` with
 * {@link APPROVAL_REJECTED}). The task token is read here, from its own item, and nowhere else. The
 * request handed in is the record's, in the state its caller wrote (functions/approval/recorded.ts
 * `requestAsRecorded`): what is recorded and delivered is what the person decided, never the item as
 * read back.
 *
 * A decision Step Functions refuses came after the deadline (or the run stopped): it is refused, the
 * request says so, and the default decision applies, which the gate's timeout records. The record, the
 * page and the email all say that, never that the late decision was taken.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { AuditRecorder } from '#shared/audit';
import { describeError, type Logger } from '#shared/log';
import { APPROVAL_REJECTED } from './errors.ts';
import type { ApprovalRequest, DecisionOutput, DecisionSource } from './model.ts';
import { APPROVAL_ACTIONS } from './recorded.ts';
import type { ApprovalStore } from './store.ts';

/** What the decision code needs of a Step Functions client. */
export type TaskCallbacks = Pick<SFNClient, 'send'>;

export interface CompleteDeps {
  readonly recorder: AuditRecorder;
  readonly store: ApprovalStore;
  readonly sfn: TaskCallbacks;
  readonly clock?: () => string;
  readonly logger?: Logger;
}

/** Whether Step Functions took the decision. */
export type Delivery =
  | { readonly delivered: true }
  | {
      readonly delivered: false;
      /** True when Step Functions no longer waits for the task: the deadline passed or the run stopped. */
      readonly late: boolean;
      readonly error: { name: string; message: string };
    };

/** The decision as the playbook receives it. */
export function decisionOutput(request: ApprovalRequest): DecisionOutput {
  return {
    decision: request.decision ?? request.defaultDecision,
    decidedBy: request.decidedBy ?? 'unknown',
    decidedAt: request.decidedAt ?? '',
    reason: request.reason ?? '',
  };
}

/** Records a decided request's decision step: the decider is the actor, with time, source IP and user agent. */
export async function recordDecision(
  recorder: AuditRecorder,
  request: ApprovalRequest,
  source: DecisionSource,
  extra: { note?: string; lateDecision?: ApprovalRequest['lateDecision'] } = {},
): Promise<void> {
  const output = decisionOutput(request);
  const word = output.decision === 'approve' ? 'approved' : 'rejected';
  const note =
    source.via === 'timeout'
      ? `nobody's decision reached the playbook by ${request.expiresAt}: the default applies, ${request.action} on ${request.resource.id} is ${word}`
      : `${output.decidedBy} ${word} ${request.action} on ${request.resource.id}${output.reason ? `: ${output.reason}` : ''}`;
  await recorder.appendStep(request.incidentId, {
    phase: request.phase,
    action: APPROVAL_ACTIONS.decision,
    status: 'succeeded',
    actor: output.decidedBy,
    startedAt: output.decidedAt,
    executionArn: request.executionArn,
    input: {
      requestId: request.requestId,
      gate: request.gate,
      action: request.action,
      resource: request.resource,
      via: source.via,
      sourceIp: source.sourceIp,
      userAgent: source.userAgent,
    },
    changes: {
      decision: output.decision,
      status: request.status,
      reason: output.reason,
      ...(extra.lateDecision ? { refusedLateDecision: extra.lateDecision } : {}),
    },
    note: extra.note ?? note,
  });
}

const LATE = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

/**
 * Records the decision, then hands it to Step Functions. A refused callback is recorded as a failed
 * delivery that says the decision came too late and the default applies, the request is marked so, and it
 * is reported, not thrown.
 */
export async function completeDecision(
  deps: CompleteDeps,
  request: ApprovalRequest,
  source: DecisionSource,
): Promise<Delivery> {
  await recordDecision(deps.recorder, request, source);
  const output = decisionOutput(request);
  const token = await deps.store.token(request.requestId);
  try {
    if (token === undefined) {
      const gone = new Error(`approval request ${request.requestId} has no task token`);
      gone.name = 'TaskDoesNotExist';
      throw gone;
    }
    if (output.decision === 'approve') {
      await deps.sfn.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) }));
    } else {
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: token,
          error: APPROVAL_REJECTED,
          cause: JSON.stringify(output),
        }),
      );
    }
    return { delivered: true };
  } catch (error) {
    const described = describeError(error);
    // Never let a token echoed in an error message reach a log line or the record.
    if (token) described.message = described.message.split(token).join('[task token]');
    const late = LATE.has(described.name);
    deps.logger?.warn('step functions refused the decision', {
      requestId: request.requestId,
      error: described,
    });
    const outcome = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
    await deps.recorder.appendStep(request.incidentId, {
      phase: request.phase,
      action: 'approval-delivery',
      status: 'failed',
      actor: 'automation',
      executionArn: request.executionArn,
      input: { requestId: request.requestId, decision: output.decision, decidedBy: output.decidedBy },
      error: described,
      note: late
        ? `${output.decidedBy}'s decision (${output.decision}) came after the playbook's deadline and is refused: the default decision applies (${outcome})`
        : `${output.decidedBy}'s decision (${output.decision}) could not be handed to the playbook`,
    });
    if (late) {
      const at = (deps.clock ?? (() => new Date().toISOString()))();
      // The late decision is the one this function just wrote and recorded, not the item read back.
      await deps.store.expire(
        request.requestId,
        {
          decision: request.defaultDecision,
          decidedBy: 'timeout',
          decidedAt: at,
          reason: `the decision came after the deadline ${request.expiresAt}`,
          source: { via: 'timeout' },
        },
        { decision: output.decision, decidedBy: output.decidedBy, decidedAt: output.decidedAt },
      );
    }
    return { delivered: false, late, error: described };
  }
}
