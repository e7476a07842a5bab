/**
 * Bad input at the approval endpoint: arbitrary API Gateway (payload 2.0) events — paths, methods,
 * bodies, headers, encodings — against `handleDecision`, with an in-memory store that keeps the real
 * store's rules (a link is used and its request decided together, once, before either expires).
 *
 * Properties: it never throws; it answers a clear status (200, 400, 404, 405, 409, 410; 500 only when a
 * dependency failed); nothing is half-written: either nothing changed, or exactly one link was used, the
 * request decided by that link's approver, one decision step recorded and one callback sent.
 */
import { createHash } from 'node:crypto';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import type { StepInput } from '#shared/domain';
import { linkMacMessage } from '#shared/seal';
import { type DecideDeps, handleDecision } from '../../../functions/approval/decide/core.ts';
import { hashLinkId, randomLinkIds } from '../../../functions/approval/links.ts';
import type {
  ApprovalStore,
  DecideOutcome,
  DecisionWrite,
  StoredApproval,
  StoredLink,
} from '../../../functions/approval/store.ts';

const NOW = '2026-11-28T10:30:00.000Z';
const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';
const TOKEN = `AQ${'t'.repeat(84)}`;

/** The real store's rules, in memory. */
class MemoryStore {
  readonly requests = new Map<string, StoredApproval>();
  readonly links = new Map<string, StoredLink>();
  /** When set, the next read or write throws this. */
  failure: Error | undefined;

  private check(): void {
    const failure = this.failure;
    this.failure = undefined;
    if (failure) throw failure;
  }

  async link(hash: string): Promise<StoredLink | undefined> {
    this.check();
    const link = this.links.get(hash);
    return link ? { ...link } : undefined;
  }

  async get(requestId: string): Promise<StoredApproval | undefined> {
    this.check();
    const request = this.requests.get(requestId);
    return request ? structuredClone(request) : undefined;
  }

  async token(requestId: string): Promise<string | undefined> {
    this.check();
    return this.requests.has(requestId) ? TOKEN : undefined;
  }

  async expire(): Promise<DecideOutcome> {
    throw new Error('not used: no callback fails here');
  }

  async decideByLink(hash: string, _link: StoredLink, write: DecisionWrite): Promise<DecideOutcome> {
    this.check();
    const link = this.links.get(hash);
    if (!link) return { kind: 'not-found' };
    const request = this.requests.get(link.requestId);
    if (!request) return { kind: 'not-found' };
    const now = write.decidedAt;
    if (
      link.usedAt === undefined &&
      link.expiresAt > now &&
      request.status === 'pending' &&
      request.expiresAt > now
    ) {
      this.links.set(hash, { ...link, usedAt: now });
      const decided: StoredApproval = {
        ...request,
        status: write.decision === 'approve' ? 'approved' : 'rejected',
        decision: write.decision,
        decidedBy: write.decidedBy,
        decidedAt: write.decidedAt,
        reason: write.reason,
        decidedVia: write.source.via,
      };
      this.requests.set(request.requestId, decided);
      return { kind: 'decided' };
    }
    if (request.status !== 'pending') return { kind: 'closed', request: structuredClone(request) };
    if (request.expiresAt <= now || link.expiresAt <= now)
      return { kind: 'expired', request: structuredClone(request) };
    return { kind: 'link-used', request: structuredClone(request) };
  }

  snapshot(): string {
    return JSON.stringify([[...this.requests], [...this.links]]);
  }
}

interface World {
  readonly store: MemoryStore;
  readonly steps: StepInput[];
  readonly callbacks: string[];
  readonly logs: string[];
  readonly links: { readonly id: string; readonly approver: string }[];
  readonly deps: DecideDeps;
  recorderFailure: Error | undefined;
}

