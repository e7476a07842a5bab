/**
 * An action sent to a member account acts there: its handler assumes the member's responder role (the hub
 * sandbox answers `AssumeRole` for the roles it trusts), and its clients, made with those credentials in the
 * event's region, are answered by the member's sandbox. A plugin made from each client's facts routes it
 * and notes what every call was made with. The record's place wins over the event's.
 */
import type { AssumeRoleCommandOutput } from '@aws-sdk/client-sts';
import type { InitializeMiddleware, Pluggable } from '@smithy/types';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Sandbox } from '#local/sandbox/index';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { type ClientFacts, registerClientPlugin } from '#shared/clients';
import { createTestTable, type TestTable } from '../../support/store.ts';

type Handler = (event: ActionEvent, context: Context) => Promise<ActionResult>;

const HUB = '123456789012';
const MEMBER = '883606788610';
/** A member the hub's STS refuses (no responder role there). */
const BARE = '210987654321';
const REGION = 'eu-west-1';
const INSTANCE = 'i-0b1b2c3d4e5f60001';
const ROLE = 'cordon-responder';
const roleArn = (account: string) => `arn:aws:iam::${account}:role/${ROLE}`;
/** The function's own ARN, as Lambda's context gives it: the hub's account. */
const context = { invokedFunctionArn: `arn:aws:lambda:us-east-1:${HUB}:function:cordon-action` } as Context;

interface Call {
  readonly client: string | undefined;
  readonly command: string | undefined;
  readonly region: string | undefined;
  /** Undefined: the function's own role. */
  readonly accessKeyId: string | undefined;
  readonly input: unknown;
}

let table: TestTable;
let recorder: AuditRecorder;
let hub: Sandbox;
let member: Sandbox;
const calls: Call[] = [];
const offs: (() => void)[] = [];

function instanceSeed(name: string) {
  return {
    instances: [{ id: INSTANCE, groups: ['sg-web'], tags: { Name: name, 'cordon:status': 'healthy' } }],
    securityGroups: [{ id: 'sg-web', name: 'web', ingress: [{ port: 443, cidr: '0.0.0.0/0' }] }],
  };
}

/** The account each access key was issued for, as the hub's STS answered AssumeRole. */
const issued = new Map<string, string>();

/**
 * A plugin per client: notes each call with the client's region and the access key it signs with, and
 * sends it to the sandbox of the account its credentials are for (the function's own role: the hub's).
 */
function route(facts: ClientFacts): Pluggable<object, object> {
  const dispatch: InitializeMiddleware<object, object> = (next, ctx) => async (args) => {
    if (ctx.clientName === 'DynamoDBClient') return next(args);
    const key = facts.credentials ? (await facts.credentials()).accessKeyId : undefined;
    calls.push({
      client: ctx.clientName,
      command: ctx.commandName,
      region: facts.region,
      accessKeyId: key,
      input: args.input,
    });
    const account = key === undefined ? HUB : issued.get(key);
    const sandbox = account === HUB ? hub : account === MEMBER ? member : undefined;
    if (!sandbox) throw new Error(`no account issued the access key ${key}`);
    const result = await sandbox.middleware()(next, ctx)(args);
    const output = result.output as AssumeRoleCommandOutput;
    if (ctx.commandName === 'AssumeRoleCommand' && output.Credentials?.AccessKeyId) {
      const roleArn = (args.input as { RoleArn: string }).RoleArn;
      issued.set(output.Credentials.AccessKeyId, roleArn.split(':')[4] ?? '');
    }
    return result;
  };
  return {
    applyToStack: (stack) => {
      stack.add(dispatch, { step: 'initialize', priority: 'high', name: 'routeByCredentials' });
    },
  };
}

beforeAll(async () => {
  table = await createTestTable('member-place');
  recorder = table.recorder();
  hub = Sandbox.create({ ...instanceSeed('hub-twin'), externalRoleArns: [roleArn(MEMBER)] });
  member = Sandbox.create({ ...instanceSeed('member-web'), accountId: MEMBER, region: REGION });
  Object.assign(process.env, {
    CORDON_TABLE_NAME: table.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    ...table.trust.env,
    CORDON_RESPONDER_ROLE: ROLE,
    CORDON_EXTERNAL_ID: 'cordon-test-external-id',
    CORDON_SETTINGS: JSON.stringify({
      approvers: ['approver@example.com'],
      sender: 'cordon@example.com',
      ec2: { isolation: 'direct', eradication: 'stop' },
    }),
  });
  offs.push(registerClientPlugin(table.trust.plugin()), registerClientPlugin(route));
});
afterAll(async () => {
  for (const off of offs) off();
  for (const key of ['CORDON_RESPONDER_ROLE', 'CORDON_EXTERNAL_ID']) delete process.env[key];
  await table.drop();
});
beforeEach(() => {
  calls.length = 0;
});

async function load(action: string): Promise<Handler> {
  const module: { handler: Handler } = await import(`../../../functions/actions/${action}/handler.ts`);
  return module.handler;
}

async function incident(account: string, region: string): Promise<string> {
  const opened = await recorder.openIncident({
    title: `compromise of ${INSTANCE}`,
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account,
    region,
    resources: [{ type: 'instance', id: INSTANCE }],
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
  });
  return opened.id;
}

