/**
 * A repeat delivery of a finding the lock has seen: a duplicate, which starts nothing and raises what the
 * delivery reports later than the record (the finding's count and last-seen time, the incident's last-seen
 * time), or the take-over of an earlier delivery that failed or stalled.
 *
 * Round trips: none beyond the lock for an identical delivery; one for a higher count; for a later
 * last-seen time, the finding's raise beside the incident's (a read of its head unless the recorder knows
 * it, then one write). A take-over: one conditional update, beside the raise.
 */
import type { AuditRecorder } from '#shared/audit';
import { type AuditQueries, type FindingRecord, findingRecordOf } from '#shared/audit-queries';
import type { IdSource } from '#shared/clock';
import type { Finding } from '#shared/domain';

/** The outcome of a delivery that starts nothing because another delivery of the finding did or does. */
export interface DuplicateOutcome {
  readonly outcome: 'duplicate';
  readonly findingId: string;
  /** The incident the finding is routed to. */
  readonly incidentId: string;
  /** Deliveries of the finding so far, this one counted. */
  readonly deliveries: number;
}

/** What a repeat delivery needs of the router's deps. */
export interface RepeatDeps {
  readonly recorder: Pick<AuditRecorder, 'raiseLastSeen'>;
  readonly queries: Pick<AuditQueries, 'raiseFinding' | 'takeOverFinding'>;
  readonly ids: IdSource;
  /** See `RouterDeps.staleAfterMs`. */
  readonly staleAfterMs?: number;
}

/** A delivery another one took over, as the finding's record says (the incident it was routed to). */
export function duplicateOf(
  finding: Finding,
  item: Record<string, unknown> | undefined,
  incidentId: string,
): DuplicateOutcome {
  const record = item === undefined ? undefined : findingRecordOf(item, finding.id);
  return {
    outcome: 'duplicate',
    findingId: finding.id,
    incidentId: record?.incidentId || incidentId,
    deliveries: record?.deliveries ?? 1,
  };
}

/**
 * A repeat delivery: a duplicate, its higher count and later last-seen time raised on the finding and its
 * incident; or, when the earlier delivery failed or stalled, taken over (by exactly one delivery) to finish
 * that one's work with its incident id.
 */
export async function repeated(
  deps: RepeatDeps,
  finding: Finding,
  earlier: FindingRecord,
  now: Date,
): Promise<{ incidentId: string } | { outcome: DuplicateOutcome }> {
  const count = finding.count ?? 1;
  const lastSeen = finding.lastSeen > earlier.lastSeen ? finding.lastSeen : undefined;
  const raise = { ...(count > earlier.count ? { count } : {}), ...(lastSeen ? { lastSeen } : {}) };
  const raiseFinding = async () => {
    if (raise.count !== undefined || raise.lastSeen !== undefined)
      await deps.queries.raiseFinding(finding, finding.id, raise);
  };
  // The incident's record raises its own last-seen time only when it is later (a step that says so).
  const raiseIncident = async () => {
    if (lastSeen !== undefined && earlier.incidentId !== '')
      await deps.recorder.raiseLastSeen(earlier.incidentId, lastSeen).catch(() => undefined);
  };
  const duplicate = {
    outcome: {
      outcome: 'duplicate' as const,
      findingId: finding.id,
      incidentId: earlier.incidentId,
      deliveries: earlier.deliveries,
    },
  };
  const staleBefore = new Date(now.getTime() - (deps.staleAfterMs ?? 45_000)).toISOString();
  const takeable =
    earlier.status === 'failed' || (earlier.status === 'routing' && earlier.claimedAt < staleBefore);
  if (!takeable) {
    await Promise.all([raiseFinding(), raiseIncident()]);
    return duplicate;
  }
  const [taken] = await Promise.all([
    deps.queries.takeOverFinding(finding, finding.id, staleBefore, now.toISOString()),
    raiseFinding(),
  ]);
  if (!taken) {
    await raiseIncident();
    return duplicate;
  }
  // An earlier delivery failed or died part way: finish its work, with its incident id.
  return { incidentId: earlier.incidentId === '' ? deps.ids() : earlier.incidentId };
}
