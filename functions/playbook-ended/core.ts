/**
 * When a playbook's execution ends (Step Functions' "Execution Status Change" event: SUCCEEDED, FAILED,
 * TIMED_OUT, ABORTED), the incident's record says so, and its open-resource markers are released. A run that
 * did not succeed leaves the incident `failed` (it needs a person's attention), even after containment: the
 * step says what was done before the failure. A closed incident stays closed. Once released, a later
 * finding on the same resource opens a new incident and a new run instead of joining one that no
 * longer acts (after an approval was declined or timed out, a failure, a dry run).
 *
 * The resources whose markers are released are those of the incident's verified record, in the account and
 * region it records (a marker is keyed by both, functions/shared/open-markers.ts): a list edited on
 * the incident item would otherwise leave a marker behind, and every later finding on that resource would
 * join an incident that no longer acts. A record that does not verify releases nothing: the end is
 * recorded as failed where the recorder still appends, and the function fails, so that the event goes to
 * the dead-letter queue and its alarm emails the approvers. The markers left behind name an incident whose
 * record does not verify, which the router refuses to join: a later finding opens a new incident.
 */
import * as z from 'zod/mini';
import type { AuditRecorder, VerifiedRecord } from '#shared/audit';
import { parseOrThrow, type Step } from '#shared/domain';
import { RecordTamperedError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { describeError, type Logger } from '#shared/log';
import { type OpenMarkerRef, openMarkersOf } from '#shared/open-markers';

export const PlaybookEndedEventSchema = lazySchema(() =>
  z.looseObject({
    detail: z.looseObject({
      executionArn: z.string().check(z.minLength(1)),
      stateMachineArn: z.string(),
      status: z.enum(['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED']),
      /** The execution's input, as JSON text. */
      input: z.optional(z.nullable(z.string())),
      /** On a failure: the error and cause the execution failed with. */
      error: z.optional(z.nullable(z.string())),
      cause: z.optional(z.nullable(z.string())),
    }),
  }),
);

export interface PlaybookEndedDeps {
  readonly recorder: Pick<AuditRecorder, 'verified' | 'appendStep' | 'steps'>;
  readonly releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) => Promise<string[]>;
  readonly logger?: Pick<Logger, 'error'>;
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
  const playbook = detail.stateMachineArn.split(':').at(-1) ?? detail.stateMachineArn;
  let record: VerifiedRecord;
  try {
    record = await deps.recorder.verified(incidentId);
  } catch (error) {
    if (error instanceof RecordTamperedError) await recordRefusal(deps, incidentId, playbook, detail, error);
    throw error;
  }
  const { incident, steps } = record;
  // The markers of the incident's resources in its place (its account and region, as its record says).
  const released = await deps.releaseOpen(incidentId, openMarkersOf(incident, incident.resources));
  if (steps.some((s) => s.action === 'playbook-ended' && s.executionArn === detail.executionArn)) {
    return { outcome: 'already-recorded', incidentId };
  }
  const releasedNote = released.length
    ? `; new findings on ${released.join(', ')} now open a new incident`
    : '';
  // A run that did not succeed leaves its incident failed (needs a person), whatever it did before, unless
  // a person closed it meanwhile: the step says what was done before the failure.
  const failed = detail.status !== 'SUCCEEDED' && incident.status !== 'closed';
  const done = failed ? doneBefore(steps) : undefined;
  await deps.recorder.appendStep(incidentId, {
    phase: 'lessons-learned',
    action: 'playbook-ended',
    status: 'noted',
    actor: 'automation',
    executionArn: detail.executionArn,
    changes: {
      status: detail.status,
      releasedOpenMarkers: released,
      ...(done ? { before: incident.status, succeeded: done.succeeded, failedSteps: done.failed } : {}),
      ...(detail.error ? { error: detail.error } : {}),
    },
    note: failed
      ? `${playbook} ended ${detail.status}${detail.error ? ` (${detail.error})` : ''}: the incident needs attention. ${describeDone(incident, done)}${releasedNote}`
      : `${playbook} ended ${detail.status}${releasedNote}`,
    ...(failed ? { incident: { status: 'failed' as const } } : {}),
  });
  return { outcome: 'recorded', incidentId, released };
}

/** Steps that record the machinery rather than an action on a resource. */
const MACHINERY = new Set([
  'approval-request',
  'approval-email',
  'approval-decision',
  'start-playbook',
  'record-note',
  'notify',
  'playbook-ended',
  'incident-update',
  'raise-last-seen',
  'incident-note',
  'incident-assign',
  'incident-close',
]);

/** The actions that finished (or were already done) and those that failed, in the order they ran. */
function doneBefore(steps: readonly Step[]): { succeeded: string[]; failed: string[] } {
  const succeeded: string[] = [];
  const failed: string[] = [];
  for (const s of steps) {
    if (MACHINERY.has(s.action)) continue;
    const name = s.dryRun ? `${s.action} (dry run)` : s.action;
    if (s.status === 'succeeded' || s.status === 'already-done') succeeded.push(name);
    else if (s.status === 'failed')
      failed.push(s.error ? `${name} (${s.error.name}: ${s.error.message})` : name);
  }
  return { succeeded, failed };
}

function describeDone(
  incident: { status: string; containedAt?: string | undefined; recoveredAt?: string | undefined },
  done: { succeeded: string[]; failed: string[] } | undefined,
): string {
  const parts = [
    `It was ${incident.status}${incident.containedAt ? `, contained at ${incident.containedAt}` : ', not contained'}${incident.recoveredAt ? `, recovered at ${incident.recoveredAt}` : ''}.`,
    done?.succeeded.length
      ? `Done before the failure: ${done.succeeded.join(', ')}.`
      : 'Nothing was done before the failure.',
    done?.failed.length ? `Failed: ${done.failed.join('; ')}.` : '',
  ];
  return parts.filter(Boolean).join(' ');
}

/**
 * Records that an execution ended on an incident whose record does not verify, and that nothing was
 * released; once per execution (a retry of the event finds it). The recorder may refuse to append after a
 * step that is not authentic: then the log and the dead-letter queue are what say so.
 */
async function recordRefusal(
  deps: PlaybookEndedDeps,
  incidentId: string,
  playbook: string,
  detail: { executionArn: string; status: string },
  error: RecordTamperedError,
): Promise<void> {
  deps.logger?.error('the record of an ended playbook does not verify: its open markers are not released', {
    incidentId,
    executionArn: detail.executionArn,
    ...error.result,
  });
  try {
    // For this function's own idempotence only: what the steps say is not acted on.
    const steps = await deps.recorder.steps(incidentId);
    if (steps.some((s) => s.action === 'playbook-ended' && s.executionArn === detail.executionArn)) return;
    await deps.recorder.appendStep(incidentId, {
      phase: 'lessons-learned',
      action: 'playbook-ended',
      status: 'failed',
      actor: 'automation',
      executionArn: detail.executionArn,
      changes: { status: detail.status, releasedOpenMarkers: [] },
      error: describeError(error),
      note: `${playbook} ended ${detail.status}, but the record does not verify: no open marker was released, and the router opens a new incident for a later finding rather than join this one`,
    });
  } catch (recordError) {
    deps.logger?.error('could not record the refusal', {
      incidentId,
      recordError: describeError(recordError),
    });
  }
}
