import { randomBytes } from 'node:crypto';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { linkMacMessage } from '#shared/seal';
import type { DecideDeps } from '../../../functions/approval/decide/core.ts';
import { emailApprovers, refusalEmail } from '../../../functions/approval/email.ts';
import { ApprovalEmailError } from '../../../functions/approval/errors.ts';
import { utc } from '../../../functions/approval/facts.ts';
import { approvalKeys } from '../../../functions/approval/keys.ts';
import { hashLinkId } from '../../../functions/approval/links.ts';
import { type RequestDeps, requestApproval } from '../../../functions/approval/request/core.ts';
import type { ApprovalStore } from '../../../functions/approval/store.ts';
import { applyTimeout } from '../../../functions/approval/timeout/core.ts';
import { type ApprovalServer, serveDecisions } from '../../../local/approval-server.ts';
import { outboxPlugin } from '../../../local/outbox.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import {
  allItems,
  attach,
  type Capture,
  capture,
  failingSesPlugin,
  fakeToken,
  gateTaskOf,
  openIncident,
  requestEvent,
  storeOf,
} from './helpers.ts';

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

let table: TestTable;
let recorder: AuditRecorder;
let store: ApprovalStore;
let cap: Capture;
let server: ApprovalServer;
const tokens: string[] = [];
const responses: string[] = [];

/** Tokens whose task Step Functions has already timed out: a callback for them fails with TaskTimedOut. */
const timedOut = new Set<string>();

/** An item of the table as stored. */
async function rawItem(key: { pk: string; sk: string }): Promise<Record<string, unknown>> {
  const out = await table.doc.send(
    new GetCommand({ TableName: table.tableName, Key: key, ConsistentRead: true }),
  );
  if (!out.Item) throw new Error(`no item ${key.pk} ${key.sk}`);
  return out.Item;
}

/** What every request in these tests shares. */
function requestDeps(overrides: Partial<RequestDeps> = {}): RequestDeps {
  return {
    store,
    recorder,
    ses: cap.ses,
    approvers: [ALICE, BOB],
    sender: 'cordon@example.com',
    baseUrl: server.url,
    logger: cap.logger,
    retry: { sleep: async () => {} },
    ...overrides,
  };
}

/** Opens an incident and requests an approval in it; returns the links per approver. */
async function newRequest(overrides: Partial<RequestDeps> = {}, event: Record<string, unknown> = {}) {
  const incident = await openIncident(recorder);
  const token = fakeToken();
  tokens.push(token);
  const before = cap.outbox.emails.length;
  const sent = requestEvent(incident.id, token, event);
  const result = await requestApproval(requestDeps(overrides), sent);
  const emails = cap.outbox.emails.slice(before);
  const linkFor = (to: string): string => {
    const link = emails.find((e) => e.to.includes(to))?.links.find((l) => l.includes('/approvals/'));
    if (!link) throw new Error(`no link emailed to ${to}`);
    return link;
  };
  /** What the gate's timeout and check are sent for this request's task. */
  const gateTask = gateTaskOf(sent);
  return { incident, token, result, emails, gateTask, alice: linkFor(ALICE), bob: linkFor(BOB) };
}

/** An SES client whose first sends fail, the rest landing in the outbox. */
function failingSes(state: { remaining: number; name: string }): SESv2Client {
  return attach(
    attach(new SESv2Client({ region: 'us-east-1' }), failingSesPlugin(state)),
    outboxPlugin(cap.outbox),
  );
}

async function get(url: string): Promise<Response> {
  const response = await fetch(url, { headers: { 'user-agent': 'test-mail-scanner/1.0' } });
  responses.push(await response.clone().text(), JSON.stringify([...response.headers]));
  return response;
}

async function post(url: string, form: Record<string, string>): Promise<Response> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'test-browser/2.0' },
    body: new URLSearchParams(form).toString(),
  });
  responses.push(await response.clone().text(), JSON.stringify([...response.headers]));
  return response;
}

