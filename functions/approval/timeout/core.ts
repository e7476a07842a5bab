/**
 * The core of the approval timeout function, which the gate's `Catch` on `States.Timeout` invokes: the
 * deadline passed, so the playbook's default decision applies (reject unless the playbook says otherwise).
 * It marks the request expired so that its links stop working, records the default decision with actor
 * `timeout`, and tells the approvers.
 *
 * The default is the gate's own, fixed in the state machine and sent in the payload: the state machine
 * routes on what this function returns, so it never returns anything else. The request is the one this
 * gate's task recorded (its execution, gate and entry time) in the incident's verified record, never one
 * found through an index anyone could write to; when that request states another default, nothing is
 * decided: the mismatch is recorded and {@link ApprovalGateMismatchError} thrown (the gate's recorded
 * failure).
 *
 * It never returns a person's decision: Step Functions timed out, so no decision reached it in time. A
 * decision the record holds but that was not delivered came too late: it is refused, and the request,
 * the record and the email say so. Nothing the request item says is told as a person's decision.
 */
import type { AuditRecorder } from '#shared/audit';
import { type Clock, systemClock } from '#shared/clock';
import { parseOrThrow } from '#shared/domain';
import type { Logger } from '#shared/log';
import { decisionOutput, recordDecision } from '../decision.ts';
import { type EmailSender, type RetryOptions, sendWithRetry, timeoutEmail } from '../email.ts';
import { ApprovalGateMismatchError, ApprovalNotFoundError } from '../errors.ts';
import { ApprovalTimeoutEventSchema, type DecisionOutput } from '../model.ts';
import { recordedDecisions, requestAsRecorded, requestOfGateTask } from '../recorded.ts';
import type { ApprovalStore } from '../store.ts';

/** The actor of a timeout's default decision. */
export const TIMEOUT_ACTOR = 'timeout';

export interface TimeoutDeps {
  readonly store: ApprovalStore;
  readonly recorder: AuditRecorder;
  readonly ses: EmailSender;
  readonly sender: string;
  readonly clock?: Clock;
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
}

/** What the gate continues with: the default decision, applied. */
export interface TimeoutResult extends DecisionOutput {
  readonly requestId: string;
  readonly timedOut: true;
}

/** Applies the gate's default decision to the request its task made. */
export async function applyTimeout(deps: TimeoutDeps, event: unknown): Promise<TimeoutResult> {
  const input = parseOrThrow(ApprovalTimeoutEventSchema, event, 'approval timeout');
  const clock = deps.clock ?? systemClock;
  // Refuses on a break (RecordTamperedError): the playbook's catch records and emails it.
  const { incident, steps } = await deps.recorder.verified(input.incidentId);
  const recorded = requestOfGateTask(steps, input);
  if (!recorded) {
    throw new ApprovalNotFoundError(
      `the record holds no approval request of gate ${input.gate} of ${input.executionArn} entered at ${input.enteredTime}`,
    );
  }
  const { requestId } = recorded;
  const decision = input.defaultDecision;
  if (recorded.defaultDecision !== decision) {
    const error = new ApprovalGateMismatchError(
      `gate ${input.gate} decides ${decision} by default, but its recorded request ${requestId} (step ${recorded.seq}) says ${recorded.defaultDecision}: nothing is decided`,
    );
    await deps.recorder.appendStep(input.incidentId, {
      phase: recorded.phase,
      action: 'approval-refused',
      status: 'failed',
      actor: 'automation',
      executionArn: input.executionArn,
      input: { requestId, gate: input.gate, via: 'timeout', defaultDecision: decision },
      error: { name: error.name, message: error.message },
      note: error.message,
    });
    throw error;
  }
  const decisions = recordedDecisions(steps, requestId);
  const reason = `nobody decided by ${recorded.expiresAt}`;
  const already = decisions.find((d) => d.via === 'timeout');
  if (already) {
    // A retry of this function: the default is recorded and the approvers were told.
    return {
      decision,
      decidedBy: TIMEOUT_ACTOR,
      decidedAt: already.decidedAt,
      reason,
      requestId,
      timedOut: true,
    };
  }
  // A person's decision the record holds, made but never delivered in time: refused, and named as such.
  const person = decisions.find((d) => d.via !== 'timeout');
  const late = person && {
    decision: person.decision,
    decidedBy: person.actor,
    decidedAt: person.decidedAt,
  };
  const decidedAt = clock();
  const outcome = await deps.store.expire(
    requestId,
    { decision, decidedBy: TIMEOUT_ACTOR, decidedAt, reason, source: { via: 'timeout' } },
    late,
  );
  if (outcome.kind === 'not-found')
    throw new ApprovalNotFoundError(`approval request ${requestId} disappeared`);
  const expired = requestAsRecorded(recorded, incident, {
    status: 'expired',
    decision,
    decidedBy: TIMEOUT_ACTOR,
    decidedAt,
    reason,
    decidedVia: 'timeout',
    ...(late ? { lateDecision: late } : {}),
  });
  await recordDecision(
    deps.recorder,
    expired,
    { via: 'timeout' },
    {
      ...(late
        ? {
            lateDecision: late,
            note: `${late.decidedBy}'s ${late.decision} at ${late.decidedAt} did not reach the playbook by its deadline ${recorded.expiresAt} and is refused: the default applies, ${expired.action} on ${expired.resource.id} is ${decision === 'approve' ? 'approved' : 'rejected'}`,
          }
        : {}),
    },
  );
  for (const approver of expired.approvers) {
    const message = timeoutEmail(expired, approver, decidedAt);
    const result = await sendWithRetry(deps.ses, deps.sender, message, deps.retry);
    // The default decision goes ahead either way: a notice that could not be sent is recorded, not thrown.
    await deps.recorder.appendStep(expired.incidentId, {
      phase: expired.phase,
      action: 'approval-timeout-email',
      status: result.ok ? 'succeeded' : 'failed',
      actor: 'automation',
      executionArn: expired.executionArn,
      input: { requestId, to: approver, subject: message.subject, attempts: result.attempts },
      ...(result.ok
        ? { changes: { messageId: result.messageId }, note: `told ${approver} the request timed out` }
        : { error: result.error, note: `could not tell ${approver} the request timed out` }),
    });
  }
  deps.logger?.info('approval timed out', { requestId, decision, late: late !== undefined });
  return { ...decisionOutput(expired), requestId, timedOut: true };
}
