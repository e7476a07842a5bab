/**
 * The core of `mark-incident`: records an incident's status and its times (contained, recovered, closed).
 *
 * It reads the incident through its verified record: the status it compares with and the resources whose
 * open markers it releases are the record's, not whatever the incident item says now. A record that does
 * not verify throws `RecordTamperedError` (the action's recorded failure, emailed by the playbook), and the
 * markers stay; the router joins no finding to an incident whose record does not verify.
 */
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { INCIDENT_STATUSES, parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { type OpenMarkerRef, openMarkersOf } from '#shared/open-markers';

const isoDate = lazySchema(() =>
  z.string().check(z.refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an ISO date' })),
);

export const MarkIncidentInputSchema = lazySchema(() =>
  z.looseObject({
    incidentId: z.string().check(z.minLength(1, 'must not be empty')),
    status: z.enum(INCIDENT_STATUSES),
    containedAt: z.optional(isoDate),
    recoveredAt: z.optional(isoDate),
    /** The result of the action that contained (or recovered): its `output.containedAt` is used when given. */
    result: z.optional(
      z.looseObject({ output: z.optional(z.looseObject({ containedAt: z.optional(isoDate) })) }),
    ),
    dryRun: z.optional(z.boolean()),
  }),
);

export interface MarkIncidentDeps {
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  /** Releases the incident's open-resource markers (when it is recovered or closed). */
  readonly releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) => Promise<string[]>;
  readonly now: () => Date;
  /** Emits the time to contain, in seconds from the incident's opening (a CloudWatch metric when deployed). */
  readonly emitTimeToContain?: (seconds: number) => void;
}

/**
 * Sets the status (and the time that goes with it): the change goes with the action's final step (the
 * audit middleware writes both in one transaction). In a dry run, reports it and changes nothing.
 */
export async function markIncident(deps: MarkIncidentDeps, input: unknown): Promise<ActionResult> {
  const { incidentId, status, recoveredAt, dryRun, result, ...rest } = parseOrThrow(
    MarkIncidentInputSchema,
    input,
    'mark-incident input',
  );
  const containedAt = rest.containedAt ?? result?.output?.containedAt;
  const { incident } = await deps.recorder.verified(incidentId);
  const now = deps.now().toISOString();
  const fields = {
    status,
    ...(status === 'contained' ? { containedAt: containedAt ?? now } : {}),
    ...(status === 'recovered' ? { recoveredAt: recoveredAt ?? now } : {}),
    ...(status === 'closed' ? { closedAt: now } : {}),
  };
  const before = {
    status: incident.status,
    containedAt: incident.containedAt,
    recoveredAt: incident.recoveredAt,
    closedAt: incident.closedAt,
  };
  if (incident.status === status)
    return { status: 'already-done', before, note: `incident already ${status}` };
  if (dryRun)
    return { status: 'succeeded', dryRun: true, before, changes: fields, note: `would mark ${status}` };
  if (status === 'contained') {
    const seconds = (Date.parse(containedAt ?? now) - Date.parse(incident.openedAt)) / 1000;
    if (Number.isFinite(seconds) && seconds >= 0) deps.emitTimeToContain?.(seconds);
  }
  // A finished incident no longer collects new findings on its resources: they open a new one.
  const released =
    status === 'recovered' || status === 'closed'
      ? await deps.releaseOpen(incidentId, openMarkersOf(incident, incident.resources))
      : [];
  return {
    status: 'succeeded',
    before,
    changes: { ...fields, ...(released.length ? { releasedOpenMarkers: released } : {}) },
    note: `incident ${status}`,
    incident: fields,
  };
}
