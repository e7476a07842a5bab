/**
 * The end of a playbook sets the incident's status truthfully: a run that did not succeed leaves it
 * `failed` (needs attention), also after containment, saying what was done before; a success changes no
 * status; a closed incident stays closed.
 */
import { describe, expect, it } from 'vitest';
import type { StoredIncident, VerifiedRecord } from '#shared/audit';
import type { Step, StepInput } from '#shared/domain';
import { playbookEnded } from '../../../functions/playbook-ended/core.ts';

const incident = (fields: Partial<StoredIncident>): StoredIncident => ({
  id: 'inc-1',
  status: 'open',
  title: 't',
  findingType: 'T',
  severity: 5,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: 'i-1' }],
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:00:00.000Z',
  openedAt: '2026-11-01T10:00:00.000Z',
  ...fields,
});

const step = (seq: number, fields: Partial<Step>): Step => ({
  incidentId: 'inc-1',
  seq,
  phase: 'containment',
  action: 'x',
  status: 'succeeded',
  actor: 'automation',
  startedAt: '2026-11-01T10:00:00.000Z',
  recordedAt: '2026-11-01T10:00:00.000Z',
  prevHash: '',
  hash: '',
  ...fields,
});

async function end(status: string, record: { incident: StoredIncident; steps: Step[] }, error?: string) {
  const appended: StepInput[] = [];
  await playbookEnded(
    {
      recorder: {
        verified: async () => ({ ...record, result: { ok: true } }) as unknown as VerifiedRecord,
        steps: async () => record.steps,
        appendStep: async (_id, input) => {
          appended.push(input);
          return step(99, input);
        },
      },
      releaseOpen: async (_id, markers) => markers.map((m) => m.resourceId),
    },
    {
      detail: {
        executionArn: 'arn:aws:states:us-east-1:123456789012:execution:cordon-ec2-compromise:e1',
        stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:cordon-ec2-compromise',
        status,
        input: JSON.stringify({ incidentId: 'inc-1' }),
        ...(error ? { error } : {}),
      },
    },
  );
  return appended[0];
}

describe('the status a playbook leaves', () => {
  it('leaves a contained incident failed when a later step fails, saying what was done before', async () => {
    const recorded = await end(
      'FAILED',
      {
        incident: incident({ status: 'contained', containedAt: '2026-11-01T10:01:00.000Z' }),
        steps: [
          step(1, { action: 'isolate-instance' }),
          step(2, { action: 'notify', phase: 'lessons-learned' }),
          step(3, {
            action: 'snapshot-volumes',
            status: 'failed',
            phase: 'evidence',
            error: { name: 'AccessDeniedError', message: 'denied' },
          }),
        ],
      },
      'AccessDeniedError',
    );
    expect(recorded?.incident).toEqual({ status: 'failed' });
    expect(recorded?.changes).toMatchObject({
      status: 'FAILED',
      before: 'contained',
      succeeded: ['isolate-instance'],
      failedSteps: ['snapshot-volumes (AccessDeniedError: denied)'],
      error: 'AccessDeniedError',
    });
    expect(recorded?.note).toContain(
      'ended FAILED (AccessDeniedError): the incident needs attention. It was contained, contained at 2026-11-01T10:01:00.000Z. Done before the failure: isolate-instance. Failed: snapshot-volumes (AccessDeniedError: denied).',
    );
  });

  it.each(['TIMED_OUT', 'ABORTED'])('leaves an open incident failed when the run ends %s', async (status) => {
    const recorded = await end(status, { incident: incident({}), steps: [] });
    expect(recorded?.incident).toEqual({ status: 'failed' });
    expect(recorded?.note).toContain('Nothing was done before the failure.');
  });

  it('changes no status when the run succeeded', async () => {
    const recorded = await end('SUCCEEDED', { incident: incident({ status: 'contained' }), steps: [] });
    expect(recorded?.incident).toBeUndefined();
    expect(recorded?.note).toMatch(/ended SUCCEEDED/);
  });

  it('leaves a closed incident closed', async () => {
    const recorded = await end('FAILED', { incident: incident({ status: 'closed' }), steps: [] });
    expect(recorded?.incident).toBeUndefined();
  });
});
