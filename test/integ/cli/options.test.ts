/**
 * The real `cordon` binary, run as a person at a terminal would: one set of options on the approvals
 * commands, one line (never a stack trace or a raw SDK error) for whatever goes wrong, `--version`, a read
 * command that refuses a state folder that does not exist, and `triage` answering in JSON. Nothing here
 * reaches beyond loopback: every AWS endpoint is set to 127.0.0.1.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { requestApproval } from '../../../functions/approval/request/core.ts';
import { type BinRun, runCordon } from '../../support/bin.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { capture, fakeToken, openIncident, requestEvent, storeOf } from '../approval/helpers.ts';

const FIXTURES = fileURLToPath(new URL('../../fixtures/events/', import.meta.url));
const VERSION = (
  JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

const home = mkdtempSync(join(tmpdir(), 'cordon-options-'));
const emptyConfig = join(home, 'aws-config');
const emptyCredentials = join(home, 'aws-credentials');
writeFileSync(emptyConfig, '');
writeFileSync(emptyCredentials, '');

/** An environment with nothing to find credentials in, and every endpoint on loopback (port 9: nothing). */
const NO_CREDENTIALS = {
  AWS_ACCESS_KEY_ID: undefined,
  AWS_SECRET_ACCESS_KEY: undefined,
  AWS_SESSION_TOKEN: undefined,
  AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
  AWS_CONTAINER_CREDENTIALS_FULL_URI: undefined,
  AWS_WEB_IDENTITY_TOKEN_FILE: undefined,
  AWS_PROFILE: 'cordon-no-such-profile',
  AWS_CONFIG_FILE: emptyConfig,
  AWS_SHARED_CREDENTIALS_FILE: emptyCredentials,
  AWS_EC2_METADATA_DISABLED: 'true',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  CORDON_DEBUG: undefined,
  CORDON_STATE_DIR: undefined,
  HOME: home,
} as const;
const NO_REGION = { ...NO_CREDENTIALS, AWS_REGION: undefined, AWS_DEFAULT_REGION: undefined } as const;

/** Asserts the command failed with one line on stderr, and no stack frame or Lambda trace anywhere. */
function expectOneLine(ran: BinRun, what: string, message: RegExp): void {
  const context = `${what}\n--- stdout\n${ran.stdout}\n--- stderr\n${ran.stderr}`;
  expect([1, 2], context).toContain(ran.status);
  const lines = ran.stderr.trimEnd().split('\n');
  expect(lines, context).toHaveLength(1);
  expect(lines[0], context).toMatch(/^cordon: /);
  expect(lines[0], context).toMatch(message);
  for (const text of [ran.stdout, ran.stderr]) {
    expect(text, context).not.toMatch(/^\s+at /m);
    expect(text, context).not.toContain('"trace"');
    expect(text, context).not.toMatch(/Node\.js v\d/);
  }
}

/**
 * A state folder whose store is the test run's DynamoDB Local: its `store.json` names that endpoint, which
 * `cordon --local` reuses instead of starting one of its own.
 */
function stateFolder(name: string): string {
  const dir = join(home, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'store.json'), JSON.stringify({ endpoint: inject('dynamoEndpoint'), pid: 0 }));
  return dir;
}

describe('cordon --version', () => {
  it('prints the version in package.json and exits 0', async () => {
    for (const flag of ['--version', '-V']) {
      const ran = await runCordon([flag]);
      expect([ran.status, ran.stdout, ran.stderr]).toEqual([0, `${VERSION}\n`, '']);
    }
  });
});

describe('cordon --help', () => {
  it('explains every command, and says how to see a stack and what the exit statuses mean', async () => {
    const top = await runCordon(['--help']);
    expect(top.status).toBe(0);
    expect(top.stdout).toMatch(/CORDON_DEBUG=1 prints the stack/);
    expect(top.stdout).toMatch(/Exit status: 0 done, 1 an error/);
    const commands = [...top.stdout.matchAll(/^ {2}([a-z]+) /gm)]
      .map((m) => m[1] ?? '')
      .filter((name) => name !== 'help' && name !== 'npm' && name !== 'cordon');
    expect(commands).toEqual(
      expect.arrayContaining(['triage', 'run', 'approvals', 'incidents', 'verify', 'report']),
    );
    for (const name of commands) {
      const ran = await runCordon([name, '--help']);
      expect(ran.status, name).toBe(0);
      const [usage, , description] = ran.stdout.split('\n');
      expect(usage, name).toMatch(new RegExp(`^Usage: cordon ${name} `));
      // A sentence that says what the command does, not just its name.
      expect(description?.split(' ').length ?? 0, name).toBeGreaterThan(4);
    }
  });
});