/** A pending request (or an expired one) with a link for Alice and one for Bob. */
function world(expiresAt = '2026-11-28T11:00:00.000Z'): World {
  const store = new MemoryStore();
  const steps: StepInput[] = [];
  const callbacks: string[] = [];
  const logs: string[] = [];
  const request: StoredApproval = {
    requestId: 'req-1',
    incidentId: 'inc-1',
    executionArn: 'arn:aws:states:us-east-1:123456789012:execution:cordon-ec2-compromise:inc-1',
    gate: 'Approve termination',
    action: 'terminate-instance',
    phase: 'eradication',
    resource: { type: 'instance', id: 'i-0abc1234def567890' },
    summary: { happened: 'C&C traffic', done: 'isolated', asks: 'terminate' },
    finding: {
      findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
      title: 'C&C',
      severity: 8,
      account: '123456789012',
      region: 'us-east-1',
    },
    approvers: [ALICE, BOB],
    requestedAt: '2026-11-28T10:00:00.000Z',
    expiresAt,
    defaultDecision: 'reject',
    status: 'pending',
  };
  store.requests.set(request.requestId, request);
  const links = [ALICE, BOB].map((approver) => ({ id: randomLinkIds(), approver }));
  for (const link of links) {
    const linkHash = hashLinkId(link.id);
    store.links.set(linkHash, {
      requestId: request.requestId,
      approver: link.approver,
      expiresAt,
      mac: fakeMac(linkMacMessage(linkHash, request.requestId, link.approver, expiresAt)),
    });
  }
  const w: World = {
    store,
    steps,
    callbacks,
    logs,
    links,
    recorderFailure: undefined,
    deps: {
      store: store as unknown as ApprovalStore,
      recorder: {
        seal: { verify: async (message: string, mac: string) => fakeMac(message) === mac },
        // The incident's record, verified: the incident, and the request as its approval-request step states it.
        verified: async () => ({
          incident: { id: request.incidentId, ...request.finding, resources: [request.resource] },
          steps: [
            {
              incidentId: request.incidentId,
              seq: 1,
              phase: 'eradication',
              action: 'approval-request',
              status: 'started',
              actor: 'automation',
              startedAt: request.requestedAt,
              executionArn: request.executionArn,
              input: {
                requestId: request.requestId,
                gate: request.gate,
                action: request.action,
                resource: request.resource,
                summary: request.summary,
                approvers: request.approvers,
                expiresAt,
                defaultDecision: request.defaultDecision,
              },
            },
          ],
        }),
        appendStep: async (_incidentId: string, step: StepInput) => {
          const failure = w.recorderFailure;
          w.recorderFailure = undefined;
          if (failure) throw failure;
          steps.push(step);
          return step;
        },
      } as unknown as AuditRecorder,
      sfn: {
        send: async (command: { constructor: { name: string } }) => {
          callbacks.push(command.constructor.name);
          return {};
        },
      } as unknown as DecideDeps['sfn'],
      clock: () => NOW,
      logger: {
        debug: (m, f) => logs.push(JSON.stringify({ m, f })),
        info: (m, f) => logs.push(JSON.stringify({ m, f })),
        warn: (m, f) => logs.push(JSON.stringify({ m, f })),
        error: (m, f) => logs.push(JSON.stringify({ m, f })),
      },
    },
  };
  return w;
}

/** Stands for the world's links in generated events; replaced when the event is sent (see {@link resolve}). */
const LINK_PLACEHOLDERS = ['@@link-0@@', '@@link-1@@'] as const;

/** The event with the placeholders of this world's links filled in. */
function resolve(event: APIGatewayProxyEventV2, w: World): APIGatewayProxyEventV2 {
  let text = JSON.stringify(event);
  for (const [i, placeholder] of LINK_PLACEHOLDERS.entries())
    text = text.split(placeholder).join(w.links[i]?.id ?? '');
  return JSON.parse(text) as APIGatewayProxyEventV2;
}

/** A link id: one of the world's, a well-formed unknown one, or anything. */
const linkIdArb = () =>
  fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...LINK_PLACEHOLDERS) },
    fc.constant('').map(() => randomLinkIds()),
    fc.string({ maxLength: 60 }),
    fc.stringMatching(/^[A-Za-z0-9_-]{43}$/),
    fc.constantFrom('%00', '..', '/', '../approvals', 'x'.repeat(5000)),
  );

const methodArb = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom('POST', 'GET') },
  fc.constantFrom('GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'post', 'get'),
  fc.string({ maxLength: 10 }),
);

