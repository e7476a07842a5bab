/**
 * Each EC2 action through its deployed handler: settings and table from the environment, clients from the
 * factory (attached to the sandbox through the client plugin), the audit middleware writing to DynamoDB
 * Local.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '#local/sandbox/index';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { createTestTable, runHandlersOn, type TestTable } from '../../../support/store.ts';
import { PEER, SLR, SOLO, seed, T0, WEB, WEB_ENI_0, WEB_ENI_1 } from './helpers.ts';

type Handler = (event: ActionEvent, context: Context) => Promise<ActionResult>;

let table: TestTable;
let recorder: AuditRecorder;
let sandbox: Sandbox;
let unregister: () => void;
const context = {} as Context;

beforeAll(async () => {
  table = await createTestTable('ec2-actions');
  recorder = table.recorder();
  sandbox = Sandbox.create(seed(), { now: () => T0 });
  unregister = runHandlersOn(table, sandbox);
  process.env.CORDON_SETTINGS = JSON.stringify({
    approvers: ['approver@example.com'],
    sender: 'cordon@example.com',
    ec2: { isolation: 'direct', eradication: 'stop' },
  });
});
afterAll(async () => {
  unregister();
  await table.drop();
});

async function load(action: string): Promise<Handler> {
  const module: { handler: Handler } = await import(`../../../../functions/actions/${action}/handler.ts`);
  return module.handler;
}

async function incident(instanceId: string): Promise<string> {
  const opened = await recorder.openIncident({
    title: `compromise of ${instanceId}`,
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '123456789012',
    region: 'us-east-1',
    resources: [{ type: 'instance', id: instanceId }],
    firstSeen: '2025-01-01T00:00:00.000Z',
    lastSeen: '2025-01-01T00:00:00.000Z',
  });
  return opened.id;
}

const trail = async (incidentId: string) =>
  (await recorder.steps(incidentId)).map((s) => [s.action, s.status, s.error?.name]);

describe('the EC2 action handlers', () => {
  it('ec2-isolate records a started and a succeeded step with the groups before, using the configured strategy', async () => {
    const id = await incident(WEB);
    const result = await (await load('ec2-isolate'))(
      { incidentId: id, instanceId: WEB } as ActionEvent,
      context,
    );
    expect(result.output).toMatchObject({ strategy: 'direct', isolated: true });
    const steps = await recorder.steps(id);
    expect(steps.map((s) => [s.phase, s.action, s.status])).toEqual([
      ['containment', 'ec2-isolate', 'started'],
      ['containment', 'ec2-isolate', 'succeeded'],
    ]);
    expect(steps[1]?.before).toMatchObject({
      interfaces: [
        { networkInterfaceId: WEB_ENI_0, groups: ['sg-web', 'sg-admin'] },
        { networkInterfaceId: WEB_ENI_1, groups: ['sg-web'] },
      ],
    });
    expect(await recorder.verify(id)).toMatchObject({ ok: true, steps: 2 });
  });

  it('ec2-isolate records a failure, never a success, when AWS refuses the change', async () => {
    const id = await incident(PEER);
    sandbox.failNext('EC2:ModifyNetworkInterfaceAttribute', 1, { code: 'UnauthorizedOperation' });
    await expect(
      (await load('ec2-isolate'))({ incidentId: id, instanceId: PEER } as ActionEvent, context),
    ).rejects.toMatchObject({
      name: 'AccessDeniedError',
    });
    expect(await trail(id)).toEqual([
      ['ec2-isolate', 'started', undefined],
      ['ec2-isolate', 'failed', 'AccessDeniedError'],
    ]);
  });

  it('ec2-protect-evidence records the protections before', async () => {
    const id = await incident(WEB);
    await (await load('ec2-protect-evidence'))({ incidentId: id, instanceId: WEB } as ActionEvent, context);
    const steps = await recorder.steps(id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded']);
    expect(steps[1]?.before).toMatchObject({ disableApiTermination: false, disableApiStop: false });
  });

  it('ec2-detach records the memberships before', async () => {
    const id = await incident(WEB);
    await (await load('ec2-detach'))({ incidentId: id, instanceId: WEB } as ActionEvent, context);
    const steps = await recorder.steps(id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded']);
    expect(steps[1]?.before).toMatchObject({
      autoScalingGroup: { name: 'web-asg' },
      loadBalancers: ['web-clb'],
    });
  });

  it('ec2-revoke-sessions records the profile association before', async () => {
    const id = await incident(WEB);
    await (await load('ec2-revoke-sessions'))({ incidentId: id, instanceId: WEB } as ActionEvent, context);
    const steps = await recorder.steps(id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded']);
    expect(steps[1]?.before).toMatchObject({
      association: { profileName: 'web-profile' },
      role: { roleName: 'web-role' },
    });
  });

  it('ec2-tag records the tags before, and already-done on a repeat', async () => {
    const id = await incident(WEB);
    const tag = await load('ec2-tag');
    await tag({ incidentId: id, instanceId: WEB } as ActionEvent, context);
    await tag({ incidentId: id, instanceId: WEB } as ActionEvent, context);
    expect(await trail(id)).toEqual([
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'succeeded', undefined],
      ['ec2-tag', 'started', undefined],
      ['ec2-tag', 'already-done', undefined],
    ]);
  });

  it('ec2-snapshot records the snapshot ids as evidence, and ec2-check-snapshots sees them complete', async () => {
    const id = await incident(SLR);
    const result = await (await load('ec2-snapshot'))(
      { incidentId: id, instanceId: SLR } as ActionEvent,
      context,
    );
    const check = await load('ec2-check-snapshots');
    expect((await check({ incidentId: id, instanceId: SLR } as ActionEvent, context)).output).toMatchObject({
      allCompleted: false,
    });
    sandbox.advance(60_000);
    expect((await check({ incidentId: id, instanceId: SLR } as ActionEvent, context)).output).toMatchObject({
      allCompleted: true,
    });
    const steps = await recorder.steps(id);
    expect(steps.map((s) => [s.phase, s.action, s.status])).toEqual([
      ['evidence', 'ec2-snapshot', 'started'],
      ['evidence', 'ec2-snapshot', 'succeeded'],
      ['evidence', 'ec2-check-snapshots', 'started'],
      ['evidence', 'ec2-check-snapshots', 'succeeded'],
      ['evidence', 'ec2-check-snapshots', 'started'],
      ['evidence', 'ec2-check-snapshots', 'succeeded'],
    ]);
    expect(steps[1]?.evidence).toEqual(result.evidence);
    expect(steps[1]?.changes).toMatchObject({ consoleOutput: expect.stringContaining('Sandbox console') });
  });

  it('ec2-eradicate records the refusal while snapshots are pending, then stops the instance', async () => {
    const id = await incident(PEER);
    const { evidence } = await (await load('ec2-snapshot'))(
      { incidentId: id, instanceId: PEER } as ActionEvent,
      context,
    );
    const eradicate = await load('ec2-eradicate');
    const event = { incidentId: id, instanceId: PEER, snapshotIds: evidence } as ActionEvent;
    await expect(eradicate(event, context)).rejects.toMatchObject({ name: 'EvidenceIncompleteError' });
    sandbox.advance(60_000);
    await eradicate(event, context);
    expect(sandbox.state().ec2.instances[PEER]?.state).toBe('stopped');
    expect((await trail(id)).slice(2)).toEqual([
      ['ec2-eradicate', 'started', undefined],
      ['ec2-eradicate', 'failed', 'EvidenceIncompleteError'],
      ['ec2-eradicate', 'started', undefined],
      ['ec2-eradicate', 'succeeded', undefined],
    ]);
  });

  it('ec2-release reads the containment from the record and restores it', async () => {
    const id = await incident(SOLO);
    const before = sandbox.state();
    await (await load('ec2-isolate'))({ incidentId: id, instanceId: SOLO } as ActionEvent, context);
    await (await load('ec2-tag'))({ incidentId: id, instanceId: SOLO } as ActionEvent, context);
    const result = await (await load('ec2-release'))(
      { incidentId: id, instanceId: SOLO } as ActionEvent,
      context,
    );
    expect(result.status).toBe('succeeded');
    const after = sandbox.state();
    const nic = before.ec2.instances[SOLO]?.networkInterfaceIds[0] ?? '';
    expect(after.ec2.networkInterfaces[nic]).toEqual(before.ec2.networkInterfaces[nic]);
    expect(after.ec2.tags[SOLO]).toEqual(before.ec2.tags[SOLO]);
    expect((await trail(id)).slice(-2)).toEqual([
      ['ec2-release', 'started', undefined],
      ['ec2-release', 'succeeded', undefined],
    ]);
    expect((await recorder.steps(id)).at(-1)?.phase).toBe('recovery');
  });
});
