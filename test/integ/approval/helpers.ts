/** Shared set-up of the approval integration tests: a table, an incident, captured emails, SFN calls and logs. */
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type {
  HandlerExecutionContext,
  InitializeHandler,
  InitializeHandlerArguments,
  InitializeHandlerOutput,
  Pluggable,
} from '@smithy/types';
import type { AuditRecorder } from '#shared/audit';
import { createLogger, type Logger } from '#shared/log';
import { ApprovalStore } from '../../../functions/approval/store.ts';
import { Outbox, outboxPlugin } from '../../../local/outbox.ts';
import type { TestTable } from '../../support/store.ts';

/** One Step Functions callback a test saw. */
export interface SfnCall {
  readonly command: string;
  readonly input: Record<string, unknown>;
}

/** Where intercepted callbacks go; throwing an error with a `name` makes the SDK call fail with it. */
export type SfnSink = (call: SfnCall) => void | Promise<void>;

/**
 * A client plugin that answers Step Functions task callbacks in-process: records each and hands it to
 * `sink`. Stands in for the sandbox account where the tests do not need it.
 */
export function sfnPlugin(calls: SfnCall[], sink: SfnSink = () => {}): Pluggable<object, object> {
  const middleware =
    (next: InitializeHandler<object, object>, context: HandlerExecutionContext) =>
    async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
      if (context.clientName !== 'SFNClient') return next(args);
      const call = {
        command: String(context.commandName).replace(/Command$/, ''),
        input: { ...(args.input as Record<string, unknown>) },
      };
      calls.push(call);
      await sink(call);
      return { output: { $metadata: { httpStatusCode: 200 } }, response: {} };
    };
  return {
    applyToStack: (stack) => {
      stack.add(middleware, { step: 'initialize', priority: 'high', name: 'testSfn', override: true });
    },
  };
}

/** A plugin that fails the next `times` SES v2 SendEmail calls with `name`. */
export function failingSesPlugin(state: { remaining: number; name: string }): Pluggable<object, object> {
  const middleware =
    (next: InitializeHandler<object, object>, context: HandlerExecutionContext) =>
    async (args: InitializeHandlerArguments<object>): Promise<InitializeHandlerOutput<object>> => {
      if (context.clientName === 'SESv2Client' && state.remaining > 0) {
        state.remaining--;
        const error = new Error(`injected ${state.name}`);
        error.name = state.name;
        throw error;
      }
      return next(args);
    };
  return {
    applyToStack: (stack) => {
      stack.add(middleware, { step: 'initialize', priority: 'high', name: 'testFailingSes', override: true });
    },
  };
}

/** Adds a plugin to one SDK client (the same way `makeClient` applies registered plugins). */
export function attach<C>(client: C, plugin: Pluggable<object, object>): C {
  (client as unknown as { middlewareStack: { use(p: Pluggable<object, object>): void } }).middlewareStack.use(
    plugin,
  );
  return client;
}

export interface Capture {
  readonly outbox: Outbox;
  readonly printed: string[];
  readonly logLines: string[];
  readonly sfnCalls: SfnCall[];
  readonly ses: SESv2Client;
  readonly sfn: SFNClient;
  readonly logger: Logger;
  readonly stateDir: string;
  /** Every file the outbox wrote, as text. */
  outboxFiles(): string[];
}

/** Real SDK clients whose SES and SFN calls land in the test, plus a logger whose lines are kept. */
export function capture(sink?: SfnSink): Capture {
  const stateDir = mkdtempSync(join(tmpdir(), 'cordon-approval-'));
  const printed: string[] = [];
  const logLines: string[] = [];
  const sfnCalls: SfnCall[] = [];
  const outbox = new Outbox(stateDir, { print: (text) => printed.push(text) });
  const ses = new SESv2Client({ region: 'us-east-1' });
  attach(ses, outboxPlugin(outbox));
  const sfn = new SFNClient({ region: 'us-east-1' });
  attach(sfn, sfnPlugin(sfnCalls, sink));
  return {
    outbox,
    printed,
    logLines,
    sfnCalls,
    ses,
    sfn,
    stateDir,
    logger: createLogger('approval-test', { level: 'debug', write: (line) => logLines.push(line) }),
    outboxFiles: () => {
      const dir = join(stateDir, 'outbox');
      return readdirSync(dir).map((name) => readFileSync(join(dir, name), 'utf8'));
    },
  };
}

/** Opens an incident to approve things in. */
export async function openIncident(recorder: AuditRecorder, resourceId = 'i-0abc1234def567890') {
  return recorder.openIncident({
    title: 'EC2 instance i-0abc1234def567890 is querying a domain name associated with a known C&C server',
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '123456789012',
    region: 'us-east-1',
    resources: [{ type: 'instance', id: resourceId }],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-01T00:00:00.000Z',
  });
}

/** A task token shaped like Step Functions' (and the local engine's). */
export function fakeToken(): string {
  const chars = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-';
  let out = '';
  for (let i = 0; i < 86; i++) out += chars[Math.floor(Math.random() * chars.length)];
  return `AQ${out.slice(2)}`;
}

/** The payload the gate sends the request function. */
export function requestEvent(incidentId: string, taskToken: string, overrides: Record<string, unknown> = {}) {
  return {
    taskToken,
    incidentId,
    executionArn: `arn:aws:states:us-east-1:123456789012:execution:cordon-ec2-compromise:${incidentId}`,
    gate: 'Approve termination',
    action: 'terminate-instance',
    resource: { type: 'instance', id: 'i-0abc1234def567890' },
    summary: {
      happened:
        'GuardDuty reported DNS queries to a known command-and-control domain from i-0abc1234def567890.',
      done: 'Isolated the instance (security groups replaced), snapshotted its volumes, captured its console output.',
      asks: 'Terminate the instance i-0abc1234def567890.',
    },
    enteredTime: new Date().toISOString(),
    timeoutSeconds: 3600,
    defaultDecision: 'reject',
    ...overrides,
  };
}

/** What the gate's timeout and check are sent for the task a request event came from. */
export function gateTaskOf(sent: ReturnType<typeof requestEvent>) {
  return {
    incidentId: sent.incidentId,
    executionArn: sent.executionArn,
    gate: sent.gate,
    enteredTime: sent.enteredTime,
    defaultDecision: sent.defaultDecision,
  };
}

/** Every item of a test table, sorted, for before/after comparisons. */
export async function allItems(table: TestTable): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await table.doc.send(
      new ScanCommand({ TableName: table.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items.sort((a, b) => `${a.pk}|${a.sk}`.localeCompare(`${b.pk}|${b.sk}`));
}

/** The approval store on a test table. */
export function storeOf(table: TestTable): ApprovalStore {
  return new ApprovalStore(table.doc, table.tableName);
}
