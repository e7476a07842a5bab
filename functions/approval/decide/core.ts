/**
 * The core of the decision function behind the HTTP API (payload format 2.0):
 *
 * - `GET /approvals/{id}` shows the decision page and changes nothing (mail scanners fetch links);
 * - `POST /approvals/{id}` with `decision=approve|reject&reason=...` decides once, by a conditional
 *   write, records the decision with the link's approver as actor, and hands it to Step Functions; a
 *   rejection without a reason is refused (400, the page again with why) and decides nothing;
 * - `POST /console/approvals/{requestId}` (IAM-authorized: API Gateway checked the caller's SigV4
 *   signature) decides as the caller's IAM principal, for `cordon approvals approve|reject`, if that
 *   principal is one of `settings.approval.consolePrincipals` (the people's roles; none by default, and
 *   then no console decision is taken): being allowed to call the route is not being a person.
 *
 * Before anything is shown or decided, what the link and the table say is checked against what cannot be
 * forged: the link's MAC (so a link item put in the table by anyone else is not a link), the incident's
 * record (it must verify, or nothing is decided: the break is recorded and the approvers told), and the
 * request as that record states it (the link's approver must be one of the request's, its expiry the
 * request's deadline). The page shows the request as the record states it, the finding as the verified
 * incident states it, and who decided as the record's decision steps state it; of the request item only
 * its status is read, since the conditional writes go by it. A decision taken is recorded and handed on as
 * the person submitted it, never as the item reads afterwards.
 *
 * An unknown, malformed, tampered or forged link gets a 404 that says nothing more; an expired link or a
 * request already decided gets a page that says so, and who decided.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AuditRecorder } from '#shared/audit';
import { type Clock, systemClock } from '#shared/clock';
import type { Incident, Step } from '#shared/domain';
import { RecordTamperedError } from '#shared/errors';
import { describeError, type Logger } from '#shared/log';
import { linkMacMessage } from '#shared/seal';
import { completeDecision, type Delivery, type TaskCallbacks } from '../decision.ts';
import { hashLinkId, isLinkId } from '../links.ts';
import {
  type ApprovalRequest,
  type ApprovalStatus,
  DECISIONS,
  type Decision,
  type DecisionSource,
} from '../model.ts';
import {
  badRequestPage,
  closedPage,
  decidedPage,
  decisionPage,
  errorPage,
  expiredPage,
  latePage,
  notFoundPage,
  PAGE_HEADERS,
  refusedPage,
} from '../page.ts';
import {
  mayDecideFromConsole,
  type RecordedRequest,
  type RequestState,
  recordedDecisions,
  recordedRequest,
  requestAsRecorded,
} from '../recorded.ts';
import {
  type ApprovalStore,
  type DecisionWrite,
  type StoredApproval,
  type StoredLink,
  statusFor,
} from '../store.ts';

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

/** The route of console decisions (IAM-authorized). */
export const CONSOLE_ROUTE = 'POST /console/approvals/{requestId}';

function page(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...PAGE_HEADERS }, body };
}

function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
    body: JSON.stringify(body),
  };
}

function bodyText(event: APIGatewayProxyEventV2): string {
  const raw = event.body ?? '';
  return (event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw).slice(0, 16_384);
}

function linkIdOf(event: APIGatewayProxyEventV2): string | undefined {
  const fromPath = event.pathParameters?.id;
  if (fromPath !== undefined) return fromPath;
  return /^\/approvals\/([^/]+)$/.exec(event.rawPath ?? '')?.[1];
}

/** Serves one request to the decision API; never throws (a failure is a 500 page that decides nothing). */
export async function handleDecision(
  deps: DecideDeps,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const isConsole = (event as Partial<APIGatewayProxyEventV2> | null | undefined)?.routeKey === CONSOLE_ROUTE;
  try {
    return isConsole ? await consoleDecision(deps, event) : await route(deps, event);
  } catch (error) {
    deps.logger?.error('decision request failed', { error: describeError(error) });
    return isConsole
      ? json(500, { error: 'InternalError', message: 'nothing was decided' })
      : page(500, errorPage());
  }
}

/** A request held to its verified record. */
interface CheckedRequest {
  readonly ok: true;
  readonly stored: StoredApproval;
  readonly recorded: RecordedRequest;
  readonly incident: Incident;
  readonly steps: readonly Step[];
}

type Checked = CheckedRequest | { readonly ok: false; readonly response: APIGatewayProxyStructuredResultV2 };

/**
 * The request as shown while nothing is being decided: the record's, with the item's `status` (what the
 * links' conditional writes go by) and who decided what as the record's decision steps say (the timeout's,
 * or else the first); none when the record holds none, whatever the item says.
 */
