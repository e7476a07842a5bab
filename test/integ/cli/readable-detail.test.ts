/**
 * Readable detail (issue 14, item 9), through the real `cordon` binary on records made by running real
 * playbooks with `cordon run` on the local runtime: each row of `incidents show` says what its step changed
 * (the groups per interface, the snapshot ids, the key), a dry run's row lists the calls it would have made,
 * and the report lists each piece of evidence once, states whether the record verified (and says NOT when a
 * step was edited), flags a time to detect measured on a sample finding, and draws an SVG timeline that
 * reads in print.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { keys } from '#shared/audit-table';
import { PHASES, type Step } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { LOCAL_TABLE, openStateStore } from '../../../local/state.ts';
import { runCordon } from '../../support/bin.ts';

const GUARDDUTY = 'test/fixtures/events/guardduty/';

interface Ran {
  readonly dir: string;
  readonly incidentId: string;
}

/** Runs a playbook with `cordon run` in a fresh state folder and returns the folder and the incident. */
async function run(playbook: string, event: string, ...flags: string[]): Promise<Ran> {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-detail-'));
  const ran = await runCordon(
    ['run', '--playbook', playbook, '--event', `${GUARDDUTY}${event}`, '--state-dir', dir, ...flags],
    { timeoutMs: 240_000 },
  );
  expect(ran.status, ran.stderr).toBe(0);
  const incidentId = /Incident ([0-9a-f]{32})/.exec(ran.stdout)?.[1] ?? '';
  expect(incidentId).not.toBe('');
  return { dir, incidentId };
}

async function cordon(r: Ran, ...args: string[]): Promise<string> {
  const ran = await runCordon([...args, '--local', '--state-dir', r.dir], { timeoutMs: 120_000 });
  expect(ran.status, ran.stderr).toBe(0);
  return ran.stdout;
}

async function steps(r: Ran): Promise<Step[]> {
  const out = await cordon(r, 'incidents', 'show', r.incidentId, '--output', 'json');
  return (JSON.parse(out) as { steps: Step[] }).steps;
}

/** The table row of the finished step of `action` (the nth one). */
function row(table: string, action: string, nth = 0): string {
  const rows = table
    .split('\n')
    .filter((l) => new RegExp(`^\\d+\\s+\\S+ \\S+\\s+\\S+\\s+${action}\\s+(?!started)\\S`).test(l));
  const found = rows[nth];
  if (found === undefined) throw new Error(`no finished ${action} row in\n${table}`);
  return found;
}

/** What a step recorded as changed, typed as the test reads it; fails when there is no such step. */
function changesOf<T>(step: Step | undefined): T {
  if (step === undefined) throw new Error('no such step');
  return step.changes as T;
}

function finished(all: readonly Step[], action: string): Step[] {
  return all.filter((s) => s.action === action && s.status !== 'started');
}

let ec2: Ran;
let dry: Ran;
let iam: Ran;
beforeAll(async () => {
  ec2 = await run('ec2-compromise', 'ec2-backdoor-c2-dns.eventbridge.json', '--decision', 'approve');
  dry = await run('ec2-compromise', 'ec2-backdoor-c2-dns.eventbridge.json', '--dry-run');
  iam = await run('iam-credential-compromise', 'iam-tor-ip-caller.eventbridge.json', '--decision', 'approve');
}, 720_000);

