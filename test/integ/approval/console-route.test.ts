/**
 * The local approval server's console route, on a stand-in handler: only a bearer of the run's secret
 * reaches the decision core, and then as the operator, in the event API Gateway's IAM authorizer sends; the
 * secret never reaches the core, and without `console` the route does not exist.
 */
import type { APIGatewayProxyEventV2, APIGatewayProxyEventV2WithIAMAuthorizer } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { CONSOLE_ROUTE } from '../../../functions/approval/decide/core.ts';
import {
  type ApprovalServer,
  newConsoleSecret,
  sameSecret,
  startApprovalServer,
} from '../../../local/approval-server.ts';

const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/CordonResponder/cordon';
const seen: APIGatewayProxyEventV2[] = [];
let server: ApprovalServer | undefined;

async function serve(withConsole: boolean, secret = newConsoleSecret()): Promise<string> {
  server = await startApprovalServer(
    async (event) => {
      seen.push(event);
      return {
        statusCode: 200,
        headers: { 'content-type': 'application/json' },
        body: '{"outcome":"decided"}',
      };
    },
    withConsole ? { console: { secret, principal: OPERATOR } } : {},
  );
  return server.url;
}

const post = (url: string, headers: Record<string, string> = {}) =>
  fetch(`${url}/console/approvals/r-1`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: '{"decision":"approve","reason":"test"}',
  });

afterEach(async () => {
  seen.length = 0;
  await server?.close();
  server = undefined;
});

describe('the local console route', () => {
  it('hands a bearer of the secret to the core as the operator, without the secret', async () => {
    const secret = newConsoleSecret();
    const url = await serve(true, secret);
    const response = await post(url, { authorization: `Bearer ${secret}` });
    expect(response.status).toBe(200);
    const [event] = seen as APIGatewayProxyEventV2WithIAMAuthorizer[];
    expect(event?.routeKey).toBe(CONSOLE_ROUTE);
    expect(event?.pathParameters).toEqual({ requestId: 'r-1' });
    expect(event?.requestContext.authorizer.iam).toMatchObject({
      userArn: OPERATOR,
      accountId: '123456789012',
    });
    expect(event?.headers.authorization).toBeUndefined();
  });

  it('answers 401 without a secret and 403 with a wrong one, and the core sees neither', async () => {
    const url = await serve(true);
    expect((await post(url)).status).toBe(401);
    expect((await post(url, { authorization: `Bearer ${newConsoleSecret()}` })).status).toBe(403);
    expect((await post(url, { authorization: 'Basic abc' })).status).toBe(401);
    expect(seen).toEqual([]);
  });

  it('does not exist without console access, nor for GET', async () => {
    const secret = newConsoleSecret();
    const off = await serve(false);
    expect((await post(off, { authorization: `Bearer ${secret}` })).status).toBe(404);
    await server?.close();
    const on = await serve(true, secret);
    const get = await fetch(`${on}/console/approvals/r-1`, {
      headers: { authorization: `Bearer ${secret}` },
    });
    expect(get.status).toBe(404);
    expect(seen).toEqual([]);
  });

  it('never marks a link request as authorized', async () => {
    const url = await serve(true);
    await fetch(`${url}/approvals/abc`);
    expect(seen[0]?.routeKey).toBe('GET /approvals/{id}');
    expect(seen[0]?.requestContext).not.toHaveProperty('authorizer');
  });

  it('compares secrets whole', () => {
    const secret = newConsoleSecret();
    expect(secret).toMatch(/^[0-9a-f]{64}$/);
    expect(sameSecret(secret, secret)).toBe(true);
    expect(sameSecret(secret.slice(0, 63), secret)).toBe(false);
    expect(sameSecret('', secret)).toBe(false);
  });
});