function shown(checked: CheckedRequest, status: ApprovalStatus): ApprovalRequest {
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
function decided(checked: CheckedRequest, write: DecisionWrite): ApprovalRequest {
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
async function checkedRequest(
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

async function route(
  deps: DecideDeps,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const linkId = linkIdOf(event);
  if (linkId === undefined || !isLinkId(linkId)) return page(404, notFoundPage());
  if (method !== 'GET' && method !== 'HEAD' && method !== 'POST') {
    return { ...page(405, badRequestPage()), headers: { ...PAGE_HEADERS, allow: 'GET, POST' } };
  }
  const linkHash = hashLinkId(linkId);
  const clock = deps.clock ?? systemClock;
  const link = await deps.store.link(linkHash);
  if (!link || !(await linkIsCordons(deps, linkHash, link))) return page(404, notFoundPage());

  let form: URLSearchParams | undefined;
  if (method === 'POST') {
    form = new URLSearchParams(bodyText(event));
    if (!DECISIONS.includes(form.get('decision') as Decision)) return page(400, badRequestPage());
  }
  const checked = await checkedRequest(deps, link.requestId, (status, message) =>
    status === 404 ? page(404, notFoundPage()) : page(status, refusedPage(message)),
  );
  if (!checked.ok) return checked.response;
  const { stored, recorded } = checked;
  const view = shown(checked, stored.status);
  // The link must be one of this request's: its approver asked, its expiry the request's deadline.
  const asked = recorded.approvers.some((a) => a.toLowerCase() === link.approver.toLowerCase());
  if (!asked || link.expiresAt !== recorded.expiresAt) {
    deps.logger?.warn('a link not of its request was used', { requestId: link.requestId });
    return page(403, refusedPage('This link is not one of this request\u2019s: nothing was decided.'));
  }

  if (form === undefined) {
    if (stored.status !== 'pending' || link.usedAt !== undefined) return page(409, closedPage(view));
    const now = clock();
    if (recorded.expiresAt <= now) return page(410, expiredPage(view));
    return page(200, decisionPage(view, link.approver, { now }));
  }

  const decidedAt = clock();
  if (recorded.expiresAt <= decidedAt) return page(410, expiredPage(view));
  const reason = (form.get('reason') ?? '').trim().slice(0, MAX_REASON);
  // A rejection needs a reason, on the page as at the console; nothing is written. A request no longer
  // open goes on to the conditional write, which says who decided it.
  if (form.get('decision') === 'reject' && reason === '' && stored.status === 'pending' && !link.usedAt) {
    return page(
      400,
      decisionPage(view, link.approver, {
        now: decidedAt,
        error:
          'Nothing was decided: a rejection needs a reason. Write why you reject, then press Reject again.',
      }),
    );
  }
  const source: DecisionSource = {
    via: 'link',
    sourceIp: event.requestContext?.http?.sourceIp,
    userAgent: event.requestContext?.http?.userAgent ?? event.headers?.['user-agent'],
  };
  const write: DecisionWrite = {
    decision: form.get('decision') as Decision,
    decidedBy: link.approver,
    decidedAt,
    reason,
    source,
  };
  const outcome = await deps.store.decideByLink(linkHash, link, write);
  switch (outcome.kind) {
    case 'not-found':
      return page(404, notFoundPage());
    case 'expired':
      return page(410, expiredPage(view));
    case 'closed':
    case 'link-used':
      return page(409, closedPage(shown(checked, outcome.request.status)));
    case 'decided': {
      const request = decided(checked, write);
      const delivery = await completeDecision(deps, request, source);
      deps.logger?.info('approval decided', {
        requestId: request.requestId,
        decision: request.decision,
        delivered: delivery.delivered,
      });
      if (!delivery.delivered && delivery.late) return page(409, latePage(request));
      return page(200, decidedPage(request, deliveryNote(delivery, request)));
    }
  }
}

/** What the person is told when Step Functions did not take their decision: the same as the record says. */
function deliveryNote(delivery: Delivery, request: ApprovalRequest): string | undefined {
  if (delivery.delivered) return undefined;
  const outcome = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  return delivery.late
    ? `Your decision came after the playbook's deadline (${request.expiresAt}) and is refused: the default decision applies, the request is ${outcome}.`
    : 'Your decision is recorded, but it could not be handed to the playbook. The approvers have the record.';
}

/** True when the link item carries the record key's MAC of its hash, request, approver and expiry. */
async function linkIsCordons(deps: DecideDeps, linkHash: string, link: StoredLink): Promise<boolean> {
  if (typeof link.mac !== 'string' || link.mac === '') return false;
  return deps.recorder.seal.verify(
    linkMacMessage(linkHash, link.requestId, link.approver, link.expiresAt),
    link.mac,
  );
}

/** A console decision: API Gateway verified the caller's IAM signature and names the caller. */
async function consoleDecision(
  deps: DecideDeps,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const context = event.requestContext as APIGatewayProxyEventV2['requestContext'] & {
    authorizer?: { iam?: { userArn?: string } };
  };
  const principal = context.authorizer?.iam?.userArn;
  if (!principal) return json(403, { error: 'AccessDenied', message: 'an IAM-signed request is required' });
  const requestId = event.pathParameters?.requestId ?? '';
  let body: { decision?: unknown; reason?: unknown };
  try {
    body = JSON.parse(bodyText(event) || '{}') as typeof body;
  } catch {
    return json(400, {
      error: 'BadRequest',
      message: 'the body must be JSON: {"decision": "approve|reject", "reason": "..."}',
    });
  }
  const decision = body.decision;
  const reason = typeof body.reason === 'string' ? body.reason.trim().slice(0, MAX_REASON) : '';
  if (!DECISIONS.includes(decision as Decision)) {
    return json(400, { error: 'BadRequest', message: 'decision must be approve or reject' });
  }
  if (decision === 'reject' && reason === '') {
    return json(400, { error: 'BadRequest', message: 'a rejection needs a reason' });
  }
  const result = await decideAsPrincipal(deps, principal, requestId, decision as Decision, reason);
  return json(result.status, result.body);
}

/** What a console decision came to. */
export interface ConsoleResult {
  readonly status: number;
  readonly body: {
    readonly outcome: 'decided' | 'late' | 'undelivered' | 'closed' | 'expired' | 'not-found' | 'refused';
    readonly message: string;
    readonly request?: ApprovalRequest;
  };
}

/**
 * Decides a request as an IAM principal (the console), held to the incident's verified record like a
 * link: what the deployed route and the local console both run.
 */
export async function decideAsPrincipal(
  deps: DecideDeps,
  principal: string,
  requestId: string,
  decision: Decision,
  reason: string,
): Promise<ConsoleResult> {
  const clock = deps.clock ?? systemClock;
  const allowed = deps.consolePrincipals ?? [];
  if (!mayDecideFromConsole(allowed, principal)) {
    deps.logger?.warn('console decision refused: the principal is not one of the console principals', {
      requestId,
      principal,
    });
    return {
      status: 403,
      body: {
        outcome: 'refused',
        message:
          allowed.length === 0
            ? 'console decisions are off: settings.approval.consolePrincipals lists nobody, so only the approvers decide, by the links emailed to them'
            : `${principal} is not one of settings.approval.consolePrincipals: only the people listed there decide from the console`,
      },
    };
  }
  const checked = await checkedRequest(deps, requestId, (status, message) => ({
    statusCode: status,
    body: message,
  }));
  if (!checked.ok) {
    const status = checked.response.statusCode ?? 500;
    return {
      status,
      body: {
        outcome: status === 404 ? 'not-found' : 'refused',
        message: status === 404 ? `no approval request ${requestId}` : String(checked.response.body),
      },
    };
  }
  const { recorded } = checked;
  const decidedAt = clock();
  if (recorded.expiresAt <= decidedAt) {
    return {
      status: 410,
      body: { outcome: 'expired', message: `approval request ${requestId} expired at ${recorded.expiresAt}` },
    };
  }
  const source: DecisionSource = { via: 'console' };
  const write: DecisionWrite = { decision, decidedBy: principal, decidedAt, reason, source };
  const outcome = await deps.store.decideById(requestId, write);
  if (outcome.kind === 'not-found')
    return { status: 404, body: { outcome: 'not-found', message: `no approval request ${requestId}` } };
  if (outcome.kind !== 'decided') {
    const r = shown(checked, outcome.request.status);
    const message =
      outcome.kind === 'expired'
        ? `approval request ${requestId} expired at ${r.expiresAt}`
        : `approval request ${requestId} is ${r.status}: ${r.decision ?? ''} by ${r.decidedBy ?? 'unknown'} at ${r.decidedAt ?? 'unknown'}`;
    return {
      status: outcome.kind === 'expired' ? 410 : 409,
      body: { outcome: outcome.kind === 'expired' ? 'expired' : 'closed', message, request: r },
    };
  }
  const request = decided(checked, write);
  const delivery = await completeDecision(deps, request, source);
  if (delivery.delivered) {
    return {
      status: 200,
      body: {
        outcome: 'decided',
        message: `${decision === 'approve' ? 'approved' : 'rejected'} as ${principal}`,
        request,
      },
    };
  }
  return {
    status: 409,
    body: {
      outcome: delivery.late ? 'late' : 'undelivered',
      message: deliveryNote(delivery, request) ?? '',
      request,
    },
  };
}
