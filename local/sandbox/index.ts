/**
 * The sandbox account: a simulated AWS account attached to real SDK v3 clients at the command
 * level. A middleware at the `initialize` step answers each command from an in-memory account and
 * never calls the next handler, so nothing reaches the network and the SDK's retry middleware
 * (a later step) never sees a sandbox error: retrying is left to the state machine, as in AWS.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  InitializeMiddleware,
  Pluggable,
} from '@smithy/types';
import { autoScalingHandlers } from './autoscaling.ts';
import { backupHandlers, refreshBackup } from './backup.ts';
import {
  type CallContext,
  type Caller,
  callerOf,
  type HandlerMap,
  type JournalContext,
  type JournalEvent,
  type JournaledService,
  type RoleDirectory,
} from './context.ts';
import { ec2Handlers, refreshEc2 } from './ec2.ts';
import { elbHandlers, elbv2Handlers, refreshElbv2 } from './elb.ts';
import type { ServiceName } from './errors.ts';
import {
  accessDenied,
  awsError,
  SandboxSeedError,
  SandboxUnsupportedCommandError,
  SERVICES,
  serviceOf,
} from './errors.ts';
import { iamHandlers } from './iam.ts';
import { kmsService } from './kms.ts';
import { isStackable, matches } from './matching.ts';
import type {
  CallRecord,
  InjectedError,
  PersistedService,
  SandboxOptions,
  TaskTokenSink,
} from './options.ts';
import { Journals } from './persistence.ts';
import { s3Service, withBodyBytes } from './s3.ts';
import type { AccountSeed } from './seed.ts';
import { buildState } from './seed.ts';
import { sesHandlers } from './ses.ts';
import { sfnCall } from './sfn.ts';
import type { AccountState, SentEmail } from './state.ts';
import { sortedCopy } from './state.ts';
import { stsHandlers } from './sts.ts';

export type {
  AssumeRoleRequest,
  Caller,
  IssuedSession,
  RoleDirectory,
} from './context.ts';
export { callerOf } from './context.ts';
export type { ServiceName } from './errors.ts';
export { SandboxJournalError, SandboxSeedError, SandboxUnsupportedCommandError } from './errors.ts';
export type {
  CallRecord,
  InjectedError,
  PersistedService,
  SandboxOptions,
  SandboxPersistOptions,
  TaskTokenSink,
} from './options.ts';
export type {
  AccountSeed,
  InstanceSeed,
  KmsKeySeed,
  NetworkInterfaceSeed,
  UserSeed,
  VpcSeed,
} from './seed.ts';
export { callerArnOf } from './seed.ts';
export type {
  AccountState,
  KmsAliasState,
  KmsKeySpec,
  KmsKeyState,
  KmsState,
  ObjectLockMode,
  S3BucketState,
  S3ObjectVersionState,
  S3State,
  SentEmail,
} from './state.ts';

const HANDLERS: Readonly<Record<Exclude<ServiceName, 'SFN' | PersistedService>, HandlerMap>> = {
  EC2: ec2Handlers,
  IAM: iamHandlers,
  AutoScaling: autoScalingHandlers,
  ELBv2: elbv2Handlers,
  ELB: elbHandlers,
  Backup: backupHandlers,
  SESv2: sesHandlers,
  STS: stsHandlers,
};

/** A simulated AWS account. */
export class Sandbox {
  #state: AccountState;
  #offset = 0;
  readonly #clock: () => number;
  readonly #taskTokens: TaskTokenSink | undefined;
  readonly #passThrough: ReadonlySet<string>;
  readonly #onEmail: ((email: SentEmail) => void) | undefined;
  readonly #failures: { key: string; remaining: number; error: InjectedError }[] = [];
  readonly #latency = new Map<string, number>();
  readonly #calls: CallRecord[] = [];
  readonly #journals = new Journals(
    () => this.#state,
    () => this.now(),
  );
  readonly #pageCap: number | undefined;
  readonly #roles: RoleDirectory | undefined;

  private constructor(seed: AccountSeed, options: SandboxOptions) {
    this.#clock = options.now ?? Date.now;
    this.#taskTokens = options.taskTokens;
    this.#passThrough = new Set(options.passThrough ?? ['DynamoDBClient']);
    this.#onEmail = options.onEmail;
    if (options.pageCap !== undefined && !(Number.isInteger(options.pageCap) && options.pageCap >= 1)) {
      throw new TypeError(`pageCap must be a whole number of at least 1, got ${String(options.pageCap)}`);
    }
    this.#pageCap = options.pageCap;
    this.#roles = options.roles;
    this.#state = buildState(seed, {
      now: this.#clock(),
      ...(options.accountId ? { accountId: options.accountId } : {}),
      ...(options.region ? { region: options.region } : {}),
    });
    if (options.persist) this.#journals.open(options.persist, seed);
  }

  /** Makes a sandbox account from a seed (default: one default VPC and nothing else). */
  static create(seed: AccountSeed = {}, options: SandboxOptions = {}): Sandbox {
    return new Sandbox(seed, options);
  }

  /**
   * Makes a sandbox account that continues from a whole state {@link Sandbox.state} returned (kept in a
   * file by an earlier command), so that a later command acts on what an earlier one left. The state is
   * taken as it is: only the account id and region of `options` must agree with it. Not with `persist`.
   */
  static restore(state: AccountState, options: Omit<SandboxOptions, 'persist'> = {}): Sandbox {
    for (const [field, want] of [
      ['accountId', options.accountId],
      ['region', options.region],
    ] as const) {
      if (want !== undefined && state[field] !== want) {
        throw new SandboxSeedError(`the saved account's ${field} is ${state[field]}, expected ${want}`);
      }
    }
    const sandbox = new Sandbox({}, options);
    sandbox.#state = structuredClone(state);
    return sandbox;
  }

  /**
   * The command-level middleware: answers every call of a simulated service from the account's state,
   * and lets the pass-through clients' calls go on. `caller` is who makes the calls (default: the seed's
   * caller, {@link Sandbox.caller}): the local runtime passes the function whose invocation runs, or the
   * session whose credentials the client holds.
   */
  middleware(caller?: Caller): InitializeMiddleware<object, object> {
    return (next: InitializeHandler<object, object>, context: HandlerExecutionContext) =>
      async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
        if (context.clientName !== undefined && this.#passThrough.has(context.clientName)) return next(args);
        const output = await this.#dispatch(context.clientName, context.commandName, args.input, caller);
        // No `next`: the request never reaches serialization, signing, retries or the network.
        return { output: output as object, response: {} };
      };
  }

  /** A plugin for `registerClientPlugin` (or `client.middlewareStack.use`). */
  plugin(): Pluggable<object, object> {
    return sandboxPlugin(this.middleware());
  }

  /** Attaches the sandbox to one SDK client, and returns the client. */
  attach<C>(client: C): C {
    if (!isStackable(client)) throw new TypeError('Sandbox.attach expects an AWS SDK v3 client');
    client.middlewareStack.use(this.plugin());
    return client;
  }

  /** The account's id and region. */
  get place(): { readonly account: string; readonly region: string } {
    return { account: this.#state.accountId, region: this.#state.region };
  }

  /** Who calls when no one else is named: the seed's caller (default an assumed `CordonResponder` role). */
  get caller(): Caller {
    return { ...callerOf(this.#state.callerArn, this.#state.callerUserId), account: this.#state.accountId };
  }

  /** A deep copy of the whole account state, with sorted keys, for assertions. */
  state(): AccountState {
    this.#refresh();
    for (const service of this.#journals.services()) this.#journals.catchUp(service);
    return sortedCopy(structuredClone(this.#state));
  }

  /** Moves the sandbox clock forward; snapshots, instance transitions and restore jobs progress with it. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0)
      throw new RangeError(`advance expects a non-negative number of ms, got ${ms}`);
    this.#offset += ms;
    this.#refresh();
  }

  /** The sandbox clock, epoch milliseconds. */
  now(): number {
    return this.#clock() + this.#offset;
  }

  /**
   * Makes the next `times` calls of `command` (`StopInstances` or `EC2:StopInstances`) fail with
   * the SDK exception for `error.code`.
   */
  failNext(command: string, times: number, error: InjectedError): void {
    this.#failures.push({ key: command, remaining: times, error });
  }

  /** Delays every call of `command` (or `*`) by `ms` of wall-clock time; adds up when called again. */
  addLatency(command: string, ms: number): void {
    this.#latency.set(command, (this.#latency.get(command) ?? 0) + ms);
  }

  /** Every call, in order, including failed and injected ones. */
  get calls(): readonly CallRecord[] {
    return this.#calls;
  }

  /** Emails accepted by SES, in order. */
  get sentEmails(): readonly SentEmail[] {
    return structuredClone(this.#state.ses.sent);
  }

  #refresh(): void {
    const now = this.now();
    refreshEc2(this.#state, now);
    refreshBackup(this.#state, now);
    refreshElbv2(this.#state, now);
  }

  async #dispatch(
    clientName: string | undefined,
    commandName: string | undefined,
    input: object,
    caller: Caller = this.caller,
  ): Promise<unknown> {
    const command = (commandName ?? 'Unknown').replace(/Command$/, '');
    const service = serviceOf(clientName);
    // A streamed body is read first: the call log and the handler get its bytes.
    if (service === 'S3' && command === 'PutObject') input = await withBodyBytes(input);
    const inputCopy = structuredClone(input);
    const record = (result: { output?: unknown; error?: unknown }): void => {
      const error =
        result.error instanceof Error
          ? { name: result.error.name, message: result.error.message }
          : undefined;
      this.#calls.push({
        service: service ?? clientName ?? 'Unknown',
        command,
        input: inputCopy,
        ...(result.output === undefined ? {} : { output: result.output }),
        ...(error ? { error } : {}),
        at: this.now(),
      });
    };
    try {
      if (!service) throw new SandboxUnsupportedCommandError(clientName ?? 'Unknown', command);
      let delay = 0;
      for (const [key, ms] of this.#latency) if (matches(key, service, command)) delay += ms;
      if (delay > 0) await sleep(delay);
      const output = await this.#execute(service, command, input, caller);
      const withMetadata = {
        ...(output as object),
        $metadata: {
          httpStatusCode: 200,
          requestId: `sandbox-${this.#calls.length + 1}`,
          attempts: 1,
          totalRetryDelay: 0,
        },
      };
      record({ output: withMetadata });
      if (service === 'SESv2' && command === 'SendEmail') {
        const sent = this.#state.ses.sent.at(-1);
        if (sent) this.#onEmail?.(structuredClone(sent));
      }
      return withMetadata;
    } catch (error) {
      record({ error });
      throw error;
    }
  }

  async #execute(service: ServiceName, command: string, input: object, caller: Caller): Promise<unknown> {
    const injected = this.#failures.find((f) => f.remaining > 0 && matches(f.key, service, command));
    if (injected) {
      injected.remaining -= 1;
      throw awsError(
        service,
        injected.error.code,
        injected.error.message ?? `Injected ${injected.error.code}`,
        {
          ...(injected.error.fault ? { fault: injected.error.fault } : {}),
        },
      );
    }
    if (this.#state.denied.some((key) => matches(key, service, command))) {
      throw accessDenied(service, command, caller.arn);
    }
    this.#refresh();
    if (service === 'SFN') return sfnCall(this.#taskTokens, command, input);
    if (service === 'KMS') return this.#executeJournaled(service, kmsService, command, input, caller);
    if (service === 'S3') return this.#executeJournaled(service, s3Service, command, input, caller);
    const handler = HANDLERS[service][command];
    if (!handler) throw new SandboxUnsupportedCommandError(service, command);
    // Work on a draft, so that a failed command (or a DryRun) leaves the account unchanged. KMS and S3
    // are shared, not copied: their handlers change them only through a commit that cannot fail halfway.
    const { kms, s3, ...rest } = this.#state;
    const draft: AccountState = { ...structuredClone(rest), kms, s3 };
    const ctx = this.#callContext(draft, service, command, caller);
    const output = handler(ctx, structuredClone(input) as never);
    if (service === 'EC2' && 'DryRun' in input && input.DryRun === true) {
      throw awsError('EC2', 'DryRunOperation', 'Request would have succeeded, but DryRun flag is set.');
    }
    this.#state = draft;
    return output;
  }

  #executeJournaled<E extends JournalEvent>(
    service: PersistedService,
    journaled: JournaledService<E>,
    command: string,
    input: object,
    caller: Caller,
  ): unknown {
    const handler = journaled.handlers[command];
    if (!handler) throw new SandboxUnsupportedCommandError(service, command);
    this.#journals.catchUp(service);
    const ctx: JournalContext<E> = {
      ...this.#callContext(this.#state, service, command, caller),
      commit: (event) => this.#journals.commit(service, journaled, event),
    };
    return handler(ctx, structuredClone(input) as never);
  }

  /** What a simulated command is given: the state it works on, the time, the caller and the account's roles. */
  #callContext(state: AccountState, service: ServiceName, command: string, caller: Caller): CallContext {
    return { state, now: this.now(), service, command, pageCap: this.#pageCap, caller, roles: this.#roles };
  }
}

/** The services the sandbox simulates, by short name. */
export const SANDBOX_SERVICES: readonly ServiceName[] = Object.keys(SERVICES) as ServiceName[];

/** The name and place of the sandbox's middleware on a client's stack. */
export function sandboxPlugin(middleware: InitializeMiddleware<object, object>): Pluggable<object, object> {
  return {
    applyToStack: (stack) => {
      stack.add(middleware, {
        step: 'initialize',
        priority: 'high',
        name: 'cordonSandboxMiddleware',
        override: true,
      });
    },
  };
}
