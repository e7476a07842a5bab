/**
 * The local runtime in one object: the local engine running the stack's playbooks in-process, the
 * sandbox account standing in for AWS (or, with `aws: true`, the real endpoints), and the audit record
 * in a DynamoDB Local table. `cordon run`, the demo and the integration tests all use it.
 *
 * The sandbox is an organization (local/sandbox/organization.ts): the hub, where the stack runs
 * (`LOCAL_ACCOUNT`, `LOCAL_REGION`; `runtime.sandbox` is its home region), and member accounts, each with
 * its regions and responder role. Handlers are imported once per process and make their SDK clients at
 * module scope, so the organization is attached through one switch plugin that forwards each call to the
 * account and region it is for: a new organization (`useOrganization`, `useAccount`) takes effect for
 * clients made before it.
 *
 * By concern: `runtime/switch.ts` forwards the SDK's calls, `runtime/options.ts` holds the options and the
 * handlers' environment, `runtime/account-file.ts` keeps the sandbox organization between commands,
 * `runtime/organization.ts` names the local organization in the stack's settings, and
 * `runtime/identities.ts` says who each function is when it calls.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditRecorder } from '#shared/audit';
import { makeClient } from '#shared/clients';
import { makeDocumentClient } from '#shared/dynamo';
import { CordonError } from '#shared/errors';
import { releaseOpenMarkers } from '#shared/open-markers';
import type { Settings } from '#shared/settings';
import { type DecideDeps, handleDecision } from '../functions/approval/decide/core.ts';
import { emailApprovers, refusalEmail } from '../functions/approval/email.ts';
import type { ApprovalRequest } from '../functions/approval/model.ts';
import { ApprovalStore } from '../functions/approval/store.ts';
import { playbookEnded } from '../functions/playbook-ended/core.ts';
import { buildApp } from '../infra/cordon-app.ts';
import { CordonStack } from '../infra/cordon-stack.ts';
import {
  type ApprovalServer,
  type ConsoleAccess,
  newConsoleSecret,
  removeServerFile,
  startApprovalServer,
  writeServerFile,
} from './approval-server.ts';
import {
  type HistoryEvent,
  LocalEngine,
  type PendingTask,
  runAsFunction,
  runOutsideFunctions,
} from './engine/index.ts';
import { Outbox } from './outbox.ts';
import { type FunctionIdentities, functionIdentities } from './runtime/identities.ts';
import {
  consolePrincipalsOf,
  DECISION_ENTRY,
  type LocalRuntimeOptions,
  localEnv,
  localTableNames,
  PLAYBOOK_ENDED_ENTRY,
} from './runtime/options.ts';
import {
  namedOrganization,
  organizationOptions,
  placesOf,
  withLocalOrganizationStack,
} from './runtime/organization.ts';
import { withLocalPreparedGroups } from './runtime/prepared.ts';
import { saveOrganization, startingOrganization } from './runtime/saved.ts';
import { attached, installSwitch, NoSandboxError } from './runtime/switch.ts';
import type { AccountSeed, Sandbox, SentEmail } from './sandbox/index.ts';
import { LocalOrganization, type OrganizationSeed, type OrganizationState } from './sandbox/organization.ts';
import { LOCAL_REGION } from './store.ts';
import { TableGuard, TableGuardError } from './table-guard.ts';
import { type LocalTrust, openLocalTrust } from './trust.ts';

export { AccountFileError } from './runtime/account-file.ts';
export type { LocalRuntimeOptions } from './runtime/options.ts';
export { LOCAL_EXTERNAL_ID, LOCAL_ORGANIZATION_ID } from './runtime/organization.ts';
export { NoSandboxError } from './runtime/switch.ts';

/** The sandbox account's id, and the engine's, so that ARNs agree. */
export const LOCAL_ACCOUNT = '123456789012';

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
  #organization: LocalOrganization | undefined;
  readonly #identities: FunctionIdentities;
  /** The organization the settings name (id, external id, responder role name), each when they do. */
  readonly #named: ReturnType<typeof namedOrganization>;
  readonly #accountFile: string | undefined;
  /** The stack's settings, the local organization included, when the scope is Cordon's own stack. */
  readonly settings: Settings | undefined;
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
    // What the sandbox starts from, known before the stack is built: its members are named in its settings.
    const start = this.aws ? undefined : startingOrganization(options);
    const prepared = withLocalPreparedGroups(options, LOCAL_ACCOUNT, LOCAL_REGION);
    const scope =
      options.scope ??
      buildApp({
        nag: false,
        app: { context: { 'aws:cdk:bundling-stacks': [] } },
        stack: start ? withLocalOrganizationStack(prepared, placesOf(start, LOCAL_REGION)) : prepared,
      }).stack;
    this.settings = scope instanceof CordonStack ? scope.settings : undefined;
    this.#named = namedOrganization(this.settings);
    if (scope instanceof CordonStack)
      this.#approvers = { approvers: scope.settings.approvers, sender: scope.settings.sender };
    const env = localEnv(options, trust, served?.server.url);
    // The recorder of this process reads the same table the handlers write.
    Object.assign(process.env, env);
    this.engine = LocalEngine.fromApp(scope, {
      env,
      waitScale: options.waitScale ?? 1,
      ...(this.aws
        ? options.awsPlace
          ? { accountId: options.awsPlace.account, region: options.awsPlace.region }
          : {}
        : { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION }),
      onWait: (seconds) => this.#organization?.advance(seconds * 1000),
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
    this.#identities = functionIdentities(this.engine.template, {
      accountId: this.engine.accountId,
      region: this.engine.region,
    });
    installSwitch();
    attached.trust = trust;
    attached.guard = this.tableGuard;
    attached.allowReal = this.aws;
    attached.engine = this.aws ? this.engine : undefined;
    const callers = this.#identities.callers;
    attached.callerOf = (logicalId) => callers.get(logicalId);
    this.#accountFile = this.aws ? undefined : options.accountFile;
    if (start !== undefined) this.#attach(start);
  }

  /** Starts a runtime. Only one runs per process at a time. */
  static async start(options: LocalRuntimeOptions): Promise<LocalRuntime> {
    const trust = options.trust ?? (await openLocalTrust());
    if (!options.approvals) return new LocalRuntime(options, trust);
    Object.assign(process.env, localEnv(options, trust));
    // The decision server's clients are made here: the sandbox must already be able to answer them.
    installSwitch();
    attached.trust = trust;
    attached.allowReal = options.aws ?? false;
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

  /** The hub's home sandbox account (where the stack runs); throws in `aws` mode. */
  get sandbox(): Sandbox {
    return this.organization.hubSandbox;
  }

  /** The sandbox organization: the hub and its members, by account and region; throws in `aws` mode. */
  get organization(): LocalOrganization {
    if (!this.#organization)
      throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    return this.#organization;
  }

  /** The roles of the stack's action functions: whom a seeded member's responder role trusts by default. */
  get actionRoleArns(): readonly string[] {
    return this.#identities.actionRoleArns;
  }

  /**
   * Replaces the sandbox with an organization of the hub alone, its home region made from `seed` (what a
   * single-account runtime had), and returns the hub's sandbox.
   */
  useAccount(seed: AccountSeed): Sandbox {
    return this.useOrganization({ hub: seed }).hubSandbox;
  }

  /** Replaces the sandbox organization with a new one made from `seed`, and returns it. */
  useOrganization(seed: OrganizationSeed): LocalOrganization {
    return this.#attach(seed);
  }

  /** Attaches a new organization, made from a seed or continuing from a saved state. */
  #attach(from: OrganizationSeed | OrganizationState): LocalOrganization {
    if (this.aws) throw new NoSandboxError('this runtime drives real AWS endpoints: it has no sandbox');
    const outbox = this.outbox;
    const sandbox = {
      taskTokens: this.engine,
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
    const options = organizationOptions(this.#named, {
      hub: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
      trustedPrincipals: this.#identities.actionRoleArns,
      sandbox,
    });
    this.#organization =
      'accounts' in from ? LocalOrganization.restore(from, options) : LocalOrganization.create(from, options);
    attached.organization = this.#organization;
    return this.#organization;
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
    if (this.#accountFile !== undefined && this.#organization)
      saveOrganization(this.#accountFile, this.#organization);
    if (attached.organization === this.#organization) {
      attached.organization = undefined;
      attached.callerOf = undefined;
    }
    if (attached.trust === this.trust) attached.trust = undefined;
    if (attached.guard === this.tableGuard) attached.guard = undefined;
    if (attached.engine === this.engine) attached.engine = undefined;
    attached.allowReal = false;
  }
}

export type { HistoryEvent, PendingTask };
