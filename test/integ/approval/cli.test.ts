import { createServer } from 'node:http';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { mockClient } from 'aws-sdk-client-mock';
import { Command } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import {
  type ApprovalsDeps,
  approve,
  listApprovals,
  registerApprovalsCommands,
  reject,
} from '../../../cli/commands/approvals.ts';
import { httpDecider, localDecider } from '../../../cli/console-decisions.ts';
import { checkApproval } from '../../../functions/approval/check/core.ts';
import { CONSOLE_ROUTE, type DecideDeps, handleDecision } from '../../../functions/approval/decide/core.ts';
import { requestApproval } from '../../../functions/approval/request/core.ts';
import type { ApprovalStore } from '../../../functions/approval/store.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { type Capture, capture, fakeToken, openIncident, requestEvent, storeOf } from './helpers.ts';

const PRINCIPAL = 'arn:aws:sts::123456789012:assumed-role/SecurityOncall/dana';
/** `settings.approval.consolePrincipals` in these tests: the on-call role's sessions. */
const CONSOLE_PRINCIPALS = ['arn:aws:sts::*:assumed-role/SecurityOncall/*'];

let table: TestTable;
let recorder: AuditRecorder;
let store: ApprovalStore;
let cap: Capture;
let deps: ApprovalsDeps;
let sts: STSClient;

/** The decision core's dependencies, with the console principals `consolePrincipals` (default the on-call role's). */
function decideDeps(consolePrincipals: readonly string[] = CONSOLE_PRINCIPALS): DecideDeps {
  return { store, recorder, sfn: cap.sfn, consolePrincipals };
}

beforeAll(async () => {
  table = await createTestTable('approval-cli');
  recorder = table.recorder();
  store = storeOf(table);
  cap = capture();
  sts = new STSClient({ region: 'us-east-1' });
  mockClient(sts).on(GetCallerIdentityCommand).resolves({ Arn: PRINCIPAL, Account: '123456789012' });
  deps = { store, decider: localDecider(decideDeps(), sts) };
});

afterAll(async () => {
  await table?.drop();
});

async function pending() {
  const incident = await openIncident(recorder);
  const token = fakeToken();
  const event = requestEvent(incident.id, token);
  const result = await requestApproval(
    {
      store,
      recorder,
      ses: cap.ses,
      approvers: ['alice@example.com'],
      sender: 'cordon@example.com',
      baseUrl: 'https://x.example.com',
    },
    event,
  );
  return { incident, token, event, requestId: result.requestId };
}