beforeAll(async () => {
  table = await createTestTable('approval-http');
  recorder = table.recorder();
  store = storeOf(table);
  cap = capture((call) => {
    if (timedOut.has(String(call.input.taskToken))) {
      const error = new Error('Task Timed Out');
      error.name = 'TaskTimedOut';
      throw error;
    }
  });
  const deps: DecideDeps = {
    store,
    recorder,
    sfn: cap.sfn,
    logger: cap.logger,
    alert: async (request, why) => {
      await emailApprovers(cap.ses, 'cordon@example.com', [ALICE, BOB], (to) =>
        refusalEmail(request, to, why),
      );
    },
  };
  server = await serveDecisions(deps);
});

afterAll(async () => {
  await server?.close();
  await table?.drop();
});

describe('the approval request', () => {
  it('stores the token only in an item of its own in no index, and one hashed, MACed link per approver', async () => {
    const { token, result, alice, emails } = await newRequest();
    expect(emails.map((e) => e.to)).toEqual([[ALICE], [BOB]]);
    const items = await allItems(table);
    const request = items.find((i) => i.pk === `APPROVAL#${result.requestId}`);
    expect(request).toMatchObject({ status: 'pending', gsi2pk: 'APPROVAL#pending' });
    expect(request).not.toHaveProperty('taskToken');
    const holding = items.filter((i) => JSON.stringify(i).includes(token));
    expect(holding).toEqual([
      { ...approvalKeys.token(result.requestId), requestId: result.requestId, taskToken: token },
    ]);
    const linkId = alice.split('/approvals/')[1] ?? '';
    expect(linkId).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(items.some((i) => JSON.stringify(i).includes(linkId))).toBe(false);
    expect(items.find((i) => i.pk === `APPROVAL-LINK#${hashLinkId(linkId)}`)).toMatchObject({
      approver: ALICE,
      requestId: result.requestId,
      expiresAt: result.expiresAt,
      mac: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
    });
  });

  it("expires with the gate's deadline: the task's entered time plus its timeout, not the time it ran", async () => {
    const entered = new Date(Date.now() - 3000_000).toISOString();
    const { result } = await newRequest({}, { enteredTime: entered, timeoutSeconds: 3600 });
    expect(result.expiresAt).toBe(new Date(Date.parse(entered) + 3600_000).toISOString());
  });

  it('emails what happened, what was done, what is asked and until when, in text and HTML', async () => {
    const { emails, result } = await newRequest();
    const email = emails[0];
    expect(email?.text).toContain('Backdoor:EC2/C&CActivity.B!DNS');
    expect(email?.html).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    for (const part of [email?.text, email?.html]) {
      for (const fact of [
        '8 (High)',
        'i-0abc1234def567890',
        '123456789012',
        'us-east-1',
        'Isolated the instance',
        'Terminate the instance',
        result.expiresAt,
      ]) {
        expect(part).toContain(fact);
      }
    }
    expect(cap.printed.some((p) => p.includes('link: http://127.0.0.1:'))).toBe(true);
  });

  it('records the request and each email as steps', async () => {
    const { incident } = await newRequest();
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => [s.action, s.status, s.actor])).toEqual([
      ['approval-request', 'started', 'automation'],
      ['approval-email', 'succeeded', 'automation'],
      ['approval-email', 'succeeded', 'automation'],
    ]);
    expect(steps[1]?.input).toMatchObject({ to: ALICE });
  });

  it('retries a failed send and succeeds', async () => {
    const state = { remaining: 2, name: 'ThrottlingException' };
    const { incident } = await newRequest({ ses: failingSes(state) });
    expect(state.remaining).toBe(0);
    const steps = await recorder.steps(incident.id);
    expect(steps.filter((s) => s.action === 'approval-email').map((s) => s.status)).toEqual([
      'succeeded',
      'succeeded',
    ]);
    expect(steps[1]?.input).toMatchObject({ attempts: 3 });
  });

  it('withdraws the request, records the failure and throws when sending keeps failing', async () => {
    const state = { remaining: 100, name: 'MessageRejected' };
    const incident = await openIncident(recorder);
    const token = fakeToken();
    tokens.push(token);
    const error = await requestApproval(
      requestDeps({ ses: failingSes(state) }),
      requestEvent(incident.id, token),
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ApprovalEmailError);
    expect(error).toMatchObject({ name: 'ApprovalEmailError', failed: [ALICE, BOB] });
    const steps = await recorder.steps(incident.id);
    expect(steps.filter((s) => s.action === 'approval-email').map((s) => [s.status, s.error?.name])).toEqual([
      ['failed', 'MessageRejected'],
      ['failed', 'MessageRejected'],
    ]);
    expect((await store.byStatus('failed')).map((r) => r.incidentId)).toContain(incident.id);
  });
});

