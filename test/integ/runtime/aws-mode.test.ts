import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { rehearsalStack } from './rehearsal-stack.ts';

/** A stand-in for an AWS-compatible endpoint on the loopback address that records what reaches it. */
let server: Server;
const requests: { host: string | undefined; body: string }[] = [];
let t: TestRuntime;

beforeAll(async () => {
  server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      requests.push({ host: req.headers.host, body });
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.end(
        '<CreateTagsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r-1</requestId><return>true</return></CreateTagsResponse>',
      );
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  t = await startTestRuntime({ scope: rehearsalStack(), aws: true });
});
afterAll(async () => {
  delete process.env.AWS_ENDPOINT_URL;
  await t.close();
  await new Promise((resolve) => server.close(resolve));
});

describe('the local runtime with --aws', () => {
  it('sends the handlers calls to AWS_ENDPOINT_URL instead of a sandbox', async () => {
    const execution = t.runtime.engine.start(
      'rehearsal',
      { mode: 'rehearse', instanceId: 'i-real' },
      { name: 'aws-1' },
    );
    const task = await t.runtime.nextTask();
    t.runtime.engine.sendTaskSuccess(task.token, '{}');
    const result = await execution.done;
    expect(result.status).toBe('SUCCEEDED');
    const port = (server.address() as AddressInfo).port;
    expect(requests).toHaveLength(1);
    expect(requests[0]?.host).toBe(`127.0.0.1:${port}`);
    expect(requests[0]?.body).toContain('Action=CreateTags');
    expect(requests[0]?.body).toContain('ResourceId.1=i-real');
    expect(() => t.runtime.sandbox).toThrow(/no sandbox/);
  });
});
