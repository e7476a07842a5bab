/**
 * `cordon approvals approve|reject --local` decides for the `cordon run` that waits in the state folder,
 * through the real `cordon` binary: the run's approval server serves the console route to the bearers of
 * the secret in `approval-server.json` and decides as the run's operator, through the same core and checks
 * as the deployed route. A wrong secret decides nothing, a rejection needs a reason, and with no run waiting
 * the command says so on one line.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStateStore } from '../../../local/state.ts';
import { type BinRun, CORDON_BIN, runCordon } from '../../support/bin.ts';

const EVENT = 'test/fixtures/events/guardduty/ec2-backdoor-c2-dns.eventbridge.json';
const OPERATOR = 'arn:aws:sts::123456789012:assumed-role/CordonResponder/cordon';
const SLOW = 240_000;

let dir: string;
let store: Awaited<ReturnType<typeof openStateStore>>;
let run: ChildProcessWithoutNullStreams | undefined;
let stdout = '';
let exited: Promise<number>;

/** Resolves with the first match of `pattern` in the run's output, once it is printed. */
function printed(pattern: RegExp, timeoutMs = 180_000): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const look = () => {
      const match = pattern.exec(stdout);
      if (match) return resolve(match);
      if (run?.exitCode !== null || Date.now() - started > timeoutMs) {
        return reject(new Error(`the run did not print ${pattern}:\n${stdout}`));
      }
      setTimeout(look, 100);
    };
    look();
  });
}

/** The ids of the requests the run said it waits for, once it has said `count` of them. */
async function waitingRequests(count: number): Promise<string[]> {
  const line = /decide here: cordon approvals approve\|reject (\S+) --local/g;
  for (let attempt = 0; attempt < 1800; attempt++) {
    const ids = [...stdout.matchAll(line)].map((m) => m[1] ?? '');
    if (ids.length >= count) return ids;
    if (run?.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the run did not say it waits for ${count} requests:\n${stdout}`);
}

const approvals = (...args: string[]) =>
  runCordon(['approvals', ...args, '--local', '--state-dir', dir], { timeoutMs: 120_000 });

async function pending(): Promise<{ requestId: string; status: string; action: string }[]> {
  const listed = await approvals('list', '--output', 'json');
  expect([listed.status, listed.stderr]).toEqual([0, '']);
  return (JSON.parse(listed.stdout) as { approvals: { requestId: string; status: string; action: string }[] })
    .approvals;
}

function expectOneLine(ran: BinRun, message: RegExp): void {
  const context = `--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
  expect(ran.status, context).toBe(1);
  const lines = ran.stderr.trimEnd().split('\n');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(message);
}

/** What `approve|reject` printed (JSON, since its output is not a terminal). */
function decidedIn(ran: BinRun): unknown {
  return JSON.parse(ran.stdout) as unknown;
}

const serverFile = () => join(dir, 'approval-server.json');
const readServerFile = () =>
  JSON.parse(readFileSync(serverFile(), 'utf8')) as { url: string; secret: string; principal: string };

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cordon-approvals-local-'));
  // One store for the run and the commands: they reuse it through store.json.
  store = await openStateStore(dir);
  // Without --decision the run waits; a wait scale of 0.1 gives the gate 6 minutes.
  run = spawn(
    process.execPath,
    [CORDON_BIN, 'run', '--event', EVENT, '--state-dir', dir, '--wait-scale', '0.1'],
    { env: { ...process.env, CORDON_STATE_DIR: undefined }, stdio: ['pipe', 'pipe', 'pipe'] },
  );
  run.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  run.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  const child = run;
  exited = new Promise((resolve) => child.on('close', (code) => resolve(code ?? 1)));
}, SLOW);

afterAll(async () => {
  if (run && run.exitCode === null) run.kill('SIGKILL');
  await store?.close();
});

