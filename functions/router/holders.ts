/**
 * What the router believes of what the table says another incident holds: a resource's open marker (join
 * its incident, or replace the marker) and an expired blast-radius slot (free, or still held). Neither is
 * evidence: each is believed only after the holder's record verifies.
 */
import type { AuditRecorder, StoredIncident, VerifiedRecord } from '#shared/audit';
import {
  AUTOMATIC_WINDOW_MINUTES,
  type AuditQueries,
  type AutomaticContainment,
} from '#shared/audit-queries';
import { IncidentNotFoundError, RecordTamperedError } from '#shared/errors';
import type { Logger } from '#shared/log';

/** What these checks need of the router's deps. */
export interface HolderDeps {
  readonly queries: Pick<AuditQueries, 'claimOpen' | 'replaceOpen'>;
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  readonly logger: Pick<Logger, 'warn' | 'error'>;
}

/** What became of a resource's open marker: its holder joined, or the marker taken (and what it replaced). */
export type Claim =
  | { readonly kind: 'joined'; readonly holder: string; readonly incident: StoredIncident }
  | { readonly kind: 'claimed'; readonly notes: readonly string[] };

/**
 * How many holders, one after another, a finding refuses to join before its incident opens without the
 * marker: each is a marker moved since it was read, so only a writer racing it on purpose gets here.
 */
const MAX_REFUSED_HOLDERS = 3;

/**
 * Claims a resource's open marker for `candidateId`, or joins the incident that holds it when that one may
 * be joined ({@link joinable}). A holder that may not is replaced, conditionally (another router doing the
 * same wins once, and the rest join its incident), and the notes say what was replaced and why.
 */
export async function claimResource(
  deps: HolderDeps,
  resourceId: string,
  candidateId: string,
): Promise<Claim> {
  const notes: string[] = [];
  let holder = await deps.queries.claimOpen(resourceId, candidateId);
  while (holder !== candidateId) {
    const verdict = await joinable(deps, holder, resourceId);
    if (verdict.join) return { kind: 'joined', holder, incident: verdict.incident };
    notes.push(verdict.reason);
    if (notes.length >= MAX_REFUSED_HOLDERS) {
      deps.logger.warn('an open-resource marker keeps changing: the incident opens without it', {
        resourceId,
        incidentId: candidateId,
      });
      notes.push(
        `the open-resource marker of ${resourceId} kept moving to incidents that cannot be joined: this incident opens without it, and later findings on ${resourceId} do not join it`,
      );
      return { kind: 'claimed', notes };
    }
    holder = await deps.queries.replaceOpen(resourceId, holder, candidateId);
  }
  return { kind: 'claimed', notes };
}

/**
 * Whether a finding on `resourceId` may join `holder`, the incident its open marker names: only when the
 * holder's record verifies, it is neither recovered nor closed nor past the end of its playbook (which
 * releases the marker), and it is on the resource. Else why not, said for the new incident's record.
 */
async function joinable(
  deps: HolderDeps,
  holder: string,
  resourceId: string,
): Promise<{ join: true; incident: StoredIncident } | { join: false; reason: string }> {
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
  return { join: true, incident };
}

/**
 * An incident's verified record, waiting briefly for an incident another router may still be opening (its
 * marker is written first); undefined when it never appears.
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
 * Why an expired blast-radius slot still counts, if its holder's record says so: the slot's `takenAt` is
 * only the table's word. The holder's last automatic triage (or, without one, its opening) is when it took
 * the slot; within the window, the slot was moved back and still counts. A holder that does not exist, or
 * whose record does not verify, cannot say when: its slot counts too (a forged slot never frees a place).
 */
export async function slotStillHeld(
  deps: HolderDeps,
  account: string,
  expired: AutomaticContainment,
  now: Date,
): Promise<string | undefined> {
  const slot = `blast-radius slot ${expired.slot} of ${account} says ${expired.incidentId} took it at ${expired.takenAt}`;
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
  deps.logger.warn('a blast-radius slot was dated back', { ...expired, account, recordSays: takenAt });
  return `${slot}, but its record shows it contained automatically at ${takenAt}, within the last ${AUTOMATIC_WINDOW_MINUTES} minutes, ${counts}`;
}
