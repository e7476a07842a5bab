/**
 * One execution's state as the engine runs it (status, history, abort, the task-token placeholder), and
 * the small helpers every stage shares.
 */
import { randomUUID } from 'node:crypto';
import { type HistoryEvent, HistoryRecorder } from './history.ts';
import type { ExecutionResult, ExecutionStatus, LocalExecution } from './types.ts';

const NAME_FORMAT = /^[^\s<>{}[\]?*"#%\\^|~`$&,;:/]{1,80}$/;

/** Execution names as StartExecution accepts them: 1-80 characters, none of AWS's excluded ones. */
export function isValidName(name: string): boolean {
  if (!NAME_FORMAT.test(name)) return false;
  return ![...name].some((ch) => {
    const code = ch.charCodeAt(0);
    return code < 0x20 || (code >= 0x7f && code <= 0x9f);
  });
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function replaceDeep(value: unknown, placeholder: string, token: string): unknown {
  if (typeof value === 'string')
    return value.includes(placeholder) ? value.replaceAll(placeholder, token) : value;
  if (Array.isArray(value)) return value.map((item) => replaceDeep(item, placeholder, token));
  if (!isRecord(value)) return value;
  const out: Record<string, unknown> = {};
  for (const [key, item] of Object.entries(value)) out[key] = replaceDeep(item, placeholder, token);
  return out;
}

/** Lets the interpreter's queued events (including those forwarded from branches) reach the history first. */
export function flushEvents(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve();
    const timer = setTimeout(done, ms);
    function done(): void {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export class Execution implements LocalExecution {
  status: ExecutionStatus = 'RUNNING';
  readonly startDate = new Date();
  readonly abortController = new AbortController();
  readonly recorder: HistoryRecorder;
  readonly placeholder = `cordon-local-task-token-${randomUUID()}`;
  done!: Promise<ExecutionResult>;
  abortRun: () => void = () => {};
  stopReason: { error?: string; cause?: string } | undefined;

  constructor(
    readonly arn: string,
    readonly name: string,
    readonly playbookId: string,
    readonly stateMachineArn: string,
    readonly input: unknown,
    waits: ReadonlySet<string>,
    listener: (event: HistoryEvent) => void,
  ) {
    this.recorder = new HistoryRecorder(arn, waits, listener);
  }

  get history(): readonly HistoryEvent[] {
    return this.recorder.events;
  }

  stop(error?: string, cause?: string): void {
    if (this.status !== 'RUNNING' || this.abortController.signal.aborted) return;
    this.stopReason = {
      ...(error === undefined ? {} : { error }),
      ...(cause === undefined ? {} : { cause }),
    };
    this.abortRun();
  }
}

/** Nominal seconds as real milliseconds, scaled by the engine's `waitScale`. */
export const scaledMs = (seconds: number, waitScale: number): number => seconds * 1000 * waitScale;
