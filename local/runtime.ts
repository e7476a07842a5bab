/**
 * The local runtime in one object: the local engine running the stack's playbooks in-process, the
 * sandbox account standing in for AWS (or, with `aws: true`, the real endpoints), and the audit record
 * in a DynamoDB Local table. `cordon run`, the demo and the integration tests all use it.
 *
 * Handlers are imported once per process and make their SDK clients at module scope, so the sandbox is
 * attached through one switch plugin that forwards each call to the current account: a new account
 * (`useAccount`) takes effect for clients made before it.
 */
import { existsSync, mkdtempSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { App, Stack } from 'aws-cdk-lib';
import * as z from 'zod/mini';
import { AuditRecorder } from '#shared/audit';
import { makeClient, registerClientPlugin } from '#shared/clients';
import { ENV } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { CordonError } from '#shared/errors';
import { releaseOpenMarkers } from '#shared/open-markers';
import { APPROVAL_ENV, ApprovalSettingsSchema } from '../functions/approval/config.ts';
import { type DecideDeps, handleDecision } from '../functions/approval/decide/core.ts';
import { emailApprovers, refusalEmail } from '../functions/approval/email.ts';
import type { ApprovalRequest } from '../functions/approval/model.ts';
import { ApprovalStore } from '../functions/approval/store.ts';
import { playbookEnded } from '../functions/playbook-ended/core.ts';
import { buildApp } from '../infra/cordon-app.ts';
import { CordonStack, type CordonStackProps } from '../infra/cordon-stack.ts';
import {
  type ApprovalServer,
  type ConsoleAccess,
  newConsoleSecret,
  removeServerFile,
  startApprovalServer,
  writeServerFile,
} from './approval-server.ts';
import {
  type EngineOptions,
  type HistoryEvent,
  LocalEngine,
  type PendingTask,
  runAsFunction,
  runOutsideFunctions,
  type TemplateFunction,
} from './engine/index.ts';
import { Outbox } from './outbox.ts';
import {
  type AccountSeed,
  type AccountState,
  Sandbox,
  type SentEmail,
  sandboxPlugin,
} from './sandbox/index.ts';
import { sfnCall } from './sandbox/sfn.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './store.ts';
import { TableGuard, TableGuardError, tableGuardPlugin } from './table-guard.ts';
import { type LocalTrust, openLocalTrust } from './trust.ts';

/** The sandbox account's id, and the engine's, so that ARNs agree. */
export const LOCAL_ACCOUNT = '123456789012';

let current: Sandbox | undefined;
let currentTrust: LocalTrust | undefined;
let currentGuard: TableGuard | undefined;
/** With `aws`, the engine that runs the playbooks: the Step Functions calls meant for it go to it. */
let currentEngine: LocalEngine | undefined;
let allowReal = false;
let installed = false;

/** A call was about to reach AWS from a sandboxed run with no account attached. */
export class NoSandboxError extends CordonError {}

/** A saved sandbox account (`accountFile`) that cannot be read back. */
export class AccountFileError extends CordonError {}

/** Reads a saved account state, with a message that names the file and what is wrong with it. */
function readAccountFile(file: string): AccountState {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AccountFileError(
      `the saved sandbox account ${file} cannot be read: ${(error as Error).message}`,
    );
  }
  const state = value as Partial<Record<keyof AccountState, unknown>> | null;
  const missing = (['accountId', 'region', 'ec2', 'iam', 'kms', 's3'] as const).filter(
    (field) => state === null || typeof state !== 'object' || state[field] === undefined,
  );
  if (missing.length > 0) {
    throw new AccountFileError(
      `the saved sandbox account ${file} is not an account state (it lacks ${missing.join(', ')}): delete it to start from a new account`,
    );
  }
  return value as AccountState;
}

/** A saved state, not a seed: a seed has no `nextId` (and no `ec2`). */
function isAccountState(value: AccountSeed | AccountState): value is AccountState {
  return 'nextId' in value && 'ec2' in value;
}

/** Writes the account's state whole, through a temporary file so that a reader never sees half of it. */
function writeAccountFile(file: string, state: AccountState): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

