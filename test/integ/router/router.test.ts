import { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { createLogger } from '#shared/log';
import type { SettingsInput } from '#shared/settings';
import { type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { fixture, testSettings } from '../../support/fixtures.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: stubPlaybooksStack() });
});
afterAll(async () => {
  await t.close();
});

function deps(settings: Partial<SettingsInput> = {}): RouterDeps {
  const arns = new Map(t.runtime.engine.playbooks().map((p) => [p.id, p.arn]));
  return {
    recorder: t.runtime.recorder,
    queries: new AuditQueries(t.table.doc, t.table.tableName),
    sfn: makeClient(SFNClient, { service: 'SFN' }),
    settings: testSettings(settings),
    playbookArn: (id) => arns.get(id),
    runtime: 'aws',
    now: () => new Date(),
    ids: randomIds,
    logger: createLogger('router-test', { level: 'silent' }),
  };
}

/** The real GuardDuty EC2 finding (a bare finding object), made the actor, on an instance and with an id of our choosing. */
function ec2Finding(id: string, instanceId: string, account = '123456789012'): unknown {
  const finding = fixture('guardduty/ec2-canary-stateless.detail.json') as {
    id: string;
    accountId: string;
    resource: { instanceDetails: { instanceId: string; tags: { key: string; value: string }[] } };
    service: { resourceRole: string };
  };
  finding.id = id;
  finding.accountId = account;
  finding.resource.instanceDetails.instanceId = instanceId;
  finding.service.resourceRole = 'ACTOR';
  return finding;
}

const executionsFor = (incidentId: string) =>
  t.runtime.engine
    .executionList()
    .filter((e) => (e.input as { incidentId?: string }).incidentId === incidentId);

describe('the router on DynamoDB Local and the engine', () => {
  it('turns 1,000 concurrent deliveries of one finding into 1 incident, 1 execution and the recorded count', async () => {
    t.runtime.useAccount({});
    const d = deps();
    const event = ec2Finding('dup-finding-1', 'i-dup1');
    const outcomes = (
      await Promise.all(Array.from({ length: 1000 }, () => routeEvent(d, structuredClone(event))))
    ).flat();
    const started = outcomes.filter((o) => o.outcome === 'started');
    expect(started).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'duplicate')).toHaveLength(999);
    const incidentId = started[0]?.outcome === 'started' ? started[0].incidentId : '';
    expect(executionsFor(incidentId)).toHaveLength(1);
    const record = await d.queries.finding('dup-finding-1');
    expect(record).toMatchObject({ incidentId, deliveries: 1000, count: 1, status: 'routed' });
    expect(await d.queries.incidentIdsByResource('i-dup1')).toMatchObject({ items: [incidentId] });
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => s.action)).toEqual(['triage', 'start-playbook']);
  });

  it('raises the count of a repeat delivery and starts nothing', async () => {
    const d = deps();
    const event = ec2Finding('dup-finding-2', 'i-dup2') as {
      service: { count: number; eventLastSeen: string };
    };
    const [first] = await routeEvent(d, structuredClone(event));
    event.service.count = 7;
    event.service.eventLastSeen = '2017-11-01T00:00:00Z';
    const [repeat] = await routeEvent(d, event);
    expect(first?.outcome).toBe('started');
    expect(repeat).toMatchObject({ outcome: 'duplicate', deliveries: 2 });
    expect(await d.queries.finding('dup-finding-2')).toMatchObject({
      count: 7,
      lastSeen: '2017-11-01T00:00:00.000Z',
    });
  });

  it('correlates 50 different findings on one instance into 1 incident', async () => {
    const d = deps();
    const outcomes = (
      await Promise.all(
        Array.from({ length: 50 }, (_, i) => routeEvent(d, ec2Finding(`corr-${i}`, 'i-corr'))),
      )
    ).flat();
    const incidents = new Set(outcomes.map((o) => ('incidentId' in o ? o.incidentId : undefined)));
    expect(incidents.size).toBe(1);
    expect(outcomes.filter((o) => o.outcome === 'started')).toHaveLength(1);
    expect(outcomes.filter((o) => o.outcome === 'correlated')).toHaveLength(49);
    const [incidentId] = [...incidents];
    const steps = await t.runtime.recorder.steps(String(incidentId));
    expect(steps.filter((s) => s.action === 'correlate-finding')).toHaveLength(49);
    expect(executionsFor(String(incidentId))).toHaveLength(1);
  });

  it('with a limit of 5, contains 5 of 20 instances automatically and sends 15 to approval', async () => {
    const d = deps({ maxAutomaticContainmentsPerHour: 5 });
    const outcomes = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          routeEvent(d, ec2Finding(`storm-${i}`, `i-storm-${i}`, '222222222222')),
        ),
      )
    ).flat();
    const modes = outcomes.map((o) => (o.outcome === 'started' ? o.mode : o.outcome));
    expect(modes.filter((m) => m === 'automatic')).toHaveLength(5);
    expect(modes.filter((m) => m === 'approval-first')).toHaveLength(15);
    const limited = outcomes.find((o) => o.outcome === 'started' && o.mode === 'approval-first');
    expect(limited?.outcome === 'started' && limited.reasons.join(' ')).toMatch(
      /blast-radius limit reached: 5/,
    );
    // The execution input says so: the playbook waits for approval before it contains.
    const inputs = t.runtime.engine
      .executionList()
      .map((e) => e.input as { finding: { account: string }; mode: string })
      .filter((i) => i.finding.account === '222222222222');
    expect(inputs.filter((i) => i.mode === 'automatic')).toHaveLength(5);
  });

  it('sends a protected instance to approval', async () => {
    const d = deps();
    const event = ec2Finding('protected-1', 'i-protected') as {
      resource: { instanceDetails: { tags: { key: string; value: string }[] } };
    };
    event.resource.instanceDetails.tags.push({ key: 'cordon:protected', value: 'true' });
    const [outcome] = await routeEvent(d, event);
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    expect(outcome?.outcome === 'started' && outcome.reasons.join(' ')).toMatch(/protected/);
  });

  it('keeps an event it cannot handle, whole, with the reason', async () => {
    const d = deps();
    const event = fixture('cloudwatch/alarm-configuration-change-composite-create.json');
    const [outcome] = await routeEvent(d, event);
    expect(outcome).toMatchObject({ outcome: 'rejected' });
    const day = new Date().toISOString().slice(0, 10);
    const kept = await d.queries.rejections(day);
    const mine = kept.find((r) => r.reason.includes('configuration change'));
    expect(mine?.event).toEqual(event);
  });

  it('does not act on a finding from another account: a person must respond', async () => {
    const d = { ...deps(), home: { account: '123456789012', region: 'us-east-1' } };
    const [outcome] = await routeEvent(d, ec2Finding('other-account-1', 'i-elsewhere', '999999999999'));
    expect(outcome).toMatchObject({ outcome: 'no-action' });
    expect(outcome?.outcome === 'no-action' && outcome.reasons.join(' ')).toMatch(
      /acts only in 123456789012/,
    );
    expect(await d.queries.openIncidentFor('i-elsewhere')).toBeUndefined();
  });
});
