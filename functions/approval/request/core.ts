/**
 * The core of the approval request function, which the gate's `.waitForTaskToken` task invokes: stores
 * the request, its task token (an item of its own, in no index) and one link per approver (bound to its
 * request, approver and expiry by the record key's MAC), emails each approver their link, and records the
 * request and every email as steps. The request expires at the gate's deadline: the gate's entered time
 * plus its timeout, so that no link outlives the token. What the email says of the finding is the
 * incident's verified record's (the incident item alone could be edited by anyone with table access); a
 * record that does not verify asks nobody (`RecordTamperedError`, the gate's recorded failure). If an
 * email cannot be sent after retries, the request is withdrawn (its links stop working), the failure
 * recorded, and {@link ApprovalEmailError} thrown so that the gate fails visibly instead of waiting for a
 * decision nobody was asked for.
 */
import type { AuditRecorder } from '#shared/audit';
import { type Clock, type IdSource, randomIds, systemClock } from '#shared/clock';
import { parseOrThrow } from '#shared/domain';
import type { Logger } from '#shared/log';
import { linkMacMessage } from '#shared/seal';
import {
  type EmailSender,
  type RetryOptions,
  requestEmail,
  type SendResult,
  sendWithRetry,
} from '../email.ts';
import { ApprovalEmailError } from '../errors.ts';
import { hashLinkId, type LinkIdSource, linkUrl, randomLinkIds } from '../links.ts';
import { type ApprovalRequest, ApprovalRequestEventSchema } from '../model.ts';
import { APPROVAL_ACTIONS, findingFacts } from '../recorded.ts';
import { type ApprovalStore, publicView, type StoredApproval } from '../store.ts';

export interface RequestDeps {
  readonly store: ApprovalStore;
  readonly recorder: AuditRecorder;
  readonly ses: EmailSender;
  readonly approvers: readonly string[];
  readonly sender: string;
  /** The decision API's base URL; links are `<baseUrl>/approvals/<link id>`. */
  readonly baseUrl: string;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  readonly linkIds?: LinkIdSource;
  readonly retry?: RetryOptions;
  readonly logger?: Logger;
}

/** What the request function returns (Step Functions ignores it while it waits for the token). */
export interface RequestResult {
  readonly requestId: string;
  readonly expiresAt: string;
  readonly emailed: readonly string[];
}

/** Stores an approval request, emails every approver their own link, and records it all. */
export async function requestApproval(deps: RequestDeps, event: unknown): Promise<RequestResult> {
  const input = parseOrThrow(ApprovalRequestEventSchema, event, 'approval request');
  const clock = deps.clock ?? systemClock;
  // Refuses on a break: the finding an approver reads is the record's, never an edited item's.
  const { incident } = await deps.recorder.verified(input.incidentId);
  const requestedAt = clock();
  // The deadline is Step Functions': from the moment the task was entered, whenever this function runs.
  const expiresAt = new Date(Date.parse(input.enteredTime) + input.timeoutSeconds * 1000).toISOString();
  const requestId = (deps.ids ?? randomIds)();
  const approvers = [...new Set(deps.approvers.map((a) => a.toLowerCase()))];
  const stored: StoredApproval = {
    requestId,
    incidentId: input.incidentId,
    executionArn: input.executionArn,
    gate: input.gate,
    action: input.action,
    phase: input.phase,
    resource: input.resource,
    summary: input.summary,
    finding: findingFacts(incident, input.resource),
    approvers,
    ...(input.reasons.length > 0 ? { reasons: input.reasons } : {}),
    ...(input.recoveryPoint === undefined ? {} : { recoveryPoint: input.recoveryPoint }),
    requestedAt,
    expiresAt,
    defaultDecision: input.defaultDecision,
    status: 'pending',
  };
  const makeLinkId = deps.linkIds ?? randomLinkIds;
  const links = await Promise.all(
    approvers.map(async (approver) => {
      const linkId = makeLinkId();
      const linkHash = hashLinkId(linkId);
      const mac = await deps.recorder.seal.mac(linkMacMessage(linkHash, requestId, approver, expiresAt));
      return { approver, linkId, linkHash, mac };
    }),
  );
  await deps.store.create(
    stored,
    links.map(({ approver, linkHash, mac }) => ({ approver, linkHash, mac })),
    input.taskToken,
  );
  const request: ApprovalRequest = publicView(stored);
  await deps.recorder.appendStep(input.incidentId, {
    phase: input.phase,
    action: APPROVAL_ACTIONS.request,
    status: 'started',
    actor: 'automation',
    startedAt: requestedAt,
    executionArn: input.executionArn,
    input: {
      requestId,
      gate: input.gate,
      action: input.action,
      resource: input.resource,
      summary: input.summary,
      approvers,
      expiresAt,
      defaultDecision: input.defaultDecision,
      reasons: input.reasons,
      enteredTime: input.enteredTime,
      ...(input.recoveryPoint === undefined ? {} : { recoveryPoint: input.recoveryPoint }),
    },
    note: `asked ${approvers.join(', ')} to approve ${input.action} on ${input.resource.id} by ${expiresAt}`,
  });
  deps.logger?.info('approval requested', {
    requestId,
    incidentId: input.incidentId,
    approvers: approvers.length,
  });

  const results: SendResult[] = [];
  for (const { approver, linkId } of links) {
    const message = requestEmail(request, approver, linkUrl(deps.baseUrl, linkId));
    const result = await sendWithRetry(deps.ses, deps.sender, message, deps.retry);
    results.push(result);
    await deps.recorder.appendStep(input.incidentId, {
      phase: input.phase,
      action: 'approval-email',
      status: result.ok ? 'succeeded' : 'failed',
      actor: 'automation',
      executionArn: input.executionArn,
      input: { requestId, to: approver, subject: message.subject, attempts: result.attempts },
      ...(result.ok
        ? { changes: { messageId: result.messageId }, note: `emailed ${approver}` }
        : { error: result.error, note: `could not email ${approver} after ${result.attempts} attempts` }),
    });
  }
  const failed = results.filter((r) => !r.ok).map((r) => r.to);
  if (failed.length > 0) {
    await deps.store.markFailed(requestId, clock());
    deps.logger?.error('approval emails failed', { requestId, failed });
    throw new ApprovalEmailError(
      `approval ${requestId}: could not email ${failed.join(', ')}; the request is withdrawn`,
      failed,
    );
  }
  return { requestId, expiresAt, emailed: approvers };
}
