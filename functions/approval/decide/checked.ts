/**
 * What the decision function's routes share: its deps, a request held to the incident's verified record
 * ({@link checkedRequest}: a record that does not verify refuses every decision, recorded and told), the
 * request as shown and as just decided, and the JSON answer of the console route.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AuditRecorder } from '#shared/audit';
import type { Clock } from '#shared/clock';
import type { Incident, Step } from '#shared/domain';
import { RecordTamperedError } from '#shared/errors';
import { describeError, type Logger } from '#shared/log';
import type { Delivery, TaskCallbacks } from '../decision.ts';
import type { ApprovalRequest, ApprovalStatus } from '../model.ts';
import {
  type RecordedRequest,
  type RequestState,
  recordedDecisions,
  recordedRequest,
  requestAsRecorded,
} from '../recorded.ts';
import { type ApprovalStore, type DecisionWrite, type StoredApproval, statusFor } from '../store.ts';

export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly recorder: AuditRecorder;
  readonly sfn: TaskCallbacks;
  /** Tells the approvers that a decision was refused because the record does not verify. */
  readonly alert?: (request: RecordedRequest | StoredApproval, why: string) => Promise<void>;
  /**
   * The IAM principals (ARN patterns) that may decide from the console: `settings.approval.consolePrincipals`.
   * Default none: every console decision is refused.
   */
  readonly consolePrincipals?: readonly string[];
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The longest reason kept; longer ones are cut. */
export const MAX_REASON = 1000;

export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

export function bodyText(event: APIGatewayProxyEventV2): string {
  const raw = event.body ?? '';
  return (event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw).slice(0, 16_384);
}

/** A request held to its verified record. */
export interface CheckedRequest {
  readonly ok: true;
  readonly stored: StoredApproval;
  readonly recorded: RecordedRequest;
  readonly incident: Incident;
  readonly steps: readonly Step[];
}

export type Checked =
  | CheckedRequest
  | { readonly ok: false; readonly response: APIGatewayProxyStructuredResultV2 };

/**
 * The request as shown while nothing is being decided: the record's, with the item's `status` (what the
 * links' conditional writes go by) and who decided what as the record's decision steps say (the timeout's,
 * or else the first); none when the record holds none, whatever the item says.
 */
export function shown(checked: CheckedRequest, status: ApprovalStatus): ApprovalRequest {
  const decisions = recordedDecisions(checked.steps, checked.recorded.requestId);
  const told = decisions.find((d) => d.via === 'timeout') ?? decisions[0];
  const state: RequestState = told
    ? {
        status,
        decision: told.decision,
        decidedBy: told.actor,
        decidedAt: told.decidedAt,
        decidedVia: told.via,
      }
    : { status };
  return requestAsRecorded(checked.recorded, checked.incident, state);
}

/** The request as just decided: the record's, in the state this function's conditional write made. */
export function decided(checked: CheckedRequest, write: DecisionWrite): ApprovalRequest {
  return requestAsRecorded(checked.recorded, checked.incident, {
    status: statusFor(write.decision),
    decision: write.decision,
    decidedBy: write.decidedBy,
    decidedAt: write.decidedAt,
    reason: write.reason,
    decidedVia: write.source.via,
  });
}

/**
 * Reads a request and holds it to the incident's verified record. A record that does not verify refuses
 * every decision: the refusal is recorded (a step after the break) and the approvers are told.
 */
export async function checkedRequest(
  deps: DecideDeps,
  requestId: string,
  refuse: (status: number, message: string) => APIGatewayProxyStructuredResultV2,
): Promise<Checked> {
  const stored = await deps.store.get(requestId);
  if (!stored) return { ok: false, response: refuse(404, 'not found') };
  let record: Awaited<ReturnType<AuditRecorder['verified']>>;
  try {
    record = await deps.recorder.verified(stored.incidentId);
  } catch (error) {
    if (!(error instanceof RecordTamperedError)) throw error;
    const why = `the record of incident ${stored.incidentId} does not verify (${error.result.kind} at step ${error.result.brokenSeq}): no decision on it is taken`;
    deps.logger?.error('decision refused: the record does not verify', { requestId, result: error.result });
    await deps.recorder
      .appendStep(stored.incidentId, {
        phase: stored.phase,
        action: 'approval-refused',
        status: 'failed',
        actor: 'automation',
        input: { requestId },
        error: { name: error.name, message: error.message },
        note: why,
      })
      .catch((recordError: unknown) =>
        deps.logger?.error('could not record the refusal', { error: describeError(recordError) }),
      );
    await deps.alert?.(stored, why).catch(() => undefined);
    return { ok: false, response: refuse(409, why) };
  }
  const recorded = recordedRequest(record.steps, requestId);
  // A request item the record does not hold was not made by Cordon.
  if (!recorded || recorded.incidentId !== stored.incidentId)
    return { ok: false, response: refuse(404, 'not found') };
  return { ok: true, stored, recorded, incident: record.incident, steps: record.steps };
}

/** What the person is told when Step Functions did not take their decision: the same as the record says. */
export function deliveryNote(delivery: Delivery, request: ApprovalRequest): string | undefined {
  if (delivery.delivered) return undefined;
  const outcome = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  return delivery.late
    ? `Your decision came after the playbook's deadline (${request.expiresAt}) and is refused: the default decision applies, the request is ${outcome}.`
    : 'Your decision is recorded, but it could not be handed to the playbook. The approvers have the record.';
}
