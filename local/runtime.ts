/**
 * The local runtime in one object: the local engine running the stack's playbooks in-process, the
 * sandbox account standing in for AWS (or, with `aws: true`, the real endpoints), and the audit record
 * in a DynamoDB Local table. `cordon run`, the demo and the integration tests all use it.
 *
 * Handlers are imported once per process and make their SDK clients at module scope, so the sandbox is
 * attached through one switch plugin that forwards each call to the current account: a new account
 * (`useAccount`) takes effect for clients made before it.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { App, Stack } from 'aws-cdk-lib';
import { AuditRecorder } from '#shared/audit';
import { makeClient, registerClientPlugin } from '#shared/clients';
import { ENV } from '#shared/config';
import { makeDocumentClient } from '#shared/dynamo';
import { CordonError } from '#shared/errors';
import { releaseOpenMarkers } from '#shared/open-markers';
import { APPROVAL_ENV } from '../functions/approval/config.ts';
import { ApprovalStore } from '../functions/approval/store.ts';
import { playbookEnded } from '../functions/playbook-ended/core.ts';
import { buildApp } from '../infra/cordon-app.ts';
import type { CordonStackProps } from '../infra/cordon-stack.ts';
import { type ApprovalServer, serveDecisions } from './approval-server.ts';
import { type EngineOptions, type HistoryEvent, LocalEngine, type PendingTask } from './engine/index.ts';
import { Outbox } from './outbox.ts';
import { type AccountSeed, Sandbox, sandboxPlugin } from './sandbox/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './store.ts';

/** The sandbox account's id, and the engine's, so that ARNs agree. */
export const LOCAL_ACCOUNT = '123456789012';

let current: Sandbox | undefined;
let allowReal = false;
let installed = false;

/** A call was about to reach AWS from a sandboxed run with no account attached. */
export class NoSandboxError extends CordonError {}

function installSwitch(): void {
  if (installed) return;
  installed = true;
  registerClientPlugin(
    sandboxPlugin((next, context) => async (args) => {
      if (current) return current.middleware()(next, context)(args);
      if (allowReal || context.clientName === 'DynamoDBClient') return next(args);
      throw new NoSandboxError(
        `${context.clientName}:${context.commandName} called with no sandbox account attached`,
      );
    }),
  );
}

export interface LocalRuntimeOptions {
  /** Where the record goes: a DynamoDB Local endpoint and the audit table on it. */
  readonly store: { readonly endpoint: string; readonly tableName: string };
  /** The app or stack whose playbooks run. Default: Cordon's own stack, built in-process. */
  readonly scope?: App | Stack;
  /** Props for Cordon's own stack when `scope` is not given (e.g. other settings). */
  readonly stack?: CordonStackProps;
  /** The simulated account. Default: an account with a default VPC only. */
  readonly seed?: AccountSeed;
  /** Drive the real AWS endpoints (default credential chain and endpoint settings) instead of a sandbox. */
  readonly aws?: boolean;
  /** Factor on Wait states, timeouts and retry intervals. Default 1. */
  readonly waitScale?: number;
  readonly onEvent?: EngineOptions['onEvent'];
  readonly onTask?: EngineOptions['onTask'];
  /**
   * Serve the approval links on a loopback port and keep sent emails in an outbox folder (in this state
   * folder; default a new temporary one). Printed emails go to `print` (default: nowhere).
   */
  readonly approvals?: { readonly stateDir?: string; readonly print?: (text: string) => void };
}

/** The environment every handler runs with locally: the local table, and in sandbox mode local credentials. */
function localEnv(options: LocalRuntimeOptions, approvalUrl?: string): Record<string, string> {
  const env: Record<string, string> = {
    [ENV.tableName]: options.store.tableName,
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
  /** Emails the sandbox accepted, when approvals are served. */
  readonly outbox: Outbox | undefined;
  #sandbox: Sandbox | undefined;
  readonly #ended: Promise<unknown>[] = [];
  readonly #documents = makeDocumentClient();

  private constructor(options: LocalRuntimeOptions, served?: { server: ApprovalServer; outbox: Outbox }) {
    this.approvalServer = served?.server;
    this.outbox = served?.outbox;
    this.aws = options.aws ?? false;
    const scope =
      options.scope ??
      buildApp({ nag: false, app: { context: { 'aws:cdk:bundling-stacks': [] } }, stack: options.stack })
        .stack;
    const env = localEnv(options, served?.server.url);
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
        if (ended?.[1]) this.#ended.push(this.executionEnded(event.executionArn, ended[1]));
      },
      ...(options.onTask ? { onTask: options.onTask } : {}),
    });
    this.recorder = new AuditRecorder({ client: makeDocumentClient(), tableName: options.store.tableName });
    installSwitch();
    allowReal = this.aws;
    if (!this.aws) this.useAccount(options.seed ?? {});
  }

  /** Starts a runtime. Only one runs per process at a time. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    if (!options.approvals) return new LocalRuntime(options);
    Object.assign(process.env, localEnv(options));
    // The decision server's clients are made here: the sandbox must already be able to answer them.
    installSwitch();
    allowReal = options.aws ?? false;
    const outbox = new Outbox(options.approvals.stateDir ?? mkdtempSync(join(tmpdir(), 'cordon-outbox-')), {
      print: options.approvals.print ?? (() => {}),
    });
    const documents = makeDocumentClient();
    const server = await serveDecisions({
      store: new ApprovalStore(documents, options.store.tableName),
      recorder: new AuditRecorder({ client: documents, tableName: options.store.tableName }),
      sfn: makeClient(SFNClient, { service: 'SFN' }),
    });
    return new LocalRuntime(options, { server, outbox });
  }

  /** The current sandbox account; throws in `aws` mode. */
  get sandbox(): Sandbox {
    if (!this.#sandbox) throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    return this.#sandbox;
  }

  /** Replaces the sandbox account with a new one made from `seed`, and returns it. */
  useAccount(seed: AccountSeed): Sandbox {
    if (this.aws) throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    const outbox = this.outbox;
    this.#sandbox = Sandbox.create(seed, {
      taskTokens: this.engine,
      accountId: LOCAL_ACCOUNT,
      region: LOCAL_REGION,
      ...(outbox
        ? {
            onEmail: (email) =>
              outbox.deliver({
                from: email.from,
                to: email.to,
                subject: email.subject,
                ...(email.text === undefined ? {} : { text: email.text }),
                ...(email.html === undefined ? {} : { html: email.html }),
              }),
          }
        : {}),
    });
    current = this.#sandbox;
    return this.#sandbox;
  }

  private async executionEnded(executionArn: string, ended: string): Promise<void> {
    const execution = this.engine.execution(executionArn);
    const status = { Succeeded: 'SUCCEEDED', Failed: 'FAILED', TimedOut: 'TIMED_OUT', Aborted: 'ABORTED' }[
      ended
    ];
    const { tableName } = this.recorder;
    await playbookEnded(
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
        },
      },
    ).catch(() => undefined);
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
    await this.approvalServer?.close();
    await this.engine.close();
    if (current === this.#sandbox) current = undefined;
    allowReal = false;
  }
}

export type { HistoryEvent, PendingTask };