describe('cordon approvals', () => {
  it('lists pending requests without their tokens', async () => {
    const { requestId, token } = await pending();
    const list = await listApprovals(deps);
    expect(list.map((r) => r.requestId)).toContain(requestId);
    expect(JSON.stringify(list)).not.toContain(token);
  });

  it('approves by request id as the caller IAM principal, and sends the task success', async () => {
    const { requestId, token, incident } = await pending();
    const calls = cap.sfnCalls.length;
    const { request } = await approve(deps, requestId, { reason: 'change ticket 42' });
    expect(request).toMatchObject({ status: 'approved', decidedBy: PRINCIPAL, decidedVia: 'console' });
    expect(cap.sfnCalls.slice(calls).map((c) => [c.command, c.input.taskToken])).toEqual([
      ['SendTaskSuccess', token],
    ]);
    const step = (await recorder.steps(incident.id)).find((s) => s.action === 'approval-decision');
    expect(step).toMatchObject({ actor: PRINCIPAL, input: { via: 'console' } });
    expect((await listApprovals(deps)).map((r) => r.requestId)).not.toContain(requestId);
    await expect(reject(deps, requestId, { reason: 'too late' })).rejects.toMatchObject({
      name: 'ApprovalClosedError',
      message: expect.stringContaining(PRINCIPAL),
    });
  });

  it('rejects with a reason through the commands, and refuses an unknown id', async () => {
    const { requestId } = await pending();
    const lines: string[] = [];
    const cli = new Command('cordon').exitOverride();
    registerApprovalsCommands(cli, { out: (l) => lines.push(l), deps: () => deps });
    await cli.parseAsync(['node', 'cordon', 'approvals', 'list']);
    expect(lines.some((l) => l.startsWith(requestId) && l.includes('pending'))).toBe(true);
    await cli.parseAsync(['node', 'cordon', 'approvals', 'reject', requestId, '--reason', 'not this one']);
    expect(lines.at(-1)).toBe(`rejected terminate-instance on i-0abc1234def567890 as ${PRINCIPAL}`);
    expect((await store.get(requestId))?.status).toBe('rejected');
    await expect(approve(deps, 'no-such-request')).rejects.toMatchObject({ name: 'ApprovalNotFoundError' });
  });

  it('decides from the console through the IAM-authorized route, signed, as the principal API Gateway names', async () => {
    const { requestId, incident } = await pending();
    const seen: { authorization?: string; path?: string } = {};
    // Stands in for API Gateway: it checks a SigV4 signature is there and names the caller to the function.
    const gateway = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        seen.authorization = req.headers.authorization;
        seen.path = req.url;
        const requestIdOf = /^\/console\/approvals\/([^/]+)$/.exec(req.url ?? '')?.[1] ?? '';
        const event = {
          routeKey: CONSOLE_ROUTE,
          rawPath: req.url,
          pathParameters: { requestId: decodeURIComponent(requestIdOf) },
          body: Buffer.concat(chunks).toString('utf8'),
          isBase64Encoded: false,
          requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn: PRINCIPAL } } },
        } as unknown as APIGatewayProxyEventV2;
        void handleDecision(decideDeps(), event).then((out) => {
          res.writeHead(out.statusCode ?? 500, { 'content-type': 'application/json' }).end(out.body);
        });
      });
    });
    await new Promise<void>((resolve) => gateway.listen(0, '127.0.0.1', resolve));
    const port = (gateway.address() as { port: number }).port;
    const saved = { id: process.env.AWS_ACCESS_KEY_ID, secret: process.env.AWS_SECRET_ACCESS_KEY };
    process.env.AWS_ACCESS_KEY_ID = 'AKIAIOSFODNN7EXAMPLE';
    process.env.AWS_SECRET_ACCESS_KEY = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    try {
      const http = { store, decider: httpDecider(`http://127.0.0.1:${port}`, { region: 'us-east-1' }) };
      const { request } = await approve(http, requestId, { reason: 'ticket 7' });
      expect(request).toMatchObject({ status: 'approved', decidedBy: PRINCIPAL, decidedVia: 'console' });
      expect(seen.path).toBe(`/console/approvals/${requestId}`);
      expect(seen.authorization).toMatch(
        /^AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/execute-api\/aws4_request, SignedHeaders=.*host.*, Signature=[0-9a-f]{64}$/,
      );
      const step = (await recorder.steps(incident.id)).find((s) => s.action === 'approval-decision');
      expect(step).toMatchObject({ actor: PRINCIPAL, input: { via: 'console' } });
    } finally {
      process.env.AWS_ACCESS_KEY_ID = saved.id;
      process.env.AWS_SECRET_ACCESS_KEY = saved.secret;
      if (saved.id === undefined) delete process.env.AWS_ACCESS_KEY_ID;
      if (saved.secret === undefined) delete process.env.AWS_SECRET_ACCESS_KEY;
      gateway.close();
    }
  });

  it('refuses a console decision the gateway did not sign for', async () => {
    const { requestId } = await pending();
    const event = {
      routeKey: CONSOLE_ROUTE,
      pathParameters: { requestId },
      body: JSON.stringify({ decision: 'approve' }),
      requestContext: { http: { method: 'POST' } },
    } as unknown as APIGatewayProxyEventV2;
    const out = await handleDecision(decideDeps(), event);
    expect(out.statusCode).toBe(403);
    expect((await store.get(requestId))?.status).toBe('pending');
  });

  it('refuses a console decision by a principal not in settings.approval.consolePrincipals, and every one when none is', async () => {
    const { requestId, incident } = await pending();
    const calls = cap.sfnCalls.length;
    // A role that may call the route (a function's, a pipeline's) but is not a person who decides.
    const routeCaller = (userArn: string, consolePrincipals?: readonly string[]) =>
      handleDecision({ store, recorder, sfn: cap.sfn, ...(consolePrincipals ? { consolePrincipals } : {}) }, {
        routeKey: CONSOLE_ROUTE,
        pathParameters: { requestId },
        body: JSON.stringify({ decision: 'approve', reason: 'ship it' }),
        isBase64Encoded: false,
        requestContext: { http: { method: 'POST' }, authorizer: { iam: { userArn } } },
      } as unknown as APIGatewayProxyEventV2);
    const unlisted = await routeCaller(
      'arn:aws:sts::123456789012:assumed-role/cordon-ApprovalsRequestRole/i-am-a-lambda',
      CONSOLE_PRINCIPALS,
    );
    expect(unlisted.statusCode).toBe(403);
    expect(JSON.parse(String(unlisted.body))).toMatchObject({
      outcome: 'refused',
      message: expect.stringContaining('is not one of settings.approval.consolePrincipals'),
    });
    // The default: nobody is listed, so nobody decides from the console, the on-call role included.
    const none = await routeCaller(PRINCIPAL);
    expect(none.statusCode).toBe(403);
    expect(JSON.parse(String(none.body)).message).toMatch(/console decisions are off/);
    const local = localDecider({ store, recorder, sfn: cap.sfn }, sts);
    await expect(approve({ store, decider: local }, requestId)).rejects.toThrow(/console decisions are off/);
    expect((await store.get(requestId))?.status).toBe('pending');
    expect(cap.sfnCalls.length).toBe(calls);
    expect((await recorder.steps(incident.id)).some((s) => s.action === 'approval-decision')).toBe(false);
  });

  it("counts at the gate's check only a console decision by a listed principal", async () => {
    const { requestId, incident, event } = await pending();
    await approve(deps, requestId, { reason: 'ticket 9' });
    const gateTask = {
      incidentId: incident.id,
      executionArn: event.executionArn,
      gate: event.gate,
      enteredTime: event.enteredTime,
      defaultDecision: 'reject',
    };
    const listed = await checkApproval({ recorder, store, consolePrincipals: CONSOLE_PRINCIPALS }, gateTask);
    expect(listed.output).toMatchObject({ approved: true, decidedBy: PRINCIPAL, via: 'console' });
    // The same recorded decision, at a check whose settings list another role, or none, approves nothing.
    for (const consolePrincipals of [[], ['arn:aws:sts::*:assumed-role/AWSReservedSSO_Responder_*/*']]) {
      await expect(checkApproval({ recorder, store, consolePrincipals }, gateTask)).rejects.toMatchObject({
        name: 'ApprovalNotRecordedError',
        message: expect.stringContaining('settings.approval.consolePrincipals'),
      });
    }
  });
});
