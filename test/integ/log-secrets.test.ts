/**
 * No secret in any log line: both playbooks with approval gates run on the local runtime with every
 * handler logging at `debug`, one approval decided by link and one rejected, and everything written to
 * standard output and standard error, the engine's history and the audit record are searched for the task
 * tokens, the approval link ids and the access key secret in use (in the forms a leak takes: whole, cut,
 * URL-encoded, base64).
 */
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../../local/runtime.ts';
import { LOCAL_CREDENTIALS } from '../../local/store.ts';
import { approvalLink, decide, startPlaybook } from '../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../support/runtime.ts';
import { seed, WEB } from './actions/ec2/helpers.ts';
import { KEY_1, SEED } from './actions/iam/helpers.ts';

const written: string[] = [];
const history: HistoryEvent[] = [];
const original = {
  out: process.stdout.write,
  err: process.stderr.write,
  level: process.env.CORDON_LOG_LEVEL,
};
let t: TestRuntime;
const links: string[] = [];

beforeAll(async () => {
  // Handlers read the level when their module loads: every line they can write is written.
  process.env.CORDON_LOG_LEVEL = 'debug';
  const spy = (stream: NodeJS.WriteStream, write: typeof process.stdout.write) =>
    ((chunk: string | Uint8Array, ...rest: unknown[]) => {
      written.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
      return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean).call(stream, chunk, ...rest);
    }) as typeof process.stdout.write;
  process.stdout.write = spy(process.stdout, original.out);
  process.stderr.write = spy(process.stderr, original.err);
  t = await startTestRuntime({ approvals: {}, waitScale: 0.01, onEvent: (event) => history.push(event) });

  t.runtime.useAccount(seed());
  const ec2 = await startPlaybook(t.runtime, 'ec2-compromise', { type: 'instance', id: WEB });
  const ec2Link = await approvalLink(t.runtime, ec2.incidentId);
  links.push(ec2Link);
  expect(await decide(ec2Link, 'approve')).toBe(200);
  expect((await ec2.execution.done).status).toBe('SUCCEEDED');

  t.runtime.useAccount(SEED);
  const before = t.runtime.outbox?.emails.length ?? 0;
  const iam = await startPlaybook(
    t.runtime,
    'iam-credential-compromise',
    { type: 'access-key', id: KEY_1, details: { userType: 'IAMUser', userName: 'alice' } },
    'automatic',
    { type: 'UnauthorizedAccess:IAMUser/TorIPCaller' },
  );
  const iamLink = await approvalLink(t.runtime, iam.incidentId, before);
  links.push(iamLink);
  expect(await decide(iamLink, 'reject')).toBe(200);
  await iam.execution.done;
}, 180_000);

afterAll(async () => {
  process.stdout.write = original.out;
  process.stderr.write = original.err;
  process.env.CORDON_LOG_LEVEL = original.level;
  await t?.close();
});

/** Every stored item of the run's table. */
async function storedItems(): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await t.table.doc.send(
      new ScanCommand({ TableName: t.table.tableName, ExclusiveStartKey: start }),
    );
    items.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return items;
}

/** A secret in the forms a leak takes. */
function forms(secret: string): string[] {
  // Half of a long secret is still a leak; half of a short one is just a common word.
  const cut = secret.length >= 32 ? [secret.slice(0, Math.ceil(secret.length / 2))] : [];
  return [secret, ...cut, encodeURIComponent(secret), Buffer.from(secret).toString('base64')];
}

function leaks(haystack: readonly string[], secrets: readonly string[]): string[] {
  const found: string[] = [];
  for (const secret of secrets) {
    for (const form of forms(secret)) {
      const line = haystack.find((text) => text.includes(form));
      if (line !== undefined)
        found.push(`${secret.slice(0, 12)}… as "${form.slice(0, 12)}…" in: ${line.slice(0, 200)}`);
    }
  }
  return found;
}

describe('secrets in what a run writes', () => {
  let tokens: string[];
  let linkIds: string[];
  let steps: string[];

  beforeAll(async () => {
    const items = await storedItems();
    tokens = items.flatMap((i) => (typeof i.taskToken === 'string' ? [i.taskToken] : []));
    linkIds = links.map((l) => l.split('/approvals/')[1] ?? '');
    steps = items.filter((i) => String(i.sk).startsWith('STEP#')).map((i) => JSON.stringify(i));
  });

  it('sees the run: handlers logged, the engine recorded history, a token per approval and two links', () => {
    // Handlers log little (what failed, what was decided): the lines there are, are searched.
    expect(written.filter((w) => w.startsWith('{"level":')).length).toBeGreaterThan(0);
    expect(history.length).toBeGreaterThan(50);
    expect(tokens.length).toBeGreaterThanOrEqual(2);
    expect(linkIds.every((id) => /^[A-Za-z0-9_-]{43}$/.test(id))).toBe(true);
  });

  it('writes no task token, link id or access key secret to standard output or standard error', () => {
    const secrets = [...tokens, ...linkIds, LOCAL_CREDENTIALS.secretAccessKey];
    expect(leaks(written, secrets)).toEqual([]);
    // Whatever secret the sandbox would hand out for a new key has this shape.
    expect(written.some((w) => w.includes('sandbox-secret-'))).toBe(false);
  });

  it('keeps every link id and the access key secret out of the engine history and the audit record', () => {
    const events = history.map((e) => JSON.stringify(e));
    expect(leaks(events, [...linkIds, LOCAL_CREDENTIALS.secretAccessKey])).toEqual([]);
    expect(leaks(steps, [...tokens, ...linkIds, LOCAL_CREDENTIALS.secretAccessKey])).toEqual([]);
  });

  it("keeps the task token out of the engine history except where Step Functions itself puts it: the approval task's parameters", () => {
    const withToken = history.filter((e) => tokens.some((token) => JSON.stringify(e).includes(token)));
    expect(withToken.map((e) => e.type).filter((type) => type !== 'TaskScheduled')).toEqual([]);
  });
});
