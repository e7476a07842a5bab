/**
 * On the deployed stack, `cordon incidents close|note|assign` never writes the table: the real binary sends
 * a SigV4-signed POST to the approval API's IAM-authorized route, and the lifecycle function records the
 * step as the caller's IAM principal, if that principal is one of the console principals. API Gateway is
 * played here by a loopback server that checks the signature's shape and passes the caller's ARN on, as
 * the IAM authorizer does; the function's core (functions/lifecycle/core.ts) runs on a table of its own.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { APIGatewayProxyEventV2 } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder, NewIncident } from '#shared/audit';
import { keys, resourceKey } from '#shared/audit-table';
import { releaseOpenMarkers } from '#shared/open-markers';
import { handleLifecycle } from '../../../functions/lifecycle/core.ts';
import { runCordon } from '../../support/bin.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/SecurityResponder/alice';
const MALLORY = 'arn:aws:sts::123456789012:assumed-role/CiDeploy/mallory';

const incidentInput = (resource: string): NewIncident => ({
  title: `Backdoor:EC2/C&CActivity.B!DNS on ${resource}`,
  findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: resource }],
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:05:00.000Z',
});

/** The open marker's key of an instance of the incidents' place (incidentInput's account and region). */
const markerKey = (instanceId: string) =>
  resourceKey({ account: '123456789012', region: 'us-east-1' }, { type: 'instance', id: instanceId });

let table: TestTable;
let recorder: AuditRecorder;
let server: Server;
let url = '';
/** The caller the fake IAM authorizer names (who signed is not checked here: API Gateway does that). */
let caller = ALICE;
const signatures: string[] = [];

beforeAll(async () => {
  table = await createTestTable('lifecycle');
  recorder = table.recorder();
  server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => {
      body += chunk;
    });
    req.on('end', async () => {
      const authorization = String(req.headers.authorization ?? '');
      signatures.push(authorization);
      const match = /^\/console\/incidents\/([^/]+)\/(close|note|assign)$/.exec(req.url ?? '');
      if (!authorization.startsWith('AWS4-HMAC-SHA256 ') || !match) {
        res.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
        return;
      }
      const event = {
        version: '2.0',
        routeKey: `POST /console/incidents/{id}/${match[2]}`,
        rawPath: req.url,
        pathParameters: { id: decodeURIComponent(match[1] ?? '') },
        body,
        isBase64Encoded: false,
        requestContext: { authorizer: { iam: { userArn: caller } } },
      } as unknown as APIGatewayProxyEventV2;
      const result = await handleLifecycle(
        {
          recorder,
          releaseOpen: (id, resources) => releaseOpenMarkers(table.doc, table.tableName, id, resources),
          consolePrincipals: ['arn:aws:sts::123456789012:assumed-role/SecurityResponder/*'],
        },
        event,
      );
      res.writeHead(result.statusCode ?? 500, result.headers as Record<string, string>).end(result.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
  await table.drop();
});

const deployed = (...args: string[]) =>
  runCordon([...args, '--api-url', url, '--region', 'us-east-1'], {
    env: { CORDON_TABLE_NAME: table.tableName },
  });

describe('cordon incidents close|note|assign on the deployed stack', () => {
  it('records each as a signed request, with the caller as actor, and closing releases only its own markers', async () => {
    const incident = await recorder.openIncident(incidentInput('i-0aaa0000000000001'));
    const other = await recorder.openIncident(incidentInput('i-0bbb0000000000002'));
    const marker = (resource: string, holder: string) =>
      table.doc.send(
        new PutCommand({
          TableName: table.tableName,
          Item: { ...keys.openMarker(markerKey(resource)), incidentId: holder },
        }),
      );
    await marker('i-0aaa0000000000001', incident.id);
    await marker('i-0bbb0000000000002', other.id);

    const note = await deployed('incidents', 'note', incident.id, 'owner paged');
    expect(note.stderr).toBe('');
    expect(note.status).toBe(0);
    expect(signatures.at(-1)).toMatch(
      /^AWS4-HMAC-SHA256 Credential=cordonlocal\/\d{8}\/us-east-1\/execute-api\//,
    );
    expect((await deployed('incidents', 'assign', incident.id, 'alice@example.com')).status).toBe(0);
    const close = await deployed(
      'incidents',
      'close',
      incident.id,
      '--reason',
      'false positive',
      '--output',
      'json',
    );
    expect(close.status).toBe(0);

    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => [s.action, s.actor])).toEqual([
      ['incident-note', ALICE],
      ['incident-assign', ALICE],
      ['incident-close', ALICE],
    ]);
    expect(steps[2]?.changes).toMatchObject({
      reason: 'false positive',
      releasedOpenMarkers: ['i-0aaa0000000000001'],
    });
    expect(await recorder.getIncident(incident.id)).toMatchObject({
      status: 'closed',
      assignee: 'alice@example.com',
    });
    expect((await recorder.verify(incident.id)).ok).toBe(true);
    const markerOf = async (resource: string) =>
      (
        await table.doc.send(
          new GetCommand({ TableName: table.tableName, Key: keys.openMarker(markerKey(resource)) }),
        )
      ).Item;
    expect(await markerOf('i-0aaa0000000000001')).toBeUndefined();
    expect(await markerOf('i-0bbb0000000000002')).toMatchObject({ incidentId: other.id });

    const twice = await deployed('incidents', 'close', incident.id, '--reason', 'again');
    expect(twice.status).toBe(1);
    expect(twice.stderr).toContain('is already closed');
  });

  it('refuses a principal that is not one of the console principals, and records nothing', async () => {
    const incident = await recorder.openIncident(incidentInput('i-0ccc0000000000003'));
    caller = MALLORY;
    try {
      const run = await deployed('incidents', 'close', incident.id, '--reason', 'nothing to see');
      expect(run.status).toBe(1);
      expect(run.stderr).toContain(`${MALLORY} is not one of settings.approval.consolePrincipals`);
      expect(run.stderr).not.toMatch(/\n\s+at /);
    } finally {
      caller = ALICE;
    }
    expect(await recorder.steps(incident.id)).toEqual([]);
    expect((await recorder.getIncident(incident.id)).status).toBe('open');
  });

  it('refuses a record that does not verify, and writes nothing to it', async () => {
    const incident = await recorder.openIncident(incidentInput('i-0ddd0000000000004'));
    await recorder.appendStep(incident.id, {
      phase: 'identification',
      action: 'triage',
      status: 'succeeded',
      actor: 'automation',
    });
    // A forger with the table edits the step's actor.
    const key = keys.step(incident.id, 1);
    const item = (await table.doc.send(new GetCommand({ TableName: table.tableName, Key: key }))).Item ?? {};
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: { ...item, actor: 'mallory' } }));
    const run = await deployed('incidents', 'note', incident.id, 'looks fine');
    expect(run.status).toBe(1);
    expect(run.stderr).toContain('does not verify');
    expect(await recorder.steps(incident.id)).toHaveLength(1);
  });
});