describe('cordon incidents show: each row says what its step changed', () => {
  it('names the groups per interface, the snapshot ids and the eradication, as the record has them', async () => {
    const table = await cordon(ec2, 'incidents', 'show', ec2.incidentId, '--output', 'table');
    const record = await steps(ec2);

    // The fixture is a sample finding: its incident is marked so, on the local runtime as deployed.
    expect(table).toContain('SAMPLE: a sample or test finding, nothing real at stake');
    expect(table).toMatch(/^ {2}status {5}contained$/m);
    expect(table).toMatch(/^ {2}assignee {3}nobody$/m);

    // Each isolation stage: the interface's groups before and after, from the step's own record.
    for (const [n, step] of finished(record, 'ec2-isolate').entries()) {
      const change = (
        step.changes as { interfaces: { networkInterfaceId: string; from: string[]; to: string[] }[] }
      ).interfaces[0];
      expect(change).toBeDefined();
      expect(row(table, 'ec2-isolate', n)).toContain(
        `groups ${change?.networkInterfaceId}: ${change?.from.join(',')} → ${change?.to.join(',')}`,
      );
    }
    expect(row(table, 'ec2-isolate', 1)).toMatch(/isolate stage; groups eni-\w+: sg-\w+ → sg-\w+; isolated/);

    const snapshots = changesOf<{
      snapshots: { volumeId: string; snapshotId: string }[];
    }>(finished(record, 'ec2-snapshot')[0]).snapshots;
    expect(snapshots).toHaveLength(2);
    expect(row(table, 'ec2-snapshot')).toContain(
      `snapshots ${snapshots.map((s) => `${s.volumeId} → ${s.snapshotId}`).join(', ')}`,
    );
    expect(row(table, 'ec2-check-snapshots', 1)).toContain(
      `2 of 2 snapshots completed: ${snapshots.map((s) => s.snapshotId).join(', ')}`,
    );
    expect(row(table, 'ec2-protect-evidence')).toMatch(/termination protection on; stop protection on/);
    expect(row(table, 'ec2-eradicate')).toMatch(/stopped i-99999999 \(was running\)/);
    expect(row(table, 'mark-incident')).toContain('status open → contained');
  });

  it("lists the calls a dry run would have made, as the dry run's steps recorded them", async () => {
    const table = await cordon(dry, 'incidents', 'show', dry.incidentId, '--output', 'table');
    const record = await steps(dry);
    const isolate = finished(record, 'ec2-isolate')[1];
    const calls = changesOf<{ calls: string[] }>(isolate).calls;
    expect(calls).toContain('ec2:CreateSecurityGroup cordon-isolation-vpc-default');
    const line = row(table, 'ec2-isolate', 1);
    expect(line).toContain('succeeded (dry run)');
    expect(line).toContain(`would call: ${calls.join(', ')}`);
    expect(line).toMatch(/groups eni-\w+: sg-default → the isolation group/);
    expect(row(table, 'ec2-eradicate')).toContain('would stop i-99999999 (was running)');
    expect(row(table, 'ec2-eradicate')).toContain('would call: ec2:StopInstances i-99999999');
    expect(row(table, 'ec2-snapshot')).toContain('would call: ec2:CreateSnapshots i-99999999');
  });

  it('names the access key an IAM containment deactivated, its deny policy, and the key it deleted', async () => {
    const table = await cordon(iam, 'incidents', 'show', iam.incidentId, '--output', 'table');
    const record = await steps(iam);
    const contain = finished(record, 'iam-contain-user-key')[0];
    const { deactivatedKeys, policyName } = changesOf<{
      deactivatedKeys: string[];
      policyName: string;
    }>(contain);
    expect(deactivatedKeys).toEqual(['GeneratedFindingAccessKeyId']);
    expect(row(table, 'iam-contain-user-key')).toContain(
      `deactivated key GeneratedFindingAccessKeyId of GeneratedFindingUserName; put deny policy ${policyName} on user GeneratedFindingUserName`,
    );
    expect(row(table, 'iam-delete-key')).toContain(
      'deleted key GeneratedFindingAccessKeyId of GeneratedFindingUserName; cannot be undone',
    );
  });
});

