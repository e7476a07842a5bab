/**
 * How `cordon approvals approve|reject` decides: never by writing the table itself (only Cordon's
 * functions hold the record key), but by asking Cordon's decision function to decide as the caller.
 *
 * - Deployed: a SigV4-signed `POST <ApprovalUrl>/console/approvals/<request id>`; API Gateway checks the
 *   signature (the route is IAM-authorized) and tells the function who the caller is, and the decision is
 *   recorded as that IAM principal. Whoever may call `execute-api:Invoke` on the route may decide.
 * - Local, from another process (`approvals approve|reject --local`): the console route of the approval
 *   server of the `cordon run` waiting in the state folder, with the run's secret as a bearer token; the run
 *   decides as its operator (local/approval-server.ts).
 * - Local, in-process (`cordon run --decision`): the same core, as the sandbox's caller.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ValidationError } from '#shared/errors';
import { type ConsoleResult, type DecideDeps, decideAsPrincipal } from '../functions/approval/decide/core.ts';
import type { Decision } from '../functions/approval/model.ts';
import { readServerFile, SERVER_FILE, type ServerFile } from '../local/approval-server.ts';
import { NoWaitingRunError } from './errors.ts';

/** Decides one request as the console's caller. */
export interface ConsoleDecider {
  decide(requestId: string, decision: Decision, reason: string): Promise<ConsoleResult>;
}