const trail = async (incidentId: string) =>
  (await recorder.steps(incidentId)).map((s) => [s.action, s.status, s.error?.name]);

const tagsOf = (sandbox: Sandbox) => sandbox.state().ec2.tags[INSTANCE];

describe('an action sent to a member account', () => {
  it('makes its EC2 calls with the assumed credentials, in the event region, once per incident', async () => {
    const id = await incident(MEMBER, REGION);
    const hubBefore = hub.state();
    const tag = await load('ec2-tag');
    const event = { incidentId: id, instanceId: INSTANCE, account: MEMBER, region: REGION } as ActionEvent;
    expect((await tag(event, context)).status).toBe('succeeded');
    expect((await tag(event, context)).status).toBe('already-done');

    const assumed = calls.filter((c) => c.command === 'AssumeRoleCommand');
    expect(assumed).toHaveLength(1);
    expect(assumed[0]).toMatchObject({
      accessKeyId: undefined,
      input: {
        RoleArn: roleArn(MEMBER),
        RoleSessionName: id.replace(/[^\w+=,.@-]/g, '-').slice(0, 64),
        ExternalId: 'cordon-test-external-id',
        DurationSeconds: 900,
      },
    });
    const ec2 = calls.filter((c) => c.client === 'EC2Client');
    expect(ec2.map((c) => c.command)).toEqual([
      'DescribeInstancesCommand',
      'CreateTagsCommand',
      'DescribeInstancesCommand',
    ]);
    const keys = new Set(ec2.map((c) => c.accessKeyId));
    expect(keys.size).toBe(1);
    expect([...keys][0]).toMatch(/^ASIA/);
    expect(ec2.every((c) => c.region === REGION)).toBe(true);

    expect(tagsOf(member)).toMatchObject({ 'cordon:incident': id, 'cordon:status': 'contained' });
    // The hub's instance of the same id is not touched.
    expect(hub.state().ec2).toEqual(hubBefore.ec2);
    expect(await trail(id)).toEqual([
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'succeeded', undefined],
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'already-done', undefined],
    ]);
  });

  it('records ResponderUnavailableError when the role cannot be assumed, and calls nothing there', async () => {
    const id = await incident(BARE, REGION);
    const tag = await load('ec2-tag');
    const error = await tag(
      { incidentId: id, instanceId: INSTANCE, account: BARE, region: REGION } as ActionEvent,
      context,
    ).catch((e: unknown) => e as Error);
    expect(error).toMatchObject({ name: 'ResponderUnavailableError' });
    expect((error as Error).message).toContain(roleArn(BARE));
    expect((error as Error).message).toContain('is not authorized to perform: sts:AssumeRole');
    // Only the refused AssumeRole was sent: no EC2 call anywhere.
    expect(calls.map((c) => c.command)).toEqual(['AssumeRoleCommand']);
    const steps = await recorder.steps(id);
    expect(steps.map((s) => [s.status, s.error?.name])).toEqual([
      ['started', undefined],
      ['failed', 'ResponderUnavailableError'],
    ]);
    expect(steps[1]?.error?.message).toContain(`account ${BARE}`);
  });

  it("refuses an event whose place is not the incident's recorded one, before anything is called", async () => {
    const id = await incident(MEMBER, REGION);
    const tag = await load('ec2-tag');
    const hubBefore = hub.state();
    const memberBefore = member.state();
    // Names the hub (by naming nothing), then another region of the member.
    for (const place of [{}, { account: MEMBER, region: 'us-east-1' }]) {
      const error = await tag(
        { incidentId: id, instanceId: INSTANCE, ...place } as ActionEvent,
        context,
      ).catch((e: unknown) => e as Error);
      expect(error).toMatchObject({ name: 'PlaceMismatchError' });
      expect((error as Error).message).toContain(`account ${MEMBER} region ${REGION}`);
    }
    expect(calls.filter((c) => c.client === 'EC2Client' || c.command === 'AssumeRoleCommand')).toEqual([]);
    expect(hub.state()).toEqual(hubBefore);
    expect(member.state()).toEqual(memberBefore);
    expect(await trail(id)).toEqual([
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'failed', 'PlaceMismatchError'],
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'failed', 'PlaceMismatchError'],
    ]);
  });

  it("emails a member incident's failure from the hub, naming its account and region", async () => {
    const id = await incident(MEMBER, REGION);
    const notify = await load('notify');
    const result = await notify(
      {
        incidentId: id,
        account: MEMBER,
        region: REGION,
        kind: 'failure',
        playbook: 'ec2-compromise',
        resource: { type: 'instance', id: INSTANCE },
        failure: { Error: 'ResponderUnavailableError', Cause: 'no role' },
      } as ActionEvent,
      context,
    );
    expect(result.status).toBe('succeeded');
    const sent = calls.filter((c) => c.command === 'SendEmailCommand');
    expect(sent).toHaveLength(1);
    expect(sent[0]).toMatchObject({ accessKeyId: undefined, region: 'us-east-1' });
    expect(calls.some((c) => c.command === 'AssumeRoleCommand')).toBe(false);
    const subject = (result.changes as { subject: string }).subject;
    expect(subject).toContain(`in account ${MEMBER}, ${REGION}`);
  });
});
