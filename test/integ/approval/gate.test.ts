import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { INDEX } from '#shared/audit-table';
import { makeClient, registerClientPlugin } from '#shared/clients';
import { approvalKeys } from '../../../functions/approval/keys.ts';
import { requestApproval } from '../../../functions/approval/request/core.ts';
import { ActionFunction } from '../../../infra/constructs/action-function.ts';
import { ApprovalApi } from '../../../infra/constructs/approval-api.ts';
import { AuditTable } from '../../../infra/constructs/audit-table.ts';
import { type ApprovalServer, serveDecisions } from '../../../local/approval-server.ts';
import { LocalEngine } from '../../../local/engine/index.ts';
import { Outbox, outboxPlugin } from '../../../local/outbox.ts';
import { ApprovalGate } from '../../../playbooks/parts/approval-gate.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import {
  capture,
  fakeToken,
  openIncident,
  requestEvent,
  type SfnCall,
  sfnPlugin,
  storeOf,
} from './helpers.ts';

const MACHINE = 'cordon-test-gate';
const ALICE = 'alice@example.com';

let table: TestTable;
let recorder: AuditRecorder;
let engine: LocalEngine;
let server: ApprovalServer;
let outbox: Outbox;
const sfnCalls: SfnCall[] = [];
const unregister: (() => void)[] = [];

/** A playbook: a gate before a "terminate" note, and a "kept" note when rejected. */
function buildStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new Stack(app, 'GateTest', { env: { account: '123456789012', region: 'us-east-1' } });
  const audit = new AuditTable(stack, 'Audit');
  const approvals = new ApprovalApi(stack, 'Approvals', {
    table: audit,
    approvers: [ALICE, 'bob@example.com'],
    sender: 'cordon@example.com',
    stateMachineNames: [MACHINE],
  });
  const note = new ActionFunction(stack, 'RecordNote', {
    entry: 'functions/actions/record-note/handler.ts',
    description: 'Appends a note to an incident',
  }).recordsTo(audit);
  const noteTask = (id: string, text: string) =>
    new tasks.LambdaInvoke(stack, id, {
      lambdaFunction: note,
      payload: sfn.TaskInput.fromObject({
        incidentId: sfn.JsonPath.stringAt('$.incidentId'),
        executionArn: sfn.JsonPath.stringAt('$$.Execution.Id'),
        note: sfn.JsonPath.format(`${text} ({})`, sfn.JsonPath.stringAt('$.approval.decidedBy')),
      }),
      payloadResponseOnly: true,
      resultPath: '$.noted',
    });
  const failed = new sfn.Fail(stack, 'Failed', {
    errorPath: '$.failure.Error',
    causePath: '$.failure.Cause',
  });
  const gate = new ApprovalGate(stack, 'Approve termination', {
    functions: approvals,
    failure: failed,
    action: 'terminate-instance',
    summary: {
      happened: sfn.JsonPath.stringAt('$.happened'),
      done: 'Isolated the instance and snapshotted its volumes.',
      asks: sfn.JsonPath.format('Terminate {}.', sfn.JsonPath.stringAt('$.resource.id')),
    },
    timeout: Duration.seconds(60),
  });
  gate.approved.next(noteTask('Terminate', 'terminated after approval'));
  gate.rejected.next(noteTask('Keep', 'kept: not approved'));
  const machine = new sfn.StateMachine(stack, 'Playbook', {
    stateMachineName: MACHINE,
    definitionBody: sfn.DefinitionBody.fromChainable(gate),
  });
  (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata('cordon:playbook', 'gate-test');
  return stack;
}

