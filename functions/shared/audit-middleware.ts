/**
 * A middy middleware that wraps an action and records it truthfully: a `started` step before the action
 * runs, and after it one of `succeeded`, `already-done` or `skipped` (from the action's result), or
 * `failed` with the error's name and message. If the `started` step cannot be written the action does not
 * run: Cordon never acts unrecorded. If the final step cannot be written it is tried again a few times
 * (what the action changed, and the state before it, exist only in this invocation: a retry of the action
 * finds the work done and can only record `already-done`); if it still cannot, the invocation fails, so that
 * the state machine retries it and the idempotent action records `already-done`.
 *
 * The record's place wins over the event's: after the `started` step (which tells the recorder the incident's
 * place), an event whose account or region is not the incident's fails its step with `PlaceMismatchError`
 * before the action runs. What the event does not name is the hub's ({@link AuditStepOptions.home}); what
 * neither names is not compared.
 *
 * Each step is one write (functions/shared/audit.ts). The recorder carries the head from the `started` step
 * to the final one, so an action costs one read of the head (when the recorder does not know it yet) and
 * two writes.
 */
import type { MiddlewareObj, Request } from '@middy/core';
import type { Context as LambdaContext } from 'aws-lambda';
import { type ActionEvent, ActionEventSchema, type ActionResult } from './action.ts';
import type { AuditRecorder } from './audit.ts';
import type { Place } from './audit-table.ts';
import type { Phase } from './domain.ts';
import { parseOrThrow } from './domain.ts';
import { PlaceMismatchError, RETRYABLE_ERRORS, translateAwsError } from './errors.ts';
import { describeError, type Logger } from './log.ts';

export interface AuditStepOptions {
  readonly recorder: AuditRecorder;
  /** The phase of the steps; or read from the event (a check that belongs to the phase of its gate). */
  readonly phase: Phase | ((event: ActionEvent) => Phase);
  readonly action: string;
  /** Who acts; default `automation`. */
  readonly actor?: string;
  readonly logger?: Logger;
  /** Waits before each further try of a final step that could not be written. Default 200, 800, 3200 ms. */
  readonly outcomeRetryDelaysMs?: readonly number[];
  /**
   * The hub's place (what an event that names no account or region acts in), from the invocation's Lambda
   * context. Default none: only what the event names is compared with the record's place.
   */
  readonly home?: (lambda: LambdaContext | undefined) => Partial<Place>;
}

const OUTCOME_RETRY_DELAYS_MS = [200, 800, 3200];

interface Started {
  phase: Phase;
  incidentId: string;
  seq: number;
  startedAt: string;
  executionArn?: string;
  dryRun?: boolean;
}

export function auditStep<E extends ActionEvent, R extends ActionResult>(
  options: AuditStepOptions,
): MiddlewareObj<E, R> {
  const { recorder, action, logger } = options;
  const phaseOf = (event: ActionEvent): Phase =>
    typeof options.phase === 'function' ? options.phase(event) : options.phase;
  const actor = options.actor ?? 'automation';
  const started = new WeakMap<object, Started>();
  /** Requests whose action succeeded but whose final step could not be written. */
  const unrecorded = new WeakSet<object>();

  const before = async (request: Request<E, R>): Promise<void> => {
    const event = parseOrThrow(ActionEventSchema, request.event, `${action} event`);
    const phase = phaseOf(event);
    const step = await recordOrRetry(() =>
      recorder.appendStep(event.incidentId, {
        phase,
        action,
        status: 'started',
        actor,
        input: request.event,
        executionArn: event.executionArn,
        dryRun: event.dryRun,
      }),
    );
    started.set(request, {
      phase,
      incidentId: event.incidentId,
      seq: step.seq,
      startedAt: step.startedAt,
      executionArn: event.executionArn,
      dryRun: event.dryRun,
    });
    // The started step told the recorder the incident's place; the action runs only there.
    const recorded = recorder.placeOf(event.incidentId);
    const home = options.home?.(request.context as LambdaContext | undefined) ?? {};
    const claimed = {
      account: event.account ?? home.account,
      region: event.region ?? home.region,
    };
    if (
      recorded !== undefined &&
      ((claimed.account !== undefined && claimed.account !== recorded.account) ||
        (claimed.region !== undefined && claimed.region !== recorded.region))
    ) {
      throw new PlaceMismatchError(
        `${action} was sent to account ${claimed.account ?? '(unnamed)'} region ${claimed.region ?? '(unnamed)'}, ` +
          `but incident ${event.incidentId} is in account ${recorded.account} region ${recorded.region}: ` +
          'the record says where it acts, nothing was done',
      );
    }
  };

  const after = async (request: Request<E, R>): Promise<void> => {
    const start = started.get(request);
    const result = request.response;
    if (!start || !result) return;
    const delays = options.outcomeRetryDelaysMs ?? OUTCOME_RETRY_DELAYS_MS;
    try {
      await persistently(delays, () =>
        recorder.appendStep(start.incidentId, {
          phase: start.phase,
          action,
          status: result.status,
          actor,
          before: result.before,
          changes: result.changes,
          output: result.output,
          evidence: result.evidence,
          note: result.note,
          startedSeq: start.seq,
          startedAt: start.startedAt,
          executionArn: start.executionArn,
          dryRun: result.dryRun ?? start.dryRun,
          ...(result.incident && result.dryRun !== true ? { incident: result.incident } : {}),
        }),
      );
    } catch (error) {
      // The action did its work but the record could not say so: the invocation fails with a retryable
      // error, the state machine runs the idempotent action again, and that run records it
      // (`already-done`). Never record this as the action failing.
      unrecorded.add(request);
      logger?.error('could not record the outcome', { action, recordError: describeError(error) });
      throw translateAwsError(error, `recording ${action}`);
    }
  };

  const onError = async (request: Request<E, R>): Promise<void> => {
    const start = started.get(request);
    const error = describeError(request.error);
    // Nothing started (the event was invalid, or the started step could not be written): nothing to finish.
    // An action that succeeded unrecorded is not a failed action: the retry will record it.
    if (!start || unrecorded.has(request)) return;
    try {
      await recorder.appendStep(start.incidentId, {
        phase: start.phase,
        action,
        status: 'failed',
        actor,
        error,
        startedSeq: start.seq,
        startedAt: start.startedAt,
        executionArn: start.executionArn,
        dryRun: start.dryRun,
      });
    } catch (recordError) {
      // The action's own error is what the state machine must see; the record keeps the started step.
      logger?.error('could not record the failure', {
        action,
        error,
        recordError: describeError(recordError),
      });
    }
  };

  return { before, after, onError };
}

/** Runs a write, trying again after each delay while it fails with an error the playbooks would retry. */
async function persistently<T>(delays: readonly number[], write: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await recordOrRetry(write);
    } catch (error) {
      const delay = delays[attempt];
      const retryable = error instanceof Error && RETRYABLE_ERRORS.includes(error.name);
      if (delay === undefined || !retryable) throw error;
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}

/** Runs a write of the record, turning DynamoDB's throttling and 5xx into the retryable named errors. */
async function recordOrRetry<T>(write: () => Promise<T>): Promise<T> {
  try {
    return await write();
  } catch (error) {
    throw translateAwsError(error, 'recording the step');
  }
}
