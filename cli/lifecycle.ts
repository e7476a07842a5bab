/**
 * `cordon incidents close|note|assign`: the lifecycle after containment, each a step in the incident's
 * chain with its actor (functions/lifecycle/core.ts). Never written by the console itself on the deployed
 * stack (only Cordon's functions hold the record key): a SigV4-signed `POST
 * <ApprovalUrl>/console/incidents/<id>/<verb>`, recorded by the lifecycle function as the caller's IAM
 * principal. Locally (`--local`, the demo): the same core in-process with the state folder's recorder, as
 * the local operator.
 */
import { readFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import type { AuditRecorder, DocumentSender } from '#shared/audit';
import type { Step } from '#shared/domain';
import { CordonError, IncidentNotFoundError, ValidationError } from '#shared/errors';
import { releaseOpenMarkers } from '#shared/open-markers';
import {
  assignIncident as assignCore,
  closeIncident as closeCore,
  type LifecycleDeps,
  LifecycleRefusedError,
  type LifecycleResponse,
  type LifecycleVerb,
  noteIncident as noteCore,
} from '../functions/lifecycle/core.ts';
import { type SignedPostOptions, signedPoster } from './console-decisions.ts';

export { LifecycleRefusedError } from '../functions/lifecycle/core.ts';

/** The local record a lifecycle step is written to: the state folder's recorder and its table's client. */
export interface LocalRecord {
  readonly recorder: AuditRecorder;
  /** A client of the recorder's table, to release the open markers a closed incident held. */
  readonly documents: DocumentSender;
}

function depsOf(record: LocalRecord): LifecycleDeps {
  return {
    recorder: record.recorder,
    releaseOpen: (incidentId, resourceIds) =>
      releaseOpenMarkers(record.documents, record.recorder.tableName, incidentId, resourceIds),
  };
}

/** The local operator, the actor of a lifecycle step taken on the local runtime: `local:<user name>`. */
export function localOperator(): string {
  let name = 'operator';
  try {
    name = userInfo().username || name;
  } catch {
    // No user name (a container without a passwd entry): the generic operator.
  }
  return `local:${name}`;
}

/** Closes an incident on the local record (verified first; releases its open markers). */
export function closeIncident(
  record: LocalRecord,
  incidentId: string,
  options: { readonly reason: string; readonly actor: string },
): Promise<Step> {
  return closeCore(depsOf(record), incidentId, options);
}

/** Notes something on an incident of the local record. */
export function noteIncident(
  record: LocalRecord,
  incidentId: string,
  options: { readonly text: string; readonly actor: string },
): Promise<Step> {
  return noteCore(depsOf(record), incidentId, options);
}

/** Assigns an incident of the local record. */
export function assignIncident(
  record: LocalRecord,
  incidentId: string,
  options: { readonly assignee: string; readonly actor: string },
): Promise<Step> {
  return assignCore(depsOf(record), incidentId, options);
}

/** What a lifecycle verb is given: the reason of a close, the text of a note, the assignee. */
export type LifecycleBody =
  | { readonly reason: string }
  | { readonly text: string }
  | { readonly assignee: string };

/** The deployed lifecycle refused a request; the message is the function's (or API Gateway's). */
export class LifecycleRequestError extends CordonError {
  override readonly name: string = 'LifecycleRequestError';
}

/**
 * The deployed lifecycle: signs each request with the default credential chain (or `profile`) for
 * `execute-api` in the API's region; returns the recorded step, or throws the named error of a refusal.
 */
export function httpLifecycle(
  apiUrl: string,
  options: SignedPostOptions = {},
): (verb: LifecycleVerb, incidentId: string, body: LifecycleBody) => Promise<Step> {
  const post = signedPoster(apiUrl, options);
  return async (verb, incidentId, body) => {
    const response = await post(`/console/incidents/${encodeURIComponent(incidentId)}/${verb}`, body);
    const answer = await response.text();
    let parsed: Partial<LifecycleResponse>;
    try {
      parsed = JSON.parse(answer) as Partial<LifecycleResponse>;
    } catch {
      parsed = { message: `${response.status} ${answer.slice(0, 200)}` };
    }
    const message =
      parsed.message ??
      (response.status === 403
        ? 'API Gateway refused the signed request: your principal may not call execute-api:Invoke on the console route'
        : `HTTP ${response.status}`);
    if (parsed.outcome === 'recorded' && parsed.step) return parsed.step;
    if (parsed.outcome === 'not-found') throw new IncidentNotFoundError(message);
    if (parsed.outcome === 'refused' && response.status === 409) throw new LifecycleRefusedError(message);
    throw new LifecycleRequestError(`${verb} ${incidentId}: ${message}`);
  };
}

/**
 * The approval API the lifecycle routes are on: `--api-url`, `$CORDON_APPROVAL_URL`, or the stack's
 * `ApprovalUrl` output in the working directory's cdk-outputs.json.
 */
export function lifecycleApiUrl(explicit: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  let fromOutputs: string | undefined;
  try {
    const outputs = JSON.parse(readFileSync(join(process.cwd(), 'cdk-outputs.json'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
    const value = outputs.Cordon?.ApprovalUrl;
    fromOutputs = typeof value === 'string' && value !== '' ? value : undefined;
  } catch {
    fromOutputs = undefined;
  }
  const url = explicit ?? env.CORDON_APPROVAL_URL ?? fromOutputs;
  if (!url) {
    throw new ValidationError('--api-url', [
      'the approval API is unknown: pass --api-url, set CORDON_APPROVAL_URL, keep the cdk-outputs.json of `cdk deploy --outputs-file cdk-outputs.json`, or use --local',
    ]);
  }
  return url;
}
