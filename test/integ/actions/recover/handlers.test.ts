/**
 * Each recovery action through its deployed handler: table and restore defaults from the environment,
 * clients from the factory (attached to the sandbox through the client plugin), the audit middleware
 * writing to DynamoDB Local.
 */
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '#local/sandbox/index';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { createTestTable, runHandlersOn, type TestTable } from '../../../support/store.ts';
import { FAILING, FIRST_SEEN, NO_BACKUP, POINT, RECOVERY_GROUP, RESTORE_ROLE, seed, WEB } from './helpers.ts';

type Handler = (event: ActionEvent, context: Context) => Promise<ActionResult>;

let table: TestTable;
let recorder: AuditRecorder;
let sandbox: Sandbox;
let unregister: () => void;
const context = {} as Context;

beforeAll(async () => {
  table = await createTestTable('recover-actions');
  recorder = table.recorder();
  // The wall clock, as in AWS: the handlers' clock is the system's, and recover-start-restore compares it
  // with the job's creation time to tell its own job from an earlier run's.
  sandbox = Sandbox.create(seed());
  unregister = runHandlersOn(table, sandbox);
  process.env.CORDON_RESTORE_ROLE_ARN = RESTORE_ROLE;
  process.env.CORDON_RESTORE_SUBNET_ID = 'subnet-0eec';
  process.env.CORDON_RESTORE_SECURITY_GROUP_IDS = RECOVERY_GROUP;
  process.env.CORDON_RESTORE_INSTANCE_PROFILE = 'recovery-profile';
});
afterAll(async () => {
  unregister();
  for (const name of [
    'CORDON_RESTORE_ROLE_ARN',
    'CORDON_RESTORE_SUBNET_ID',
    'CORDON_RESTORE_SECURITY_GROUP_IDS',
    'CORDON_RESTORE_INSTANCE_PROFILE',
  ]) {
    delete process.env[name];
  }
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
    firstSeen: FIRST_SEEN,
    lastSeen: FIRST_SEEN,
  });
  return opened.id;
}

const trail = async (incidentId: string) =>
  (await recorder.steps(incidentId)).map((s) => [s.phase, s.action, s.status, s.error?.name]);

const event = (fields: Record<string, unknown>) => fields as ActionEvent;

describe('the recovery action handlers', () => {
  it('recover-choose-point records the choice and the points passed over', async () => {
    const id = await incident(WEB);
    const result = await (await load('recover-choose-point'))(
      event({ incidentId: id, instanceId: WEB, firstSeen: FIRST_SEEN }),
      context,
    );
    expect(result.output).toMatchObject({ recoveryPointArn: POINT.oneDay, vaultName: 'prod' });
    const steps = await recorder.steps(id);
    expect(steps.map((s) => [s.phase, s.action, s.status])).toEqual([
      ['recovery', 'recover-choose-point', 'started'],
      ['recovery', 'recover-choose-point', 'succeeded'],
    ]);
    expect(steps[1]?.evidence).toEqual([POINT.oneDay]);
    expect(steps[1]?.note).toContain('passed over 2');
  });

  it('recover-start-restore and recover-check-restore record the job with the configured defaults, once', async () => {
    const id = await incident(WEB);
    const start = await load('recover-start-restore');
    const startEvent = event({
      incidentId: id,
      instanceId: WEB,
      recoveryPointArn: POINT.oneDay,
      vaultName: 'prod',
    });
    const first = await start(startEvent, context);
    expect(first.output?.metadata).toMatchObject({
      SubnetId: 'subnet-0eec',
      SecurityGroupIds: JSON.stringify([RECOVERY_GROUP]),
      IamInstanceProfileName: 'recovery-profile',
    });
    sandbox.advance(30_000);
    const second = await start(startEvent, context);
    expect(second.output?.restoreJobId).toBe(first.output?.restoreJobId);
    const check = await load('recover-check-restore');
    sandbox.advance(120_000);
    const checked = await check(
      event({
        incidentId: id,
        instanceId: WEB,
        restoreJobId: first.output?.restoreJobId,
        tags: first.output?.tags,
      }),
      context,
    );
    expect(checked.output).toMatchObject({ status: 'COMPLETED', done: true });
    expect(await trail(id)).toEqual([
      ['recovery', 'recover-start-restore', 'started', undefined],
      ['recovery', 'recover-start-restore', 'succeeded', undefined],
      ['recovery', 'recover-start-restore', 'started', undefined],
      ['recovery', 'recover-start-restore', 'already-done', undefined],
      ['recovery', 'recover-check-restore', 'started', undefined],
      ['recovery', 'recover-check-restore', 'succeeded', undefined],
    ]);
    const validate = await load('recover-validate');
    const valid = await validate(
      event({ incidentId: id, instanceId: WEB, createdResourceArn: checked.output?.createdResourceArn }),
      context,
    );
    expect(valid.output).toMatchObject({ valid: true });
    expect((await trail(id)).slice(6)).toEqual([
      ['recovery', 'recover-validate', 'started', undefined],
      ['recovery', 'recover-validate', 'succeeded', undefined],
    ]);
    expect(await recorder.verify(id)).toMatchObject({ ok: true, steps: 8 });
  });

  it('recover-check-restore records a failed restore as a failure with RestoreFailedError', async () => {
    const id = await incident(FAILING);
    const started = await (await load('recover-start-restore'))(
      event({ incidentId: id, instanceId: FAILING, recoveryPointArn: POINT.failing, vaultName: 'Default' }),
      context,
    );
    sandbox.advance(130_000);
    await expect(
      (await load('recover-check-restore'))(
        event({ incidentId: id, instanceId: FAILING, restoreJobId: started.output?.restoreJobId }),
        context,
      ),
    ).rejects.toMatchObject({ name: 'RestoreFailedError' });
    expect((await trail(id)).slice(2)).toEqual([
      ['recovery', 'recover-check-restore', 'started', undefined],
      ['recovery', 'recover-check-restore', 'failed', 'RestoreFailedError'],
    ]);
  });

  it('recover-validate records a failed validation as RecoveryValidationError', async () => {
    const id = await incident(WEB);
    await expect(
      (await load('recover-validate'))(
        event({
          incidentId: id,
          instanceId: WEB,
          createdResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-0b1c2d3e4f5a60005',
        }),
        context,
      ),
    ).rejects.toMatchObject({ name: 'RecoveryValidationError' });
    expect(await trail(id)).toEqual([
      ['recovery', 'recover-validate', 'started', undefined],
      ['recovery', 'recover-validate', 'failed', 'RecoveryValidationError'],
    ]);
  });

  it('recover-from-snapshots records the volumes it made, and already-done on a repeat', async () => {
    const id = await incident(NO_BACKUP);
    const fallback = await load('recover-from-snapshots');
    const input = event({ incidentId: id, instanceId: NO_BACKUP, firstSeen: FIRST_SEEN });
    const first = await fallback(input, context);
    await fallback(input, context);
    expect(await trail(id)).toEqual([
      ['recovery', 'recover-from-snapshots', 'started', undefined],
      ['recovery', 'recover-from-snapshots', 'succeeded', undefined],
      ['recovery', 'recover-from-snapshots', 'started', undefined],
      ['recovery', 'recover-from-snapshots', 'already-done', undefined],
    ]);
    const steps = await recorder.steps(id);
    expect(steps[1]?.note).toContain('partial recovery');
    const volumes = (first.output?.volumes ?? []) as { volumeId: string }[];
    expect(steps[1]?.evidence).toEqual(volumes.map((v) => v.volumeId));
  });
});