describe('one line, never a stack trace', () => {
  it('says there is no region, for the approvals and the audit commands alike', async () => {
    for (const args of [['approvals', 'list'], ['incidents', 'list'], ['stats']]) {
      const ran = await runCordon(args, { env: NO_REGION, cwd: home });
      expectOneLine(ran, args.join(' '), /region/i);
      expect(ran.stderr).toMatch(/--region|AWS_REGION/);
    }
  });

  it('says there are no credentials, with the SDK error named and how to give them', async () => {
    const env = { ...NO_CREDENTIALS, AWS_REGION: 'us-east-1' };
    const list = await runCordon(['approvals', 'list'], { env, cwd: home });
    expectOneLine(
      list,
      'approvals list',
      /table cordon-audit in us-east-1 .*no AWS credentials found; pass --profile/,
    );
    const incidents = await runCordon(['incidents', 'list'], { env, cwd: home });
    expectOneLine(incidents, 'incidents list', /no AWS credentials found; pass --profile/);
  });

  it('prints the stack only when CORDON_DEBUG=1 asks for it', async () => {
    const ran = await runCordon(['approvals', 'list'], {
      env: { ...NO_REGION, CORDON_DEBUG: '1' },
      cwd: home,
    });
    expect(ran.status).toBe(1);
    expect(ran.stderr.split('\n')[0]).toMatch(/^cordon: --region is invalid: no region/);
    expect(ran.stderr).toMatch(/^\s+at /m);
  });

  it('says run --aws has no region, before anything starts', async () => {
    // A folder with no store: had the run started one, DynamoDB Local's data would be in it.
    const dir = join(home, 'run-aws-no-store');
    const ran = await runCordon(
      [
        'run',
        '--aws',
        '--playbook',
        'ec2-compromise',
        '--event',
        join(FIXTURES, 'guardduty/ec2-backdoor-c2-dns.eventbridge.json'),
        '--state-dir',
        dir,
      ],
      { env: NO_REGION, cwd: home },
    );
    expectOneLine(ran, 'run --aws', /^cordon: --aws is invalid: no AWS region: set AWS_REGION/);
    // No store, no stack, no engine started: it used to fail only after the whole startup (~18 s).
    expect(ran.stdout).toBe('');
    expect(existsSync(join(dir, 'store'))).toBe(false);
  });

  it('names a flag that is not a URL', async () => {
    const env = { AWS_ENDPOINT_URL: 'http://127.0.0.1:9' };
    const list = await runCordon(['approvals', 'list', '--endpoint', 'not-a-url'], { env, cwd: home });
    expectOneLine(list, 'approvals list --endpoint', /--endpoint is invalid: must be an http\(s\) URL/);
    const approve = await runCordon(
      ['approvals', 'approve', 'req-1', '--api-url', 'not-a-url', '--endpoint', 'http://127.0.0.1:9'],
      {
        env,
        cwd: home,
      },
    );
    expectOneLine(approve, 'approvals approve --api-url', /--api-url is invalid: must be an http\(s\) URL/);
  });

  it('says that a state folder cannot be made, for a command that writes one', async () => {
    const ran = await runCordon(
      [
        'run',
        '--playbook',
        'ec2-compromise',
        '--event',
        join(FIXTURES, 'guardduty/ec2-backdoor-c2-dns.eventbridge.json'),
        '--state-dir',
        '/dev/null/x',
      ],
      { cwd: home },
    );
    expectOneLine(
      ran,
      'run --state-dir /dev/null/x',
      /cannot make the state folder \/dev\/null\/x \(ENOTDIR\)/,
    );
  });

  it("prints a failed task's Lambda error as its name and message, without its trace", async () => {
    const dir = stateFolder('run-failed');
    const seed = join(home, 'empty-account.json');
    writeFileSync(seed, '{}\n');
    const ran = await runCordon(
      [
        'run',
        '--playbook',
        'ec2-compromise',
        '--mode',
        'automatic',
        '--event',
        join(FIXTURES, 'guardduty/ec2-backdoor-c2-dns.eventbridge.json'),
        '--account',
        seed,
        '--state-dir',
        dir,
      ],
      { cwd: home, timeoutMs: 180_000 },
    );
    // The account holds no instance: isolating it fails with the action's named error.
    expect(ran.stdout).toMatch(/Failed: ResourceNotFoundError \(instance i-99999999 does not exist\)/);
    expect(ran.stdout).not.toContain('"trace"');
    expect(ran.stdout).not.toContain('errorType');
    expect(`${ran.stdout}${ran.stderr}`).not.toMatch(/^\s+at /m);
  });
});