beforeAll(async () => {
  table = await createTestTable('approval-gate');
  recorder = table.recorder();
  outbox = new Outbox(mkdtempSync(join(tmpdir(), 'cordon-gate-')), { print: () => {} });
  unregister.push(registerClientPlugin(outboxPlugin(outbox)));
  unregister.push(registerClientPlugin(table.trust.plugin()));
  unregister.push(
    registerClientPlugin(
      sfnPlugin(sfnCalls, (call) => {
        const token = String(call.input.taskToken);
        if (call.command === 'SendTaskSuccess') engine.success(token, String(call.input.output));
        else engine.failure(token, String(call.input.error), String(call.input.cause));
      }),
    ),
  );
  server = await serveDecisions({
    store: storeOf(table),
    recorder,
    sfn: makeClient(SFNClient, { service: 'SFN' }),
  });
  engine = LocalEngine.fromApp(buildStack(), {
    // 60 s of approval timeout become 3 s.
    waitScale: 0.05,
    env: {
      ...table.trust.env,
      CORDON_TABLE_NAME: table.tableName,
      AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
      CORDON_APPROVAL_BASE_URL: server.url,
      CORDON_LOG_LEVEL: 'silent',
    },
  });
});

afterAll(async () => {
  await engine?.close();
  await server?.close();
  for (const off of unregister) off();
  await table?.drop();
});

async function start(name: string) {
  const incident = await openIncident(recorder);
  const execution = engine.start(
    'gate-test',
    {
      incidentId: incident.id,
      // As every playbook's input holds it (PlaybookInput): the gate's check acts where the finding is.
      finding: { account: incident.account, region: incident.region },
      resource: { type: 'instance', id: 'i-0abc1234def567890' },
      happened: 'GuardDuty: C&C DNS queries',
      reasons: ['instance i-0abc1234def567890 is only the target of the finding: a person decides'],
    },
    { name },
  );
  return { incident, execution };
}