const bodyArb = fc.oneof(
  fc.constant(undefined),
  fc
    .record({
      decision: fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom('approve', 'reject') },
        fc.constantFrom('APPROVE', 'maybe', ''),
        fc.string(),
      ),
      reason: fc.oneof(fc.string(), fc.string({ minLength: 2000, maxLength: 3000 })),
    })
    .map((form) => new URLSearchParams(form).toString()),
  fc.string({ maxLength: 500 }),
  fc.json(),
  fc.constantFrom('decision=approve&decision=reject', 'decision=approve%00', '%E0%A4%A', 'decision'),
);

/** An API Gateway v2 event with fields of the documented types and arbitrary content. */
const eventArb = () =>
  fc
    .record(
      {
        rawPath: fc.oneof(
          linkIdArb().map((id) => `/approvals/${id}`),
          fc.webPath(),
          fc.string({ maxLength: 80 }),
        ),
        pathParameters: fc.oneof(
          fc.constant(undefined),
          fc.constant({}),
          linkIdArb().map((id) => ({ id })),
        ),
        method: methodArb,
        requestContext: fc.boolean(),
        body: bodyArb,
        base64: fc.boolean(),
        headers: fc.oneof(
          fc.constant(undefined),
          fc.dictionary(fc.string({ maxLength: 20 }), fc.string({ maxLength: 60 })),
        ),
        sourceIp: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })),
      },
      { requiredKeys: ['rawPath', 'method', 'requestContext'] },
    )
    .map((r) => {
      const body = r.base64 && r.body !== undefined ? Buffer.from(r.body).toString('base64') : r.body;
      return {
        version: '2.0',
        routeKey: '$default',
        rawPath: r.rawPath,
        rawQueryString: '',
        headers: r.headers ?? {},
        ...(r.pathParameters === undefined ? {} : { pathParameters: r.pathParameters }),
        ...(r.requestContext
          ? {
              requestContext: {
                http: {
                  method: r.method,
                  path: r.rawPath,
                  sourceIp: r.sourceIp ?? '',
                  userAgent: 'fuzz',
                  protocol: 'HTTP/1.1',
                },
              },
            }
          : {}),
        ...(body === undefined ? {} : { body }),
        isBase64Encoded: r.base64 ?? false,
      } as unknown as APIGatewayProxyEventV2;
    });

const CLEAR = [200, 400, 403, 404, 405, 409, 410];

/** A stand-in for the record key's MAC: the fuzzing is about the endpoint, not the key. */
function fakeMac(message: string): string {
  return createHash('sha256').update(`key:${message}`).digest('base64');
}

/** The invariant: all or nothing, once. */
function assertWhole(w: World): void {
  const used = [...w.store.links.values()].filter((l) => l.usedAt !== undefined);
  const request = w.store.requests.get('req-1');
  const decisions = w.steps.filter((s) => s.action === 'approval-decision');
  if (request?.status === 'pending') {
    expect(used).toEqual([]);
    expect(decisions).toEqual([]);
    expect(w.callbacks).toEqual([]);
  } else {
    expect(used).toHaveLength(1);
    expect(request?.decidedBy).toBe(used[0]?.approver);
    expect(decisions).toHaveLength(1);
    expect(decisions[0]?.actor).toBe(used[0]?.approver);
    expect(w.callbacks).toEqual([
      request?.decision === 'approve' ? 'SendTaskSuccessCommand' : 'SendTaskFailureCommand',
    ]);
  }
}

