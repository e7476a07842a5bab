/**
 * `cordon run` rehearses what the router would do, through the real `cordon` binary: by default the
 * router's policy picks the mode (a target-only instance waits for approval, exactly as `cordon triage
 * --local` says), `--mode` overrides it, a playbook that does not fit the event's resource is refused,
 * `--account` seeds are checked field by field, the documented example seed is one, and the incidents
 * `cordon run` opens are marked rehearsals (dry runs `dry-run`).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { checkAccountSeed } from '../../../local/sandbox/seed-schema.ts';
import { runCordon } from '../../support/bin.ts';
import { openTestStateFolder, type TestStateFolder } from '../../support/state-folder.ts';

const EC2_EVENT = 'test/fixtures/events/guardduty/ec2-canary-stateless.detail.json';
const EXAMPLE_SEED = 'docs/examples/account.json';
const SLOW = 300_000;

let folder: TestStateFolder;
let dir: string;
let recorder: AuditRecorder;

beforeAll(async () => {
  folder = await openTestStateFolder('cordon-run-');
  ({ dir, recorder } = folder);
});
afterAll(async () => {
  await folder?.close();
});

const cordon = (...args: string[]) => runCordon([...args, '--state-dir', dir], { timeoutMs: 240_000 });
const incidentOf = (stdout: string): string => /^Incident (\w+)$/m.exec(stdout)?.[1] ?? '';

describe('cordon run', () => {
  it(
    'applies the router policy by default: a target-only instance waits for approval, as triage says',
    async () => {
      const triage = await runCordon(['triage', '--local', EC2_EVENT]);
      const said = JSON.parse(triage.stdout) as { decisions: { playbook: string; mode: string }[] };
      expect(said.decisions[0]).toMatchObject({ playbook: 'ec2-compromise', mode: 'approval-first' });

      const ran = await cordon('run', '--event', EC2_EVENT, '--decision', 'reject');
      expect(ran.status).toBe(0);
      expect(ran.stdout).toMatch(/Playbook ec2-compromise, mode approval-first/);
      expect(ran.stdout).toMatch(/router: instance i-05746eb48123455e0 is only the target of the finding/);
      // The gate comes first, and rejected, nothing is isolated.
      expect(ran.stdout).toMatch(/Approve containment/);
      expect(ran.stdout).toMatch(/Not contained/);
      expect(ran.stdout).not.toMatch(/^\s+\+[\d.]+s {2}Isolate$/m);
      const incident = await recorder.getIncident(incidentOf(ran.stdout));
      expect(incident.rehearsal).toBe('rehearsal');
      expect(incident.status).not.toBe('contained');
    },
    SLOW,
  );

  it(
    'takes --mode over the policy, and marks a dry run as one; runs on the documented example seed',
    async () => {
      const ran = await cordon('run', '--event', EC2_EVENT, '--account', EXAMPLE_SEED, '--mode', 'dry-run');
      expect(ran.status).toBe(0);
      expect(ran.stdout).toMatch(/Playbook ec2-compromise, mode dry-run/);
      expect(ran.stdout).toMatch(/mode dry-run, by --mode \(the router says approval-first\)/);
      expect(ran.stdout).not.toMatch(/Approve containment/);
      const incident = await recorder.getIncident(incidentOf(ran.stdout));
      expect(incident.rehearsal).toBe('dry-run');
    },
    SLOW,
  );

  it('refuses a playbook that does not fit the event resource', async () => {
    const ran = await cordon('run', '--event', EC2_EVENT, '--playbook', 'iam-credential-compromise');
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(
      /iam-credential-compromise acts on access-key, but the event's finding names instance i-05746eb48123455e0/,
    );
    expect(ran.stderr).not.toMatch(/\n\s+at /);
    expect(ran.stdout).not.toMatch(/^Incident /m);
  });

  it('refuses an unknown mode, naming the modes', async () => {
    const ran = await cordon('run', '--event', EC2_EVENT, '--mode', 'yolo');
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(/--mode.*automatic, approval-first, dry-run, got "yolo"/);
  });

  it('refuses an account seed with each bad field named by its path', async () => {
    const seed = join(dir, 'bad-account.json');
    writeFileSync(
      seed,
      JSON.stringify({
        instances: [{ id: 'i-1' }, { id: 42, networkInterfaces: [{ groups: 'sg-1' }] }],
        iam: { users: [{ name: 'bob', accessKeys: [{ id: 'AKIA1', status: 'Enabled' }] }] },
        vpc: [],
      }),
    );
    const ran = await cordon('run', '--event', EC2_EVENT, '--account', seed);
    expect(ran.status).toBe(1);
    expect(ran.stderr).toMatch(/--account/);
    expect(ran.stderr).toMatch(/instances\[1\]\.id: /);
    expect(ran.stderr).toMatch(/instances\[1\]\.networkInterfaces\[0\]\.groups: /);
    expect(ran.stderr).toMatch(/iam\.users\[0\]\.accessKeys\[0\]\.status: /);
    expect(ran.stderr).toMatch(/vpc: not a field of an account seed/);
    expect(ran.stderr).toMatch(/docs\/examples\/account\.json/);
    expect(ran.stderr).not.toMatch(/\n\s+at /);
    expect(ran.stdout).not.toMatch(/^Incident /m);
  });

  it('documents an example seed that is valid and names the help text', async () => {
    expect(checkAccountSeed(JSON.parse(readFileSync(EXAMPLE_SEED, 'utf8')))).toMatchObject({ ok: true });
    const help = await runCordon(['run', '--help']);
    expect(help.stdout.replace(/\s+/g, ' ')).toMatch(/docs\/examples\/account\.json/);
  });
});
