/**
 * The lifecycle after containment: a person closes an incident (with a reason), notes something on it,
 * or assigns it to someone. Each is a step in the incident's chain with the person as its actor.
 *
 * The same core runs in-process for `cordon incidents close|note|assign --local` (the state folder's
 * recorder, the local operator as actor) and behind the approval API's IAM-authorized routes
 * `POST /console/incidents/{id}/close|note|assign` for the deployed stack (the caller's IAM principal as
 * actor, held to `settings.approval.consolePrincipals` like a console decision): only Cordon's functions
 * hold the record key.
 *
 * Each acts on the verified record only: a record that does not verify is refused
 * ({@link RecordTamperedError}) and nothing is written. Closing releases the incident's open markers (of
 * the resources its verified record names, in the account and region it records), so that a later finding
 * on them opens a new incident.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { AuditRecorder } from '#shared/audit';
import type { IncidentStatus, Phase, Step } from '#shared/domain';
import { CordonError, IncidentNotFoundError, RecordTamperedError, ValidationError } from '#shared/errors';
import { describeError, type Logger } from '#shared/log';
import { type OpenMarkerRef, openMarkersOf } from '#shared/open-markers';
import { mayDecideFromConsole } from '../approval/recorded.ts';

/** A lifecycle change the incident's state does not allow (closing a closed incident). */
export class LifecycleRefusedError extends CordonError {
  override readonly name: string = 'LifecycleRefusedError';
}

export interface LifecycleDeps {
  readonly recorder: Pick<AuditRecorder, 'verified' | 'appendStep'>;
  /** Releases the open markers the incident holds of these; returns the resource ids released. */
  readonly releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) => Promise<string[]>;
  readonly now?: () => Date;
}

/** The longest reason, note or assignee kept (longer ones are refused). */
export const MAX_TEXT = 2000;

/** The phase a note is recorded in: the incident's phase now. */
const PHASE_OF_STATUS: Readonly<Record<IncidentStatus, Phase>> = {
  open: 'identification',
  contained: 'containment',
  recovered: 'recovery',
  failed: 'identification',
  closed: 'lessons-learned',
};

function text(what: string, value: string): string {
  const trimmed = value.trim();
  if (trimmed === '') throw new ValidationError(what, ['must not be empty']);
  if (trimmed.length > MAX_TEXT) {
    throw new ValidationError(what, [`must be at most ${MAX_TEXT} characters, got ${trimmed.length}`]);
  }
  return trimmed;
}

function actorOf(actor: string): string {
  return text('actor', actor);
}

/**
 * Closes an incident: status `closed`, `closedAt`, a `lessons-learned` step with the reason and the actor;
 * its open markers are released first. Refused on a closed incident or a record that does not verify.
 */
export async function closeIncident(
  deps: LifecycleDeps,
  incidentId: string,
  options: { readonly reason: string; readonly actor: string },
): Promise<Step> {
  const reason = text('--reason', options.reason);
  const actor = actorOf(options.actor);
  const { incident } = await deps.recorder.verified(incidentId);
  if (incident.status === 'closed') {
    throw new LifecycleRefusedError(
      `incident ${incidentId} is already closed (at ${incident.closedAt ?? 'an unrecorded time'}); nothing was changed`,
    );
  }
  // The markers of the incident's resources in its place (its account and region, as its record says).
  const released = await deps.releaseOpen(incidentId, openMarkersOf(incident, incident.resources));
  const closedAt = (deps.now?.() ?? new Date()).toISOString();
  return deps.recorder.appendStep(incidentId, {
    phase: 'lessons-learned',
    action: 'incident-close',
    status: 'noted',
    actor,
    changes: { from: incident.status, reason, releasedOpenMarkers: released },
    note: `closed by ${actor} (was ${incident.status}): ${reason}${released.length ? `; new findings on ${released.join(', ')} now open a new incident` : ''}`,
    incident: { status: 'closed', closedAt },
  });
}

/** Notes something on an incident: a step in its current phase, with the actor. */
export async function noteIncident(
  deps: LifecycleDeps,
  incidentId: string,
  options: { readonly text: string; readonly actor: string },
): Promise<Step> {
  const note = text('note', options.text);
  const actor = actorOf(options.actor);
  const { incident } = await deps.recorder.verified(incidentId);
  return deps.recorder.appendStep(incidentId, {
    phase: PHASE_OF_STATUS[incident.status],
    action: 'incident-note',
    status: 'noted',
    actor,
    note,
  });
}

/** Assigns an incident to someone (`assignee`); refused on a closed incident or the same assignee. */
export async function assignIncident(
  deps: LifecycleDeps,
  incidentId: string,
  options: { readonly assignee: string; readonly actor: string },
): Promise<Step> {
  const assignee = text('assignee', options.assignee);
  const actor = actorOf(options.actor);
  const { incident } = await deps.recorder.verified(incidentId);
  if (incident.status === 'closed') {
    throw new LifecycleRefusedError(`incident ${incidentId} is closed: it is not assigned any more`);
  }
  if (incident.assignee === assignee) {
    throw new LifecycleRefusedError(`incident ${incidentId} is already assigned to ${assignee}`);
  }
  return deps.recorder.appendStep(incidentId, {
    phase: PHASE_OF_STATUS[incident.status],
    action: 'incident-assign',
    status: 'noted',
    actor,
    changes: { from: incident.assignee ?? null, to: assignee },
    note: `assigned to ${assignee} by ${actor}${incident.assignee ? ` (was ${incident.assignee})` : ''}`,
    incident: { assignee },
  });
}

