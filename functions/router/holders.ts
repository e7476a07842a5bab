/**
 * What the router believes of what the table says another incident holds: a resource's open marker (join
 * its incident, or replace the marker) and an expired blast-radius slot (free, or still held). Neither is
 * evidence: each is believed only after the holder's record verifies.
 */
import type { AuditRecorder, StoredIncident, VerifiedRecord } from '#shared/audit';
import { AUTOMATIC_WINDOW_MINUTES, type AutomaticContainment } from '#shared/audit-queries';
import { type Place, resourceKey } from '#shared/audit-table';
import { IncidentNotFoundError, RecordTamperedError } from '#shared/errors';
import type { Logger } from '#shared/log';

/** What these checks need of the router's deps. */
export interface HolderDeps {
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

/** Whether a marker's holder may be joined: its incident, or why not (said for the new incident's record). */
export type Verdict =
  | { readonly join: true; readonly incident: StoredIncident }
  | { readonly join: false; readonly reason: string };

/**
 * Whether a finding on `resource`, in `place`, may join `holder`, the incident its open marker names: only
 * when the holder's record verifies, it is neither recovered nor closed nor past the end of its playbook
 * (which releases the marker), and it is on the resource in the same place (the same account, and the
 * same region for a regional resource: the marker's key says so, but the key is only the table's word).
 * Else why not, said for the new incident's record, and the marker is replaced, never joined. One call to
 * verify (the recorder then knows the holder's head, so that the step that joins it is one write).
 */
export async function joinable(
  deps: HolderDeps,
  holder: string,
  place: Place,
  resource: { readonly type: string; readonly id: string },
): Promise<Verdict> {
  const resourceId = resource.id;
  const marker = `the open-resource marker of ${resourceId} named incident ${holder}`;
  const opening = 'so a new incident is opened instead of joining it';
  let record: VerifiedRecord | undefined;
  try {
    record = await verifiedWhenOpen(deps.recorder, holder);
  } catch (error) {
    if (!(error instanceof RecordTamperedError)) throw error;
    deps.logger.error('an open-resource marker names an incident whose record does not verify', {
      resourceId,
      incidentId: holder,
      ...error.result,
    });
    return {
      join: false,
      reason: `${marker}, whose record does not verify (${error.result.kind} at step ${error.result.brokenSeq}: ${error.result.reason}), ${opening}`,
    };
  }
  if (record === undefined) {
    deps.logger.warn('an open-resource marker names an incident that does not exist', {
      resourceId,
      incidentId: holder,
    });
    return { join: false, reason: `${marker}, which does not exist, ${opening}` };
  }
  const { incident, steps } = record;
  if (incident.status === 'recovered' || incident.status === 'closed') {
    return { join: false, reason: `${marker}, which is ${incident.status}, ${opening}` };
  }
  if (steps.some((step) => step.action === 'playbook-ended')) {
    return { join: false, reason: `${marker}, whose playbook has ended, ${opening}` };
  }
  if (!incident.resources.some((r) => r.id === resourceId)) {
    return { join: false, reason: `${marker}, which is not on ${resourceId}, ${opening}` };
  }
  const key = resourceKey(place, resource);
  if (!incident.resources.some((r) => r.id === resourceId && resourceKey(incident, r) === key)) {
    return {
      join: false,
      reason: `${marker}, which is in ${incident.account}/${incident.region}, not on the ${resourceId} of ${place.account}/${place.region}, ${opening}`,
    };
  }
  return { join: true, incident };
}

/**
 * An incident's verified record; undefined when it does not exist. The router writes a marker in one
 * transaction with its incident, but a router of an earlier version wrote the marker first and opened the
 * incident after it: an incident that is missing is waited for briefly, for such a router in a deployment.
 */
async function verifiedWhenOpen(
  recorder: HolderDeps['recorder'],
  incidentId: string,
): Promise<VerifiedRecord | undefined> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await recorder.verified(incidentId);
    } catch (error) {
      if (!(error instanceof IncidentNotFoundError)) throw error;
      if (attempt >= 50) return undefined;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}

/**
 * Why an expired blast-radius slot (of `owner`: an account's id, or `the organization`) still counts, if
 * its holder's record says so: the slot's `takenAt` is
 * only the table's word. The holder's last automatic triage (or, without one, its opening) is when it took
 * the slot; within the window, the slot was moved back and still counts. A holder that does not exist, or
 * whose record does not verify, cannot say when: its slot counts too (a forged slot never frees a place).
 */
export async function slotStillHeld(
  deps: HolderDeps,
  owner: string,
  expired: AutomaticContainment,
  now: Date,
): Promise<string | undefined> {
  const slot = `blast-radius slot ${expired.slot} of ${owner} says ${expired.incidentId} took it at ${expired.takenAt}`;
  const counts = `so it still counts against the limit`;
  let record: VerifiedRecord;
  try {
    record = await deps.recorder.verified(expired.incidentId);
  } catch (error) {
    if (error instanceof IncidentNotFoundError) return `${slot}, but no such incident exists, ${counts}`;
    if (error instanceof RecordTamperedError) return `${slot}, but its record does not verify, ${counts}`;
    throw error;
  }
  let takenAt = record.incident.openedAt;
  for (const step of record.steps) {
    const mode = (step.changes as { mode?: unknown } | undefined)?.mode;
    if (step.action === 'triage' && mode === 'automatic' && step.recordedAt > takenAt)
      takenAt = step.recordedAt;
  }
  const since = new Date(now.getTime() - AUTOMATIC_WINDOW_MINUTES * 60_000).toISOString();
  if (takenAt <= since) return undefined;
  deps.logger.warn('a blast-radius slot was dated back', { ...expired, owner, recordSays: takenAt });
  return `${slot}, but its record shows it contained automatically at ${takenAt}, within the last ${AUTOMATIC_WINDOW_MINUTES} minutes, ${counts}`;
}