describe('the decision API over HTTP', () => {
  it('shows the decision page on GET, and ten GETs change nothing', async () => {
    const { alice } = await newRequest();
    const before = await allItems(table);
    for (let i = 0; i < 10; i++) {
      const response = await get(alice);
      expect(response.status).toBe(200);
      const html = await response.text();
      expect(html).toContain('<form method="post">');
      expect(html).toContain('value="approve" formnovalidate>Approve</button>');
      expect(html).toContain('value="reject">Reject</button>');
      expect(html).toContain('Terminate the instance i-0abc1234def567890.');
      expect(html).not.toContain('<script');
      expect(response.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
      expect(response.headers.get('content-security-policy')).not.toMatch(/script-src/);
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(response.headers.get('referrer-policy')).toBe('no-referrer');
      expect(response.headers.get('x-frame-options')).toBe('DENY');
    }
    expect(await allItems(table)).toEqual(before);
    expect(cap.sfnCalls.length).toBe(0);
  });

  it('decides on POST, once, and hands the decision to Step Functions', async () => {
    const { alice, bob, token, incident, result } = await newRequest();
    const calls = cap.sfnCalls.length;
    const response = await post(alice, { decision: 'approve', reason: 'owner agreed' });
    expect(response.status).toBe(200);
    expect(await response.text()).toContain('You approved terminate-instance');
    const sent = cap.sfnCalls.slice(calls);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.command).toBe('SendTaskSuccess');
    expect(sent[0]?.input.taskToken).toBe(token);
    expect(JSON.parse(String(sent[0]?.input.output))).toEqual({
      decision: 'approve',
      decidedBy: ALICE,
      decidedAt: expect.any(String),
      reason: 'owner agreed',
    });
    const decision = (await recorder.steps(incident.id)).find((s) => s.action === 'approval-decision');
    expect(decision).toMatchObject({
      actor: ALICE,
      status: 'succeeded',
      input: {
        requestId: result.requestId,
        via: 'link',
        sourceIp: expect.stringMatching(/127\.0\.0\.1/),
        userAgent: 'test-browser/2.0',
      },
      changes: { decision: 'approve', status: 'approved', reason: 'owner agreed' },
    });
    expect((await table.recorder().verify(incident.id)).ok).toBe(true);

    const again = await post(alice, { decision: 'reject' });
    expect(again.status).toBe(409);
    expect(await again.text()).toContain(`already decided: approved by ${ALICE}`);
    const other = await post(bob, { decision: 'reject' });
    expect(other.status).toBe(409);
    expect(await other.text()).toContain(`approved by ${ALICE}`);
    const page = await get(bob);
    expect(page.status).toBe(409);
    expect(await page.text()).toContain(`approved by ${ALICE}`);
    expect(cap.sfnCalls.length).toBe(calls + 1);
  });

  it('rejects with SendTaskFailure and the ApprovalRejected error', async () => {
    const { bob, token } = await newRequest();
    const calls = cap.sfnCalls.length;
    const response = await post(bob, { decision: 'reject', reason: 'production database host' });
    expect(response.status).toBe(200);
    const sent = cap.sfnCalls.slice(calls);
    expect(sent.map((c) => [c.command, c.input.error, c.input.taskToken])).toEqual([
      ['SendTaskFailure', 'ApprovalRejected', token],
    ]);
    expect(JSON.parse(String(sent[0]?.input.cause))).toMatchObject({ decision: 'reject', decidedBy: BOB });
  });

  it('gives exactly one decision to ten concurrent POSTs', async () => {
    const { alice, bob, incident } = await newRequest();
    const calls = cap.sfnCalls.length;
    const posts = Array.from({ length: 10 }, (_, i) =>
      post(i % 2 === 0 ? alice : bob, { decision: i % 3 === 0 ? 'reject' : 'approve', reason: `post ${i}` }),
    );
    const statuses = (await Promise.all(posts)).map((r) => r.status).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409, 409, 409, 409, 409, 409]);
    expect(cap.sfnCalls.length - calls).toBe(1);
    const decisions = (await recorder.steps(incident.id)).filter((s) => s.action === 'approval-decision');
    expect(decisions).toHaveLength(1);
  });

  it('refuses an expired link and changes nothing', async () => {
    const past = new Date(Date.now() - 2 * 3600_000).toISOString();
    const { alice } = await newRequest({}, { enteredTime: past });
    const before = await allItems(table);
    const calls = cap.sfnCalls.length;
    const page = await get(alice);
    expect(page.status).toBe(410);
    expect(await page.text()).toContain('This link has expired');
    const response = await post(alice, { decision: 'approve' });
    expect(response.status).toBe(410);
    expect(await response.text()).toContain('This link has expired');
    expect(await allItems(table)).toEqual(before);
    expect(cap.sfnCalls.length).toBe(calls);
  });

  it('answers a changed, unknown or malformed id with a 404 that reveals nothing', async () => {
    const { alice } = await newRequest();
    const id = alice.split('/approvals/')[1] ?? '';
    const flipped = `${id.slice(0, 10)}${id[10] === 'A' ? 'B' : 'A'}${id.slice(11)}`;
    const base = `${server.url}/approvals/`;
    const before = await allItems(table);
    const bodies = new Set<string>();
    for (const bad of [
      flipped,
      randomBytes(32).toString('base64url'),
      'x',
      `${id}x`,
      id.slice(0, 42),
      '%00',
    ]) {
      for (const response of [await get(base + bad), await post(base + bad, { decision: 'approve' })]) {
        expect(response.status).toBe(404);
        bodies.add(await response.text());
      }
    }
    expect(bodies.size).toBe(1);
    const [body] = [...bodies];
    expect(body).not.toMatch(/expired|decided|approver|incident|@/i);
    expect(await allItems(table)).toEqual(before);
  });

  it('answers a POST without a decision with a 400 that decides nothing', async () => {
    const { alice } = await newRequest();
    const before = await allItems(table);
    expect((await post(alice, { decision: 'maybe' })).status).toBe(400);
    expect((await post(alice, {})).status).toBe(400);
    expect(await allItems(table)).toEqual(before);
  });
});

