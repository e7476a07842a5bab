/**
 * Which of the template's functions is running: the engine runs each invocation inside an
 * `AsyncLocalStorage` context that names the function's logical id, so that code reached from the
 * handler (an SDK client's middleware, such as the local runtime's table guard) can tell whose call it
 * is. Code that runs outside any invocation (test code, the console, a handler's module scope, the engine
 * itself) sees no function.
 */
import { AsyncLocalStorage } from 'node:async_hooks';

const invocations = new AsyncLocalStorage<string | undefined>();

/** The logical id of the function whose invocation is running, or undefined outside any invocation. */
export function currentFunction(): string | undefined {
  return invocations.getStore();
}

/**
 * Runs `work` as an invocation of the function `logicalId`: everything it calls, synchronously or not,
 * sees that function (what runs the decision core in-process uses it too).
 */
export function runAsFunction<T>(logicalId: string, work: () => T): T {
  return invocations.run(logicalId, work);
}

/**
 * Runs `work` outside any invocation, e.g. an execution a function started: its tasks are not that
 * function's calls.
 */
export function runOutsideFunctions<T>(work: () => T): T {
  return invocations.run(undefined, work);
}
