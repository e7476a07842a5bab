/**
 * The decision page as the person deciding sees it, in Debian's headless Chromium with scripts off, at a
 * phone's 390 px and a desktop's 1280 px: screenshots kept under the system's temporary folder (their
 * paths are printed), checked from the PNG itself.
 *
 * "No sideways scroll" is checked without a script, from pixels: the page has a 1rem margin of plain
 * background on the right, so in a screenshot of the whole page at 390 px (scrollbars hidden) the
 * rightmost columns are background in every row, unless something is wider than the window and runs off
 * its edge. A control page that does overflow proves the check fails when it should.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { requestApproval } from '../../../functions/approval/request/core.ts';
import { type ApprovalServer, serveDecisions } from '../../../local/approval-server.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { allItems, capture, fakeToken, requestEvent, storeOf } from './helpers.ts';

const run = promisify(execFile);
const CHROMIUM = '/usr/bin/chromium';
/** Where this run's screenshots are kept. */
const SHOTS = mkdtempSync(join(tmpdir(), 'cordon-screenshots-'));

/** The worst case a phone must show: ids and ARNs with no place to break, long tags, a long domain. */
const LONG_ARN =
  'arn:aws:backup:us-east-1:123456789012:recovery-point:continuous:i-0abc1234def567890-5f3c0e7a-8b1d-4c2e-9a6f-0123456789ab';
const LONG_DOMAIN =
  'x7f3k2m9q1w8e4r6t0y5u3i7o2p9a1s4d6f8g0h2j5k7l9z1x3c5v7b9n0m2q4w6e8.c2.malicious-domain.example';
const LONG_NAME = 'payments-web-production-eu-west-1-autoscaling-group-member-0123456789abcdef';

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
      '--hide-scrollbars',
      '--force-device-scale-factor=1',
      `--user-data-dir=${profile}`,
      ...extra,
      url,
    ],
    { timeout: 60_000, maxBuffer: 16 * 1024 * 1024 },
  );
  return stdout;
}

/** A decoded PNG: 8-bit RGB or RGBA, not interlaced (what Chromium writes). */
interface Image {
  readonly width: number;
  readonly height: number;
  /** RGB of a pixel. */
  pixel(x: number, y: number): [number, number, number];
}

function paeth(a: number, b: number, c: number): number {
  const p = a + b - c;
  const pa = Math.abs(p - a);
  const pb = Math.abs(p - b);
  const pc = Math.abs(p - c);
  return pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
}

/** Decodes a PNG file (https://www.w3.org/TR/png/: chunks, zlib-compressed IDAT, per-row filters). */
function decodePng(file: string): Image {
  const png = readFileSync(file);
  if (png.subarray(0, 8).toString('hex') !== '89504e470d0a1a0a') throw new Error(`${file} is not a PNG`);
  let width = 0;
  let height = 0;
  let channels = 0;
  const data: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const length = png.readUInt32BE(at);
    const type = png.toString('ascii', at + 4, at + 8);
    const body = png.subarray(at + 8, at + 8 + length);
    if (type === 'IHDR') {
      width = body.readUInt32BE(0);
      height = body.readUInt32BE(4);
      const [depth, color, , , interlace] = [body[8], body[9], body[10], body[11], body[12]];
      if (depth !== 8 || (color !== 2 && color !== 6) || interlace !== 0)
        throw new Error(`unsupported PNG: depth ${depth}, color type ${color}, interlace ${interlace}`);
      channels = color === 6 ? 4 : 3;
    } else if (type === 'IDAT') data.push(body);
    at += 12 + length;
  }
  const raw = inflateSync(Buffer.concat(data));
  const stride = width * channels;
  const pixels = Buffer.alloc(stride * height);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] ?? 0;
    const row = y * (stride + 1) + 1;
    for (let i = 0; i < stride; i++) {
      const x = raw[row + i] ?? 0;
      const a = i >= channels ? (pixels[y * stride + i - channels] ?? 0) : 0;
      const b = y > 0 ? (pixels[(y - 1) * stride + i] ?? 0) : 0;
      const c = i >= channels && y > 0 ? (pixels[(y - 1) * stride + i - channels] ?? 0) : 0;
      const value = [x, x + a, x + b, x + ((a + b) >> 1), x + paeth(a, b, c)][filter];
      if (value === undefined) throw new Error(`unknown PNG filter ${filter}`);
      pixels[y * stride + i] = value & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => {
      const at = y * stride + x * channels;
      return [pixels[at] ?? 0, pixels[at + 1] ?? 0, pixels[at + 2] ?? 0];
    },
  };
}