describe('a read command on a state folder that does not exist', () => {
  it('says so, exits 1 and makes no folder', async () => {
    const missing = join(home, 'no-such-state');
    for (const args of [
      ['incidents', 'list'],
      ['incidents', 'show', 'inc-1'],
      ['steps', '--incident', 'inc-1'],
      ['verify', '--all'],
      ['report', 'inc-1'],
      ['stats'],
      ['approvals', 'list'],
    ]) {
      const ran = await runCordon([...args, '--local', '--state-dir', missing], { cwd: home });
      expectOneLine(
        ran,
        args.join(' '),
        /no state folder at .*no-such-state: run `npm run demo` or `cordon run` first, or pass --state-dir/,
      );
      expect(existsSync(missing), args.join(' ')).toBe(false);
    }
    const devNull = await runCordon(['incidents', 'list', '--local', '--state-dir', '/dev/null/x'], {
      cwd: home,
    });
    expectOneLine(devNull, 'incidents list --state-dir /dev/null/x', /no state folder at \/dev\/null\/x/);
  });
});

describe('cordon approvals', () => {
  let t: TestTable;
  let requestId: string;
  let token: string;
  beforeAll(async () => {
    t = await createTestTable('cli-options');
    const recorder = t.recorder();
    const incident = await openIncident(recorder);
    token = fakeToken();
    const cap = capture();
    const result = await requestApproval(
      {
        store: storeOf(t),
        recorder,
        ses: cap.ses,
        approvers: ['alice@example.com'],
        sender: 'cordon@example.com',
        baseUrl: 'https://x.example.com',
      },
      requestEvent(incident.id, token),
    );
    requestId = result.requestId;
  });
  afterAll(async () => {
    await t?.drop();
  });

  it('take the options of the other console commands', async () => {
    for (const command of ['list', 'approve', 'reject']) {
      const ran = await runCordon(['approvals', command, '--help']);
      expect(ran.status, command).toBe(0);
      for (const flag of [
        '--local',
        '--state-dir',
        '--table',
        '--region',
        '--profile',
        '--endpoint',
        '--output',
      ]) {
        expect(ran.stdout, `${command} ${flag}`).toContain(flag);
      }
    }
  });

  it('list the local store of a state folder, as JSON and CSV, without task tokens', async () => {
    const dir = stateFolder('approvals');
    const json = await runCordon(
      ['approvals', 'list', '--local', '--state-dir', dir, '--table', t.tableName, '--output', 'json'],
      {
        cwd: home,
      },
    );
    expect([json.status, json.stderr]).toEqual([0, '']);
    const printed = JSON.parse(json.stdout) as {
      approvals: { requestId: string; status: string; action: string }[];
    };
    expect(printed.approvals).toEqual([
      expect.objectContaining({ requestId, status: 'pending', action: 'terminate-instance' }),
    ]);
    expect(json.stdout).not.toContain(token);
    const csv = await runCordon(
      ['approvals', 'list', '--local', '--state-dir', dir, '--table', t.tableName, '--output', 'csv'],
      {
        cwd: home,
      },
    );
    expect(csv.status).toBe(0);
    const [header, row, ...rest] = csv.stdout.trimEnd().split('\n');
    expect(header).toBe('request,status,action,incident,until / decided,approvers');
    expect(row).toMatch(new RegExp(`^${requestId},pending,terminate-instance on i-0abc1234def567890,`));
    expect(rest).toEqual([]);
  });

  it('read an AWS endpoint with --endpoint and --region, as the other commands do', async () => {
    const ran = await runCordon(
      [
        'approvals',
        'list',
        '--endpoint',
        t.endpoint,
        '--region',
        'us-east-1',
        '--table',
        t.tableName,
        '--status',
        'pending',
      ],
      { cwd: home },
    );
    expect(ran.status, ran.stderr).toBe(0);
    expect(
      (JSON.parse(ran.stdout) as { approvals: { requestId: string }[] }).approvals.map((r) => r.requestId),
    ).toEqual([requestId]);
  });

  it('refuse --local with --region, and a local decision with no cordon run waiting, on one line', async () => {
    const dir = stateFolder('approvals-refused');
    const clash = await runCordon(
      ['approvals', 'list', '--local', '--state-dir', dir, '--region', 'us-east-1'],
      { cwd: home },
    );
    expectOneLine(
      clash,
      'approvals list --local --region',
      /--local is invalid: .*cannot be combined with --region/,
    );
    const decide = await runCordon(['approvals', 'approve', requestId, '--local', '--state-dir', dir], {
      cwd: home,
    });
    expectOneLine(
      decide,
      'approvals approve --local',
      /^cordon: no cordon run is waiting in .*approvals-refused: there is no approval-server\.json/,
    );
  });
});

