/**
 * The engine's task tokens: each `.waitForTaskToken` task's pending entry, issued to listeners, answered
 * by SendTaskSuccess / SendTaskFailure with AWS's errors (`InvalidToken`, `TaskTimedOut`,
 * `TaskDoesNotExist`, `InvalidOutput`), and failed when its execution ends.
 */
import {
  EngineError,
  InvalidOutputError,
  InvalidTokenError,
  TaskDoesNotExistError,
  TaskStateError,
  TaskTimedOutError,
} from './errors.ts';
import type { PendingTask } from './types.ts';

const TOKEN_FORMAT = /^[A-Za-z0-9_-]{86}$/;

interface PendingEntry {
  readonly task: PendingTask;
  readonly resolve: (output: unknown) => void;
  readonly reject: (error: Error) => void;
}

/** The pending token tasks of one engine. */
export class TokenBook {
  private readonly pending = new Map<string, PendingEntry>();
  private readonly timedOutTokens = new Set<string>();
  private readonly listeners = new Set<(task: PendingTask) => void>();

  /** `onTask` is the engine option's listener, called first for each token issued. */
  constructor(private readonly onTask?: (task: PendingTask) => void) {}

  /** Issues `task`'s token: the returned promise settles with the answer (or the end of its execution). */
  issue(task: PendingTask): Promise<unknown> {
    const answered = new Promise<unknown>((resolve, reject) => {
      this.pending.set(task.token, { task, resolve, reject });
      for (const listener of [this.onTask, ...this.listeners]) {
        try {
          listener?.(task);
        } catch {
          // A listener must not break an execution.
        }
      }
    });
    // Keep an answer that arrives before the integration returns from being reported as unhandled.
    answered.catch(() => {});
    return answered;
  }

  /** Forgets a token whose task failed before it waited (its integration threw). */
  withdraw(token: string): void {
    this.pending.delete(token);
  }

  /** A token whose task timed out: answering it is `TaskTimedOut`, as on AWS. */
  timeOut(token: string): void {
    this.pending.delete(token);
    this.timedOutTokens.add(token);
  }

  /** Fails every token of an execution that ended. */
  endExecution(executionArn: string): void {
    for (const [token, entry] of this.pending) {
      if (entry.task.executionArn !== executionArn) continue;
      this.pending.delete(token);
      entry.reject(new TaskStateError('States.Runtime', 'The execution ended'));
    }
  }

  /** Subscribes to newly issued task tokens; returns the unsubscribe function. */
  subscribe(listener: (task: PendingTask) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Tasks waiting for a token answer, oldest first. */
  list(): PendingTask[] {
    return [...this.pending.values()].map((entry) => entry.task);
  }

  /** The first pending task that matches (already pending, or the next one issued), or a rejection. */
  next(match: (task: PendingTask) => boolean, timeoutMs: number): Promise<PendingTask> {
    const found = this.list().find(match);
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        unsubscribe();
        reject(new EngineError(`No matching task token within ${timeoutMs} ms`));
      }, timeoutMs);
      const unsubscribe = this.subscribe((task) => {
        if (!match(task)) return;
        clearTimeout(timer);
        unsubscribe();
        resolve(task);
      });
    });
  }

  private take(token: string): PendingEntry {
    if (typeof token !== 'string' || !TOKEN_FORMAT.test(token)) throw new InvalidTokenError();
    if (this.timedOutTokens.has(token)) throw new TaskTimedOutError();
    const entry = this.pending.get(token);
    if (entry === undefined) throw new TaskDoesNotExistError();
    return entry;
  }

  /** SendTaskSuccess: completes the task with `output` (a JSON string). */
  success(token: string, output: string): void {
    const entry = this.take(token);
    let parsed: unknown;
    try {
      parsed = JSON.parse(output);
    } catch (error) {
      throw new InvalidOutputError({ cause: error });
    }
    this.pending.delete(token);
    entry.resolve(parsed);
  }

  /** SendTaskFailure: fails the task with `error` (what `ErrorEquals` matches; default empty) and `cause`. */
  failure(token: string, error?: string, cause?: string): void {
    const entry = this.take(token);
    this.pending.delete(token);
    entry.reject(new TaskStateError(error ?? '', cause ?? ''));
  }
}
