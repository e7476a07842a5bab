/**
 * The end of a playbook's execution frees its incident's resources: after a declined containment, a new
 * finding on the same instance opens a new incident and a new run instead of joining the finished one.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { createLogger } from '#shared/log';
import { type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { fixture, testSettings } from '../../support/fixtures.ts';
import { answerApprovals } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { seed, WEB } from '../actions/ec2/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ approvals: {}, waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

function deps(): RouterDeps {
  const arns = new Map(t.runtime.engine.playbooks().map((p) => [p.id, p.arn]));
  return {
    recorder: t.runtime.recorder,
    queries: new AuditQueries(t.table.doc, t.table.tableName),
    sfn: makeClient(SFNClient, { service: 'SFN' }),
    settings: testSettings(),
    playbookArn: (id) => arns.get(id),
    runtime: 'aws',
    now: () => new Date(),
    ids: randomIds,
    logger: createLogger('router-test', { level: 'silent' }),
  };
}

/** The real GuardDuty EC2 finding, on the web instance, with an id of our choosing (a target: approval first). */
function finding(id: string): unknown {
  const event = fixture('guardduty/ec2-canary-stateless.detail.json') as {
    id: string;
    accountId: string;
    resource: { instanceDetails: { instanceId: string } };
  };
  event.id = id;
  event.accountId = '123456789012';
  event.resource.instanceDetails.instanceId = WEB;
  return event;
}

describe('the end of a playbook', () => {
  it('records the end and lets a later finding on the same resource open a new incident', async () => {
    t.runtime.useAccount(seed());
    const d = deps();
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const [first] = await routeEvent(d, finding('ended-1'));
    expect(first).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    const incidentId = first?.outcome === 'started' ? first.incidentId : '';
    const stop = answerApprovals(t.runtime, incidentId, ['reject'], emailsBefore);
    const execution = t.runtime.engine
      .executionList()
      .find((e) => first?.outcome === 'started' && e.arn === first.executionArn);
    expect((await execution?.done)?.status).toBe('SUCCEEDED');
    stop();
    await t.runtime.settled();

    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.at(-1)).toMatchObject({
      action: 'playbook-ended',
      changes: { status: 'SUCCEEDED', releasedOpenMarkers: [WEB] },
    });
    const place = { account: '123456789012', region: 'us-east-1' };
    expect(await d.queries.openIncidentFor(place, { type: 'instance', id: WEB })).toBeUndefined();

    const [second] = await routeEvent(d, finding('ended-2'));
    expect(second).toMatchObject({ outcome: 'started' });
    expect(second?.outcome === 'started' && second.incidentId).not.toBe(incidentId);
  });
});