describe('cordon triage', () => {
  const triage = (file: string) => runCordon(['triage', file], { cwd: home });

  it('answers a configuration change with its decision and reason as JSON, and exits 0', async () => {
    const ran = await triage(join(FIXTURES, 'cloudwatch/alarm-configuration-change-composite-create.json'));
    expect([ran.status, ran.stderr]).toEqual([0, '']);
    expect(JSON.parse(ran.stdout)).toEqual({
      decision: 'rejected',
      reason: expect.stringMatching(
        /^an alarm configuration change \(create\), not a state change into ALARM/,
      ),
      findings: [],
      decisions: [],
      rejections: [],
    });
  });

  it('answers an alarm mapped to no playbook with its decision and reason as JSON, and exits 0', async () => {
    const ran = await triage(join(FIXTURES, 'cloudwatch/alarm-state-change-single-metric.json'));
    expect([ran.status, ran.stderr]).toEqual([0, '']);
    expect(JSON.parse(ran.stdout)).toMatchObject({
      decision: 'rejected',
      reason: expect.stringMatching(/alarm ServerCpuTooHigh is not mapped to a playbook in settings\.alarms/),
    });
  });

  it('answers a finding it takes with each decision', async () => {
    const ran = await triage(join(FIXTURES, 'guardduty/ec2-backdoor-c2-dns.eventbridge.json'));
    expect(ran.status).toBe(0);
    const printed = JSON.parse(ran.stdout) as { decision: string; decisions: { playbook: string | null }[] };
    expect(printed.decision).toBe('accepted');
    expect(printed.decisions.map((d) => d.playbook)).toEqual(['ec2-compromise']);
  });

  it('exits 1 with one line only when there is nothing to read: no file, a folder, not JSON', async () => {
    const notJson = join(home, 'not-json.json');
    writeFileSync(notJson, 'this is not an event\n');
    for (const [file, message] of [
      [join(home, 'missing.json'), /cannot read .*missing\.json \(ENOENT\)/],
      [home, /cannot read .* \(EISDIR\)/],
      [notJson, /not-json\.json: not JSON/],
    ] as const) {
      const ran = await triage(file);
      expect(ran.status, file).toBe(1);
      expect(ran.stdout, file).toBe('');
      const lines = ran.stderr.trimEnd().split('\n');
      expect(lines, file).toHaveLength(1);
      expect(lines[0], file).toMatch(message);
    }
  });
});
