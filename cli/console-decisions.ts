/**
 * How `cordon approvals approve|reject` decides: never by writing the table itself (only Cordon's
 * functions hold the record key), but by asking Cordon's decision function to decide as the caller.
 *
 * - Deployed: a SigV4-signed `POST <ApprovalUrl>/console/approvals/<request id>`; API Gateway checks the
 *   signature (the route is IAM-authorized) and tells the function who the caller is, and the decision is
 *   recorded as that IAM principal. Whoever may call `execute-api:Invoke` on the route may decide.
 * - Local (`--local`, `cordon run --decision`): the same core in-process, as the sandbox's caller.
 */
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { GetCallerIdentityCommand, type STSClient } from '@aws-sdk/client-sts';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import { ValidationError } from '#shared/errors';
import { type ConsoleResult, type DecideDeps, decideAsPrincipal } from '../functions/approval/decide/core.ts';
import type { Decision } from '../functions/approval/model.ts';

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
export function httpDecider(
  apiUrl: string,
  options: { region?: string; profile?: string; fetch?: typeof fetch } = {},
): ConsoleDecider {
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
  return {
    async decide(requestId, decision, reason) {
      const url = new URL(`${base}/console/approvals/${encodeURIComponent(requestId)}`);
      const body = JSON.stringify({ decision, reason });
      const signed = await signer.sign({
        method: 'POST',
        protocol: url.protocol,
        hostname: url.hostname,
        ...(url.port ? { port: Number(url.port) } : {}),
        path: url.pathname,
        headers: { host: url.host, 'content-type': 'application/json' },
        body,
      });
      const response = await send(url, {
        method: 'POST',
        headers: signed.headers as Record<string, string>,
        body,
      });
      const text = await response.text();
      let parsed: ConsoleResult['body'];
      try {
        parsed = JSON.parse(text) as ConsoleResult['body'];
      } catch {
        parsed = { outcome: 'refused', message: `${response.status} ${text.slice(0, 200)}` };
      }
      if (response.status === 403 && !('outcome' in parsed)) {
        parsed = {
          outcome: 'refused',
          message:
            'API Gateway refused the signed request: your principal may not call execute-api:Invoke on the console route',
        };
      }
      return { status: response.status, body: parsed };
    },
  };
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
