/**
 * Playbook figures from the engine's history and the sandbox's call log: state transitions, Lambda
 * invocations and AWS calls from the start of the execution until contained, and in total. The record's
 * own DynamoDB calls are counted apart.
 */
import { randomBytes } from 'node:crypto';
import type { InitializeMiddleware } from '@smithy/types';
import { incidentFrom } from '#shared/audit';
import { registerClientPlugin } from '#shared/clients';
import type { Resource } from '#shared/domain';
import { playbookInput } from '#shared/playbook-input';
import type { SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { resourceForPlaybook } from '../functions/router/policy.ts';
import { LocalRuntime } from '../local/runtime.ts';
import type { AccountSeed } from '../local/sandbox/index.ts';
import { createAuditTable, type LocalStore } from '../local/store.ts';

export interface PlaybookFigures {
  readonly scenario: string;
  readonly playbook: string;
  readonly status: string;
  readonly untilContained: {
    transitions: number;
    invocations: number;
    awsCalls: number;
    recordCalls: number;
  };
  readonly total: { transitions: number; invocations: number; awsCalls: number; recordCalls: number };
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
  let contained:
    | { transitions: number; invocations: number; awsCalls: number; recordCalls: number }
    | undefined;
  let transitions = 0;
  let invocations = 0;
  const runtime = await LocalRuntime.start({
    store: { endpoint: store.endpoint, tableName },
    seed: scenario.seed,
    waitScale: 0.001,
    stack: { settings: { ...(settingsFile as SettingsInput), ...scenario.settings } },
    onEvent: (event) => {
      if (/StateEntered$/.test(event.type)) transitions++;
      if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') invocations++;
      if (!contained && event.type === 'TaskStateExited' && event.stateName === scenario.containedAt) {
        contained = { transitions, invocations, awsCalls: runtime.sandbox.calls.length, recordCalls };
      }
    },
    onTask: (task) => {
      void runtime.engine.sendTaskSuccess(
        task.token,
        JSON.stringify({
          decision: 'approve',
          decidedBy: 'bench',
          decidedAt: new Date().toISOString(),
          reason: '',
        }),
      );
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
      },
      total: {
        transitions,
        invocations,
        awsCalls: runtime.sandbox.calls.filter((c) => c.service !== 'SESv2' && c.service !== 'SFN').length,
        recordCalls,
      },
    };
  } finally {
    await runtime.close();
  }
}
