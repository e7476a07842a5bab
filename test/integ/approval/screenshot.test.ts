import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestApproval } from '../../../functions/approval/request/core.ts';
import { type ApprovalServer, serveDecisions } from '../../../local/approval-server.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { allItems, capture, fakeToken, openIncident, requestEvent, storeOf } from './helpers.ts';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';

let table: TestTable;
let server: ApprovalServer;
let link: string;

/**
 * Runs Debian's chromium headless with scripts disabled and a profile of its own; returns stdout.
 *
 * Scripts are disabled by the profile's content setting (`javascript: 2`, "block"), not by
 * `--blink-settings=scriptEnabled=false`: measured on Chromium 150, that flag makes headless write
 * neither the screenshot nor the DOM (it exits 0 with no output). A control test below proves the
 * setting blocks scripts.
 */
async function chromium(extra: string[], url: string): Promise<string> {
  const profile = mkdtempSync(join(tmpdir(), 'cordon-chromium-'));
  mkdirSync(join(profile, 'Default'));
  writeFileSync(
    join(profile, 'Default', 'Preferences'),
    JSON.stringify({ profile: { default_content_setting_values: { javascript: 2 } } }),
  );
  const { stdout } = await run(
    CHROMIUM,
    [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
      ...extra,
      url,
    ],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: install Debian's chromium package (apt-get install -y chromium)`,
    );
  }
  table = await createTestTable('approval-shot');
  const recorder = table.recorder();
  const store = storeOf(table);
  const cap = capture();
  server = await serveDecisions({ store, recorder, sfn: cap.sfn });
  const incident = await openIncident(recorder);
  await requestApproval(
    {
      store,
      recorder,
      ses: cap.ses,
      approvers: ['alice@example.com'],
      sender: 'cordon@example.com',
      baseUrl: server.url,
    },
    requestEvent(incident.id, fakeToken()),
  );
  const found = cap.outbox.emails[0]?.links.find((l) => l.includes('/approvals/'));
  if (!found) throw new Error('no link was emailed');
  link = found;
});

afterAll(async () => {
  await server?.close();
  await table?.drop();
});

describe('the decision page in headless Chromium, scripts disabled', () => {
  it('runs no script (control: a page whose script would change its text)', async () => {
    const page = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end('<p id="x">static</p><script>document.getElementById("x").textContent="scripted"</script>');
    });
    await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
    const address = page.address();
    const port = address && typeof address === 'object' ? address.port : 0;
    try {
      const dom = await chromium(['--dump-dom'], `http://127.0.0.1:${port}/`);
      expect(dom).toContain('<p id="x">static</p>');
    } finally {
      page.closeAllConnections();
      page.close();
    }
  });

  it('renders to a non-trivial screenshot and decides nothing', async () => {
    const before = await allItems(table);
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-shot-')), 'decision.png');
    await chromium([`--screenshot=${file}`, '--window-size=1000,900'], link);
    expect(existsSync(file)).toBe(true);
    const png = readFileSync(file);
    expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
    // IHDR: width and height, big-endian, at bytes 16-23.
    expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([1000, 900]);
    expect(statSync(file).size).toBeGreaterThan(10_000);
    expect(await allItems(table)).toEqual(before);
  });

  it('has the two buttons, the reason field and the summary in its DOM', async () => {
    const dom = await chromium(['--dump-dom'], link);
    expect(dom).toMatch(/<form method="post">/);
    expect(dom).toMatch(
      /<button class="approve" type="submit" name="decision" value="approve">Approve<\/button>/,
    );
    expect(dom).toMatch(
      /<button class="reject" type="submit" name="decision" value="reject">Reject<\/button>/,
    );
    expect(dom).toContain('name="reason"');
    expect(dom).toContain('<table id="summary">');
    expect(dom).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    expect(dom).toContain('Terminate the instance i-0abc1234def567890.');
    expect(dom).toContain('Isolated the instance');
    expect(dom).not.toContain('<script');
  });
});