/** The lifecycle verbs, as the routes and the console name them. */
export const LIFECYCLE_VERBS = ['close', 'note', 'assign'] as const;
export type LifecycleVerb = (typeof LIFECYCLE_VERBS)[number];

/** The IAM-authorized route of the lifecycle (one per verb). */
export const LIFECYCLE_ROUTE = /^POST \/console\/incidents\/\{id\}\/(close|note|assign)$/;

/** What the lifecycle route answers. */
export interface LifecycleResponse {
  readonly outcome: 'recorded' | 'refused' | 'not-found' | 'tampered' | 'bad-request';
  readonly message: string;
  readonly step?: Step;
}

/** Runs one verb as `actor`, turning the errors a person can act on into an outcome. */
export async function lifecycleAs(
  deps: LifecycleDeps,
  verb: LifecycleVerb,
  incidentId: string,
  actor: string,
  body: { readonly reason?: unknown; readonly text?: unknown; readonly assignee?: unknown },
): Promise<{ status: number; body: LifecycleResponse }> {
  const str = (v: unknown) => (typeof v === 'string' ? v : '');
  try {
    const step =
      verb === 'close'
        ? await closeIncident(deps, incidentId, { reason: str(body.reason), actor })
        : verb === 'note'
          ? await noteIncident(deps, incidentId, { text: str(body.text), actor })
          : await assignIncident(deps, incidentId, { assignee: str(body.assignee), actor });
    return { status: 200, body: { outcome: 'recorded', message: step.note ?? verb, step } };
  } catch (error) {
    if (error instanceof ValidationError)
      return { status: 400, body: { outcome: 'bad-request', message: error.message } };
    if (error instanceof IncidentNotFoundError) {
      return { status: 404, body: { outcome: 'not-found', message: error.message } };
    }
    if (error instanceof LifecycleRefusedError) {
      return { status: 409, body: { outcome: 'refused', message: error.message } };
    }
    if (error instanceof RecordTamperedError) {
      return {
        status: 409,
        body: { outcome: 'tampered', message: `${error.message}; nothing was recorded` },
      };
    }
    throw error;
  }
}

export interface LifecycleHttpDeps extends LifecycleDeps {
  /** `settings.approval.consolePrincipals`: the people's roles. Default none: every request is refused. */
  readonly consolePrincipals?: readonly string[];
  readonly logger?: Pick<Logger, 'warn' | 'error'>;
}

const json = (statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 => ({
  statusCode,
  headers: { 'content-type': 'application/json', 'cache-control': 'no-store' },
  body: JSON.stringify(body),
});

/**
 * Serves `POST /console/incidents/{id}/close|note|assign`: API Gateway checked the caller's SigV4
 * signature and names the principal, who must be one of the console principals (being allowed to call
 * the route is not being a person). Never throws: a failure is a 500 that recorded nothing.
 */
export async function handleLifecycle(
  deps: LifecycleHttpDeps,
  event: APIGatewayProxyEventV2,
): Promise<APIGatewayProxyStructuredResultV2> {
  try {
    const verb = LIFECYCLE_ROUTE.exec(event.routeKey ?? '')?.[1] as LifecycleVerb | undefined;
    if (!verb) return json(404, { outcome: 'not-found', message: `no route ${event.routeKey}` });
    const context = event.requestContext as APIGatewayProxyEventV2['requestContext'] & {
      authorizer?: { iam?: { userArn?: string } };
    };
    const principal = context.authorizer?.iam?.userArn;
    if (!principal) return json(403, { outcome: 'refused', message: 'an IAM-signed request is required' });
    const allowed = deps.consolePrincipals ?? [];
    if (!mayDecideFromConsole(allowed, principal)) {
      deps.logger?.warn('lifecycle refused: the principal is not one of the console principals', {
        principal,
        verb,
      });
      return json(403, {
        outcome: 'refused',
        message:
          allowed.length === 0
            ? 'the console lifecycle is off: settings.approval.consolePrincipals lists nobody'
            : `${principal} is not one of settings.approval.consolePrincipals: only the people listed there close, note or assign from the console`,
      });
    }
    const incidentId = event.pathParameters?.id ?? '';
    if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(incidentId)) {
      return json(400, { outcome: 'bad-request', message: 'the incident id is not one' });
    }
    const raw = event.body ?? '';
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(
        (event.isBase64Encoded ? Buffer.from(raw, 'base64').toString('utf8') : raw).slice(0, 16_384) || '{}',
      ) as Record<string, unknown>;
    } catch {
      return json(400, { outcome: 'bad-request', message: 'the body must be JSON' });
    }
    const result = await lifecycleAs(deps, verb, incidentId, principal, body);
    return json(result.status, result.body);
  } catch (error) {
    deps.logger?.error('lifecycle request failed', { error: describeError(error) });
    return json(500, { outcome: 'refused', message: 'nothing was recorded' });
  }
}