function installSwitch(): void {
  if (installed) return;
  installed = true;
  // First, so that it sees every DynamoDB call before the switch forwards it.
  registerClientPlugin(tableGuardPlugin(() => currentGuard));
  registerClientPlugin(
    sandboxPlugin((next, context) => async (args) => {
      // The record key and the anchor are the security account's: they outlive the scenario's account.
      if (currentTrust?.owns(context.clientName, args.input)) {
        return currentTrust.sandbox.middleware()(next, context)(args);
      }
      if (current) return current.middleware()(next, context)(args);
      if (allowReal && currentEngine && context.clientName === 'SFNClient') {
        const routed = await toLocalEngine(currentEngine, context.commandName, args.input as object);
        if (routed) return { output: routed as object, response: {} };
      }
      if (allowReal || context.clientName === 'DynamoDBClient') return next(args);
      throw new NoSandboxError(
        `${context.clientName}:${context.commandName} called with no sandbox account attached`,
      );
    }),
  );
}

/** The Step Functions commands whose task tokens only the local engine issued. */
const TASK_TOKEN_COMMANDS = new Set(['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat']);

/**
 * With `aws`, the playbooks run on the local engine, not in Step Functions: the calls that answer one of
 * its task tokens, or start or describe one of its own state machines' executions, go to it (else the
 * decision reaches the real endpoint, which knows no such token, and the gate waits out its timeout).
 * Returns undefined for every other call, which goes on to the real endpoint.
 */
async function toLocalEngine(
  engine: LocalEngine,
  commandName: string | undefined,
  input: object,
): Promise<unknown> {
  const command = (commandName ?? '').replace(/Command$/, '');
  const field = (name: string): string | undefined => {
    const value: unknown = (input as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const metadata = {
    $metadata: { httpStatusCode: 200, requestId: 'local-engine', attempts: 1, totalRetryDelay: 0 },
  };
  const ours = (stateMachineArn: string | undefined) =>
    stateMachineArn !== undefined && engine.playbooks().some((p) => p.arn === stateMachineArn);
  if (TASK_TOKEN_COMMANDS.has(command) || (command === 'StartExecution' && ours(field('stateMachineArn')))) {
    return { ...((await sfnCall(engine, command, input)) as object), ...metadata };
  }
  if (command === 'DescribeExecution') {
    const arn = field('executionArn') ?? '';
    const execution = engine.executionList().find((e) => e.arn === arn);
    if (!execution) return undefined;
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      input: JSON.stringify(execution.input),
      ...metadata,
    };
  }
  return undefined;
}

export interface LocalRuntimeOptions {
  /** Where the record goes: a DynamoDB Local endpoint and the audit table on it. */
  readonly store: { readonly endpoint: string; readonly tableName: string };
  /** The app or stack whose playbooks run. Default: Cordon's own stack, built in-process. */
  readonly scope?: App | Stack;
  /** Props for Cordon's own stack when `scope` is not given (e.g. other settings). */
  readonly stack?: CordonStackProps;
  /** The simulated account. Default: an account with a default VPC only (or the one `accountFile` holds). */
  readonly seed?: AccountSeed;
  /**
   * A file that keeps the sandbox account between commands: when it exists and no `seed` is given, the
   * account continues from the state it holds; on `close()` the account's whole state is written to it,
   * so that a later command (`cordon release --local` after `cordon run` or the demo) acts on what this
   * one left. Ignored with `aws`.
   */
  readonly accountFile?: string;
  /** Drive the real AWS endpoints (default credential chain and endpoint settings) instead of a sandbox. */
  readonly aws?: boolean;
  /** The record key and anchor. Default: new ones, in memory (`cordon run` and the demo pass the state folder's). */
  readonly trust?: LocalTrust;
  /**
   * Enforce on each function's DynamoDB calls the IAM policy the template gives its role
   * (local/table-guard.ts), as DynamoDB does once deployed: a call its grant does not cover fails with
   * `AccessDeniedException`. The decision core behind the approval server is guarded as the decision
   * function, and the end of an execution as the playbook-ended function. Default true.
   */
  readonly tableGuard?: boolean;
  /** Factor on Wait states, timeouts and retry intervals. Default 1. */
  readonly waitScale?: number;
  readonly onEvent?: EngineOptions['onEvent'];
  readonly onTask?: EngineOptions['onTask'];
  /**
   * Serve the approval links on a loopback port and keep sent emails in an outbox folder (in this state
   * folder; default a new temporary one). Printed emails go to `print` (default: nowhere).
   *
   * With `operator` and `stateDir`, the server also serves the console route, as `operator` (an IAM
   * principal ARN: the person at the keyboard), to the bearers of a per-run secret that is written with the
   * server's URL to `<stateDir>/approval-server.json` (mode 0600) and removed on `close()`: what
   * `cordon approvals approve|reject --local` reads. The decision is held to the stack's
   * `settings.approval.consolePrincipals`, as deployed: list the operator there for it to decide.
   */
  readonly approvals?: {
    readonly stateDir?: string;
    readonly print?: (text: string) => void;
    readonly operator?: string;
  };
}

/** The functions the runtime runs in-process without the engine, by `cordon:entry`. */
const DECISION_ENTRY = 'functions/approval/decide/handler.ts';
const PLAYBOOK_ENDED_ENTRY = 'functions/playbook-ended/handler.ts';

/**
 * Who may decide from the console, as the deployed decision function reads it: from its environment's
 * approval settings. None when the template has no such function or its settings do not parse (every
 * console decision is then refused).
 */
function consolePrincipalsOf(fn: TemplateFunction | undefined): readonly string[] {
  const raw = fn?.environment[APPROVAL_ENV.settings];
  if (raw === undefined) return [];
  try {
    const parsed = z.safeParse(ApprovalSettingsSchema, JSON.parse(raw));
    return parsed.success ? parsed.data.consolePrincipals : [];
  } catch {
    return [];
  }
}

/** Every table the template's functions are told to use is, locally, the store's table. */
function localTableNames(functions: readonly TemplateFunction[], tableName: string): Record<string, string> {
  const names: Record<string, string> = {};
  for (const fn of functions) {
    const name = fn.environment[ENV.tableName];
    if (name !== undefined) names[name] = tableName;
  }
  return names;
}

/** The environment every handler runs with locally: the local table, and in sandbox mode local credentials. */
function localEnv(
  options: LocalRuntimeOptions,
  trust: LocalTrust,
  approvalUrl?: string,
): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.tableName]: options.store.tableName,
    ...trust.env,
    AWS_ENDPOINT_URL_DYNAMODB: options.store.endpoint,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    CORDON_METRICS: 'off',
    ...(approvalUrl ? { [APPROVAL_ENV.baseUrl]: approvalUrl } : {}),
  };
  if (!options.aws) {
    Object.assign(env, {
      AWS_REGION: LOCAL_REGION,
      AWS_ACCESS_KEY_ID: LOCAL_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: LOCAL_CREDENTIALS.secretAccessKey,
      AWS_EC2_METADATA_DISABLED: 'true',
    });
  }
  return env;
}

