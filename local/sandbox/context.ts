/** What every simulated command receives, and helpers shared by the services. */
import type { ServiceName } from './errors.ts';
import { awsError } from './errors.ts';
import type { AccountState, TagMap } from './state.ts';

/** The context of one simulated call. */
export interface CallContext {
  /** A draft of the account state: committed only when the command succeeds (and is not a DryRun). */
  readonly state: AccountState;
  /** Sandbox time of the call, epoch milliseconds. */
  readonly now: number;
  readonly service: ServiceName;
  readonly command: string;
  /** The most items any page may hold ({@link SandboxOptions.pageCap}); undefined: as AWS's page sizes say. */
  readonly pageCap?: number | undefined;
}

/** A simulated command: takes the SDK command input, returns the SDK output without `$metadata`. */
export type Handler = (ctx: CallContext, input: never) => unknown;

/** A service's simulated commands by command name (without the `Command` suffix). */
export type HandlerMap = Readonly<Record<string, Handler>>;

/** An SDK command output without the `$metadata` the sandbox adds. */
export type Out<O> = Omit<O, '$metadata'>;

/** Throws the AWS error `code` of the context's service. */
export function fail(ctx: CallContext, code: string, message: string): never {
  throw awsError(ctx.service, code, message);
}

/** AWS's `[{ Key, Value }]` from a tag map, sorted by key. */
export function tagList(tags: TagMap | undefined): { Key: string; Value: string }[] {
  return Object.entries(tags ?? {})
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([Key, Value]) => ({ Key, Value }));
}

/** A tag map from AWS's `[{ Key, Value }]`. */
export function tagMap(
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
): TagMap {
  const out: TagMap = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? '';
  return out;
}

/** Values in a record, in key order (the sandbox's stable ordering). */
export function sortedValues<T>(record: Record<string, T>): T[] {
  return Object.keys(record)
    .sort()
    .map((key) => record[key])
    .filter((value): value is T => value !== undefined);
}

/** Matches a value against an EC2 filter value, which may hold `*` and `?` wildcards. */
export function wildcardMatch(pattern: string, value: string): boolean {
  const source = pattern
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${source}$`).test(value);
}

/**
 * A change to a journaled service (KMS, S3): everything it needs, random ids and key material included,
 * so that applying the same events in the same order gives every process the same state.
 */
export interface JournalEvent {
  readonly op: string;
  /** Sandbox time of the change, epoch milliseconds: what time-dependent checks (retention) use. */
  readonly at: number;
}

/** The context of a call to a journaled service, whose handlers change the state only through `commit`. */
export interface JournalContext<E extends JournalEvent> extends CallContext {
  /**
   * Applies the change (after appending it to the service's journal, when the service is persisted) and
   * returns what it returned; throws the AWS error when the change no longer holds (another process won).
   */
  commit(event: E): unknown;
}

/** A simulated command of a journaled service. */
export type JournalHandler<E extends JournalEvent> = (ctx: JournalContext<E>, input: never) => unknown;

/** A journaled service: its commands, and how one of its changes applies to the state. */
export interface JournaledService<E extends JournalEvent> {
  readonly handlers: Readonly<Record<string, JournalHandler<E>>>;
  /**
   * Checks the change against the state and returns the function that makes it, which cannot fail; throws
   * the AWS error when the change does not apply. Checking never changes the state.
   */
  prepare(state: AccountState, event: E): () => unknown;
  /** The change a journal line holds, or a message saying what is wrong with it. */
  parse(value: unknown): { event: E } | { problem: string };
}
