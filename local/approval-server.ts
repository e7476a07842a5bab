/**
 * The local approval server: an HTTP server on the loopback address (a free port unless one is given)
 * that turns each request into an API Gateway HTTP API (payload 2.0) event and hands it to the same
 * decision core the deployed function runs.
 *
 * With `console`, it also serves the console route (`POST /console/approvals/{requestId}`, what
 * `cordon approvals approve|reject --local` calls). Deployed, API Gateway checks the caller's SigV4
 * signature and names the IAM principal; locally there is no SigV4, so the caller shows a per-run secret
 * as a bearer token (compared in constant time), and the decision is then taken as the runtime's operator,
 * through the same core and checks as the deployed route. The secret, the URL and the operator are in
 * `<state folder>/approval-server.json` (mode 0600) while the runtime runs ({@link writeServerFile}).
 */
import { createHash, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import type {
  APIGatewayProxyEventV2,
  APIGatewayProxyEventV2WithIAMAuthorizer,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { CONSOLE_ROUTE, type DecideDeps, handleDecision } from '../functions/approval/decide/core.ts';

/** What answers an event: the decision core bound to its dependencies, or a deployed-style handler. */
export type DecisionHandler = (event: APIGatewayProxyEventV2) => Promise<APIGatewayProxyStructuredResultV2>;

export interface ApprovalServerOptions {
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Default 0: a free port. */
  readonly port?: number;
  /** The largest body read; default 64 KiB (API Gateway's own limit is higher, the form is tiny). */
  readonly maxBodyBytes?: number;
  /** Serve the console route to bearers of `secret`, deciding as `principal`. Default: not served (404). */
  readonly console?: ConsoleAccess;
}

/** Who may call the console route, and as whom it decides. */
export interface ConsoleAccess {
  /** The bearer token a caller must show: {@link newConsoleSecret}. */
  readonly secret: string;
  /** The IAM principal the decision is taken as (what API Gateway would name from the signature). */
  readonly principal: string;
}

export interface ApprovalServer {
  /** `http://127.0.0.1:<port>`: the base URL to put in links. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

const ROUTE = /^\/approvals\/([^/?#]+)$/;
const CONSOLE_PATH = /^\/console\/approvals\/([^/?#]+)$/;

/** A new per-run console secret: 32 random bytes, hex. */
export function newConsoleSecret(): string {
  return randomBytes(32).toString('hex');
}

/** Whether `given` is `secret`, in time that does not depend on where they differ: their digests are compared. */
export function sameSecret(given: string, secret: string): boolean {
  const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();
  return timingSafeEqual(digest(given), digest(secret));
}

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

/** Builds the API Gateway v2 event for a request to a link, as the HTTP API would send it. */
export function toApiEvent(
  request: IncomingMessage,
  body: Buffer,
  now: Date = new Date(),
): APIGatewayProxyEventV2 | undefined {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = ROUTE.exec(url.pathname);
  const method = (request.method ?? 'GET').toUpperCase();
  if (!match?.[1] || (method !== 'GET' && method !== 'POST')) return undefined;
  return apiEvent(request, body, now, `${method} /approvals/{id}`, { id: decodeURIComponent(match[1]) });
}

/**
 * Builds the event of an authorized console request, as the HTTP API sends it after checking the
 * signature: the IAM authorizer's context names the caller. Only call it once the caller is authorized.
 */
export function toConsoleEvent(
  request: IncomingMessage,
  body: Buffer,
  principal: string,
  now: Date = new Date(),
): APIGatewayProxyEventV2WithIAMAuthorizer | undefined {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const match = CONSOLE_PATH.exec(url.pathname);
  if (!match?.[1] || (request.method ?? '').toUpperCase() !== 'POST') return undefined;
  const event = apiEvent(request, body, now, CONSOLE_ROUTE, { requestId: decodeURIComponent(match[1]) });
  const accountId = /^arn:aws[a-z-]*:(?:iam|sts)::(\d{12}):/.exec(principal)?.[1] ?? '';
  return {
    ...event,
    requestContext: {
      ...event.requestContext,
      authorizer: {
        iam: {
          accessKey: '',
          accountId,
          callerId: '',
          cognitoIdentity: null,
          principalOrgId: '',
          userArn: principal,
          userId: '',
        },
      },
    },
  };
}

function apiEvent(
  request: IncomingMessage,
  body: Buffer,
  now: Date,
  routeKey: string,
  pathParameters: Record<string, string>,
): APIGatewayProxyEventV2 {
  const url = new URL(request.url ?? '/', 'http://127.0.0.1');
  const method = (request.method ?? 'GET').toUpperCase();
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    // The console's bearer secret is the local stand-in for a signature: the core never sees it.
    if (name.toLowerCase() === 'authorization') continue;
    if (value !== undefined) headers[name.toLowerCase()] = Array.isArray(value) ? value.join(',') : value;
  }
  return {
    version: '2.0',
    routeKey,
    rawPath: url.pathname,
    rawQueryString: url.search.slice(1),
    headers,
    pathParameters,
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
      routeKey,
      stage: '$default',
      time: now.toUTCString(),
      timeEpoch: now.getTime(),
    },
    ...(body.length > 0
      ? { body: body.toString('base64'), isBase64Encoded: true }
      : { isBase64Encoded: false }),
  };
}

/**
 * Checks a console request's bearer secret; answers 401 (none shown) or 403 (a wrong one) and returns false
 * when it does not pass, so that nothing reaches the core.
 */
function authorized(request: IncomingMessage, response: ServerResponse, access: ConsoleAccess): boolean {
  const given = /^Bearer ([^\s]+)$/i.exec(request.headers.authorization ?? '')?.[1];
  if (given === undefined) {
    response
      .writeHead(401, { 'content-type': 'application/json', 'www-authenticate': 'Bearer' })
      .end('{"message":"Unauthorized"}');
    return false;
  }
  if (!sameSecret(given, access.secret)) {
    response.writeHead(403, { 'content-type': 'application/json' }).end('{"message":"Forbidden"}');
    return false;
  }
  return true;
}

/** Starts the server; every request goes to `handler`. */
export async function startApprovalServer(
  handler: DecisionHandler,
  options: ApprovalServerOptions = {},
): Promise<ApprovalServer> {
  const max = options.maxBodyBytes ?? 65_536;
  const access = options.console;
  const server: Server = createServer((request, response) => {
    void (async () => {
      try {
        const isConsole = CONSOLE_PATH.test(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
        if (isConsole && access && !authorized(request, response, access)) return;
        const body = await readBody(request, max);
        if (body === undefined) {
          response.writeHead(413, { 'content-type': 'text/plain' }).end('Payload Too Large');
          return;
        }
        const event = isConsole
          ? access && toConsoleEvent(request, body, access.principal)
          : toApiEvent(request, body);
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

/** The file in a state folder that tells `cordon approvals approve|reject --local` how to reach the runtime. */
export const SERVER_FILE = 'approval-server.json';

/** What {@link SERVER_FILE} holds. */
export interface ServerFile {
  /** The approval server's base URL. */
  readonly url: string;
  /** The console route's bearer secret. */
  readonly secret: string;
  /** Whom the console route decides as. */
  readonly principal: string;
  /** The process that runs the runtime. */
  readonly pid: number;
}

/** Writes {@link SERVER_FILE} in `dir`, readable by its owner only, whole (never half a file to a reader). */
export function writeServerFile(dir: string, file: ServerFile): void {
  const path = join(dir, SERVER_FILE);
  const temporary = `${path}.${process.pid}.tmp`;
  rmSync(temporary, { force: true });
  writeFileSync(temporary, `${JSON.stringify(file)}\n`, { mode: 0o600, flag: 'wx' });
  renameSync(temporary, path);
}

/** Removes {@link SERVER_FILE} from `dir` if it is still this runtime's (another run may have replaced it). */
export function removeServerFile(dir: string, secret: string): void {
  const found = readServerFile(dir);
  if (found.ok && found.file.secret === secret) rmSync(join(dir, SERVER_FILE), { force: true });
}

/** Reads {@link SERVER_FILE} from `dir`; when there is none or it is not one, says why. */
export function readServerFile(
  dir: string,
): { readonly ok: true; readonly file: ServerFile } | { readonly ok: false; readonly why: string } {
  const path = join(dir, SERVER_FILE);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return {
      ok: false,
      why:
        code === 'ENOENT'
          ? `there is no ${SERVER_FILE}`
          : `${path} cannot be read (${code ?? String(error)})`,
    };
  }
  try {
    const value = JSON.parse(text) as Partial<Record<keyof ServerFile, unknown>>;
    const { url, secret, principal, pid } = value;
    if (typeof url === 'string' && typeof secret === 'string' && typeof principal === 'string') {
      return { ok: true, file: { url, secret, principal, pid: typeof pid === 'number' ? pid : 0 } };
    }
  } catch {
    // Not JSON: said below.
  }
  return { ok: false, why: `${path} is not an approval server's file (url, secret, principal)` };
}
