/**
 * What the approval gate tells and hands on is the record's and the person's, never what the approval items
 * in the table say: a forger here has the document client on the audit table (every item, at any moment)
 * and no use of the record key. The timeout and the check hold to the gate's own default and to the request
 * its task made; a decision is recorded and delivered as the person submitted it, even when the forger
 * rewrites the request item right after the conditional write; the pages and emails show the finding as the
 * verified incident states it, and who decided as the record states it.
 */
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, DocumentSender } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { RecordTamperedError } from '#shared/errors';
import { stepHash } from '#shared/hash-chain';
import { checkApproval } from '../../../functions/approval/check/core.ts';
import {
  type DecideDeps,
  decideAsPrincipal,
  handleDecision,
} from '../../../functions/approval/decide/core.ts';
import { approvalKeys } from '../../../functions/approval/keys.ts';
import { randomLinkIds } from '../../../functions/approval/links.ts';
import { type RequestDeps, requestApproval } from '../../../functions/approval/request/core.ts';
import { ApprovalStore } from '../../../functions/approval/store.ts';
import { applyTimeout, type TimeoutDeps } from '../../../functions/approval/timeout/core.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import {
  allItems,
  type Capture,
  capture,
  fakeToken,
  gateTaskOf,
  openIncident,
  requestEvent,
  storeOf,
} from './helpers.ts';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const DANA = 'arn:aws:sts::123456789012:assumed-role/SecurityOncall/dana';
const ONCALL = ['arn:aws:sts::*:assumed-role/SecurityOncall/*'];

let table: TestTable;
let recorder: AuditRecorder;
let store: ApprovalStore;
let cap: Capture;

beforeAll(async () => {
  table = await createTestTable('approval-forger');
  recorder = table.recorder();
  store = storeOf(table);
  cap = capture();
});

afterAll(async () => {
  await table?.drop();
});

function requestDeps(links: string[] = []): RequestDeps {
  return {
    store,
    recorder,
    ses: cap.ses,
    approvers: [ALICE, BOB],
    sender: 'cordon@example.com',
    baseUrl: 'https://approvals.example.com',
    retry: { sleep: async () => {} },
    linkIds: () => {
      const id = randomLinkIds();
      links.push(id);
      return id;
    },
  };
}

function timeoutDeps(): TimeoutDeps {
  return { store, recorder, ses: cap.ses, sender: 'cordon@example.com', retry: { sleep: async () => {} } };
}

/** Requests an approval the way the gate's task does; returns its links (Alice's, then Bob's). */
async function newRequest(event: Record<string, unknown> = {}, incidentId?: string) {
  const incident = incidentId ? { id: incidentId } : await openIncident(recorder);
  const links: string[] = [];
  const sent = requestEvent(incident.id, fakeToken(), event);
  const emailsBefore = cap.outbox.emails.length;
  const result = await requestApproval(requestDeps(links), sent);
  const gateTask = gateTaskOf(sent);
  return {
    incidentId: incident.id,
    requestId: result.requestId,
    gateTask,
    alice: links[0] ?? '',
    bob: links[1] ?? '',
    emails: cap.outbox.emails.slice(emailsBefore),
  };
}

function linkEvent(linkId: string, form?: Record<string, string>): APIGatewayProxyEventV2 {
  const method = form ? 'POST' : 'GET';
  return {
    routeKey: `${method} /approvals/{id}`,
    rawPath: `/approvals/${linkId}`,
    pathParameters: { id: linkId },
    requestContext: { http: { method, sourceIp: '192.0.2.10', userAgent: 'browser' } },
    ...(form ? { body: new URLSearchParams(form).toString() } : {}),
    isBase64Encoded: false,
  } as unknown as APIGatewayProxyEventV2;
}

/** The forger's edit of a request item, with the document client. */
async function forgeRequestItem(requestId: string, fields: Record<string, unknown>): Promise<void> {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets = Object.entries(fields).map(([key, value], i) => {
    names[`#f${i}`] = key;
    values[`:v${i}`] = value;
    return `#f${i} = :v${i}`;
  });
  await table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: approvalKeys.request(requestId),
      UpdateExpression: `SET ${sets.join(', ')}`,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
}

