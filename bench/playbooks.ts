/**
 * Playbook figures from the engine's history and the sandbox's call log: state transitions, Lambda
 * invocations and AWS calls from the start of the execution until contained, and in total. The record's
 * own DynamoDB calls are counted apart, and so are its seal's (KMS GenerateMac/VerifyMac, S3 anchors).
 * Approvals are answered as an operator at the console would, through the decision core: the gate takes
 * only a recorded decision.
 */
import { randomBytes } from 'node:crypto';
import { SFNClient } from '@aws-sdk/client-sfn';
import type { InitializeMiddleware } from '@smithy/types';
import { makeClient, registerClientPlugin } from '#shared/clients';
import type { Resource } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { incidentFrom } from '#shared/incident-from';
import { playbookInput } from '#shared/playbook-input';
import type { SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { decideAsPrincipal } from '../functions/approval/decide/core.ts';
import { ApprovalStore } from '../functions/approval/store.ts';
import { resourceForPlaybook } from '../functions/router/policy.ts';
import { LocalRuntime, type PendingTask } from '../local/runtime.ts';
import type { AccountSeed } from '../local/sandbox/index.ts';
import { createAuditTable, type LocalStore } from '../local/store.ts';

export interface PlaybookFigures {
  readonly scenario: string;
  readonly playbook: string;
  readonly status: string;
  readonly untilContained: Counts;
  readonly total: Counts;
}

/** What a run made, from its start. */
export interface Counts {
  transitions: number;
  invocations: number;
  awsCalls: number;
  /** The audit record's DynamoDB calls. */
  recordCalls: number;
  /** The record key's and the anchor's calls (KMS, S3). */
  sealCalls: number;
}

/** Who approves in the bench: an operator at the console. */
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/bench/operator';

/** Approves a gate's request as the operator, once the request function has stored it. */
async function approveAsOperator(runtime: LocalRuntime, tableName: string, task: PendingTask): Promise<void> {
  const store = new ApprovalStore(makeDocumentClient(), tableName);
  const gate = (task.input as { Payload?: { gate?: string } }).Payload?.gate;
  for (let attempt = 0; attempt < 500; attempt++) {
    const request = (await store.byStatus('pending')).find(
      (r) => r.executionArn === task.executionArn && r.gate === gate,
    );
    if (request) {
      await decideAsPrincipal(
        {
          store,
          recorder: runtime.recorder,
          sfn: makeClient(SFNClient, { service: 'SFN' }),
          consolePrincipals: [OPERATOR],
        },
        OPERATOR,
        request.requestId,
        'approve',
        'bench',
      );
      return;
    }
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`no approval request appeared for ${gate} of ${task.executionArn}`);
}

export interface Scenario {
  readonly name: string;
  readonly playbook: string;
  readonly settings?: Partial<SettingsInput>;
  readonly seed: AccountSeed;
  readonly resource: Resource;
  /** The task whose exit means contained. */
  readonly containedAt: string;
}

let recordCalls = 0;
const countRecord: InitializeMiddleware<object, object> = (next, context) => async (args) => {
  if (context.clientName === 'DynamoDBClient') recordCalls++;
  return next(args);
};
let installed = false;

/** Runs one scenario to its end (approvals answered by the operator path) and returns its figures. */
export async function measurePlaybook(store: LocalStore, scenario: Scenario): Promise<PlaybookFigures> {
  if (!installed) {
    registerClientPlugin({
      applyToStack: (stack) => stack.add(countRecord, { step: 'initialize', name: 'benchCount' }),
    });
    installed = true;
  }
  const tableName = `bench-${randomBytes(4).toString('hex')}`;
  const raw = store.client();
  await createAuditTable(raw, tableName);
  raw.destroy();
  let contained: Counts | undefined;
  let sealBase = 0;
  let transitions = 0;
  let invocations = 0;
  const runtime = await LocalRuntime.start({
    store: { endpoint: store.endpoint, tableName },
    seed: scenario.seed,
    waitScale: 0.001,
    stack: {
      settings: {
        ...(settingsFile as SettingsInput),
        ...scenario.settings,
        // The operator decides from the console: the check counts only listed principals' decisions.
        approval: { ...(settingsFile as SettingsInput).approval, consolePrincipals: [OPERATOR] },
      },
    },
    onEvent: (event) => {
      if (/StateEntered$/.test(event.type)) transitions++;
      if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') invocations++;
      if (!contained && event.type === 'TaskStateExited' && event.stateName === scenario.containedAt) {
        contained = {
          transitions,
          invocations,
          awsCalls: runtime.sandbox.calls.length,
          recordCalls,
          sealCalls: runtime.trust.sandbox.calls.length - sealBase,
        };
      }
    },
    onTask: (task) => {
      void approveAsOperator(runtime, tableName, task);
    },
  });
  try {
    const finding = {
      id: `bench-${scenario.name}`,
      source: 'guardduty' as const,
      type: 'Bench',
      title: scenario.name,
      severity: 8,
      resources: [scenario.resource],
      account: '123456789012',
      region: 'us-east-1',
      firstSeen: '2026-11-28T10:00:00.000Z',
      lastSeen: '2026-11-28T10:00:00.000Z',
    };
    const incident = await runtime.recorder.openIncident(
      incidentFrom(finding, scenario.playbook, resourceForPlaybook(finding, scenario.playbook)),
    );
    recordCalls = 0;
    sealBase = runtime.trust.sandbox.calls.length;
    transitions = 0;
    invocations = 0;
    const result = await runtime.run(
      scenario.playbook,
      playbookInput(incident.id, finding, scenario.resource, 'automatic', []),
    );
    return {
      scenario: scenario.name,
      playbook: scenario.playbook,
      status: result.status,
      untilContained: contained ?? {
        transitions: Number.NaN,
        invocations: Number.NaN,
        awsCalls: Number.NaN,
        recordCalls: Number.NaN,
        sealCalls: Number.NaN,
      },
      total: {
        transitions,
        invocations,
        awsCalls: runtime.sandbox.calls.filter((c) => c.service !== 'SESv2' && c.service !== 'SFN').length,
        recordCalls,
        sealCalls: runtime.trust.sandbox.calls.length - sealBase,
      },
    };
  } finally {
    await runtime.close();
  }
}
