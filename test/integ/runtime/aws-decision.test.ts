/**
 * `cordon run --aws --decision approve` decides: the real `cordon` binary drives an AWS-compatible
 * endpoint (a loopback stand-in that records every call, through AWS_ENDPOINT_URL) while the playbook
 * runs on the local engine; the decision's SendTaskSuccess must reach that engine, which waits, and not
 * the endpoint, which knows no such task. The gate then takes the approved branch at once, never its
 * timeout.
 */
import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../../local/state.ts';
import { runCordon } from '../../support/bin.ts';

const EC2_EVENT = 'test/fixtures/events/guardduty/ec2-canary-stateless.detail.json';
const CALLER = 'arn:aws:sts::123456789012:assumed-role/GameDay/operator';

let server: Server;
let endpoint = '';
const requests: { target: string; path: string; body: string }[] = [];
let dir: string;
let store: Awaited<ReturnType<typeof openStateStore>>;

/** What the stand-in answers: STS and SES as AWS would; anything else is refused (EC2's error shape). */
function answer(req: IncomingMessage, body: string): { status: number; type: string; text: string } {
  const target = String(req.headers['x-amz-target'] ?? '');
  if (body.includes('Action=GetCallerIdentity') || target.endsWith('GetCallerIdentity')) {
    return {
      status: 200,
      type: 'text/xml',
      text: `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${CALLER}</Arn><UserId>AROAEXAMPLE:operator</UserId><Account>123456789012</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>r-1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
    };
  }
  if (req.url?.startsWith('/v2/email/outbound-emails')) {
    return { status: 200, type: 'application/json', text: '{"MessageId":"m-1"}' };
  }
  if (target.startsWith('AWSStepFunctions.')) {
    return { status: 200, type: 'application/x-amz-json-1.0', text: '{}' };
  }
  return {
    status: 403,
    type: 'text/xml',
    text: '<Response><Errors><Error><Code>UnauthorizedOperation</Code><Message>the stand-in endpoint refuses this call</Message></Error></Errors><RequestID>r-2</RequestID></Response>',
  };
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      requests.push({ target: String(req.headers['x-amz-target'] ?? ''), path: req.url ?? '', body });
      const { status, type, text } = answer(req, body);
      res.writeHead(status, { 'content-type': type });
      res.end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  dir = mkdtempSync(join(tmpdir(), 'cordon-aws-decision-'));
  store = await openStateStore(dir);
});
afterAll(async () => {
  await store?.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('cordon run --aws --decision approve', () => {
  it('decides on the local engine: the gate takes the approved branch, no SendTaskSuccess reaches AWS', async () => {
    const ran = await runCordon(
      ['run', '--aws', '--event', EC2_EVENT, '--decision', 'approve', '--state-dir', dir],
      { env: { AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1' }, timeoutMs: 240_000 },
    );
    expect(ran.stdout).toMatch(/Driving REAL AWS endpoints/);
    expect(ran.stdout).toMatch(/Playbook ec2-compromise, mode approval-first/);
    expect(ran.stdout).toMatch(new RegExp(`approved isolate-instance as ${CALLER}`));
    expect(ran.stdout).toMatch(/Approve containment: approved/);
    expect(ran.stdout).not.toMatch(/Approve containment: timed out|default after timeout/);
    // The approved branch acted on the endpoint (which refuses: the playbook then fails, recorded).
    expect(
      requests.some(
        (r) =>
          r.body.includes('Action=ModifyNetworkInterfaceAttribute') || r.body.includes('Action=Describe'),
      ),
    ).toBe(true);
    expect(requests.some((r) => r.path.startsWith('/v2/email/outbound-emails'))).toBe(true);
    expect(requests.filter((r) => r.target.startsWith('AWSStepFunctions.'))).toEqual([]);
    expect(ran.stderr).not.toMatch(/\n\s+at /);
  });
});