/**
 * A document client on which the forger wins every race: right after the decision's conditional write
 * succeeds, before the decision function does anything else, the forger rewrites the request item.
 */
function racingClient(requestId: string, forged: Record<string, unknown>): DocumentSender {
  const send = async (command: Parameters<DocumentSender['send']>[0]) => {
    const out = await table.doc.send(command);
    const decides =
      command instanceof TransactWriteCommand ||
      (command instanceof UpdateCommand &&
        String(command.input.UpdateExpression).includes('decidedBy') &&
        command.input.Key?.pk === approvalKeys.request(requestId).pk);
    if (decides) await forgeRequestItem(requestId, forged);
    return out;
  };
  return { send } as DocumentSender;
}

const FLIP = { decision: 'approve', status: 'approved', gsi2pk: 'APPROVAL#approved', reason: 'fine by me' };

describe("the gate's timeout and check hold to the gate's own default and to its task's request", () => {
  it("applies the gate's default, not that of a later request of the same gate made by anything else", async () => {
    const real = await newRequest({ defaultDecision: 'reject' });
    // Someone who may invoke the request function asks again for the same execution and gate, with an
    // approving default: a request the record holds, authentic, but not the one the gate's task made.
    const other = await newRequest(
      {
        executionArn: real.gateTask.executionArn,
        defaultDecision: 'approve',
        enteredTime: new Date(Date.now() + 1000).toISOString(),
      },
      real.incidentId,
    );
    const out = await applyTimeout(timeoutDeps(), real.gateTask);
    expect(out).toMatchObject({ requestId: real.requestId, decision: 'reject', decidedBy: 'timeout' });
    expect((await store.get(real.requestId))?.status).toBe('expired');
    expect((await store.get(other.requestId))?.status).toBe('pending');
    // And the check refuses the approved branch the state machine would never take here.
    await expect(checkApproval({ recorder, store }, real.gateTask)).rejects.toMatchObject({
      name: 'ApprovalNotRecordedError',
    });
  });

  it("refuses, and records why, when its task's recorded request states another default than the gate's", async () => {
    // The request function was handed an approving default (by anyone who may invoke it); the gate's is reject.
    const { incidentId, requestId, gateTask } = await newRequest({ defaultDecision: 'approve' });
    await expect(
      applyTimeout(timeoutDeps(), { ...gateTask, defaultDecision: 'reject' }),
    ).rejects.toMatchObject({
      name: 'ApprovalGateMismatchError',
      message: expect.stringMatching(/decides reject by default, but its recorded request .* says approve/),
    });
    expect((await store.get(requestId))?.status).toBe('pending');
    const steps = await recorder.steps(incidentId);
    expect(steps.some((s) => s.action === 'approval-decision')).toBe(false);
    expect(steps.at(-1)).toMatchObject({
      action: 'approval-refused',
      status: 'failed',
      error: { name: 'ApprovalGateMismatchError' },
    });
    expect((await recorder.verify(incidentId)).ok).toBe(true);
  });

  it("refuses at the check a timeout's approval when the gate's own default is reject", async () => {
    const { gateTask } = await newRequest({ defaultDecision: 'approve' });
    // A timeout that took the request's approving default (what a gate with that default would do).
    await applyTimeout(timeoutDeps(), { ...gateTask, defaultDecision: 'approve' });
    await expect(
      checkApproval({ recorder, store }, { ...gateTask, defaultDecision: 'reject' }),
    ).rejects.toMatchObject({
      name: 'ApprovalNotRecordedError',
      message: expect.stringContaining('decides reject by default'),
    });
    // The gate whose default that is goes on.
    const ok = await checkApproval({ recorder, store }, { ...gateTask, defaultDecision: 'approve' });
    expect(ok.output).toMatchObject({ approved: true, via: 'timeout' });
  });
});

