import middy from '@middy/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { auditStep } from '#shared/audit-middleware';
import { registerClientPlugin } from '#shared/clients';
import { AccessDeniedError } from '#shared/errors';
import { createTestTable, type TestTable } from '../../support/store.ts';

let table: TestTable;
let recorder: AuditRecorder;

beforeAll(async () => {
  table = await createTestTable('middleware');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

const openIncident = () =>
  recorder.openIncident({
    title: 'test',
    findingType: 'Test:EC2/Thing',
    severity: 5,
    account: '123456789012',
    region: 'us-east-1',
    resources: [{ type: 'instance', id: 'i-1' }],
    firstSeen: '2026-11-01T00:00:00.000Z',
    lastSeen: '2026-11-01T00:00:00.000Z',
  });

const wrap = (core: (event: ActionEvent) => Promise<ActionResult>) =>
  middy<ActionEvent, ActionResult>()
    .use(auditStep({ recorder, phase: 'containment', action: 'isolate-instance' }))
    .handler(core);

const context = {} as Parameters<ReturnType<typeof wrap>>[1];

/** A recorder whose appends numbered in `throttled` (1 for the first) fail with DynamoDB's throttling. */
async function throttledRecorder(
  throttled: readonly number[],
): Promise<{ flaky: AuditRecorder; appends: () => number }> {
  const { ProvisionedThroughputExceededException } = await import('@aws-sdk/client-dynamodb');
  let appends = 0;
  const flaky = table.recorder();
  const original = flaky.appendStep.bind(flaky);
  flaky.appendStep = async (id, step) => {
    appends++;
    if (throttled.includes(appends)) {
      throw new ProvisionedThroughputExceededException({ message: 'slow down', $metadata: {} });
    }
    return original(id, step);
  };
  return { flaky, appends: () => appends };
}

describe('the audit middleware', () => {
  it('records a started and a succeeded step around an action', async () => {
    const incident = await openIncident();
    const handler = wrap(async () => ({
      status: 'succeeded',
      before: { groups: ['sg-1'] },
      changes: { groups: ['sg-iso'] },
    }));
    await handler({ incidentId: incident.id, executionArn: 'arn:exec' }, context);
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded']);
    expect(steps[1]).toMatchObject({
      startedSeq: 1,
      before: { groups: ['sg-1'] },
      changes: { groups: ['sg-iso'] },
      executionArn: 'arn:exec',
      actor: 'automation',
    });
    expect(steps[0]?.input).toEqual({ incidentId: incident.id, executionArn: 'arn:exec' });
  });

  it('costs one read and two writes from a fresh recorder, and two writes when it knows the head', async () => {
    const incident = await openIncident();
    const fresh = table.recorder();
    const handler = middy<ActionEvent, ActionResult>()
      .use(auditStep({ recorder: fresh, phase: 'containment', action: 'isolate-instance' }))
      .handler(async () => ({ status: 'succeeded' }));
    const invoke = async () => {
      const before = table.commands.length;
      await handler({ incidentId: incident.id, executionArn: 'arn:exec' }, context);
      return table.commands.slice(before);
    };
    expect(await invoke()).toEqual([
      'GetItemCommand',
      'TransactWriteItemsCommand',
      'TransactWriteItemsCommand',
    ]);
    // A retry in the same container: the head is the final step it wrote.
    expect(await invoke()).toEqual(['TransactWriteItemsCommand', 'TransactWriteItemsCommand']);
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => [s.seq, s.status, s.startedSeq])).toEqual([
      [1, 'started', undefined],
      [2, 'succeeded', 1],
      [3, 'started', undefined],
      [4, 'succeeded', 3],
    ]);
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 4 });
  });

  it('records already-done for an idempotent repeat', async () => {
    const incident = await openIncident();
    const handler = wrap(async () => ({ status: 'already-done', note: 'isolated before' }));
    await handler({ incidentId: incident.id }, context);
    expect((await recorder.steps(incident.id)).map((s) => s.status)).toEqual(['started', 'already-done']);
  });

  it('records a failed step with the error name, and rethrows it for the state machine', async () => {
    const incident = await openIncident();
    const handler = wrap(async () => {
      throw new AccessDeniedError('ec2:ModifyNetworkInterfaceAttribute: UnauthorizedOperation');
    });
    await expect(handler({ incidentId: incident.id }, context)).rejects.toMatchObject({
      name: 'AccessDeniedError',
    });
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'failed']);
    expect(steps[1]?.error).toEqual({
      name: 'AccessDeniedError',
      message: 'ec2:ModifyNetworkInterfaceAttribute: UnauthorizedOperation',
    });
    expect(steps.some((s) => s.status === 'succeeded')).toBe(false);
  });

  it('does not run the action when the started step cannot be written', async () => {
    let ran = false;
    const handler = wrap(async () => {
      ran = true;
      return { status: 'succeeded' };
    });
    await expect(handler({ incidentId: 'missing-incident' }, context)).rejects.toThrow(/does not exist/);
    expect(ran).toBe(false);
  });

  it('refuses an event with no incident id, naming the field, and runs nothing', async () => {
    let ran = false;
    const handler = wrap(async () => {
      ran = true;
      return { status: 'succeeded' };
    });
    await expect(handler({} as ActionEvent, context)).rejects.toThrow(/incidentId: /);
    expect(ran).toBe(false);
  });

  it('runs the deployed record-note handler against the table', async () => {
    const incident = await openIncident();
    process.env.CORDON_TABLE_NAME = table.tableName;
    process.env.AWS_ENDPOINT_URL_DYNAMODB = table.endpoint;
    Object.assign(process.env, table.trust.env);
    const off = registerClientPlugin(table.trust.plugin());
    const { handler } = await import('../../../functions/actions/record-note/handler.ts');
    await handler({ incidentId: incident.id, note: 'call the owner of i-1' }, context);
    await expect(handler({ incidentId: incident.id, note: '' }, context)).rejects.toMatchObject({
      name: 'ValidationError',
    });
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => [s.action, s.status, s.note ?? s.error?.name])).toEqual([
      ['record-note', 'started', undefined],
      ['record-note', 'succeeded', 'call the owner of i-1'],
      ['record-note', 'started', undefined],
      ['record-note', 'failed', 'ValidationError'],
    ]);
    expect(await recorder.verify(incident.id)).toMatchObject({ ok: true, steps: 4 });
    off();
  });

  it('never records a failure for an action that succeeded when its final step cannot be written, and asks for a retry', async () => {
    const incident = await openIncident();
    const { flaky } = await throttledRecorder([2]);
    const handler = middy<ActionEvent, ActionResult>()
      .use(
        auditStep({
          recorder: flaky,
          phase: 'containment',
          action: 'isolate-instance',
          outcomeRetryDelaysMs: [],
        }),
      )
      .handler(async () => ({ status: 'succeeded' }));
    await expect(handler({ incidentId: incident.id }, context)).rejects.toMatchObject({
      name: 'ThrottlingError',
    });
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.status)).toEqual(['started']);
  });

  it('tries the final step again before giving up: what the action saw before it acted exists only in memory', async () => {
    const incident = await openIncident();
    const { flaky, appends } = await throttledRecorder([2, 3]);
    const handler = middy<ActionEvent, ActionResult>()
      .use(
        auditStep({
          recorder: flaky,
          phase: 'containment',
          action: 'isolate-instance',
          outcomeRetryDelaysMs: [1, 1, 1],
        }),
      )
      .handler(async () => ({ status: 'succeeded', before: { groups: ['sg-1'] } }));
    await handler({ incidentId: incident.id }, context);
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded']);
    expect(steps[1]?.before).toEqual({ groups: ['sg-1'] });
    expect(appends()).toBe(4);
  });

  it("fails the step when the event's place is not the incident's, before the action runs", async () => {
    const incident = await openIncident();
    let ran = 0;
    const handler = middy<ActionEvent, ActionResult>()
      .use(
        auditStep({
          recorder,
          phase: 'containment',
          action: 'isolate-instance',
          home: () => ({ account: '123456789012', region: 'us-east-1' }),
        }),
      )
      .handler(async () => {
        ran++;
        return { status: 'succeeded' };
      });
    // The hub's own place, named or not, is the incident's: the action runs.
    await handler({ incidentId: incident.id }, context);
    await handler({ incidentId: incident.id, account: '123456789012', region: 'us-east-1' }, context);
    expect(ran).toBe(2);
    for (const place of [{ account: '883606788610' }, { region: 'eu-west-1' }]) {
      await expect(handler({ incidentId: incident.id, ...place }, context)).rejects.toMatchObject({
        name: 'PlaceMismatchError',
      });
    }
    expect(ran).toBe(2);
    const steps = await recorder.steps(incident.id);
    expect(steps.slice(4).map((s) => [s.status, s.error?.name])).toEqual([
      ['started', undefined],
      ['failed', 'PlaceMismatchError'],
      ['started', undefined],
      ['failed', 'PlaceMismatchError'],
    ]);
    expect(steps[5]?.error?.message).toContain('is in account 123456789012 region us-east-1');
  });
});
