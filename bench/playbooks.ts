/**
 * Playbook figures from the engine's history, the sandbox's call log and the bench's call counter
 * (bench/counting.ts): state transitions, Lambda invocations and AWS calls from the start of the execution
 * until contained, and in total; the calls and sequential rounds of every client by service until
 * contained (the EC2 figures of the table are the EC2 calls until the containing state exits). The
 * record's own DynamoDB calls are counted apart, and so are its seal's (KMS GenerateMac/VerifyMac, S3
 * anchors). Approvals are answered as an operator at the console would, through the decision core: the
 * gate takes only a recorded decision; the operator's polling for the request is not counted.
 *
 * A scenario may prepare the isolation groups first, as `cordon prepare` does before an incident: in a
 * copy of the account, through `prepareIsolationGroups`, the account then handed to the runtime and the
 * groups to the settings (`ec2.isolationGroups`). The preparation's calls are counted apart.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { makeClient } from '#shared/clients';
import type { Resource } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { incidentFrom } from '#shared/incident-from';
import { playbookInput } from '#shared/playbook-input';
import type { SettingsInput } from '#shared/settings';
import settingsFile from '../cordon.config.ts';
import { decideAsPrincipal } from '../functions/approval/decide/core.ts';
import { ApprovalStore } from '../functions/approval/store.ts';
import { resourceForPlaybook } from '../functions/router/policy.ts';
import { writeAccountFile } from '../local/runtime/account-file.ts';
import { LOCAL_ACCOUNT, LocalRuntime, type PendingTask } from '../local/runtime.ts';
import { type AccountSeed, Sandbox } from '../local/sandbox/index.ts';
import { createAuditTable, LOCAL_CREDENTIALS, LOCAL_REGION, type LocalStore } from '../local/store.ts';
import { type CallCounter, type CallCounts, of } from './counting.ts';

export interface PlaybookFigures {
  readonly scenario: string;
  readonly playbook: string;
  readonly status: string;
  readonly untilContained: Counts;
  readonly total: Counts;
  /**
   * The calls and rounds of every client by service until contained (the runtime's own recorder's seal
   * excepted); absent when the containing state never exited.
   */
  readonly untilContainedByService?: CallCounts;
  /**
   * EC2 calls from the start of the run to the one that isolated: the last ModifyNetworkInterfaceAttribute
   * that sets groups before the containing state exits. The checks the isolation makes after it (the
   * instance and the groups read again, in the same invocation) are in `untilContainedByService`.
   */
  readonly ec2CallsUntilIsolated?: number;
  /** The isolation groups prepared before the run, by VPC, and the preparation's calls; absent when not prepared. */
  readonly prepared?: {
    readonly groups: Readonly<Record<string, { isolation: string; untrack?: string }>>;
    readonly counts: CallCounts;
  };
  /** Why the groups were not prepared when the scenario asks for it. */
  readonly notPrepared?: string;
}

/** What a run made, from its start. */
export interface Counts {
  transitions: number;
  invocations: number;
  awsCalls: number;
  /** The audit record's DynamoDB calls (and the operator's decision, when there is an approval). */
  recordCalls: number;
  /** The record key's and the anchor's calls (KMS, S3). */
  sealCalls: number;
}

/** Who approves in the bench: an operator at the console. */
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/bench/operator';

/** Approves a gate's request as the operator, once the request function has stored it. */
async function approveAsOperator(
  runtime: LocalRuntime,
  counter: CallCounter,
  tableName: string,
  task: PendingTask,
): Promise<void> {
  const store = new ApprovalStore(makeDocumentClient(), tableName);
  const gate = (task.input as { Payload?: { gate?: string } }).Payload?.gate;
  for (let attempt = 0; attempt < 500; attempt++) {
    // Counted apart: the console's polling is no part of the playbook.
    const pending = (await counter.measure(() => store.byStatus('pending'))).value;
    const request = pending.find((r) => r.executionArn === task.executionArn && r.gate === gate);
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
  /** Prepare the isolation groups of the instance's VPCs before the run (`cordon prepare`). */
  readonly prepareGroups?: boolean;
}

type PrepareGroups = (
  ec2: Pick<EC2Client, 'send'>,
  vpcIds: readonly string[],
) => Promise<Record<string, { isolation: string; untrack: string }>>;

interface Prepared {
  readonly accountFile: string;
  readonly groups: Record<string, { isolation: string; untrack: string }>;
  readonly counts: CallCounts;
}

/**
 * Prepares the groups of the VPCs of the scenario's instance in an account made from its seed, and writes
 * the account to a file for the runtime. Undefined with the reason when `prepareIsolationGroups` is not
 * there (functions/actions/ec2-isolate/groups.ts).
 */
async function prepare(
  scenario: Scenario,
  counter: CallCounter,
  dir: string,
): Promise<Prepared | { readonly missing: string }> {
  const groups = (await import('../functions/actions/ec2-isolate/groups.ts')) as unknown as {
    prepareIsolationGroups?: PrepareGroups;
  };
  const prepareIsolationGroups = groups.prepareIsolationGroups;
  if (typeof prepareIsolationGroups !== 'function')
    return { missing: 'functions/actions/ec2-isolate/groups.ts exports no prepareIsolationGroups' };
  const sandbox = Sandbox.create(scenario.seed, { accountId: LOCAL_ACCOUNT, region: LOCAL_REGION });
  const ec2 = sandbox.attach(
    counter.attach(new EC2Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 })),
  );
  const described = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [scenario.resource.id] }));
  const vpcIds = new Set<string>();
  for (const reservation of described.Reservations ?? []) {
    for (const instance of reservation.Instances ?? []) {
      if (instance.VpcId) vpcIds.add(instance.VpcId);
      for (const nic of instance.NetworkInterfaces ?? []) if (nic.VpcId) vpcIds.add(nic.VpcId);
    }
  }
  const { value, counts } = await counter.measure(() => prepareIsolationGroups(ec2, [...vpcIds]));
  ec2.destroy();
  const accountFile = join(dir, 'account.json');
  writeAccountFile(accountFile, sandbox.state());
  return { accountFile, groups: value, counts };
}