describe('a decision is recorded and handed on as the person made it', () => {
  it("keeps Alice's rejection hers when the forger rewrites the request to approved right after her write", async () => {
    const { incidentId, requestId, alice, gateTask } = await newRequest();
    const calls = cap.sfnCalls.length;
    const deps: DecideDeps = {
      store: new ApprovalStore(racingClient(requestId, { ...FLIP, decidedBy: ALICE }), table.tableName),
      recorder,
      sfn: cap.sfn,
    };
    const page = await handleDecision(
      deps,
      linkEvent(alice, { decision: 'reject', reason: 'production host' }),
    );
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('You rejected terminate-instance');
    // The forger's edit did land: the item says approved.
    expect((await store.get(requestId))?.decision).toBe('approve');
    expect(cap.sfnCalls.slice(calls).map((c) => [c.command, c.input.error])).toEqual([
      ['SendTaskFailure', 'ApprovalRejected'],
    ]);
    const sent = JSON.parse(String(cap.sfnCalls.at(-1)?.input.cause));
    expect(sent).toMatchObject({ decision: 'reject', decidedBy: ALICE, reason: 'production host' });
    const step = (await recorder.steps(incidentId)).find((s) => s.action === 'approval-decision');
    expect(step).toMatchObject({
      actor: ALICE,
      changes: { decision: 'reject', status: 'rejected', reason: 'production host' },
      note: `${ALICE} rejected terminate-instance on i-0abc1234def567890: production host`,
    });
    await expect(checkApproval({ recorder, store }, gateTask)).rejects.toMatchObject({
      message: expect.stringContaining(`the record says ${ALICE} rejected it`),
    });
  });

  it("keeps a console rejection the principal's when the forger rewrites the request to approved", async () => {
    const { incidentId, requestId } = await newRequest();
    const calls = cap.sfnCalls.length;
    const deps: DecideDeps = {
      store: new ApprovalStore(racingClient(requestId, { ...FLIP, decidedBy: DANA }), table.tableName),
      recorder,
      sfn: cap.sfn,
      consolePrincipals: ONCALL,
    };
    const result = await decideAsPrincipal(deps, DANA, requestId, 'reject', 'not this one');
    expect(result.body).toMatchObject({
      outcome: 'decided',
      request: { decision: 'reject', decidedBy: DANA },
    });
    expect(cap.sfnCalls.slice(calls).map((c) => c.command)).toEqual(['SendTaskFailure']);
    const step = (await recorder.steps(incidentId)).find((s) => s.action === 'approval-decision');
    expect(step).toMatchObject({ actor: DANA, changes: { decision: 'reject' } });
  });

  it("names no person's late decision at the timeout that only the request item claims", async () => {
    const { incidentId, requestId, gateTask } = await newRequest();
    // Nobody decided; the forger makes the item say the CISO approved, too late.
    await forgeRequestItem(requestId, {
      ...FLIP,
      decidedBy: 'ciso@example.com',
      decidedAt: new Date().toISOString(),
    });
    const before = cap.outbox.emails.length;
    const out = await applyTimeout(timeoutDeps(), gateTask);
    expect(out).toMatchObject({ decision: 'reject', decidedBy: 'timeout' });
    const step = (await recorder.steps(incidentId)).find((s) => s.action === 'approval-decision');
    expect(step?.actor).toBe('timeout');
    expect(step?.changes).not.toHaveProperty('refusedLateDecision');
    expect(step?.note).not.toContain('ciso');
    const notices = cap.outbox.emails.slice(before);
    expect(notices).toHaveLength(2);
    for (const notice of notices) {
      expect(notice.text).toContain('No one decided on terminate-instance');
      expect(notice.text).not.toContain('ciso');
    }
    expect((await store.get(requestId))?.lateDecision).toBeUndefined();
  });
});

