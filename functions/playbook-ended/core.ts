/**
 * When a playbook's execution ends (Step Functions' "Execution Status Change" event: SUCCEEDED, FAILED,
 * TIMED_OUT, ABORTED), the incident's record says so, and its open-resource markers are released: a later
 * finding on the same resource then opens a new incident and a new run instead of joining one that no
 * longer acts (after an approval was declined or timed out, a failure, a dry run).
 */
import * as z from 'zod/mini';
import type { AuditRecorder } from '#shared/audit';
import { parseOrThrow } from '#shared/domain';

export const PlaybookEndedEventSchema = z.looseObject({
  detail: z.looseObject({
    executionArn: z.string().check(z.minLength(1)),
    stateMachineArn: z.string(),
    status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
    /** The execution's input, as JSON text. */
    input: z.optional(z.nullable(z.string())),
  }),
});

export interface PlaybookEndedDeps {
  readonly recorder: Pick<AuditRecorder, 'getIncident' | 'appendStep' | 'steps'>;
  readonly releaseOpen: (incidentId: string, resourceIds: readonly string[]) => Promise<string[]>;
}

export type PlaybookEndedOutcome =
  | { outcome: 'recorded'; incidentId: string; released: string[] }
  | { outcome: 'already-recorded'; incidentId: string }
  | { outcome: 'not-an-incident'; reason: string };

/** Records the end of an execution on its incident and releases the incident's open markers. */
export async function playbookEnded(deps: PlaybookEndedDeps, event: unknown): Promise<PlaybookEndedOutcome> {
  const { detail } = parseOrThrow(PlaybookEndedEventSchema, event, 'execution status change');
  let incidentId: unknown;
  try {
    incidentId = (JSON.parse(detail.input ?? '{}') as { incidentId?: unknown }).incidentId;
  } catch {
    return { outcome: 'not-an-incident', reason: 'the execution input is not JSON' };
  }
  if (typeof incidentId !== 'string' || incidentId === '') {
    return { outcome: 'not-an-incident', reason: 'the execution input names no incident' };
  }
  const incident = await deps.recorder.getIncident(incidentId);
  const released = await deps.releaseOpen(
    incidentId,
    incident.resources.map((r) => r.id),
  );
  const steps = await deps.recorder.steps(incidentId);
  const playbook = detail.stateMachineArn.split(':').at(-1) ?? detail.stateMachineArn;
  if (steps.some((s) => s.action === 'playbook-ended' && s.executionArn === detail.executionArn)) {
    return { outcome: 'already-recorded', incidentId };
  }
  await deps.recorder.appendStep(incidentId, {
    phase: 'lessons-learned',
    action: 'playbook-ended',
    status: 'noted',
    actor: 'automation',
    executionArn: detail.executionArn,
    changes: { status: detail.status, releasedOpenMarkers: released },
    note: `${playbook} ended ${detail.status}${released.length ? `; new findings on ${released.join(', ')} now open a new incident` : ''}`,
  });
  return { outcome: 'recorded', incidentId, released };
}