/** Runs one scenario to its end (approvals answered by the operator path) and returns its figures. */
export async function measurePlaybook(
  store: LocalStore,
  scenario: Scenario,
  counter: CallCounter,
): Promise<PlaybookFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-bench-account-'));
  try {
    return await measureIn(store, scenario, counter, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function measureIn(
  store: LocalStore,
  scenario: Scenario,
  counter: CallCounter,
  dir: string,
): Promise<PlaybookFigures> {
  const prepared = scenario.prepareGroups ? await prepare(scenario, counter, dir) : undefined;
  const groups = prepared && 'groups' in prepared ? prepared : undefined;
  const settingsInput = settingsFile as SettingsInput;
  const tableName = `bench-${randomBytes(4).toString('hex')}`;
  const raw = store.client();
  await createAuditTable(raw, tableName);
  raw.destroy();
  let contained: Counts | undefined;
  let ec2UntilIsolated: number | undefined;
  let containedByService: CallCounts | undefined;
  let tally = counter.begin();
  const recordCalls = () => of(tally.counts(), 'DynamoDB').calls;
  let sealBase = 0;
  let transitions = 0;
  let invocations = 0;
  const runtime = await LocalRuntime.start({
    store: { endpoint: store.endpoint, tableName },
    ...(groups ? { accountFile: groups.accountFile } : { seed: scenario.seed }),
    waitScale: 0.001,
    stack: {
      settings: {
        ...settingsInput,
        ...scenario.settings,
        ...(groups
          ? { ec2: { ...settingsInput.ec2, ...scenario.settings?.ec2, isolationGroups: groups.groups } }
          : {}),
        // The operator decides from the console: the check counts only listed principals' decisions.
        approval: { ...settingsInput.approval, consolePrincipals: [OPERATOR] },
      },
    },
    onEvent: (event) => {
      if (/StateEntered$/.test(event.type)) transitions++;
      if (event.type === 'LambdaFunctionScheduled' || event.type === 'TaskScheduled') invocations++;
      if (!contained && event.type === 'TaskStateExited' && event.stateName === scenario.containedAt) {
        containedByService = tally.counts();
        const ec2 = runtime.sandbox.calls.filter((call) => call.service === 'EC2');
        let last = -1;
        ec2.forEach((call, i) => {
          if (call.command === 'ModifyNetworkInterfaceAttribute' && 'Groups' in (call.input as object))
            last = i;
        });
        ec2UntilIsolated = last < 0 ? undefined : last + 1;
        contained = {
          transitions,
          invocations,
          awsCalls: runtime.sandbox.calls.length,
          recordCalls: recordCalls(),
          sealCalls: runtime.trust.sandbox.calls.length - sealBase,
        };
      }
    },
    onTask: (task) => {
      void approveAsOperator(runtime, counter, tableName, task);
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
    tally = counter.begin();
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
        recordCalls: recordCalls(),
        sealCalls: runtime.trust.sandbox.calls.length - sealBase,
      },
      ...(containedByService ? { untilContainedByService: containedByService } : {}),
      ...(ec2UntilIsolated === undefined ? {} : { ec2CallsUntilIsolated: ec2UntilIsolated }),
      ...(groups ? { prepared: { groups: groups.groups, counts: groups.counts } } : {}),
      ...(prepared && 'missing' in prepared ? { notPrepared: prepared.missing } : {}),
    };
  } finally {
    await runtime.close();
  }
}
