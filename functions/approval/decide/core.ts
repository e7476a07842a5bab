/**
 * The core of the decision function behind the HTTP API (payload format 2.0):
 *
 * - `GET /approvals/{id}` shows the decision page and changes nothing (mail scanners fetch links);
 * - `POST /approvals/{id}` with `decision=approve|reject&reason=...` decides once, by a conditional
 *   write, records the decision with the link's approver as actor, and hands it to Step Functions.
 *
 * An unknown, malformed or tampered id gets a 404 that says nothing more; an expired link or a request
 * already decided gets a page that says so, and who decided.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AuditRecorder } from '#shared/audit';
import { type Clock, systemClock } from '#shared/clock';
import { describeError, type Logger } from '#shared/log';
import { completeDecision, type TaskCallbacks } from '../decision.ts';
import { hashLinkId, isLinkId } from '../links.ts';
import { DECISIONS, type Decision, type DecisionSource } from '../model.ts';
import {
  badRequestPage,
  closedPage,
  decidedPage,
  decisionPage,
  errorPage,
  expiredPage,
  notFoundPage,
  PAGE_HEADERS,
} from '../page.ts';
import { type ApprovalStore, publicView } from '../store.ts';

export interface DecideDeps {
  readonly store: ApprovalStore;
  readonly recorder: AuditRecorder;
  readonly sfn: TaskCallbacks;
  readonly clock?: Clock;
  readonly logger?: Logger;
}

/** The longest reason kept; longer ones are cut. */
export const MAX_REASON = 1000;

function page(statusCode: number, body: string): APIGatewayProxyStructuredResultV2 {
  return { statusCode, headers: { ...PAGE_HEADERS }, body };
}

function formBody(event: APIGatewayProxyEventV2): URLSearchParams {
  const raw = event.body ?? '';
  const text = event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw;
  return new URLSearchParams(text.slice(0, 16_384));
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
  try {
    return await route(deps, event);
  } catch (error) {
    deps.logger?.error('decision request failed', { error: describeError(error) });
    return page(500, errorPage());
  }
}

async function route(
  deps: DecideDeps,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
  const linkId = linkIdOf(event);
  if (linkId === undefined || !isLinkId(linkId)) return page(404, notFoundPage());
  const linkHash = hashLinkId(linkId);
  const clock = deps.clock ?? systemClock;

  if (method === 'GET' || method === 'HEAD') {
    const link = await deps.store.link(linkHash);
    const request = link ? await deps.store.get(link.requestId) : undefined;
    if (!link || !request) return page(404, notFoundPage());
    const view = publicView(request);
    if (request.status !== 'pending') return page(409, closedPage(view));
    if (link.usedAt !== undefined) return page(409, closedPage(view));
    if (request.expiresAt <= clock()) return page(410, expiredPage(view));
    return page(200, decisionPage(view, link.approver));
  }
  if (method !== 'POST')
    return { ...page(405, badRequestPage()), headers: { ...PAGE_HEADERS, allow: 'GET, POST' } };

  const form = formBody(event);
  const decision = form.get('decision');
  if (!DECISIONS.includes(decision as Decision)) {
    // Unknown links stay 404 even with a bad body, so that a probe learns nothing.
    if (!(await deps.store.link(linkHash))) return page(404, notFoundPage());
    return page(400, badRequestPage());
  }
  const link = await deps.store.link(linkHash);
  if (!link) return page(404, notFoundPage());
  const source: DecisionSource = {
    via: 'link',
    sourceIp: event.requestContext?.http?.sourceIp,
    userAgent: event.requestContext?.http?.userAgent ?? event.headers?.['user-agent'],
  };
  const outcome = await deps.store.decideByLink(linkHash, {
    decision: decision as Decision,
    decidedBy: link.approver,
    decidedAt: clock(),
    reason: (form.get('reason') ?? '').trim().slice(0, MAX_REASON),
    source,
  });
  switch (outcome.kind) {
    case 'not-found':
      return page(404, notFoundPage());
    case 'expired':
      return page(410, expiredPage(publicView(outcome.request)));
    case 'closed':
    case 'link-used':
      return page(409, closedPage(publicView(outcome.request)));
    case 'decided': {
      const delivery = await completeDecision(
        { recorder: deps.recorder, sfn: deps.sfn, logger: deps.logger },
        outcome.request,
        source,
      );
      deps.logger?.info('approval decided', {
        requestId: outcome.request.requestId,
        decision: outcome.request.decision,
        delivered: delivery.delivered,
      });
      const note = delivery.delivered
        ? undefined
        : 'Your decision is recorded, but the playbook no longer waits for it (it timed out or was stopped).';
      return page(200, decidedPage(publicView(outcome.request), note));
    }
  }
}
