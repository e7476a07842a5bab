/**
 * The core of the approval timeout function, which the gate's `Catch` on `States.Timeout` invokes: takes
 * the playbook's default decision (reject unless the playbook says otherwise), marks the request
 * expired so that its links stop working, records the decision with actor `timeout`, and tells the
 * approvers. If a person decided first, their decision stands and is returned instead.
 */
import type { AuditRecorder } from '#shared/audit';
import { type Clock, systemClock } from '#shared/clock';
import { parseOrThrow } from '#shared/domain';
import type { Logger } from '#shared/log';
import { decisionOutput, recordDecision } from '../decision.ts';
import { type EmailSender, type RetryOptions, sendWithRetry, timeoutEmail } from '../email.ts';
import { ApprovalNotFoundError } from '../errors.ts';
import { ApprovalTimeoutEventSchema, type DecisionOutput } from '../model.ts';
import { type ApprovalStore, publicView } from '../store.ts';

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

/** What the gate continues with: the decision applied, and whether it was the timeout's. */
export interface TimeoutResult extends DecisionOutput {
  readonly requestId: string;
  readonly timedOut: boolean;
}

/** Applies the default decision to the gate's latest request. */
export async function applyTimeout(deps: TimeoutDeps, event: unknown): Promise<TimeoutResult> {
  const input = parseOrThrow(ApprovalTimeoutEventSchema, event, 'approval timeout');
  const clock = deps.clock ?? systemClock;
  const request = await deps.store.latestForGate(input.executionArn, input.gate);
  if (!request) {
    throw new ApprovalNotFoundError(`no approval request for gate ${input.gate} of ${input.executionArn}`);
  }
  const decidedAt = clock();
  const outcome = await deps.store.expire(request.requestId, {
    decision: request.defaultDecision ?? input.defaultDecision,
    decidedBy: TIMEOUT_ACTOR,
    decidedAt,
    reason: `nobody decided by ${request.expiresAt}`,
    source: { via: 'timeout' },
  });
  if (outcome.kind === 'not-found') {
    throw new ApprovalNotFoundError(`approval request ${request.requestId} disappeared`);
  }
  if (outcome.kind !== 'decided') {
    // A person (or an earlier timeout) decided first; Step Functions timed out anyway. Theirs stands.
    deps.logger?.warn('approval closed before its timeout', { requestId: request.requestId });
    return { ...decisionOutput(outcome.request), requestId: request.requestId, timedOut: false };
  }
  const expired = outcome.request;
  await recordDecision(deps.recorder, expired, { via: 'timeout' });
  for (const approver of expired.approvers) {
    const message = timeoutEmail(publicView(expired), approver, decidedAt);
    const result = await sendWithRetry(deps.ses, deps.sender, message, deps.retry);
    // The default decision goes ahead either way: a notice that could not be sent is recorded, not thrown.
    await deps.recorder.appendStep(expired.incidentId, {
      phase: expired.phase,
      action: 'approval-timeout-email',
      status: result.ok ? 'succeeded' : 'failed',
      actor: 'automation',
      executionArn: expired.executionArn,
      input: {
        requestId: expired.requestId,
        to: approver,
        subject: message.subject,
        attempts: result.attempts,
      },
      ...(result.ok
        ? { changes: { messageId: result.messageId }, note: `told ${approver} the request timed out` }
        : { error: result.error, note: `could not tell ${approver} the request timed out` }),
    });
  }
  deps.logger?.info('approval timed out', { requestId: expired.requestId, decision: expired.decision });
  return { ...decisionOutput(expired), requestId: expired.requestId, timedOut: true };
}