/** The rows where anything but white is drawn in the rightmost `columns` columns: content off the edge. */
function rowsTouchingRightEdge(image: Image, columns = 6): number[] {
  const rows: number[] = [];
  for (let y = 0; y < image.height; y++) {
    for (let x = image.width - columns; x < image.width; x++) {
      const [r, g, b] = image.pixel(x, y);
      if (r < 250 || g < 250 || b < 250) {
        rows.push(y);
        break;
      }
    }
  }
  return rows;
}

/** The rows where anything but white is drawn anywhere: how tall the drawn page is. */
function lastDrawnRow(image: Image): number {
  for (let y = image.height - 1; y >= 0; y--) {
    for (let x = 0; x < image.width; x++) {
      const [r, g, b] = image.pixel(x, y);
      if (r < 250 || g < 250 || b < 250) return y;
    }
  }
  return -1;
}

/** Takes a screenshot of `url` at `width` x `height` into the kept folder; returns its path. */
async function screenshot(url: string, name: string, width: number, height: number): Promise<string> {
  const file = join(SHOTS, `${name}-${width}x${height}.png`);
  await chromium([`--screenshot=${file}`, `--window-size=${width},${height}`], url);
  expect(existsSync(file), file).toBe(true);
  return file;
}

/** Serves one fixed HTML page on loopback, for the controls. */
async function servePage(html: string): Promise<{ url: string; close: () => void }> {
  const page = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end(html);
  });
  await new Promise<void>((resolve) => page.listen(0, '127.0.0.1', resolve));
  const address = page.address();
  const port = address && typeof address === 'object' ? address.port : 0;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => {
      page.closeAllConnections();
      page.close();
    },
  };
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
  const incident = await recorder.openIncident({
    title: `[SAMPLE] EC2 instance i-0abc1234def567890 is querying ${LONG_DOMAIN}`,
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '123456789012',
    region: 'us-east-1',
    resources: [
      {
        type: 'instance',
        id: 'i-0abc1234def567890',
        details: {
          tags: { Name: LONG_NAME, Owner: 'team-payments-platform-oncall-rotation@example.com' },
          remoteIps: ['198.51.100.7', '2001:db8:85a3:0000:0000:8a2e:0370:7334'],
          domain: LONG_DOMAIN,
          actionType: 'DNS_REQUEST',
          count: 14,
        },
      },
    ],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-01T02:30:00.000Z',
    rehearsal: 'sample',
  });
  await requestApproval(
    {
      store,
      recorder,
      ses: cap.ses,
      approvers: ['alice.responder.on.call.for.the.payments.platform@security.example.com'],
      sender: 'cordon@example.com',
      baseUrl: server.url,
    },
    requestEvent(incident.id, fakeToken(), {
      action: 'restore-instance',
      phase: 'recovery',
      gate: 'Approve recovery',
      summary: {
        happened: `Backdoor:EC2/C&CActivity.B!DNS on instance i-0abc1234def567890 (${LONG_DOMAIN})`,
        done: 'The instance is contained (and eradicated, if that was approved); its evidence is kept.',
        asks: 'Restore the instance from the newest backup taken before the incident was first seen.',
      },
      recoveryPoint: { arn: LONG_ARN, createdAt: '2026-10-31T22:00:00.000Z', vaultName: 'Default' },
      reasons: [`the instance carries a protected tag: ${LONG_NAME}`],
    }),
  );
  const found = cap.outbox.emails[0]?.links.find((l) => l.includes('/approvals/'));
  if (!found) throw new Error('no link was emailed');
  link = found;
  console.info(`decision page screenshots: ${SHOTS}`);
}, 120_000);

afterAll(async () => {
  await server?.close();
  await table?.drop();
});