describe('the decision page, for the person deciding', () => {
  const LONG_ARN =
    'arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:i-0abc1234def567890-5f3c0e7a-8b1d-4c2e-9a6f-0123456789ab';

  /** An incident as a sample GuardDuty finding opens it: the resource's tags and the finding's evidence in its details. */
  async function sampleIncident() {
    return recorder.openIncident({
      title:
        '[SAMPLE] EC2 instance i-0abc1234def567890 is querying a domain name associated with a known C&C server',
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
      resources: [
        {
          type: 'instance',
          id: 'i-0abc1234def567890',
          details: {
            tags: { Name: 'payments-web-1', Owner: 'team-payments@example.com', Env: 'prod' },
            remoteIps: ['198.51.100.7', '203.0.113.9'],
            remoteIp: '198.51.100.7',
            domain: 'c2.malicious-domain.example',
            api: 'GetCallerIdentity',
            actionType: 'DNS_REQUEST',
            count: 14,
          },
        },
      ],
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-01T02:30:00.000Z',
      rehearsal: 'sample',
    });
  }

  async function requestOn(incidentId: string, event: Record<string, unknown> = {}) {
    const token = fakeToken();
    tokens.push(token);
    const before = cap.outbox.emails.length;
    const sent = requestEvent(incidentId, token, {
      enteredTime: new Date(Date.now() - 30_000).toISOString(),
      resource: { type: 'instance', id: 'i-0abc1234def567890' },
      ...event,
    });
    const result = await requestApproval(requestDeps(), sent);
    const email = cap.outbox.emails.slice(before).find((e) => e.to.includes(ALICE));
    const link = email?.links.find((l) => l.includes('/approvals/'));
    if (!email || !link) throw new Error('no link emailed to alice');
    return { result, email, link };
  }

  it('shows what the action does and that a termination cannot be undone, the evidence, the tags, the deadline and the sample banner', async () => {
    const incident = await sampleIncident();
    const { link, result, email } = await requestOn(incident.id);
    const response = await get(link);
    expect(response.status).toBe(200);
    const html = await response.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    // The banner comes before anything else on the page.
    expect(html.indexOf('id="rehearsal"')).toBeGreaterThan(-1);
    expect(html.indexOf('id="rehearsal"')).toBeLessThan(html.indexOf('<h1>'));
    expect(html).toContain('Sample finding: this incident comes from a sample or test finding');
    expect(html).toContain('Terminates the instance, once every evidence snapshot is complete.');
    expect(html).toContain('No, it cannot be undone. A terminated instance cannot be started again');
    for (const [label, value] of [
      ['Remote IP', '198.51.100.7, 203.0.113.9'],
      ['Domain', 'c2.malicious-domain.example'],
      ['API called', 'GetCallerIdentity'],
      ['First seen', '2026-11-01 00:00:00 UTC'],
      ['Last seen', '2026-11-01 02:30:00 UTC'],
      ['Count', '14 times'],
      ['Name tag', 'payments-web-1'],
      ['Owner tag', 'team-payments@example.com'],
    ]) {
      expect(html).toContain(`<tr><th>${label}</th><td>${value}</td></tr>`);
    }
    // Only the Name and owner tags: the others are not the approver's business here.
    expect(html).not.toContain('Env');
    const deadline = utc(result.expiresAt);
    expect(html).toMatch(
      new RegExp(
        `Decide by <time datetime="${result.expiresAt}">${deadline}</time> \\(in 5[89] minutes\\)\\. If nobody decides by then, the request is rejected\\.`,
      ),
    );
    // The email says the same, from the same table.
    expect(email.text).toContain('Sample finding:');
    expect(email.text).toContain('Can it be undone?: No, it cannot be undone. A terminated instance');
    expect(email.text).toContain('Remote IP: 198.51.100.7, 203.0.113.9');
    expect(email.text).toContain(`Decide by ${deadline}.`);
  });

  it("escapes the finding's fields an attacker writes (tags, domain, API): the page and the email carry no markup of theirs", async () => {
    const forged = '<script>alert(1)</script><a href="https://evil.example">approve</a>';
    const incident = await recorder.openIncident({
      title: `[SAMPLE] ${forged}`,
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
      resources: [
        {
          type: 'instance',
          id: 'i-0abc1234def567890',
          details: { tags: { Name: forged, Owner: forged }, domain: forged, api: forged, remoteIp: forged },
        },
      ],
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-01T02:30:00.000Z',
    });
    const { link, email } = await requestOn(incident.id);
    const html = await (await get(link)).text();
    for (const page of [html, email.html ?? '']) {
      expect(page).not.toContain('<script');
      expect(page).not.toContain('href="https://evil.example"');
      expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    }
  });

  it('says a stop can be undone by starting the instance, and a deleted key cannot be restored', async () => {
    const incident = await sampleIncident();
    const stop = await (await get((await requestOn(incident.id, { action: 'stop-instance' })).link)).text();
    expect(stop).toContain('Yes. Start the instance again (EC2 StartInstances)');
    const key = await recorder.openIncident({
      title: 'Credentials of AKIAIOSFODNN7EXAMPLE used from a Tor exit node',
      findingType: 'UnauthorizedAccess:IAMUser/TorIPCaller',
      severity: 5,
      account: '123456789012',
      region: 'us-east-1',
      resources: [{ type: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE', details: { userName: 'ci-deployer' } }],
      firstSeen: '2026-11-01T00:00:00.000Z',
      lastSeen: '2026-11-01T00:00:00.000Z',
    });
    const { link } = await requestOn(key.id, {
      action: 'delete-access-key',
      resource: { type: 'access-key', id: 'AKIAIOSFODNN7EXAMPLE' },
    });
    const html = await (await get(link)).text();
    expect(html).toContain('No, it cannot be undone. A deleted access key cannot be restored');
    expect(html).toContain('<tr><th>Name tag</th><td>(none)</td></tr>');
    // A real incident has no banner.
    expect(html).not.toContain('id="rehearsal"');
  });

  it("shows a restore's recovery point as the record holds it, not as the request item was edited", async () => {
    const incident = await sampleIncident();
    const { link, result } = await requestOn(incident.id, {
      action: 'restore-instance',
      phase: 'recovery',
      recoveryPoint: { arn: LONG_ARN, createdAt: '2026-10-31T22:00:00.000Z', vaultName: 'Default' },
    });
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...(await rawItem(approvalKeys.request(result.requestId))),
          recoveryPoint: { arn: 'arn:aws:backup:us-east-1:123456789012:recovery-point:forged' },
        },
      }),
    );
    const html = await (await get(link)).text();
    expect(html).toContain(`<tr><th>Recovery point</th><td>${LONG_ARN}</td></tr>`);
    expect(html).toContain('<tr><th>Recovery point created</th><td>2026-10-31 22:00:00 UTC</td></tr>');
    expect(html).toContain('Restores a new instance from the recovery point');
    expect(html).not.toContain('forged');
  });

  it('refuses a rejection without a reason with a 400 page that says why, and decides nothing', async () => {
    const { alice, token } = await newRequest();
    const before = await allItems(table);
    const calls = cap.sfnCalls.length;
    for (const reason of [undefined, '', '   \n ']) {
      const response = await post(
        alice,
        reason === undefined ? { decision: 'reject' } : { decision: 'reject', reason },
      );
      expect(response.status).toBe(400);
      const html = await response.text();
      expect(html).toContain('Nothing was decided: a rejection needs a reason.');
      // The form is there again, to give one.
      expect(html).toContain('<form method="post">');
    }
    expect(await allItems(table)).toEqual(before);
    expect(cap.sfnCalls.length).toBe(calls);
    // The page asks for it with no script: the field is required, and Approve skips the check.
    const page = await (await get(alice)).text();
    expect(page).toMatch(/<textarea id="reason" name="reason" maxlength="1000" required><\/textarea>/);
    expect(page).toContain('value="approve" formnovalidate>Approve</button>');
    // With a reason, the rejection is taken.
    const response = await post(alice, { decision: 'reject', reason: 'owner says it is a scanner' });
    expect(response.status).toBe(200);
    expect(cap.sfnCalls.slice(calls).map((c) => [c.command, c.input.taskToken])).toEqual([
      ['SendTaskFailure', token],
    ]);
  });
});