describe('the approval decision endpoint under arbitrary requests', () => {
  it('never throws, answers a clear status, and decides at most once, wholly', async () => {
    let current = world();
    let decided = 0;
    await fc.assert(
      fc
        .asyncProperty(fc.array(eventArb(), { minLength: 1, maxLength: 12 }), async (events) => {
          for (const generated of events) {
            const event = resolve(generated, current);
            const before = current.store.snapshot();
            const wasPending = current.store.requests.get('req-1')?.status === 'pending';
            const method = event.requestContext?.http?.method?.toUpperCase() ?? 'GET';
            const response = await handleDecision(current.deps, event);
            expect(CLEAR, `status ${response.statusCode}`).toContain(response.statusCode);
            expect(typeof response.body).toBe('string');
            expect(response.headers?.['content-type']).toMatch(/^text\/html/);
            if (method !== 'POST') {
              expect(current.store.snapshot()).toBe(before);
            }
            // A 200 to a POST is the one decision; nothing else decides.
            const decidedNow = wasPending && current.store.requests.get('req-1')?.status !== 'pending';
            expect(decidedNow).toBe(method === 'POST' && response.statusCode === 200);
            if (decidedNow) decided++;
            assertWhole(current);
          }
          expect(current.logs.join('\n')).not.toContain(TOKEN);
        })
        .beforeEach(() => {
          current = world();
        }),
      { numRuns: 300 },
    );
    // The generator reaches the one decision too, not only refusals.
    expect(decided).toBeGreaterThan(0);
  });

  it('never decides an expired request, whatever is sent', async () => {
    let current = world('2026-11-28T10:00:00.000Z');
    await fc.assert(
      fc
        .asyncProperty(fc.array(eventArb(), { minLength: 1, maxLength: 8 }), async (events) => {
          const before = current.store.snapshot();
          for (const event of events) {
            const response = await handleDecision(current.deps, resolve(event, current));
            expect([400, 404, 405, 410]).toContain(response.statusCode);
          }
          expect(current.store.snapshot()).toBe(before);
          expect(current.callbacks).toEqual([]);
        })
        .beforeEach(() => {
          current = world('2026-11-28T10:00:00.000Z');
        }),
      { numRuns: 150 },
    );
  });

  it('decides with the well-formed POST of either approver, once', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(0, 1),
        fc.constantFrom('approve', 'reject'),
        // A rejection needs a reason (a blank one is refused with a 400, as at the console).
        fc.string({ maxLength: 2000 }).map((r) => (r.trim() === '' ? `${r}why` : r)),
        async (who, decision, reason) => {
          const w = world();
          const link = w.links[who];
          const post = {
            rawPath: `/approvals/${link?.id}`,
            pathParameters: { id: link?.id },
            requestContext: { http: { method: 'POST', sourceIp: '192.0.2.1', userAgent: 'browser' } },
            body: new URLSearchParams({ decision, reason }).toString(),
            isBase64Encoded: false,
          } as unknown as APIGatewayProxyEventV2;
          expect((await handleDecision(w.deps, post)).statusCode).toBe(200);
          expect((await handleDecision(w.deps, post)).statusCode).toBe(409);
          expect(w.store.requests.get('req-1')).toMatchObject({ decidedBy: link?.approver, decision });
          expect((w.store.requests.get('req-1')?.reason ?? '').length).toBeLessThanOrEqual(1000);
          assertWhole(w);
        },
      ),
      { numRuns: 100 },
    );
  });

  it('answers any event object, even one API Gateway would never send, without throwing', async () => {
    await fc.assert(
      fc.asyncProperty(fc.anything(), async (anything) => {
        const w = world();
        const response = await handleDecision(w.deps, anything as APIGatewayProxyEventV2);
        expect([...CLEAR, 500]).toContain(response.statusCode);
        assertWhole(w);
      }),
      { numRuns: 300 },
    );
  });

  it('answers 500 and changes nothing when the store fails before the decision is written', async () => {
    const w = world();
    w.store.failure = Object.assign(new Error('Service unavailable'), { name: 'ServiceUnavailable' });
    const link = w.links[0]?.id ?? '';
    const response = await handleDecision(w.deps, {
      rawPath: `/approvals/${link}`,
      requestContext: { http: { method: 'POST' } },
      body: 'decision=approve',
    } as unknown as APIGatewayProxyEventV2);
    expect(response.statusCode).toBe(500);
    assertWhole(w);
    expect(w.store.requests.get('req-1')?.status).toBe('pending');
  });

  it(
    'HALF-WRITES when the recorder fails after the decision is won: the request is decided and its link used, ' +
      'but no decision step is recorded and no callback is sent, and the approver gets a 500 (a retry gets 409)',
    async () => {
      const w = world();
      w.recorderFailure = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
      const link = w.links[0]?.id ?? '';
      const post = {
        rawPath: `/approvals/${link}`,
        requestContext: { http: { method: 'POST' } },
        body: 'decision=approve',
      } as unknown as APIGatewayProxyEventV2;
      expect((await handleDecision(w.deps, post)).statusCode).toBe(500);
      expect(w.store.requests.get('req-1')?.status).toBe('approved');
      expect(w.steps).toEqual([]);
      expect(w.callbacks).toEqual([]);
      expect((await handleDecision(w.deps, post)).statusCode).toBe(409);
      expect(w.callbacks).toEqual([]);
    },
  );
});