describe('cordon report', () => {
  it('lists each piece of evidence once, says the record verified and flags a time to detect on a sample finding', async () => {
    const report = await cordon(ec2, 'report', ec2.incidentId);
    const record = await steps(ec2);
    const ids = [...new Set(record.flatMap((s) => s.evidence ?? []))];
    // The snapshots are named by the snapshot step, each check and the eradication: four steps each.
    expect(ids).toHaveLength(2);
    expect(record.filter((s) => s.evidence?.includes(ids[0] ?? '')).length).toBeGreaterThan(1);
    const section = report.slice(report.indexOf('## Evidence'), report.indexOf('## Failures'));
    for (const id of ids) {
      expect(section.split('\n').filter((l) => l.startsWith(`- \`${id}\``))).toHaveLength(1);
    }

    expect(report).toContain(`**Record verified: ${record.length} steps, anchored.**`);
    expect(report).toContain('| Rehearsal | SAMPLE: a sample or test finding, nothing real at stake |');
    expect(report).toMatch(
      /\| Time to detect \| not meaningful \| time to detect measured on a sample finding: not meaningful/,
    );
    expect(report).toContain('| Time to contain | ');
    expect(report).not.toMatch(/\| Time to contain \| not meaningful/);
  });

  it('draws the SVG timeline for print: one band per phase in order, labelled ticks, a label on every mark', async () => {
    const html = await cordon(ec2, 'report', ec2.incidentId, '--format', 'html');
    const svg = html.slice(html.indexOf('<svg'), html.indexOf('</svg>') + 6);
    expect(svg.length).toBeGreaterThan(100);

    const phases = [...svg.matchAll(/<g class="phase" data-phase="([a-z-]+)">/g)].map((m) => m[1]);
    expect(phases).toEqual([...PHASES]);
    const phaseLabels = [...svg.matchAll(/<text class="phase-label"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(phaseLabels).toEqual([...PHASES]);

    const ticks = [...svg.matchAll(/<text class="tick" x="([\d.]+)"[^>]*>([^<]+)<\/text>/g)];
    expect(ticks.length).toBeGreaterThanOrEqual(2);
    for (const [, , label] of ticks) expect(label).toMatch(/^\d{2}:\d{2}(:\d{2})?$/);
    const xs = ticks.map((t) => Number(t[1]));
    expect(xs).toEqual([...xs].sort((a, b) => a - b));

    // Every mark (bar, diamond, dot) is followed by its own text label, and has its row's label.
    const marks = [...svg.matchAll(/<(rect|path|circle) class="mark"/g)];
    const markLabels = [...svg.matchAll(/<text class="mark-label"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    const rowLabels = [...svg.matchAll(/<text class="row-label"[^>]*>([^<]+)<\/text>/g)].map((m) => m[1]);
    expect(marks.length).toBeGreaterThan(10);
    expect(markLabels).toHaveLength(marks.length);
    expect(rowLabels).toHaveLength(marks.length);
    const snapshot = (await steps(ec2)).find((s) => s.action === 'ec2-snapshot' && s.status !== 'started');
    expect(rowLabels).toContain(`#${snapshot?.seq} ec2-snapshot`);
    expect(markLabels.some((l) => /^succeeded, \d+ (ms|s)$/.test(l ?? ''))).toBe(true);
    expect(markLabels.some((l) => /^approve by /.test(l ?? ''))).toBe(true);
    expect(svg).toMatch(/<text class="milestone-label"[^>]*>opened \d{2}:\d{2}:\d{2}<\/text>/);
    expect(svg).toMatch(/<text class="milestone-label"[^>]*>contained \d{2}:\d{2}:\d{2}<\/text>/);

    // Black on white: every fill and stroke is a grey (or a pattern), so nothing means by colour alone.
    for (const [, colour] of svg.matchAll(/(?:fill|stroke)="(#[0-9a-f]{3,6})"/gi)) {
      const hex = (colour ?? '').slice(1);
      const full = hex.length === 3 ? [...hex].map((c) => c + c).join('') : hex;
      expect(new Set([full.slice(0, 2), full.slice(2, 4), full.slice(4, 6)]).size, colour).toBe(1);
    }
  });

  it('says NOT verified, with the kind and the step, when a step of the record was edited', async () => {
    const before = await cordon(dry, 'report', dry.incidentId);
    expect(before).toMatch(/\*\*Record verified: \d+ steps, anchored\.\*\*/);
    process.env.AWS_REGION ??= 'us-east-1';
    process.env.AWS_ACCESS_KEY_ID ??= 'cordonlocal';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'cordonlocal';
    const store = await openStateStore(dry.dir);
    try {
      await makeDocumentClient({ endpoint: store.endpoint }).send(
        new UpdateCommand({
          TableName: LOCAL_TABLE,
          Key: keys.step(dry.incidentId, 3),
          UpdateExpression: 'SET note = :n',
          ExpressionAttributeValues: { ':n': 'nothing to see here' },
        }),
      );
      const after = await cordon(dry, 'report', dry.incidentId);
      expect(after).toContain('**Record NOT verified: step-edited at step 3');
      expect(after).toContain('| Record | NOT verified: step-edited at step 3');
    } finally {
      await store.close();
    }
  });
});
