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