async function linkFor(incidentId: string, to: string): Promise<string> {
  for (let i = 0; i < 100; i++) {
    const email = outbox.emails.find((e) => e.to.includes(to) && e.text?.includes(incidentId));
    const link = email?.links.find((l) => l.includes('/approvals/'));
    if (link) return link;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no email to ${to} for ${incidentId}`);
}

const decide = (link: string, decision: string, reason: string) =>
  fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'gate-test' },
    body: new URLSearchParams({ decision, reason }).toString(),
  });

describe('a playbook with an approval gate on the local engine', () => {
  it('goes on when an approver approves, with the approver recorded as decider', async () => {
    const { incident, execution } = await start('approved');
    const link = await linkFor(incident.id, ALICE);
    expect((await decide(link, 'approve', 'go')).status).toBe(200);
    const result = await execution.done;
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      approval: { decision: 'approve', decidedBy: ALICE, reason: 'go' },
    });
    const steps = await recorder.steps(incident.id);
    expect(steps.find((s) => s.action === 'approval-decision')).toMatchObject({ actor: ALICE });
    expect(steps.filter((s) => s.action === 'record-note').at(-1)?.note).toBe(
      `terminated after approval (${ALICE})`,
    );
    expect(steps.map((s) => s.executionArn).filter(Boolean)).toContain(execution.arn);
    expect((await recorder.verify(incident.id)).ok).toBe(true);
  });

  it('takes the rejected branch when an approver rejects', async () => {
    const { incident, execution } = await start('rejected');
    const link = await linkFor(incident.id, 'bob@example.com');
    expect((await decide(link, 'reject', 'database host')).status).toBe(200);
    const result = await execution.done;
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({
      approval: { decision: 'reject', decidedBy: 'bob@example.com', reason: 'database host' },
    });
    const steps = await recorder.steps(incident.id);
    expect(steps.find((s) => s.action === 'approval-decision')).toMatchObject({ actor: 'bob@example.com' });
    expect(steps.filter((s) => s.action === 'record-note').at(-1)?.note).toBe(
      'kept: not approved (bob@example.com)',
    );
  });

  it('applies the default decision (reject) when nobody decides, decided by timeout', async () => {
    const { incident, execution } = await start('timed-out');
    const link = await linkFor(incident.id, ALICE);
    const result = await execution.done;
    expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
    expect(result.history.map((e) => e.type)).toContain('TaskTimedOut');
    expect(result.output).toMatchObject({ approval: { decision: 'reject', decidedBy: 'timeout' } });
    const steps = await recorder.steps(incident.id);
    expect(steps.find((s) => s.action === 'approval-decision')).toMatchObject({
      actor: 'timeout',
      changes: { decision: 'reject', status: 'expired' },
    });
    expect(steps.filter((s) => s.action === 'approval-timeout-email')).toHaveLength(2);
    expect(steps.filter((s) => s.action === 'record-note').at(-1)?.note).toBe('kept: not approved (timeout)');
    // The link no longer decides anything.
    expect((await decide(link, 'approve', 'late')).status).toBe(409);
  });

  it("applies the gate's own default when a request of the same gate, made by anything else, says approve", async () => {
    const { incident, execution } = await start('other-default');
    await linkFor(incident.id, ALICE);
    // Anyone who may invoke the request function asks again for this execution and gate, with an approving
    // default: an authentic request in the record, newer than the gate's, but not its task's.
    await requestApproval(
      {
        store: storeOf(table),
        recorder,
        ses: capture().ses,
        approvers: [ALICE],
        sender: 'cordon@example.com',
        baseUrl: server.url,
      },
      requestEvent(incident.id, fakeToken(), {
        executionArn: execution.arn,
        gate: 'Approve termination',
        defaultDecision: 'approve',
        timeoutSeconds: 60,
      }),
    );
    const result = await execution.done;
    expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ approval: { decision: 'reject', decidedBy: 'timeout' } });
    const steps = await recorder.steps(incident.id);
    expect(steps.filter((s) => s.action === 'record-note').at(-1)?.note).toBe('kept: not approved (timeout)');
    expect(steps.some((s) => s.note === 'terminated after approval (timeout)')).toBe(false);
  });

  it('refuses a SendTaskSuccess that no recorded decision backs, from anyone holding the token', async () => {
    const { incident, execution } = await start('forged-success');
    await linkFor(incident.id, ALICE);
    // The token is in no index: the pending request, as the by-status index shows it, holds none.
    const pending = await table.doc.send(
      new QueryCommand({
        TableName: table.tableName,
        IndexName: INDEX.byStatus,
        KeyConditionExpression: 'gsi2pk = :pk',
        ExpressionAttributeValues: { ':pk': approvalKeys.status('pending') },
      }),
    );
    const request = pending.Items?.find((item) => item.incidentId === incident.id);
    expect(request).toBeDefined();
    expect(JSON.stringify(pending.Items)).not.toMatch(/taskToken/);
    // A forger with table access reads the token item (IAM lets only the decision function do that when
    // deployed) and completes the task with an approval of their own making.
    const tokenItem = await table.doc.send(
      new GetCommand({ TableName: table.tableName, Key: approvalKeys.token(String(request?.requestId)) }),
    );
    engine.success(
      String(tokenItem.Item?.taskToken),
      JSON.stringify({
        decision: 'approve',
        decidedBy: ALICE,
        decidedAt: new Date().toISOString(),
        reason: '',
      }),
    );
    const result = await execution.done;
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ApprovalNotRecordedError');
    const steps = await recorder.steps(incident.id);
    expect(steps.filter((s) => s.action === 'record-note').map((s) => s.note)).not.toContain(
      `terminated after approval (${ALICE})`,
    );
    expect(steps.find((s) => s.action === 'approval-check' && s.status === 'failed')).toMatchObject({
      error: { name: 'ApprovalNotRecordedError' },
    });
    expect(steps.some((s) => s.action === 'approval-decision')).toBe(false);
    expect((await storeOf(table).get(String(request?.requestId)))?.status).toBe('pending');
  });

  it('shows the approvers why a person decides', async () => {
    const { incident, execution } = await start('reasons');
    const email = await (async () => {
      for (let i = 0; i < 100; i++) {
        const found = outbox.emails.find((e) => e.to.includes(ALICE) && e.text?.includes(incident.id));
        if (found) return found;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error('no email');
    })();
    expect(email.text).toContain(
      'Why a person decides: instance i-0abc1234def567890 is only the target of the finding: a person decides',
    );
    execution.stop();
    await execution.done;
  });
});
