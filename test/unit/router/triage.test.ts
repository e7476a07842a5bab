import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runTriage, triage } from '../../../cli/commands/triage.ts';
import { fixtureText, testSettings } from '../../support/fixtures.ts';

const settings = testSettings();
const dir = mkdtempSync(join(tmpdir(), 'cordon-triage-'));

function file(name: string, contents: string): string {
  const path = join(dir, name);
  writeFileSync(path, contents);
  return path;
}

async function run(
  path: string,
  withSettings = true,
): Promise<{ status: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const status = await runTriage(path, {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...(withSettings ? { settings } : {}),
  });
  return { status, out, err };
}

describe('triage', () => {
  it('normalizes a bare GuardDuty finding and decides it', () => {
    const result = triage(fixtureText('guardduty/ec2-canary-stateless.detail.json'), settings);
    expect(result.ok && result.findings.map((f) => f.resources[0]?.id)).toEqual(['i-05746eb48123455e0']);
    expect(result.ok && result.decisions[0]).toMatchObject({
      playbook: 'ec2-compromise',
      mode: 'approval-first',
    });
  });

  it('names the resource the playbook would act on: the instance an ASFF finding lists after a bucket', async () => {
    const event = JSON.parse(fixtureText('securityhub/imported-afsbp-ec2.7.json')) as {
      detail: { findings: { Severity: { Label: string }; Resources: unknown[] }[] };
    };
    const asff = event.detail.findings[0];
    if (asff === undefined) throw new Error('the fixture holds no finding');
    asff.Severity.Label = 'HIGH';
    asff.Resources = [
      { Type: 'AwsS3Bucket', Id: 'arn:aws:s3:::triage-logs', Region: 'us-east-1' },
      {
        Type: 'AwsEc2Instance',
        Id: 'arn:aws:ec2:us-east-1:111111111111:instance/i-0triage000000001',
        Region: 'us-east-1',
      },
    ];
    const { status, out } = await run(file('asff.json', JSON.stringify(event)));
    expect(status).toBe(0);
    const printed = JSON.parse(out.join('\n')) as {
      decisions: { playbook: string; resource: { type: string; id: string } }[];
    };
    expect(printed.decisions).toEqual([
      expect.objectContaining({
        playbook: 'ec2-compromise',
        resource: expect.objectContaining({ type: 'instance', id: 'i-0triage000000001' }),
      }),
    ]);
  });

  it('decides as deployed by default, and as the local runtime when asked', () => {
    const text = fixtureText('guardduty/iam-tor-ip-caller.eventbridge.json');
    expect(triage(text, settings)).toMatchObject({ ok: true, decisions: [{ mode: 'dry-run' }] });
    expect(triage(text, settings, { runtime: 'local' })).toMatchObject({
      ok: true,
      decisions: [{ mode: 'automatic' }],
    });
  });

  it('leaves the raw event out of its output', () => {
    const result = triage(fixtureText('guardduty/iam-tor-ip-caller.eventbridge.json'), settings);
    expect(result.ok && 'raw' in (result.findings[0] ?? {})).toBe(false);
  });

  it('refuses text that is not JSON', () => {
    expect(triage('{"detail-type":', settings)).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not JSON: /),
    });
  });

  it('refuses the configuration-change event with the reason', () => {
    expect(
      triage(fixtureText('cloudwatch/alarm-configuration-change-composite-create.json'), settings),
    ).toMatchObject({
      ok: false,
      kind: 'rejected',
      reason: expect.stringMatching(/^an alarm configuration change/),
    });
  });
});

describe('runTriage', () => {
  it('prints the findings and decisions as JSON and exits 0', async () => {
    const { status, out, err } = await run(
      file('event.json', fixtureText('guardduty/ec2-backdoor-c2-dns.eventbridge.json')),
    );
    expect([status, err]).toEqual([0, []]);
    const printed = JSON.parse(out.join('\n')) as {
      findings: { id: string }[];
      decisions: { mode: string }[];
    };
    expect(printed.findings.map((f) => f.id)).toEqual(['b4b01b60fc24a199139f8f5f490edd81']);
    expect(printed.decisions.map((d) => d.mode)).toEqual(['dry-run']);
  });

  it('says a missing file is missing, on one line, and exits 1', async () => {
    const { status, out, err } = await run(join(dir, 'nope.json'));
    expect([status, out]).toEqual([1, []]);
    expect(err).toEqual([expect.stringMatching(/^cordon triage: cannot read .*nope\.json \(ENOENT\)$/)]);
  });

  it('says a file that is not JSON is not JSON, on one line, and exits 1', async () => {
    const { status, err } = await run(file('bad.json', 'not json at all\n'));
    expect(status).toBe(1);
    expect(err).toHaveLength(1);
    expect(err[0]).toMatch(/bad\.json: not JSON: /);
    expect(err[0]).not.toContain('\n');
  });

  it('answers a refused event with its decision and reason as JSON, and exits 0', async () => {
    const { status, out, err } = await run(
      file('config.json', fixtureText('cloudwatch/alarm-configuration-change-composite-create.json')),
    );
    expect([status, err]).toEqual([0, []]);
    expect(JSON.parse(out.join('\n'))).toEqual({
      decision: 'rejected',
      reason: expect.stringMatching(/^an alarm configuration change \(create\)/),
      findings: [],
      decisions: [],
      rejections: [],
    });
  });

  it('reads the settings from cordon.config.ts when none are given', async () => {
    const path = fileURLToPath(
      new URL('../../fixtures/events/guardduty/ec2-canary-stateless.detail.json', import.meta.url),
    );
    const { status, out } = await run(path, false);
    expect(status).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ decisions: [{ playbook: 'ec2-compromise' }] });
  });
});
