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
  /** Who makes the call: by default the account's seeded caller. */
  readonly caller: Caller;
  /** Where `AssumeRole` of another account's role is decided (the local organization), if anywhere. */
  readonly roles?: RoleDirectory | undefined;
}

/**
 * Who makes a call: what `GetCallerIdentity` answers, what an `AccessDenied` names, and what a trust policy
 * is matched against.
 */
export interface Caller {
  /** The caller's ARN: an assumed role's session (`arn:aws:sts::<account>:assumed-role/<role>/<session>`) or a user. */
  readonly arn: string;
  readonly userId: string;
  readonly account: string;
  /**
   * The principal a trust policy's `Principal.AWS` names: the role's ARN for an assumed role's session
   * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html#principal-roles),
   * else the caller's ARN.
   */
  readonly principalArn: string;
}

/** The caller an ARN names: an assumed role's session, a user, or any other principal. */
export function callerOf(arn: string, userId: string): Caller {
  const session = /^arn:(aws[a-z-]*):sts::(\d{12}):assumed-role\/([^/]+)\/[^/]+$/.exec(arn);
  if (session) {
    const [, partition, account, role] = session as unknown as [string, string, string, string];
    return { arn, userId, account, principalArn: `arn:${partition}:iam::${account}:role/${role}` };
  }
  const account = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(arn)?.[1] ?? '';
  return { arn, userId, account, principalArn: arn };
}

/** What `AssumeRole` asks of another account's role. */
export interface AssumeRoleRequest {
  readonly caller: Caller;
  readonly roleArn: string;
  readonly account: string;
  readonly roleName: string;
  readonly session: string;
  readonly externalId: string | undefined;
  readonly durationSeconds: number;
  /** Sandbox time of the call, epoch milliseconds. */
  readonly now: number;
}

/** Temporary credentials a {@link RoleDirectory} issued, and the role's id. */
export interface IssuedSession {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** Epoch milliseconds. */
  readonly expiration: number;
  readonly roleId: string;
}

/** Decides `AssumeRole` of roles of other accounts, and issues their credentials. */
export interface RoleDirectory {
  /**
   * The session issued, `'denied'` when the role, its trust policy or the caller's grant refuses it (AWS's
   * `AccessDenied`), or undefined for an account the directory does not know.
   */
  assumeRole(request: AssumeRoleRequest): IssuedSession | 'denied' | undefined;
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
