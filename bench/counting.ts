/**
 * How the bench counts what a piece of code sends to AWS: a middleware on every SDK client (DynamoDB,
 * plain or document, EC2, KMS, S3, SFN) that counts, per service,
 * - **calls**: every command sent (once per command: the SDK's own retries happen below it);
 * - **rounds**, sequential round trips: the times the count of that service's calls in flight goes from 0
 *   to 1. Calls made together (`Promise.all`) are one round; calls made one after another are one each.
 *   The figure is what a containment waits for: on AWS each round is at least one network round trip.
 *
 * Each call is counted in a tally, the phase it belongs to: the tally of the `measure()` whose work made
 * the call (followed through `await`s with AsyncLocalStorage, so that work measured at the same time is
 * counted apart), else the counter's current tally (`begin()`), for work whose async context is not the
 * caller's (a playbook run by the local engine). A tally also counts rounds over all services together
 * (`ALL_SERVICES`): the round trips of any kind the work waits for one after another.
 *
 * The middleware sits in the `initialize` step with high priority, added before the local runtime's
 * switch (which answers simulated calls and never passes them on), so that it sees every call:
 * {@link CallCounter.install} must run before the first `LocalRuntime` starts.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { InitializeMiddleware, Pluggable } from '@smithy/types';
import { registerClientPlugin } from '#shared/clients';

/** The key of the rounds over every service together. */
export const ALL_SERVICES = 'all';

export interface ServiceCounts {
  readonly calls: number;
  readonly rounds: number;
  /** Calls by command name (`PutItem`, `GenerateMac`, ...). */
  readonly commands: Readonly<Record<string, number>>;
}

/** A tally's counts by service (`DynamoDB`, `EC2`, `KMS`, `S3`, `SFN`, ...) and {@link ALL_SERVICES}. */
export type CallCounts = Readonly<Record<string, ServiceCounts>>;

interface Running {
  calls: number;
  rounds: number;
  inFlight: number;
  commands: Record<string, number>;
}

/** The calls and rounds of one phase. */
export class CallTally {
  readonly #services = new Map<string, Running>();

  #running(service: string): Running {
    let running = this.#services.get(service);
    if (!running) {
      running = { calls: 0, rounds: 0, inFlight: 0, commands: {} };
      this.#services.set(service, running);
    }
    return running;
  }

  /** Counts a call of `service` starting now; returns the function to call when it ends. */
  start(service: string, command: string): () => void {
    const own = this.#running(service);
    const all = this.#running(ALL_SERVICES);
    for (const running of [own, all]) {
      if (running.inFlight === 0) running.rounds++;
      running.inFlight++;
    }
    own.calls++;
    all.calls++;
    own.commands[command] = (own.commands[command] ?? 0) + 1;
    all.commands[`${service}:${command}`] = (all.commands[`${service}:${command}`] ?? 0) + 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      own.inFlight--;
      all.inFlight--;
    };
  }

  /** The counts so far, copied: later calls do not change them. */
  counts(): CallCounts {
    const out: Record<string, ServiceCounts> = {};
    for (const [service, r] of this.#services) {
      out[service] = { calls: r.calls, rounds: r.rounds, commands: { ...r.commands } };
    }
    return out;
  }
}

/** The SDK's client name as the service: `DynamoDBClient` → `DynamoDB`, `SFNClient` → `SFN`. */
export function serviceOf(clientName: string | undefined): string {
  return (clientName ?? 'Unknown').replace(/Client$/, '');
}

const NAME = 'cordonBenchCallCounter';

export class CallCounter {
  readonly #context = new AsyncLocalStorage<CallTally>();
  #current = new CallTally();

  /** Starts a new current tally, for the calls made outside any {@link CallCounter.measure}, and returns it. */
  begin(): CallTally {
    this.#current = new CallTally();
    return this.#current;
  }

  /** Runs `work` with a tally of its own: the calls it makes, wherever they await, are counted apart. */
  async measure<T>(work: () => Promise<T>): Promise<{ value: T; counts: CallCounts }> {
    const tally = new CallTally();
    const value = await this.#context.run(tally, work);
    return { value, counts: tally.counts() };
  }

  /** The middleware: counts the command in the tally of the work that sends it. */
  middleware(): InitializeMiddleware<object, object> {
    return (next, context) => async (args) => {
      const tally = this.#context.getStore() ?? this.#current;
      const end = tally.start(
        serviceOf(context.clientName),
        (context.commandName ?? 'Unknown').replace(/Command$/, ''),
      );
      try {
        return await next(args);
      } finally {
        end();
      }
    };
  }

  /** The middleware as a plugin. Adding it twice to a client replaces it: a call is never counted twice. */
  plugin(): Pluggable<object, object> {
    return {
      applyToStack: (stack) => {
        stack.add(this.middleware(), { step: 'initialize', priority: 'high', name: NAME, override: true });
      },
    };
  }

  /** Counts the calls of one client made outside the factory (DynamoDB Local's, the record key's). */
  attach<C>(client: C): C {
    const stack = (client as { middlewareStack?: { use?: unknown } }).middlewareStack;
    if (typeof stack?.use !== 'function')
      throw new TypeError('CallCounter.attach expects an AWS SDK v3 client');
    (stack as { use(plugin: Pluggable<object, object>): void }).use(this.plugin());
    return client;
  }

  /** Counts the calls of every client the factory makes from now on. Returns the function that stops it. */
  install(): () => void {
    return registerClientPlugin(this.plugin());
  }
}

/** Of the counts, one service's (zeros when it made no call). */
export function of(counts: CallCounts, service: string): ServiceCounts {
  return counts[service] ?? { calls: 0, rounds: 0, commands: {} };
}