export class LocalRuntime {
  readonly engine: LocalEngine;
  readonly recorder: AuditRecorder;
  readonly aws: boolean;
  /** The local decision server, when approvals are served. */
  readonly approvalServer: ApprovalServer | undefined;
  /** The record key and anchor the handlers seal with. */
  readonly trust: LocalTrust;
  /** Emails the sandbox accepted, when approvals are served. */
  readonly outbox: Outbox | undefined;
  /** What enforces the functions' policies on their DynamoDB calls; undefined with `tableGuard: false`. */
  readonly tableGuard: TableGuard | undefined;
  /** The logical ids of the decision and playbook-ended functions, whose cores run here in-process. */
  readonly #decisionFunction: string | undefined;
  readonly #playbookEndedFunction: string | undefined;
  /** The decision function's `consolePrincipals`, which the console route holds callers to. */
  readonly #consolePrincipals: readonly string[];
  /** Where the console route's file is, and its secret, while it is served. */
  #serverFile: { readonly dir: string; readonly secret: string } | undefined;
  #sandbox: Sandbox | undefined;
  readonly #accountFile: string | undefined;
  #approvers: { approvers: readonly string[]; sender: string } | undefined;
  readonly #ended: Promise<unknown>[] = [];
  readonly #documents = makeDocumentClient();