/** SHA-256 and HMAC-SHA-256 from node:crypto, in the shape SigV4 signing takes. */
class NodeSha256 {
  #hash: Hash | Hmac;
  readonly #secret: Uint8Array | string | undefined;
  constructor(secret?: string | ArrayBuffer | ArrayBufferView) {
    this.#secret =
      secret === undefined || typeof secret === 'string'
        ? secret
        : ArrayBuffer.isView(secret)
          ? new Uint8Array(secret.buffer, secret.byteOffset, secret.byteLength)
          : new Uint8Array(secret);
    this.#hash = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
  update(data: Uint8Array | string): void {
    this.#hash.update(data);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.#hash.digest());
  }
  reset(): void {
    this.#hash = this.#secret === undefined ? createHash('sha256') : createHmac('sha256', this.#secret);
  }
}

/** The region of an API Gateway endpoint: `https://<id>.execute-api.<region>.amazonaws.com`. */
export function regionOfApi(url: string): string | undefined {
  return /\.execute-api\.([a-z0-9-]+)\.amazonaws\.com/.exec(url)?.[1];
}

/**
 * The deployed console decider: signs each request with the default credential chain (or `profile`) for
 * `execute-api` in the API's region.
 */
export function httpDecider(apiUrl: string, options: SignedPostOptions = {}): ConsoleDecider {
  const post = signedPoster(apiUrl, options);
  return {
    async decide(requestId, decision, reason) {
      const response = await post(`/console/approvals/${encodeURIComponent(requestId)}`, {
        decision,
        reason,
      });
      return resultOf(
        response,
        'API Gateway refused the signed request: your principal may not call execute-api:Invoke on the console route',
      );
    },
  };
}

/** How the console reaches the approval API's IAM-authorized routes. */
export interface SignedPostOptions {
  readonly region?: string;
  readonly profile?: string;
  readonly fetch?: typeof fetch;
}

/**
 * POSTs JSON to a path of the approval API, signed with SigV4 for `execute-api` in the API's region (from
 * its URL, or `region`) with the default credential chain (or `profile`): the console's decisions and its
 * lifecycle requests.
 */
export function signedPoster(
  apiUrl: string,
  options: SignedPostOptions = {},
): (path: string, body: unknown) => Promise<Response> {
  const base = apiUrl.replace(/\/+$/, '');
  const region = options.region ?? regionOfApi(base);
  if (!region) {
    throw new ValidationError('--api-url', [`cannot tell the region of ${base}: pass --region`]);
  }
  const signer = new SignatureV4({
    service: 'execute-api',
    region,
    credentials: defaultProvider(options.profile ? { profile: options.profile } : {}),
    sha256: NodeSha256,
  });
  const send = options.fetch ?? fetch;
  return async (path, payload) => {
    const url = new URL(`${base}${path}`);
    const body = JSON.stringify(payload);
    const signed = await signer.sign({
      method: 'POST',
      protocol: url.protocol,
      hostname: url.hostname,
      ...(url.port ? { port: Number(url.port) } : {}),
      path: url.pathname,
      headers: { host: url.host, 'content-type': 'application/json' },
      body,
    });
    return send(url, { method: 'POST', headers: signed.headers as Record<string, string>, body });
  };
}

/**
 * The console route's answer: the decision core's JSON, or, when the gateway refused the caller before the
 * core saw the request (a 401 or 403 without an outcome), `denied`.
 */
async function resultOf(response: Response, denied: string): Promise<ConsoleResult> {
  const text = await response.text();
  let parsed: ConsoleResult['body'];
  try {
    parsed = JSON.parse(text) as ConsoleResult['body'];
  } catch {
    parsed = { outcome: 'refused', message: `${response.status} ${text.slice(0, 200)}` };
  }
  if ((response.status === 401 || response.status === 403) && !('outcome' in parsed)) {
    parsed = { outcome: 'refused', message: denied };
  }
  return { status: response.status, body: parsed };
}

/**
 * The local console decider (`approvals approve|reject --local`): the console route of the approval server
 * of the `cordon run` waiting in the state folder, with the run's bearer secret in place of a signature.
 * The run decides as its operator, through the same core and checks as the deployed route.
 */
export function runDecider(
  dir: string,
  server: Pick<ServerFile, 'url' | 'secret'>,
  options: { fetch?: typeof fetch } = {},
): ConsoleDecider {
  const send = options.fetch ?? fetch;
  const base = server.url.replace(/\/+$/, '');
  return {
    async decide(requestId, decision, reason) {
      let response: Response;
      try {
        response = await send(`${base}/console/approvals/${encodeURIComponent(requestId)}`, {
          method: 'POST',
          headers: { authorization: `Bearer ${server.secret}`, 'content-type': 'application/json' },
          body: JSON.stringify({ decision, reason }),
        });
      } catch (error) {
        throw new NoWaitingRunError(
          dir,
          `its approval server at ${base} does not answer (${causeOf(error)})`,
          {
            cause: error,
          },
        );
      }
      return resultOf(
        response,
        `the approval server at ${base} refused the secret in ${dir}/${SERVER_FILE}: nothing was decided`,
      );
    },
  };
}

/** The code of a failed fetch's cause (`ECONNREFUSED`), or its message. */
function causeOf(error: unknown): string {
  const cause = (error as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (typeof cause?.code === 'string') return cause.code;
  return error instanceof Error ? error.message : String(error);
}

/**
 * The `cordon run` waiting in a state folder, as its {@link SERVER_FILE} names it, once its approval server
 * answers; else a {@link NoWaitingRunError} that says why. Asked before the store opens, so that a folder
 * where nothing waits says so at once.
 */
export async function waitingRun(
  dir: string,
  options: { fetch?: typeof fetch; timeoutMs?: number } = {},
): Promise<ServerFile> {
  const found = readServerFile(dir);
  if (!found.ok) {
    throw new NoWaitingRunError(
      dir,
      `${found.why} (a cordon run there writes it while it waits for a decision, and removes it when it ends)`,
    );
  }
  const send = options.fetch ?? fetch;
  try {
    // Any answer will do (the root is a 404): the server is up.
    const response = await send(found.file.url, { signal: AbortSignal.timeout(options.timeoutMs ?? 3000) });
    await response.arrayBuffer();
  } catch (error) {
    throw new NoWaitingRunError(
      dir,
      `the approval server at ${found.file.url} that ${SERVER_FILE} names does not answer (${causeOf(error)}): its run has ended`,
      { cause: error },
    );
  }
  return found.file;
}

/** The local console decider: the decision core in-process, as the caller STS names. */
export function localDecider(deps: DecideDeps, sts: Pick<STSClient, 'send'>): ConsoleDecider {
  return {
    async decide(requestId, decision, reason) {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      if (!identity.Arn) throw new ValidationError('caller identity', ['Arn: STS returned none']);
      return decideAsPrincipal(deps, identity.Arn, requestId, decision, reason);
    },
  };
}
