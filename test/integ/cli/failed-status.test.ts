/**
 * Incident status tells the truth: a playbook that fails leaves its incident `failed` (needs attention),
 * with a step that says what was done before the failure, and the local runtime's incident is marked a
 * rehearsal. Run on the local runtime in the state folder, read back through the real `cordon` binary.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StoredIncident } from '#shared/audit';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import type { Step } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { routeEvent } from '../../../functions/router/core.ts';
import { LocalRuntime } from '../../../local/runtime.ts';
import { LOCAL_TABLE, openStateStore, openStateTrust } from '../../../local/state.ts';
import { runCordon } from '../../support/bin.ts';
import { fixture, testSettings } from '../../support/fixtures.ts';

const dir = mkdtempSync(join(tmpdir(), 'cordon-failed-'));
const local = ['--local', '--state-dir', dir];
let store: Awaited<ReturnType<typeof openStateStore>>;
let incidentId = '';
let status = '';

beforeAll(async () => {
  store = await openStateStore(dir);
  // An account without the user the finding names: containing its key fails (NoSuchEntity).
  const runtime = await LocalRuntime.start({
    store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
    trust: await openStateTrust(dir),
    seed: {},
    waitScale: 0.001,
    approvals: { stateDir: dir, print: () => {} },
  });
  try {
    const arns = new Map(runtime.engine.playbooks().map((p) => [p.id, p.arn]));
    const [outcome] = await routeEvent(
      {
        recorder: runtime.recorder,
        queries: new AuditQueries(makeDocumentClient(), LOCAL_TABLE),
        sfn: makeClient(SFNClient, { service: 'SFN' }),
        settings: testSettings(),
        playbookArn: (id) => arns.get(id),
        runtime: 'local',
        now: () => new Date(),
        ids: randomIds,
        logger: createLogger('router-test', { level: 'silent' }),
      },
      fixture('guardduty/iam-tor-ip-caller.eventbridge.json'),
    );
    if (outcome?.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
    incidentId = outcome.incidentId;
    const execution = runtime.engine.executionList().find((e) => e.arn === outcome.executionArn);
    status = (await execution?.done)?.status ?? 'none';
    await runtime.settled();
  } finally {
    await runtime.close();
  }
}, 180_000);

afterAll(async () => {
  await store?.close();
});

describe('a playbook that failed', () => {
  it('leaves its incident failed, listed by --status failed and marked as a sample finding', async () => {
    expect(status).toBe('FAILED');
    const run = await runCordon(['incidents', 'list', ...local, '--status', 'failed', '--output', 'json']);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const listed = (JSON.parse(run.stdout) as { incidents: StoredIncident[] }).incidents;
    // A sample finding's incident is marked sample (on the local runtime as deployed).
    expect(listed.map((i) => [i.id, i.status, i.rehearsal])).toEqual([[incidentId, 'failed', 'sample']]);
  });

  it('says in its record what failed and that nothing was contained, and the record verifies', async () => {
    const run = await runCordon(['incidents', 'show', incidentId, ...local, '--output', 'json']);
    expect(run.status).toBe(0);
    const { incident, steps } = JSON.parse(run.stdout) as { incident: StoredIncident; steps: Step[] };
    expect(incident.status).toBe('failed');
    expect(incident.containedAt).toBeUndefined();
    const ended = steps.at(-1);
    expect(ended).toMatchObject({
      action: 'playbook-ended',
      actor: 'automation',
      incident: { status: 'failed' },
      changes: { status: 'FAILED', before: 'open' },
    });
    expect(ended?.note).toMatch(
      /ended FAILED.*: the incident needs attention\. It was open, not contained\./,
    );
    const failedAction = steps.find((s) => s.status === 'failed' && s.action !== 'playbook-ended');
    expect(failedAction).toBeDefined();
    expect(ended?.note).toContain(`Failed: ${failedAction?.action} (${failedAction?.error?.name}`);
    const verify = await runCordon(['verify', incidentId, ...local, '--output', 'csv']);
    expect(verify.status).toBe(0);
    expect(verify.stdout).toContain(',ok,');
  });
});