  private constructor(
    options: LocalRuntimeOptions,
    trust: LocalTrust,
    served?: { server: ApprovalServer; outbox: Outbox },
  ) {
    this.trust = trust;
    this.approvalServer = served?.server;
    this.outbox = served?.outbox;
    this.aws = options.aws ?? false;
    const scope =
      options.scope ??
      buildApp({ nag: false, app: { context: { 'aws:cdk:bundling-stacks': [] } }, stack: options.stack })
        .stack;
    if (scope instanceof CordonStack)
      this.#approvers = { approvers: scope.settings.approvers, sender: scope.settings.sender };
    const env = localEnv(options, trust, served?.server.url);
    // The recorder of this process reads the same table the handlers write.
    Object.assign(process.env, env);
    this.engine = LocalEngine.fromApp(scope, {
      env,
      waitScale: options.waitScale ?? 1,
      ...(this.aws ? {} : { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION }),
      onWait: (seconds) => this.#sandbox?.advance(seconds * 1000),
      onEvent: (event) => {
        options.onEvent?.(event);
        // As EventBridge does when deployed: the end of an execution reaches the playbook-ended function.
        const ended = /^Execution(Succeeded|Failed|TimedOut|Aborted)$/.exec(event.type);
        if (ended?.[1]) this.#ended.push(this.executionEnded(event.executionArn, ended[1], event.details));
      },
      ...(options.onTask ? { onTask: options.onTask } : {}),
    });
    this.recorder = new AuditRecorder({
      client: makeDocumentClient(),
      tableName: options.store.tableName,
      seal: trust.seal,
    });
    const functions = this.engine.functions();
    const decisionFunction = functions.find((fn) => fn.entry === DECISION_ENTRY);
    this.#decisionFunction = decisionFunction?.logicalId;
    this.#consolePrincipals = consolePrincipalsOf(decisionFunction);
    this.#playbookEndedFunction = functions.find((fn) => fn.entry === PLAYBOOK_ENDED_ENTRY)?.logicalId;
    this.tableGuard =
      options.tableGuard === false
        ? undefined
        : TableGuard.fromTemplate(this.engine.template, {
            region: this.engine.region,
            accountId: this.engine.accountId,
            tableNames: localTableNames(functions, options.store.tableName),
          });
    if (this.tableGuard && served && this.#decisionFunction === undefined) {
      throw new TableGuardError(
        `approvals are served, but no function of the template has cordon:entry ${DECISION_ENTRY}: the table guard cannot tell the decision core's policy (tableGuard: false turns it off)`,
      );
    }
    installSwitch();
    currentTrust = trust;
    currentGuard = this.tableGuard;
    allowReal = this.aws;
    currentEngine = this.aws ? this.engine : undefined;
    this.#accountFile = this.aws ? undefined : options.accountFile;
    if (!this.aws) {
      const file = options.accountFile;
      if (!options.seed && file !== undefined && existsSync(file)) this.#attach(readAccountFile(file));
      else this.useAccount(options.seed ?? {});
    }
  }