describe('what the approvers read is the record', () => {
  it('emails the finding as the verified incident states it, and asks nobody when the incident item was edited', async () => {
    const incident = await openIncident(recorder);
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.incident(incident.id),
        UpdateExpression: 'SET title = :t, severity = :s',
        ExpressionAttributeValues: { ':t': 'Routine patch window', ':s': 1 },
      }),
    );
    const before = cap.outbox.emails.length;
    const itemsBefore = (await allItems(table)).filter((i) => String(i.pk).startsWith('APPROVAL')).length;
    const error = await requestApproval(requestDeps(), requestEvent(incident.id, fakeToken())).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(RecordTamperedError);
    expect(cap.outbox.emails.slice(before)).toEqual([]);
    expect((await allItems(table)).filter((i) => String(i.pk).startsWith('APPROVAL')).length).toBe(
      itemsBefore,
    );
  });

  it("shows on the decision page the finding as the verified incident states it, not the request item's", async () => {
    const { requestId, alice, emails } = await newRequest();
    expect(emails[0]?.text).toContain('Severity: 8 (High)');
    await forgeRequestItem(requestId, {
      finding: {
        findingType: 'Policy:IAMUser/RootCredentialUsage',
        title: 'Routine patch window',
        severity: 1,
        account: '999999999999',
        region: 'eu-west-1',
      },
    });
    const page = await handleDecision({ store, recorder, sfn: cap.sfn }, linkEvent(alice));
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    expect(page.body).toContain('8 (High)');
    expect(page.body).toContain('123456789012');
    expect(page.body).not.toMatch(/Routine patch window|999999999999|eu-west-1/);
  });

  it('says who decided as the record states it, not as the request item claims', async () => {
    const { requestId, alice, bob } = await newRequest();
    await forgeRequestItem(requestId, { ...FLIP, decidedBy: 'ciso@example.com' });
    const forged = await handleDecision({ store, recorder, sfn: cap.sfn }, linkEvent(bob));
    expect(forged.statusCode).toBe(409);
    expect(forged.body).not.toContain('ciso@example.com');
    expect(forged.body).toContain('its record holds no decision on it');
    // A real decision is shown as recorded.
    await forgeRequestItem(requestId, { status: 'pending', gsi2pk: 'APPROVAL#pending' });
    expect(
      (await handleDecision({ store, recorder, sfn: cap.sfn }, linkEvent(alice, { decision: 'approve' })))
        .statusCode,
    ).toBe(200);
    await forgeRequestItem(requestId, { decidedBy: 'ciso@example.com' });
    const shown = await handleDecision({ store, recorder, sfn: cap.sfn }, linkEvent(bob));
    expect(shown.body).toContain(`already decided: approved by ${ALICE}`);
  });
});

describe('a forged request step', () => {
  it('decides nothing at the timeout: the record does not verify', async () => {
    const { incidentId, requestId, gateTask } = await newRequest();
    const steps = await recorder.steps(incidentId);
    const last = steps.at(-1);
    const seq = (last?.seq ?? 0) + 1;
    // The forger appends a request step with an approving default, chained and hashed.
    const step: Record<string, unknown> = {
      ...keys.step(incidentId, seq),
      incidentId,
      seq,
      phase: 'eradication',
      action: 'approval-request',
      status: 'started',
      actor: 'automation',
      executionArn: gateTask.executionArn,
      startedAt: new Date().toISOString(),
      recordedAt: new Date().toISOString(),
      input: {
        requestId: `${requestId}-forged`,
        gate: gateTask.gate,
        action: 'terminate-instance',
        resource: { type: 'instance', id: 'i-0abc1234def567890' },
        summary: { happened: 'h', done: 'd', asks: 'a' },
        approvers: [ALICE],
        expiresAt: new Date(Date.now() - 1000).toISOString(),
        defaultDecision: 'approve',
        enteredTime: gateTask.enteredTime,
      },
      prevHash: last?.hash,
    };
    step.hash = stepHash(step);
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: step }));
    await expect(applyTimeout(timeoutDeps(), gateTask)).rejects.toBeInstanceOf(RecordTamperedError);
    expect((await store.get(requestId))?.status).toBe('pending');
  });
});
