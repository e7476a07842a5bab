/** The core of `mark-incident`: records an incident's status and its times (contained, recovered, closed). */
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { INCIDENT_STATUSES, parseOrThrow } from '#shared/domain';

const isoDate = z
  .string()
  .check(z.refine((v) => !Number.isNaN(Date.parse(v)), { message: 'must be an ISO date' }));

export const MarkIncidentInputSchema = z.looseObject({
  incidentId: z.string().check(z.minLength(1, 'must not be empty')),
  status: z.enum(INCIDENT_STATUSES),
  containedAt: z.optional(isoDate),
  recoveredAt: z.optional(isoDate),
  /** The result of the action that contained (or recovered): its `output.containedAt` is used when given. */
  result: z.optional(
    z.looseObject({ output: z.optional(z.looseObject({ containedAt: z.optional(isoDate) })) }),
  ),
  dryRun: z.optional(z.boolean()),
});

export interface MarkIncidentDeps {
  readonly recorder: Pick<AuditRecorder, 'getIncident' | 'updateIncident'>;
  readonly now: () => Date;
}

/** Sets the status (and the time that goes with it); in a dry run, reports it and changes nothing. */
export async function markIncident(deps: MarkIncidentDeps, input: unknown): Promise<ActionResult> {
  const { incidentId, status, recoveredAt, dryRun, result, ...rest } = parseOrThrow(
    MarkIncidentInputSchema,
    input,
    'mark-incident input',
  );
  const containedAt = rest.containedAt ?? result?.output?.containedAt;
  const incident = await deps.recorder.getIncident(incidentId);
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
  await deps.recorder.updateIncident(incidentId, fields);
  return { status: 'succeeded', before, changes: fields, note: `incident ${status}` };
}
