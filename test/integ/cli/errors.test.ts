/** Bad input and an unreachable record get a clear message and exit status 1, from the real `cordon`. */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { cordon, on, seedRecord } from './helpers.ts';

let t: TestTable;
beforeAll(async () => {
  t = await createTestTable('cli-errors');
  await seedRecord(t);
});
afterAll(async () => {
  await t.drop();
});

describe('bad input', () => {
  it('names an unknown incident for show, report and verify', async () => {
    for (const command of [['incidents', 'show'], ['report'], ['verify']]) {
      const ran = await cordon([...command, 'inc-9999', ...on(t)]);
      expect(ran.status, command.join(' ')).toBe(1);
      expect(ran.err, command.join(' ')).toMatch(/cordon: incident inc-9999 does not exist/);
    }
  });

  it('names an invalid date and the flag it came from', async () => {
    const ran = await cordon(['incidents', 'list', ...on(t), '--since', '2026-02-30']);
    expect(ran.status).toBe(1);
    expect(ran.err).toMatch(/--since is invalid: must be a date .* got "2026-02-30"/);
    const stats = await cordon(['stats', ...on(t), '--since', 'last week']);
    expect(stats.status).toBe(1);
    expect(stats.err).toMatch(/--since is invalid/);
  });

  it('names a bad status, severity, account, limit and output format', async () => {
    for (const [args, message] of [
      [
        ['--status', 'pending'],
        /--status is invalid: must be one of open, contained, recovered, failed, closed/,
      ],
      [['--min-severity', 'high'], /--min-severity is invalid/],
      [['--account', '42'], /--account is invalid: must be a 12-digit/],
      [['--limit', '0'], /--limit is invalid/],
      [['--output', 'yaml'], /argument 'yaml' is invalid/],
    ] as const) {
      const ran = await cordon(['incidents', 'list', ...on(t), ...args]);
      expect(ran.status, args.join(' ')).toBe(1);
      expect(ran.err, args.join(' ')).toMatch(message);
    }
  });

  it('says that a table does not exist, naming it', async () => {
    const ran = await cordon(['incidents', 'list', '--endpoint', t.endpoint, '--table', 'no-such-table']);
    expect(ran.status).toBe(1);
    expect(ran.err).toMatch(
      /cordon: table no-such-table .* the table \(or one of its indexes\) does not exist/,
    );
  });

  it('says that an endpoint does not answer', async () => {
    const ran = await cordon(['incidents', 'list', '--endpoint', 'http://127.0.0.1:9', '--table', 'x']);
    expect(ran.status).toBe(1);
    expect(ran.err).toMatch(/the endpoint did not answer \(ECONNREFUSED\)/);
  });
});

describe('no credentials', () => {
  it('exits with status 1 and says how to give credentials, reaching nothing beyond loopback', () => {
    const home = mkdtempSync(join(tmpdir(), 'cordon-home-'));
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      AWS_CONFIG_FILE: join(home, 'none-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(home, 'none-credentials'),
      AWS_EC2_METADATA_DISABLED: 'true',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    };
    const bin = fileURLToPath(new URL('../../../bin/cordon.js', import.meta.url));
    const ran = spawnSync(process.execPath, [bin, 'incidents', 'list', ...on(t)], {
      env,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(
      /cordon: table cli-errors-\w+ in us-east-1 at http:\/\/127\.0\.0\.1:\d+: no AWS credentials found; pass --profile/,
    );
    expect(ran.stdout).toBe('');
  });
});