describe('the timeout', () => {
  it('applies the default decision as actor timeout, expires the links and tells the approvers', async () => {
    const { incident, alice, result, gateTask } = await newRequest();
    const before = cap.outbox.emails.length;
    const out = await applyTimeout(
      {
        store,
        recorder,
        ses: cap.ses,
        sender: 'cordon@example.com',
        logger: cap.logger,
        retry: { sleep: async () => {} },
      },
      gateTask,
    );
    expect(out).toMatchObject({
      requestId: result.requestId,
      decision: 'reject',
      decidedBy: 'timeout',
      timedOut: true,
    });
    const notices = cap.outbox.emails.slice(before);
    expect(notices.map((e) => e.to[0])).toEqual([ALICE, BOB]);
    expect(notices[0]?.subject).toContain('timed out');
    // The notice reads as a sentence: who did not decide on what, by when, what applied and what it means.
    const sentence = `No one decided on terminate-instance for instance i-0abc1234def567890 in incident ${incident.id} by ${utc(result.expiresAt)}, so Cordon applied the default: reject (the request is rejected). The instance is kept, contained.`;
    for (const notice of notices) {
      expect(notice.text?.split('\n')[0]).toBe(sentence);
      expect(notice.html).toContain(`<p>${sentence}</p>`);
      expect(notice.text).toMatch(/Cordon applied it at \d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\./);
    }
    const decision = (await recorder.steps(incident.id)).find((s) => s.action === 'approval-decision');
    expect(decision).toMatchObject({ actor: 'timeout', changes: { decision: 'reject', status: 'expired' } });
    const page = await get(alice);
    expect(page.status).toBe(409);
    expect(await page.text()).toContain('timed out');
    expect((await post(alice, { decision: 'approve' })).status).toBe(409);
  });

  it('refuses a decision after the deadline: the default applies, and the page, the email and the record say so', async () => {
    // A 60 s gate entered 58 s ago: Alice decides in time by her clock, but Step Functions has timed the
    // task out by the time her decision reaches it.
    const entered = new Date(Date.now() - 58_000).toISOString();
    const { incident, alice, result, token, gateTask } = await newRequest(
      {},
      { enteredTime: entered, timeoutSeconds: 60 },
    );
    timedOut.add(token);
    const page = await post(alice, { decision: 'approve', reason: 'go' });
    expect(page.status).toBe(409);
    const text = await page.text();
    expect(text).toContain('Your decision came after the deadline');
    expect(text).toContain('the default decision applies: the request is rejected');
    expect(text).not.toContain('You approved');
    const before = cap.outbox.emails.length;
    const out = await applyTimeout(
      { store, recorder, ses: cap.ses, sender: 'cordon@example.com', retry: { sleep: async () => {} } },
      gateTask,
    );
    // The timeout never hands on a person's decision: the default, reject, is what the gate takes.
    expect(out).toMatchObject({
      requestId: result.requestId,
      decision: 'reject',
      decidedBy: 'timeout',
      timedOut: true,
    });
    expect(await store.get(result.requestId)).toMatchObject({
      status: 'expired',
      decision: 'reject',
      lateDecision: { decision: 'approve', decidedBy: ALICE },
    });
    const notices = cap.outbox.emails.slice(before);
    expect(notices[0]?.text).toContain(`${ALICE}'s approve came at`);
    expect(notices[0]?.text).toContain('too late, and is refused');
    expect(notices[0]?.text).toContain('the request is rejected');
    const steps = await recorder.steps(incident.id);
    expect(steps.find((s) => s.action === 'approval-delivery')?.note).toMatch(
      /came after the playbook's deadline and is refused: the default decision applies \(rejected\)/,
    );
    expect(steps.filter((s) => s.action === 'approval-decision').at(-1)).toMatchObject({
      actor: 'timeout',
      changes: { decision: 'reject', refusedLateDecision: { decision: 'approve', decidedBy: ALICE } },
    });
  });

  it('refuses a decision past the deadline outright, and the link with it', async () => {
    const entered = new Date(Date.now() - 61_000).toISOString();
    const { alice } = await newRequest({}, { enteredTime: entered, timeoutSeconds: 60 });
    const calls = cap.sfnCalls.length;
    expect((await get(alice)).status).toBe(410);
    expect((await post(alice, { decision: 'approve' })).status).toBe(410);
    expect(cap.sfnCalls.length).toBe(calls);
  });
});