describe('the decision page in headless Chromium, scripts disabled', () => {
  it('runs no script (control: a page whose script would change its text)', async () => {
    const page = await servePage(
      '<p id="x">static</p><script>document.getElementById("x").textContent="scripted"</script>',
    );
    try {
      const dom = await chromium(['--dump-dom'], page.url);
      expect(dom).toContain('<p id="x">static</p>');
    } finally {
      page.close();
    }
  });

  it('sees content that runs off the right edge (control: one page that overflows, one that wraps)', async () => {
    const body = (style: string) =>
      `<!doctype html><meta name="viewport" content="width=device-width, initial-scale=1"><body style="margin:0;padding:1rem;background:#fff;font:16px sans-serif"><p style="${style}">${LONG_ARN}</p></body>`;
    const overflowing = await servePage(body('white-space:nowrap'));
    const wrapping = await servePage(body('overflow-wrap:anywhere'));
    try {
      const bad = decodePng(await screenshot(overflowing.url, 'control-overflow', 390, 600));
      expect(rowsTouchingRightEdge(bad).length).toBeGreaterThan(5);
      const good = decodePng(await screenshot(wrapping.url, 'control-wrapped', 390, 600));
      expect(lastDrawnRow(good)).toBeGreaterThan(40);
      expect(rowsTouchingRightEdge(good)).toEqual([]);
    } finally {
      overflowing.close();
      wrapping.close();
    }
  });

  it('needs no sideways scroll at 390 px, with the longest ARN, domain and tags', async () => {
    const before = await allItems(table);
    // Tall enough for the whole page: what is below the window is not drawn.
    const shot = decodePng(await screenshot(link, 'decision-full', 390, 3200));
    expect([shot.width, shot.height]).toEqual([390, 3200]);
    const drawn = lastDrawnRow(shot);
    expect(drawn).toBeGreaterThan(900);
    // The whole page fits in the window (something is drawn, then white below it): all of it was checked.
    expect(drawn).toBeLessThan(3200 - 50);
    expect(rowsTouchingRightEdge(shot)).toEqual([]);
    expect(await allItems(table)).toEqual(before);
  });

  it('renders at 390 and 1280 px wide into screenshots that are kept', async () => {
    for (const [width, height] of [
      [390, 900],
      [1280, 900],
    ] as const) {
      const file = await screenshot(link, 'decision', width, height);
      const png = readFileSync(file);
      expect(png.subarray(0, 8).toString('hex')).toBe('89504e470d0a1a0a');
      // IHDR: width and height, big-endian, at bytes 16-23.
      expect([png.readUInt32BE(16), png.readUInt32BE(20)]).toEqual([width, height]);
      expect(statSync(file).size).toBeGreaterThan(10_000);
      expect(rowsTouchingRightEdge(decodePng(file))).toEqual([]);
    }
  });

  it('lays out the banner, the deadline, what it does, the evidence and the form, with no script', async () => {
    const dom = await chromium(['--dump-dom', '--window-size=390,900'], link);
    expect(dom).toMatch(/<form method="post">/);
    expect(dom).toMatch(
      /<button class="approve" type="submit" name="decision" value="approve" formnovalidate="">Approve<\/button>/,
    );
    expect(dom).toMatch(
      /<button class="reject" type="submit" name="decision" value="reject">Reject<\/button>/,
    );
    expect(dom).toMatch(/<textarea id="reason" name="reason" maxlength="1000" required=""><\/textarea>/);
    expect(dom).toContain('<table id="summary">');
    expect(dom).toContain('Backdoor:EC2/C&amp;CActivity.B!DNS');
    expect(dom).toContain('Restore the instance from the newest backup');
    expect(dom).toMatch(/<p class="banner" id="rehearsal">Sample finding:/);
    expect(dom).toMatch(
      /<p class="deadline" id="deadline">Decide by <time datetime="[^"]+">[^<]+ UTC<\/time> \(in \d+ minutes\)/,
    );
    expect(dom).toContain(`<td>${LONG_ARN}</td>`);
    expect(dom).toContain('<td>2026-10-31 22:00:00 UTC</td>');
    expect(dom).toContain(`<td>${LONG_DOMAIN}</td>`);
    expect(dom).toContain(`<td>${LONG_NAME}</td>`);
    expect(dom).toContain('Yes. Terminate the restored instance');
    // The banner, the question and the deadline come first, in that order, the form after the evidence.
    const order = [
      'id="rehearsal"',
      '<h1>',
      'id="deadline"',
      'id="action"',
      'id="summary"',
      'id="evidence"',
      '<form',
    ];
    const at = order.map((part) => dom.indexOf(part));
    expect(at.every((i) => i >= 0)).toBe(true);
    expect([...at].sort((a, b) => a - b)).toEqual(at);
    expect(dom).not.toContain('<script');
  });
});