describe('cordon approvals approve|reject --local, while cordon run waits', () => {
  let containment = '';

  it(
    'lists the pending request the run prints, and the run names its server in a file only its owner reads',
    async () => {
      [containment = ''] = await waitingRequests(1);
      expect(await pending()).toEqual([
        expect.objectContaining({ requestId: containment, status: 'pending', action: 'isolate-instance' }),
      ]);
      expect(statSync(serverFile()).mode & 0o777).toBe(0o600);
      const file = readServerFile();
      expect(file.principal).toBe(OPERATOR);
      expect(file.secret).toMatch(/^[0-9a-f]{64}$/);
      expect(file.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    },
    SLOW,
  );

  it(
    'refuses a missing or wrong secret (401, 403) and decides nothing',
    async () => {
      const file = readServerFile();
      const url = `${file.url}/console/approvals/${containment}`;
      const body = JSON.stringify({ decision: 'approve', reason: 'test' });
      const none = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json' },
      });
      expect(none.status).toBe(401);
      const wrong = await fetch(url, {
        method: 'POST',
        body,
        headers: { 'content-type': 'application/json', authorization: `Bearer ${'0'.repeat(64)}` },
      });
      expect(wrong.status).toBe(403);

      const original = readFileSync(serverFile(), 'utf8');
      writeFileSync(serverFile(), JSON.stringify({ ...file, secret: 'f'.repeat(64) }), { mode: 0o600 });
      try {
        const ran = await approvals('approve', containment, '--reason', 'test');
        expectOneLine(ran, /^cordon: .*refused the secret in .*approval-server\.json: nothing was decided/);
      } finally {
        writeFileSync(serverFile(), original, { mode: 0o600 });
      }
      expect(await pending()).toEqual([
        expect.objectContaining({ requestId: containment, status: 'pending' }),
      ]);
      expect(stdout).not.toMatch(/Approve containment: approved/);
    },
    SLOW,
  );

  it(
    'approves as the operator, and the waiting run goes past the gate',
    async () => {
      const ran = await approvals('approve', containment, '--reason', 'test');
      expect([ran.status, ran.stderr]).toEqual([0, '']);
      expect(decidedIn(ran)).toMatchObject({
        request: {
          requestId: containment,
          status: 'approved',
          decidedBy: OPERATOR,
          decidedVia: 'console',
          reason: 'test',
        },
        message: `approved as ${OPERATOR}`,
      });
      await printed(/Approve containment: approved/);
      await printed(/^\s+\+[\d.]+s {2}Isolate$/m);
      await printed(/^\s+\+[\d.]+s {2}Mark contained$/m);
    },
    SLOW,
  );

  it(
    'refuses a reject without --reason, rejects with one, and the run ends and removes its file',
    async () => {
      await printed(/Approve eradication$/m);
      const [, eradication] = await waitingRequests(2);
      expect(eradication).toBeDefined();
      const id = eradication ?? '';
      expect(id).not.toBe(containment);
      const bare = await approvals('reject', id);
      expect(bare.status).toBe(1);
      expect(bare.stderr).toMatch(/--reason/);
      const empty = await approvals('reject', id, '--reason', ' ');
      expectOneLine(empty, /^cordon: reject is invalid: reason: must not be empty/);
      expect(await pending()).toEqual([expect.objectContaining({ requestId: id, status: 'pending' })]);

      const ran = await approvals('reject', id, '--reason', 'test');
      expect([ran.status, ran.stderr]).toEqual([0, '']);
      expect(decidedIn(ran)).toMatchObject({
        request: {
          requestId: id,
          status: 'rejected',
          decidedBy: OPERATOR,
          decidedVia: 'console',
          reason: 'test',
        },
      });
      expect(await exited).toBe(0);
      expect(stdout).toMatch(/Approve eradication: rejected/);
      expect(stdout).toMatch(/execution SUCCEEDED/);
      expect(existsSync(serverFile())).toBe(false);
    },
    SLOW,
  );
});

describe('cordon approvals approve --local, with no cordon run waiting', () => {
  it('says so on one line and exits 1: no file, or a server that does not answer', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'cordon-approvals-none-'));
    const none = await runCordon([
      'approvals',
      'approve',
      'r-1',
      '--local',
      '--state-dir',
      empty,
      '--reason',
      'test',
    ]);
    expectOneLine(none, /^cordon: no cordon run is waiting in .*: there is no approval-server\.json/);

    // A file a run left behind, naming a port where nothing listens any more.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const address = probe.address();
        probe.close(() => resolve(typeof address === 'object' && address ? address.port : 9));
      });
    });
    writeFileSync(
      join(empty, 'approval-server.json'),
      JSON.stringify({
        url: `http://127.0.0.1:${port}`,
        secret: 'a'.repeat(64),
        principal: OPERATOR,
        pid: 1,
      }),
      { mode: 0o600 },
    );
    const stale = await runCordon([
      'approvals',
      'reject',
      'r-1',
      '--local',
      '--state-dir',
      empty,
      '--reason',
      'x',
    ]);
    expectOneLine(
      stale,
      /^cordon: no cordon run is waiting in .*: the approval server at http:\/\/127\.0\.0\.1:\d+ that approval-server\.json names does not answer \(ECONNREFUSED\)/,
    );
  });
});
