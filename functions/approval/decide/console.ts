/**
 * Console decisions: `POST /console/approvals/{requestId}`, IAM-authorized (API Gateway checked the
 * caller's SigV4 signature), decides as the caller's principal if it is one of
 * `settings.approval.consolePrincipals`; {@link decideAsPrincipal} is also what the local console runs.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { systemClock } from '#shared/clock';
import { completeDecision } from '../decision.ts';
import { type ApprovalRequest, DECISIONS, type Decision, type DecisionSource } from '../model.ts';
import { mayDecideFromConsole } from '../recorded.ts';
import type { DecisionWrite } from '../store.ts';
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

/** A console decision: API Gateway verified the caller's IAM signature and names the caller. */
export async function consoleDecision(
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
