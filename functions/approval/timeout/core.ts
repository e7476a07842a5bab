/**
 * The core of the approval timeout function, which the gate's `Catch` on `States.Timeout` invokes: the
 * deadline passed, so the playbook's default decision applies (reject unless the playbook says otherwise).
 * It marks the request expired so that its links stop working, records the default decision with actor
 * `timeout`, and tells the approvers.
 *
 * It never returns a person's decision: Step Functions timed out, so no decision reached it in time. A
 * decision that was written but not delivered came too late: it is refused, and the request, the record
 * and the email say so. The request and its default are read from the incident's verified record (the
 * gate's own `approval-request` step), never from an index anyone could write to.
 */
import type { AuditRecorder } from '#shared/audit';
import { type Clock, systemClock } from '#shared/clock';
import { parseOrThrow } from '#shared/domain';
import type { Logger } from '#shared/log';
import { decisionOutput, recordDecision } from '../decision.ts';
import { type EmailSender, type RetryOptions, sendWithRetry, timeoutEmail } from '../email.ts';
import { ApprovalNotFoundError } from '../errors.ts';
import { ApprovalTimeoutEventSchema, type DecisionOutput } from '../model.ts';
import { latestRequestOfGate, recordedDecisions } from '../recorded.ts';
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

/** Applies the default decision to the gate's latest request. */
export async function applyTimeout(deps: TimeoutDeps, event: unknown): Promise<TimeoutResult> {
  const input = parseOrThrow(ApprovalTimeoutEventSchema, event, 'approval timeout');
  const clock = deps.clock ?? systemClock;
  // Refuses on a break (RecordTamperedError): the playbook's catch records and emails it.
  const { steps } = await deps.recorder.verified(input.incidentId);
  const recorded = latestRequestOfGate(steps, input.executionArn, input.gate);
  if (!recorded) {
    throw new ApprovalNotFoundError(
      `the record holds no approval request of gate ${input.gate} of ${input.executionArn}`,
    );
  }
  const { requestId } = recorded;
  const decision = recorded.defaultDecision;
  const already = recordedDecisions(steps, requestId).find((d) => d.via === 'timeout');
  if (already) {
    // A retry of this function: the default is recorded and the approvers were told.
    const request = await deps.store.get(requestId);
    return {
      decision,
      decidedBy: TIMEOUT_ACTOR,
      decidedAt: request?.decidedAt ?? already.decidedAt,
      reason: `nobody decided by ${recorded.expiresAt}`,
      requestId,
      timedOut: true,
    };
  }
  const decidedAt = clock();
  const outcome = await deps.store.expire(requestId, {
    decision,
    decidedBy: TIMEOUT_ACTOR,
    decidedAt,
    reason: `nobody decided by ${recorded.expiresAt}`,
    source: { via: 'timeout' },
  });
  if (outcome.kind === 'not-found')
    throw new ApprovalNotFoundError(`approval request ${requestId} disappeared`);
  // The stored request, with the facts as the record states them.
  const expired = {
    ...outcome.request,
    status: 'expired' as const,
    decision,
    decidedBy: TIMEOUT_ACTOR,
    decidedAt: outcome.request.decidedAt ?? decidedAt,
    reason: outcome.request.reason ?? `nobody decided by ${recorded.expiresAt}`,
    action: recorded.action,
    resource: recorded.resource,
    approvers: recorded.approvers,
    expiresAt: recorded.expiresAt,
    defaultDecision: recorded.defaultDecision,
    summary: recorded.summary,
  };
  const late = expired.lateDecision;
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
    const message = timeoutEmail(expired, approver, expired.decidedAt);
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