describe('forged links and a record that does not verify', () => {
  async function forgeLink(requestId: string, approver: string, mac?: string): Promise<string> {
    const linkId = randomBytes(32).toString('base64url');
    const request = await store.get(requestId);
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...approvalKeys.link(hashLinkId(linkId)),
          kind: 'approval-link',
          requestId,
          approver,
          expiresAt: request?.expiresAt,
          ...(mac ? { mac } : {}),
        },
      }),
    );
    return `${server.url}/approvals/${linkId}`;
  }

  it('refuses a forged link item, whoever it names: it carries no MAC of the record key', async () => {
    const { result } = await newRequest();
    const calls = cap.sfnCalls.length;
    for (const approver of [ALICE, 'mallory@example.com']) {
      const link = await forgeLink(result.requestId, approver, Buffer.alloc(32, 7).toString('base64'));
      expect((await get(link)).status).toBe(404);
      expect((await post(link, { decision: 'approve' })).status).toBe(404);
    }
    expect(cap.sfnCalls.length).toBe(calls);
    expect((await store.get(result.requestId))?.status).toBe('pending');
  });

  it("refuses a link whose approver is not among the request's, even one the key signed", async () => {
    const { result, incident } = await newRequest();
    const request = await store.get(result.requestId);
    const linkId = randomBytes(32).toString('base64url');
    const linkHash = hashLinkId(linkId);
    const mallory = 'mallory@example.com';
    const mac = await table.trust.seal.mac(
      linkMacMessage(linkHash, result.requestId, mallory, String(request?.expiresAt)),
    );
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...approvalKeys.link(linkHash),
          requestId: result.requestId,
          approver: mallory,
          expiresAt: request?.expiresAt,
          mac,
        },
      }),
    );
    // Even with the request item changed to name Mallory: the record says who was asked.
    await table.doc.send(
      new PutCommand({
        TableName: table.tableName,
        Item: {
          ...(await rawItem(approvalKeys.request(result.requestId))),
          approvers: [ALICE, BOB, mallory],
        },
      }),
    );
    const calls = cap.sfnCalls.length;
    const response = await post(`${server.url}/approvals/${linkId}`, { decision: 'approve' });
    expect(response.status).toBe(403);
    expect(await response.text()).toContain('not one of this request');
    expect(cap.sfnCalls.length).toBe(calls);
    expect((await recorder.steps(incident.id)).some((s) => s.action === 'approval-decision')).toBe(false);
  });

  it('refuses to decide on an incident whose record does not verify, records it and tells the approvers', async () => {
    const { alice, incident, result } = await newRequest();
    const step = await rawItem({ pk: `INCIDENT#${incident.id}`, sk: 'STEP#0000000001' });
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...step, note: 'edited' } }));
    const before = cap.outbox.emails.length;
    const calls = cap.sfnCalls.length;
    const response = await post(alice, { decision: 'approve' });
    expect(response.status).toBe(409);
    expect(await response.text()).toContain('does not verify');
    expect(cap.sfnCalls.length).toBe(calls);
    expect((await store.get(result.requestId))?.status).toBe('pending');
    const steps = await recorder.steps(incident.id);
    expect(steps.at(-1)).toMatchObject({
      action: 'approval-refused',
      status: 'failed',
      error: { name: 'RecordTamperedError' },
    });
    const alerts = cap.outbox.emails.slice(before);
    expect(alerts.map((e) => e.to[0])).toEqual([ALICE, BOB]);
    expect(alerts[0]?.subject).toContain('does not verify');
  });
});

describe('the task token', () => {
  it('appears in no email, link, printed line, log line, HTTP response or audit step', async () => {
    expect(tokens.length).toBeGreaterThan(5);
    expect(cap.logLines.length).toBeGreaterThan(0);
    const emails = cap.outbox.emails.map((e) => JSON.stringify(e));
    const links = cap.outbox.emails.flatMap((e) => e.links);
    const files = cap.outboxFiles();
    const steps: string[] = [];
    for (const item of await allItems(table)) {
      if (String(item.sk).startsWith('STEP#')) steps.push(JSON.stringify(item));
    }
    const haystacks = { emails, links, files, printed: cap.printed, logs: cap.logLines, responses, steps };
    for (const [where, texts] of Object.entries(haystacks)) {
      expect(texts.length, where).toBeGreaterThan(0);
      for (const token of tokens) {
        // Also a token cut in half, URL-encoded or base64-encoded.
        const forms = [
          token,
          token.slice(0, 43),
          encodeURIComponent(token),
          Buffer.from(token).toString('base64'),
        ];
        for (const text of texts) for (const form of forms) expect(text.includes(form), where).toBe(false);
      }
    }
  });
});