  /** Starts a runtime. Only one runs per process at a time. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const trust = options.trust ?? (await openLocalTrust());
    if (!options.approvals) return new LocalRuntime(options, trust);
    Object.assign(process.env, localEnv(options, trust));
    // The decision server's clients are made here: the sandbox must already be able to answer them.
    installSwitch();
    currentTrust = trust;
    allowReal = options.aws ?? false;
    const outbox = new Outbox(options.approvals.stateDir ?? mkdtempSync(join(tmpdir(), 'cordon-outbox-')), {
      print: options.approvals.print ?? (() => {}),
    });
    const documents = makeDocumentClient();
    let runtime: LocalRuntime | undefined;
    const deps: DecideDeps = {
      store: new ApprovalStore(documents, options.store.tableName),
      recorder: new AuditRecorder({
        client: documents,
        tableName: options.store.tableName,
        seal: trust.seal,
      }),
      sfn: makeClient(SFNClient, { service: 'SFN' }),
      // As the deployed decision function does: a refusal on a broken record reaches the approvers.
      alert: (request, why) => runtime?.alertApprovers(request, why) ?? Promise.resolve(),
    };
    const { stateDir, operator } = options.approvals;
    const access: ConsoleAccess | undefined =
      stateDir !== undefined && operator !== undefined
        ? { secret: newConsoleSecret(), principal: operator }
        : undefined;
    // Each request runs as the deployed decision function would: its calls are guarded with its policy,
    // and the console's are held to its consolePrincipals.
    const server = await startApprovalServer(
      async (event) => {
        if (!runtime) throw new CordonError('the local runtime is not started yet');
        const active = runtime;
        return active.#asFunction(active.#decisionFunction, () =>
          handleDecision({ ...deps, consolePrincipals: active.#consolePrincipals }, event),
        );
      },
      access ? { console: access } : {},
    );
    try {
      runtime = new LocalRuntime(options, trust, { server, outbox });
    } catch (error) {
      await server.close();
      throw error;
    }
    if (access && stateDir !== undefined) {
      const file = { url: server.url, secret: access.secret, principal: access.principal, pid: process.pid };
      try {
        writeServerFile(stateDir, file);
      } catch (error) {
        await runtime.close();
        throw error;
      }
      runtime.#serverFile = { dir: stateDir, secret: access.secret };
    }
    return runtime;
  }

  /** Emails the stack's approvers that a decision was refused (what the deployed decision function does). */
  async alertApprovers(
    request: Pick<ApprovalRequest, 'incidentId' | 'action' | 'resource' | 'requestId'>,
    why: string,
  ): Promise<void> {
    if (!this.#approvers) return;
    const ses = makeClient(SESv2Client, { service: 'SESV2' });
    await emailApprovers(ses, this.#approvers.sender, this.#approvers.approvers, (to) =>
      refusalEmail(request, to, why),
    );
  }

  /** The current sandbox account; throws in `aws` mode. */
  get sandbox(): Sandbox {
    if (!this.#sandbox) throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    return this.#sandbox;
  }

  /** Replaces the sandbox account with a new one made from `seed`, and returns it. */
  useAccount(seed: AccountSeed): Sandbox {
    return this.#attach(seed);
  }

  /** Attaches a new sandbox account, made from a seed or continuing from a saved state. */
  #attach(from: AccountSeed | AccountState): Sandbox {
    if (this.aws) throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    const outbox = this.outbox;
    const options = {
      taskTokens: this.engine,
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      ...(outbox
        ? {
            onEmail: (email: SentEmail) =>
              outbox.deliver({
                from: email.from,
                to: email.to,
                subject: email.subject,
                ...(email.text === undefined ? {} : { text: email.text }),
                ...(email.html === undefined ? {} : { html: email.html }),
              }),
          }
        : {}),
    };
    this.#sandbox = isAccountState(from) ? Sandbox.restore(from, options) : Sandbox.create(from, options);
    current = this.#sandbox;
    return this.#sandbox;
  }

  private async executionEnded(
    executionArn: string,
    ended: string,
    details: { readonly error?: string; readonly cause?: string },
  ): Promise<void> {
    const execution = this.engine.execution(executionArn);
    const status = { Succeeded: 'SUCCEEDED', Failed: 'FAILED', TimedOut: 'TIMED_OUT', Aborted: 'ABORTED' }[
      ended
    ];
    const { tableName } = this.recorder;
    await this.#asFunction(this.#playbookEndedFunction, () =>
      playbookEnded(
        {
          recorder: this.recorder,
          releaseOpen: (incidentId, resourceIds) =>
            releaseOpenMarkers(this.#documents, tableName, incidentId, resourceIds),
        },
        {
          detail: {
            executionArn,
            stateMachineArn: execution?.stateMachineArn ?? '',
            status,
            input: JSON.stringify(execution?.input ?? {}),
            // As EventBridge's Execution Status Change event carries them.
            ...(details.error === undefined ? {} : { error: details.error }),
            ...(details.cause === undefined ? {} : { cause: details.cause }),
          },
        },
      ),
    ).catch(() => undefined);
  }

  /** Runs work as an invocation of the function (so that the table guard enforces its policy), or as nobody's. */
  #asFunction<T>(logicalId: string | undefined, work: () => T): T {
    return logicalId === undefined ? runOutsideFunctions(work) : runAsFunction(logicalId, work);
  }

  /** Waits until every execution end seen so far is recorded (what EventBridge delivers when deployed). */
  async settled(): Promise<void> {
    await Promise.all(this.#ended);
  }

  /** Runs a playbook to its end and returns the result with its history. */
  run(playbook: string, input: unknown, options: { name?: string } = {}) {
    return this.engine.run(playbook, input, options);
  }

  /** Waits for the next task token a playbook issues (an approval gate). */
  nextTask(match?: (task: PendingTask) => boolean, timeoutMs?: number): Promise<PendingTask> {
    return this.engine.nextTask(match, timeoutMs);
  }

  /** Stops what runs and detaches the sandbox. */
  async close(): Promise<void> {
    await this.settled();
    if (this.#serverFile) removeServerFile(this.#serverFile.dir, this.#serverFile.secret);
    this.#serverFile = undefined;
    await this.approvalServer?.close();
    await this.engine.close();
    if (this.#accountFile !== undefined && this.#sandbox)
      writeAccountFile(this.#accountFile, this.#sandbox.state());
    if (current === this.#sandbox) current = undefined;
    if (currentTrust === this.trust) currentTrust = undefined;
    if (currentGuard === this.tableGuard) currentGuard = undefined;
    if (currentEngine === this.engine) currentEngine = undefined;
    allowReal = false;
  }
}

export type { HistoryEvent, PendingTask };
