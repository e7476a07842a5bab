/**
 * The local approval server: an HTTP server on the loopback address (a free port unless one is given)
 * that turns each request into an API Gateway HTTP API (payload 2.0) event and hands it to the same
 * decision core the deployed function runs.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { type DecideDeps, handleDecision } from '../functions/approval/decide/core.ts';

/** What answers an event: the decision core bound to its dependencies, or a deployed-style handler. */
export type DecisionHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApprovalServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** The largest body read; default 64 KiB (API Gateway's own limit is higher, the form is tiny). */
  readonly maxBodyBytes?: number;
}

export interface ApprovalServer {
  /** `http://127.0.0.1:<port>`: the base URL to put in links. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ROUTE = /^\/approvals\/([^/?#]+)$/;

async function readBody(request: IncomingMessage, max: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buffer.length;
    if (size > max) return undefined;
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}

/** Builds the API Gateway v2 event for a request, as the HTTP API would send it. */
export function toApiEvent(
  request: IncomingMessage,
  body: Buffer,
  now: Date = new Date(),
): APIGatewayProxyEventV2 | undefined {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = ROUTE.exec(url.pathname);
  const method = (request.method ?? 'GET').toUpperCase();
  if (!match?.[1] || (method !== 'GET' && method !== 'POST')) return undefined;
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  const id = decodeURIComponent(match[1]);
  return {
    version: '2.0',
    routeKey: `${method} /approvals/{id}`,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    pathParameters: { id },
    requestContext: {
      accountId: '000000000000',
      apiId: 'local',
      domainName: headers.host ?? '127.0.0.1',
      domainPrefix: 'local',
      http: {
        method,
        path: url.pathname,
        protocol: `HTTP/${request.httpVersion}`,
        sourceIp: request.socket.remoteAddress ?? '127.0.0.1',
        userAgent: headers['user-agent'] ?? '',
      },
      requestId: randomUUID(),
      routeKey: `${method} /approvals/{id}`,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0
      ? { body: body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

/** Starts the server; every request goes to `handler`. */
export async function startApprovalServer(
  handler: DecisionHandler,
  options: ApprovalServerOptions = {},
): Promise<ApprovalServer> {
  const max = options.maxBodyBytes ?? 65_536;
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const body = await readBody(request, max);
        if (body === undefined) {
          response.writeHead(413, { 'content-type': 'text/plain' }).end('Payload Too Large');
          return;
        }
        const event = toApiEvent(request, body);
        if (!event) {
          // API Gateway's own answer for a route it does not have.
          response.writeHead(404, { 'content-type': 'application/json' }).end('{"message":"Not Found"}');
          return;
        }
        const result = await handler(event);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(result.headers ?? {})) headers[k] = String(v);
        const payload = result.isBase64Encoded
          ? Buffer.from(result.body ?? '', 'base64')
          : Buffer.from(result.body ?? '', 'utf8');
        response.writeHead(result.statusCode ?? 200, headers);
        response.end(event.requestContext.http.method === 'HEAD' ? undefined : payload);
      } catch {
        response.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('approval server: no address');
  const host = options.host ?? '127.0.0.1';
  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Starts the server on the decision core with its dependencies: what the local runtime runs. */
export function serveDecisions(
  deps: DecideDeps,
  options: ApprovalServerOptions = {},
): Promise<ApprovalServer> {
  return startApprovalServer((event) => handleDecision(deps, event), options);
}
