/** The sandbox's options and what it reports: its calls, the errors it injects, what it persists. */
import type { RoleDirectory } from './context.ts';
import type { SentEmail } from './state.ts';

/** Where `SendTaskSuccess`, `SendTaskFailure` and `SendTaskHeartbeat` go (the local engine). */
export type TaskTokenSink = {
  success(token: string, output: string): Promise<void> | void;
  failure(token: string, error?: string, cause?: string): Promise<void> | void;
  heartbeat?(token: string): void;
};

/** One call the sandbox answered (or refused). */
export interface CallRecord {
  /** Short service name: `EC2`, `IAM`, `AutoScaling`, `ELBv2`, `ELB`, `Backup`, `SESv2`, `STS`, `SFN`, `KMS`, `S3`. */
  readonly service: string;
  /** Command name without the `Command` suffix. */
  readonly command: string;
  readonly input: unknown;
  readonly output?: unknown;
  readonly error?: { readonly name: string; readonly message: string };
  /** Sandbox time of the call, epoch milliseconds. */
  readonly at: number;
}

/** Options of {@link Sandbox.create}. */
export interface SandboxOptions {
  /** The base clock; default `Date.now`. The sandbox adds what {@link Sandbox.advance} moved it by. */
  readonly now?: () => number;
  /** Overrides the seed's account id (default `123456789012`). */
  readonly accountId?: string;
  /** Overrides the seed's region (default `us-east-1`). */
  readonly region?: string;
  /** Receives Step Functions task token calls; without it they fail with `TaskDoesNotExist`. */
  readonly taskTokens?: TaskTokenSink;
  /**
   * SDK clients (by class name) whose calls go on to their real endpoint instead of the sandbox. Default
   * `['DynamoDBClient']`: the audit record lives in the local store, not in the simulated account.
   */
  readonly passThrough?: readonly string[];
  /** Called with each email SES v2 accepted (the local runtime's outbox). */
  readonly onEmail?: (email: SentEmail) => void;
  /**
   * Keeps the state of some services in files, so that a sandbox made later, in this process or another,
   * on the same folder sees their keys, aliases, buckets and objects. Default: nothing is kept.
   */
  readonly persist?: SandboxPersistOptions;
  /**
   * The most items any page of a Describe or List may hold, whatever the request asks and even where AWS
   * documents "every item" when no page size is given. AWS may always return fewer items than asked, with
   * a token for the rest: tests set this low to show that every caller follows every page.
   */
  readonly pageCap?: number;
  /**
   * Decides `AssumeRole` of roles of other accounts (the local organization, local/sandbox/organization.ts).
   * Without it, or for an account it does not know, only the seed's `externalRoleArns` are accepted.
   */
  readonly roles?: RoleDirectory;
}

/** The services whose state {@link SandboxPersistOptions} can keep. */
export type PersistedService = 'KMS' | 'S3';

/**
 * Where and what the sandbox persists. Each service gets one journal in `dir` (`kms.jsonl`, `s3.jsonl`,
 * mode 0600: the KMS one holds key material) that only ever receives appended lines, one a change.
 * Several sandboxes, in several processes, may share a folder at once: none loses another's changes, and
 * each sees the others' on its next call to that service. A conditional change (`IfNoneMatch: '*'`, a
 * new alias) that two of them make at once succeeds for the one whose line comes first.
 */
export interface SandboxPersistOptions {
  /** The folder; made (mode 0700) when missing. */
  readonly dir: string;
  /** Default both, `['KMS', 'S3']`. */
  readonly services?: readonly PersistedService[];
}

/** An error that `failNext` injects. */
export interface InjectedError {
  /** AWS's error code, e.g. `RequestLimitExceeded`, `NoSuchEntity`, `InternalError`. */
  readonly code: string;
  readonly message?: string;
  readonly fault?: 'client' | 'server';
}
