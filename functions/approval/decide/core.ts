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
 *
 * This module holds the link routes; checked.ts what the routes share, console.ts the console route.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { systemClock } from '#shared/clock';
import { describeError } from '#shared/log';
import { linkMacMessage } from '#shared/seal';
import { completeDecision } from '../decision.ts';
import { hashLinkId, isLinkId } from '../links.ts';
import { DECISIONS, type Decision, type DecisionSource } from '../model.ts';
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
import type { DecisionWrite, StoredLink } from '../store.ts';
import {
  bodyText,
  checkedRequest,
  type DecideDeps,
  decided,
  deliveryNote,
  json,
  MAX_REASON,
  shown,
} from './checked.ts';
import { consoleDecision } from './console.ts';

export { type DecideDeps, MAX_REASON } from './checked.ts';
export { type ConsoleResult, decideAsPrincipal } from './console.ts';

/** The route of console decisions (IAM-authorized). */
export const CONSOLE_ROUTE = 'POST /console/approvals/{requestId}';

function page(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...PAGE_HEADERS }, body };
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

/** True when the link item carries the record key's MAC of its hash, request, approver and expiry. */
async function linkIsCordons(deps: DecideDeps, linkHash: string, link: StoredLink): Promise<boolean> {
  if (typeof link.mac !== 'string' || link.mac === '') return false;
  return deps.recorder.seal.verify(
    linkMacMessage(linkHash, link.requestId, link.approver, link.expiresAt),
    link.mac,
  );
}
