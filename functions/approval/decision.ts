/**
 * What follows a won decision, wherever it came from (a link, the console): the decision is recorded as
 * a step with its decider, then handed to Step Functions (`SendTaskSuccess`, or `SendTaskFailure` with
 * {@link APPROVAL_REJECTED}). The task token is read from the stored request here and nowhere else.
 */
import { SendTaskFailureCommand, SendTaskSuccessCommand, type SFNClient } from '@aws-sdk/client-sfn';
import type { AuditRecorder } from '#shared/audit';
import { describeError, type Logger } from '#shared/log';
import { APPROVAL_REJECTED } from './errors.ts';
import type { DecisionOutput, DecisionSource } from './model.ts';
import type { StoredApproval } from './store.ts';

/** What the decision code needs of a Step Functions client. */
export type TaskCallbacks = Pick<SFNClient, 'send'>;

export interface CompleteDeps {
  readonly recorder: AuditRecorder;
  readonly sfn: TaskCallbacks;
  readonly logger?: Logger;
}

/** Whether Step Functions took the decision. */
export type Delivery =
  | { readonly delivered: true }
  | { readonly delivered: false; readonly error: { name: string; message: string } };

/** The decision as the playbook receives it. */
export function decisionOutput(request: StoredApproval): DecisionOutput {
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
  request: StoredApproval,
  source: DecisionSource,
): Promise<void> {
  const output = decisionOutput(request);
  const word = output.decision === 'approve' ? 'approved' : 'rejected';
  await recorder.appendStep(request.incidentId, {
    phase: request.phase,
    action: 'approval-decision',
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
    changes: { decision: output.decision, status: request.status, reason: output.reason },
    note: `${output.decidedBy} ${source.via === 'timeout' ? 'timed out: default' : ''} ${word} ${request.action} on ${request.resource.id}${output.reason ? `: ${output.reason}` : ''}`.replace(
      /\s+/g,
      ' ',
    ),
  });
}

/**
 * Records the decision, then hands it to Step Functions. A refused callback (the task timed out or the
 * execution stopped) is recorded as a failed step and reported, not thrown: the decision stands.
 */
export async function completeDecision(
  deps: CompleteDeps,
  request: StoredApproval,
  source: DecisionSource,
): Promise<Delivery> {
  await recordDecision(deps.recorder, request, source);
  const output = decisionOutput(request);
  try {
    if (output.decision === 'approve') {
      await deps.sfn.send(
        new SendTaskSuccessCommand({ taskToken: request.taskToken, output: JSON.stringify(output) }),
      );
    } else {
      await deps.sfn.send(
        new SendTaskFailureCommand({
          taskToken: request.taskToken,
          error: APPROVAL_REJECTED,
          cause: JSON.stringify(output),
        }),
      );
    }
    return { delivered: true };
  } catch (error) {
    const described = describeError(error);
    // Never let a token echoed in an error message reach a log line or the record.
    described.message = described.message.split(request.taskToken).join('[task token]');
    deps.logger?.warn('step functions refused the decision', {
      requestId: request.requestId,
      error: described,
    });
    await deps.recorder.appendStep(request.incidentId, {
      phase: request.phase,
      action: 'approval-delivery',
      status: 'failed',
      actor: 'automation',
      executionArn: request.executionArn,
      input: { requestId: request.requestId, decision: output.decision },
      error: described,
      note: 'the decision is recorded, but the playbook no longer waits for it',
    });
    return { delivered: false, error: described };
  }
}
