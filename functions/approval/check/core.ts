/**
 * The core of the approval check, the gate's state after its task returned "approved" (a callback, or a
 * timeout whose default is approve): the gate takes the approved branch only if the incident's verified
 * record says the request its task made (its execution, gate and entry time) was approved, by one of its
 * approvers through their link or by a principal of `settings.approval.consolePrincipals` at the console,
 * before the deadline (or by the timeout, when the gate's own default is approve), and the request item
 * agrees. A `SendTaskSuccess` sent by anyone holding a token, with any output, approves nothing: what it
 * sent is not read. Nor does a request that states another default than the gate's.
 */
import type { ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { parseOrThrow } from '#shared/domain';
import { ApprovalError, ApprovalNotFoundError } from '../errors.ts';
import { ApprovalTimeoutEventSchema } from '../model.ts';
import { recordedDecisions, recordedOutcome, requestOfGateTask } from '../recorded.ts';
import type { ApprovalStore } from '../store.ts';

/** The gate was completed without an approval the record can show: the approved branch is refused. */
export class ApprovalNotRecordedError extends ApprovalError {
  override readonly name: string = 'ApprovalNotRecordedError';
}

/** The check's payload: which gate task, and the gate's default, as the state machine states them. */
export const CheckInputSchema = ApprovalTimeoutEventSchema;

export interface CheckDeps {
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  readonly store: Pick<ApprovalStore, 'get'>;
  /** `settings.approval.consolePrincipals`: whose console decisions count. Default none. */
  readonly consolePrincipals?: readonly string[];
}

/** Confirms from the record that the gate's request was approved; throws when it was not. */
export async function checkApproval(deps: CheckDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(CheckInputSchema, event, 'approval check input');
  const { steps } = await deps.recorder.verified(input.incidentId);
  const request = requestOfGateTask(steps, input);
  if (!request) {
    throw new ApprovalNotFoundError(
      `the record holds no approval request of gate ${input.gate} of ${input.executionArn} entered at ${input.enteredTime}`,
    );
  }
  if (request.defaultDecision !== input.defaultDecision) {
    throw new ApprovalNotRecordedError(
      `gate ${input.gate} decides ${input.defaultDecision} by default, but its recorded request ${request.requestId} says ${request.defaultDecision}: the approved branch is refused`,
    );
  }
  const outcome = recordedOutcome(
    request,
    recordedDecisions(steps, request.requestId),
    deps.consolePrincipals ?? [],
  );
  if (outcome.outcome !== 'approved') {
    throw new ApprovalNotRecordedError(
      `gate ${input.gate} was completed as approved, but ${outcome.outcome === 'rejected' ? `the record says ${outcome.by.actor} rejected it` : outcome.reason}: the approved branch is refused`,
    );
  }
  const stored = await deps.store.get(request.requestId);
  const agrees =
    stored !== undefined &&
    ((outcome.by.via === 'timeout' && stored.status === 'expired' && stored.decision === 'approve') ||
      (outcome.by.via !== 'timeout' &&
        stored.status === 'approved' &&
        stored.decidedBy === outcome.by.actor));
  if (!agrees) {
    throw new ApprovalNotRecordedError(
      `the record says ${outcome.by.actor} approved request ${request.requestId}, but the request is ${stored?.status ?? 'missing'}: the approved branch is refused`,
    );
  }
  return {
    status: 'succeeded',
    output: {
      approved: true,
      requestId: request.requestId,
      decidedBy: outcome.by.actor,
      decidedAt: outcome.by.decidedAt,
      via: outcome.by.via,
    },
    note: `the record shows ${request.action} on ${request.resource.id} approved by ${outcome.by.actor} (${outcome.by.via}) at ${outcome.by.decidedAt}, step ${outcome.by.seq}`,
  };
}
