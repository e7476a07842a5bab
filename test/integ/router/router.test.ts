import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeSlots } from '#shared/audit-queries';
import { keys, resourceKey } from '#shared/audit-table';
import { RecordTamperedError } from '#shared/errors';
import { type OpenMarkerRef, openMarkersOf, releaseOpenMarkers } from '#shared/open-markers';
import type { SettingsInput } from '#shared/settings';
import { markIncident } from '../../../functions/actions/mark-incident/core.ts';
import { playbookEnded } from '../../../functions/playbook-ended/core.ts';
import { type RouteOutcome, type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { fixture } from '../../support/fixtures.ts';
import { ec2Finding, placeOf, routerDeps } from '../../support/router.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

let t: TestRuntime;
beforeAll(async () => {
  // The stand-in playbooks hold for 36 s: no execution ends, and frees its resources, while a test runs.
  t = await startTestRuntime({ scope: stubPlaybooksStack(), waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

function deps(settings: Partial<SettingsInput> = {}, now: () => Date = () => new Date()): RouterDeps {
  return routerDeps(t, settings, now);
}

interface AsffEvent {
  detail: {
    findings: { Id: string; Severity: { Label: string }; Resources: unknown[] }[];
  };
}

/**
 * The real Security Hub finding (AFSBP EC2.7), made HIGH, with an id of our choosing and its Resources an
 * S3 bucket first and an EC2 instance second: the policy's playbook is for the instance.
 */
function bucketThenInstance(id: string, bucket: string, instanceId: string): AsffEvent {
  const event = fixture('securityhub/imported-afsbp-ec2.7.json') as AsffEvent;
  const [asff] = event.detail.findings;
  if (asff === undefined) throw new Error('the fixture holds no finding');
  asff.Id = `${asff.Id}-${id}`;
  asff.Severity.Label = 'HIGH';
  asff.Resources = [
    { Type: 'AwsS3Bucket', Id: `arn:aws:s3:::${bucket}`, Partition: 'aws', Region: 'us-east-1' },
    {
      Type: 'AwsEc2Instance',
      Id: `arn:aws:ec2:us-east-1:111111111111:instance/${instanceId}`,
      Partition: 'aws',
      Region: 'us-east-1',
    },
  ];
  return event;
}

/** The ec2Finding's default place. */
const HERE = placeOf('123456789012');
const instance = (id: string) => ({ type: 'instance', id });

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
    const record = await d.queries.finding(HERE, 'dup-finding-1');
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
    expect(await d.queries.finding(HERE, 'dup-finding-2')).toMatchObject({
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
    const sentBefore = t.table.commands.length;
    const outcomes = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          routeEvent(d, ec2Finding(`storm-${i}`, `i-storm-${i}`, '222222222222')),
        ),
      )
    ).flat();
    // Bounded calls, no Scan: per finding, the lock with the marker's read and the slots' Query beside it,
    // and one Query more each time a slot it chose was taken first (at most once per slot). (The record's
    // transactions go through the runtime's own client.)
    const sent = t.table.commands.slice(sentBefore);
    expect(sent).not.toContain('ScanCommand');
    expect(sent.length).toBeLessThanOrEqual(20 * (3 + 5));
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
    // The five slots are held by the five automatic incidents, one each.
    const automatic = outcomes.flatMap((o) => (o.outcome === 'started' && o.mode === 'automatic' ? [o] : []));
    const holders = await d.queries.automaticContainments('222222222222', new Date());
    expect(holders.map((h) => h.incidentId).sort()).toEqual(automatic.map((o) => o.incidentId).sort());
    expect(new Set(holders.map((h) => h.slot))).toEqual(new Set([0, 1, 2, 3, 4]));
  });

  it('acts on the resource the policy chose', async () => {
    const d = deps();
    const [outcome] = await routeEvent(
      d,
      bucketThenInstance('chosen-1', 'chosen-logs-1', 'i-0chosen00000001'),
    );
    expect(outcome).toMatchObject({ outcome: 'started', playbook: 'ec2-compromise', mode: 'automatic' });
    const incidentId = outcome?.outcome === 'started' ? outcome.incidentId : '';
    // The execution acts on the instance, not on the bucket the finding listed first.
    const [execution] = executionsFor(incidentId);
    expect((execution?.input as { resource?: unknown } | undefined)?.resource).toMatchObject({
      type: 'instance',
      id: 'i-0chosen00000001',
    });
    const asff = placeOf('111111111111');
    expect(await d.queries.openIncidentFor(asff, instance('i-0chosen00000001'))).toBe(incidentId);
    expect(await d.queries.openIncidentFor(asff, { type: 's3-bucket', id: 'chosen-logs-1' })).toBeUndefined();
    const incident = await t.runtime.recorder.getIncident(incidentId);
    expect(incident.resources.map((r) => `${r.type} ${r.id}`)).toEqual([
      'instance i-0chosen00000001',
      's3-bucket chosen-logs-1',
    ]);
    expect(incident.title).toBe(
      'EC2.7 EBS default encryption should be enabled (instance i-0chosen00000001)',
    );
    const [triage] = await t.runtime.recorder.steps(incidentId);
    expect(triage).toMatchObject({
      action: 'triage',
      changes: { playbook: 'ec2-compromise', resource: { type: 'instance', id: 'i-0chosen00000001' } },
    });
  });

  it('correlates a later finding on the chosen resource', async () => {
    const d = deps();
    const [first] = await routeEvent(d, bucketThenInstance('chosen-2', 'chosen-logs-2', 'i-0chosen00000002'));
    const incidentId = first?.outcome === 'started' ? first.incidentId : 'not started';
    const [later] = await routeEvent(d, ec2Finding('chosen-2-later', 'i-0chosen00000002', '111111111111'));
    expect(later).toMatchObject({ outcome: 'correlated', incidentId });
    expect(executionsFor(incidentId)).toHaveLength(1);
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.filter((s) => s.action === 'correlate-finding')).toHaveLength(1);
  });

  it('counts the blast radius over the last 60 minutes, not the clock hour', async () => {
    let now = new Date('2026-03-02T10:59:59.000Z');
    // The record keeps the router's time: an expired slot is checked against its holder's record.
    const d = {
      ...deps({ maxAutomaticContainmentsPerHour: 5 }, () => now),
      recorder: t.table.recorder({ clock: () => now.toISOString() }),
    };
    const route = async (batch: string, count: number) =>
      (
        await Promise.all(
          Array.from({ length: count }, (_, i) =>
            routeEvent(d, ec2Finding(`window-${batch}-${i}`, `i-window-${batch}-${i}`, '333333333333')),
          ),
        )
      )
        .flat()
        .map((o) => {
          if (o.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(o)}`);
          return o;
        });

    const first = await route('a', 5);
    expect(first.map((o) => o.mode)).toEqual(Array(5).fill('automatic'));

    now = new Date('2026-03-02T11:00:00.000Z');
    const second = await route('b', 5);
    expect(second.map((o) => o.mode)).toEqual(Array(5).fill('approval-first'));
    for (const outcome of second) {
      const reason = outcome.reasons.find((r) => r.startsWith('blast-radius limit reached'));
      expect(reason).toMatch(
        /^blast-radius limit reached: 5 automatic containments in 333333333333 in the last 60 minutes \(.*\): sent to a person$/,
      );
      // It names the five that used the limit: each incident, on its instance, at the time it was taken.
      for (const used of first) {
        const instance = `i-window-a-${used.findingId.slice('window-a-'.length)}`;
        expect(reason).toContain(`${used.incidentId} on ${instance} at 2026-03-02T10:59:59.000Z`);
      }
    }
    // The execution input carries the reason, for the approval email.
    const input = executionsFor(second[0]?.incidentId ?? '')[0]?.input as { mode: string; reasons: string[] };
    expect(input.mode).toBe('approval-first');
    expect(input.reasons.join(' ')).toContain(`${first[0]?.incidentId} on i-window-a-`);

    now = new Date('2026-03-02T11:59:58.999Z');
    expect((await route('c', 1)).map((o) => o.mode)).toEqual(['approval-first']);

    now = new Date('2026-03-02T12:00:00.000Z');
    const third = await route('d', 5);
    expect(third.map((o) => o.mode)).toEqual(Array(5).fill('automatic'));
    expect((await route('e', 1)).map((o) => o.mode)).toEqual(['approval-first']);
  });

  it('keeps the blast-radius slot a dead delivery took when it takes the delivery over, and takes no second', async () => {
    const now = new Date('2026-03-02T10:00:00.000Z');
    const d = { ...deps({ maxAutomaticContainmentsPerHour: 1 }, () => now), staleAfterMs: 1000 };
    // A delivery that took the account's one slot, then died before it started the playbook.
    const claim = await d.queries.claimFinding({
      place: placeOf('444444444444'),
      findingId: 'takeover-1',
      incidentId: 'takeover-inc',
      count: 1,
      lastSeen: now.toISOString(),
      claimedAt: '2026-03-02T09:59:00.000Z',
    });
    expect(claim).toEqual({ first: true });
    // The slot alone, as a router that reserved before opening left it (the opening now writes both).
    const [free] = freeSlots(await d.queries.automaticSlots('444444444444', now), 1, 'takeover-inc');
    expect(free).toEqual({ slot: 0 });
    await t.table.doc.send(
      new TransactWriteCommand({
        TransactItems: [d.queries.slotWrite('444444444444', { slot: 0 }, 'takeover-inc', 'i-takeover', now)],
      }),
    );
    expect(await d.queries.automaticContainments('444444444444', now)).toMatchObject([
      { slot: 0, incidentId: 'takeover-inc' },
    ]);

    const [retry] = await routeEvent(d, ec2Finding('takeover-1', 'i-takeover', '444444444444'));
    expect(retry).toMatchObject({ outcome: 'started', incidentId: 'takeover-inc', mode: 'automatic' });
    const [other] = await routeEvent(d, ec2Finding('takeover-2', 'i-takeover-other', '444444444444'));
    expect(other).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    expect(other?.outcome === 'started' && other.reasons.join(' ')).toContain(
      '(takeover-inc on i-takeover at 2026-03-02T10:00:00.000Z)',
    );
    expect(await d.queries.automaticContainments('444444444444', now)).toHaveLength(1);
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

  it('does not act on a finding from an account out of scope: a person must respond', async () => {
    const d = { ...deps(), home: HERE };
    const [outcome] = await routeEvent(d, ec2Finding('other-account-1', 'i-elsewhere', '999999999999'));
    expect(outcome).toMatchObject({ outcome: 'no-action' });
    expect(outcome?.outcome === 'no-action' && outcome.reasons.join(' ')).toMatch(
      /account 999999999999 is not in scope: not the hub 123456789012/,
    );
    expect(await d.queries.openIncidentFor(placeOf('999999999999'), instance('i-elsewhere'))).toBeUndefined();
  });
});

/** The incident a routed finding opened (or joined), or a failure naming the outcome. */
function incidentOf(outcome: RouteOutcome | undefined): string {
  if (outcome?.outcome !== 'started' && outcome?.outcome !== 'correlated')
    throw new Error(`neither started nor correlated: ${JSON.stringify(outcome)}`);
  return outcome.incidentId;
}

/** What a forger with the table does to correlation: points a resource's open marker at any incident. */
async function forgeMarker(resourceId: string, incidentId: string): Promise<void> {
  await t.table.doc.send(
    new PutCommand({
      TableName: t.table.tableName,
      Item: { ...keys.openMarker(resourceKey(HERE, instance(resourceId))), incidentId, resourceId },
    }),
  );
}

/** The incident the open marker of an instance of the default place names. */
const openFor = (instanceId: string) => routerDeps(t).queries.openIncidentFor(HERE, instance(instanceId));

/** What a forger does to an incident item: sets a field, as an UpdateItem would. */
async function editIncident(incidentId: string, field: string, value: unknown): Promise<void> {
  await t.table.doc.send(
    new UpdateCommand({
      TableName: t.table.tableName,
      Key: keys.incident(incidentId),
      UpdateExpression: 'SET #f = :v',
      ExpressionAttributeNames: { '#f': field },
      ExpressionAttributeValues: { ':v': value },
    }),
  );
}

/** What a forger does to a blast-radius slot: dates it, or names another holder. */
async function editSlot(account: string, slot: number, fields: Record<string, string>): Promise<void> {
  const names = Object.keys(fields);
  await t.table.doc.send(
    new UpdateCommand({
      TableName: t.table.tableName,
      Key: keys.automaticSlot(account, slot),
      UpdateExpression: `SET ${names.map((_, i) => `#f${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#f${i}`, n])),
      ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, fields[n]])),
    }),
  );
}

const triageNote = async (incidentId: string) =>
  (await t.runtime.recorder.steps(incidentId)).find((s) => s.action === 'triage')?.note ?? '';

describe('the router against a forger with the table', () => {
  it('opens a new incident when the open marker names a closed incident, and says so', async () => {
    const d = deps();
    const closed = incidentOf((await routeEvent(d, ec2Finding('forged-closed-1', 'i-forged-closed')))[0]);
    await t.runtime.recorder.updateIncident(closed, { status: 'closed', closedAt: new Date().toISOString() });
    await releaseOpenMarkers(
      t.table.doc,
      t.table.tableName,
      closed,
      openMarkersOf(HERE, [instance('i-forged-closed')]),
    );
    await forgeMarker('i-forged-victim', closed);

    const [outcome] = await routeEvent(d, ec2Finding('forged-closed-2', 'i-forged-victim'));
    expect(outcome).toMatchObject({ outcome: 'started', playbook: 'ec2-compromise' });
    const opened = incidentOf(outcome);
    expect(opened).not.toBe(closed);
    expect(executionsFor(opened)).toHaveLength(1);
    expect(await openFor('i-forged-victim')).toBe(opened);
    expect(outcome?.outcome === 'started' && outcome.reasons.join(' ')).toContain(
      `the open-resource marker of i-forged-victim named incident ${closed}, which is closed`,
    );
    // The closed incident was not written to.
    expect((await t.runtime.recorder.steps(closed)).some((s) => s.action === 'correlate-finding')).toBe(
      false,
    );
  });

  it('opens a new incident when the open marker names an incident whose record does not verify, and records why', async () => {
    const d = deps();
    const first = incidentOf((await routeEvent(d, ec2Finding('forged-edited-1', 'i-forged-edited')))[0]);
    // The incident is open and on the instance, but its item was edited: its record does not verify.
    await editIncident(first, 'severity', 1);

    const [outcome] = await routeEvent(d, ec2Finding('forged-edited-2', 'i-forged-edited'));
    expect(outcome).toMatchObject({ outcome: 'started' });
    const opened = incidentOf(outcome);
    expect(opened).not.toBe(first);
    expect(await openFor('i-forged-edited')).toBe(opened);
    const note = await triageNote(opened);
    expect(note).toContain(
      `the open-resource marker of i-forged-edited named incident ${first}, whose record does not verify (incident-edited`,
    );
    expect(await d.queries.finding(HERE, 'forged-edited-2')).toMatchObject({
      incidentId: opened,
      decision: { reasons: expect.arrayContaining([expect.stringContaining('does not verify')]) },
    });
  });

  it('opens a new incident when the open marker names an open incident on another resource, or none', async () => {
    const d = deps();
    const elsewhere = incidentOf((await routeEvent(d, ec2Finding('forged-other-1', 'i-forged-other')))[0]);
    await forgeMarker('i-forged-target', elsewhere);
    await forgeMarker('i-forged-nothing', 'no-such-incident');

    const [other, nothing] = await Promise.all([
      routeEvent(d, ec2Finding('forged-other-2', 'i-forged-target')).then((o) => o[0]),
      routeEvent(d, ec2Finding('forged-other-3', 'i-forged-nothing')).then((o) => o[0]),
    ]);
    expect(other).toMatchObject({ outcome: 'started' });
    expect(incidentOf(other)).not.toBe(elsewhere);
    expect(other?.outcome === 'started' && other.reasons.join(' ')).toContain(
      `named incident ${elsewhere}, which is not on i-forged-target`,
    );
    expect(nothing).toMatchObject({ outcome: 'started' });
    expect(nothing?.outcome === 'started' && nothing.reasons.join(' ')).toContain(
      'named incident no-such-incident, which does not exist',
    );
    expect(await openFor('i-forged-nothing')).toBe(incidentOf(nothing));
  });

  it('turns 20 concurrent findings on a resource with a forged marker into 1 new incident that the rest join', async () => {
    const d = deps();
    const closed = incidentOf((await routeEvent(d, ec2Finding('forged-storm-0', 'i-forged-storm-0')))[0]);
    await t.runtime.recorder.updateIncident(closed, { status: 'closed', closedAt: new Date().toISOString() });
    await forgeMarker('i-forged-storm', closed);

    const outcomes = (
      await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          routeEvent(d, ec2Finding(`forged-storm-${i + 1}`, 'i-forged-storm')),
        ),
      )
    ).flat();
    const started = outcomes.filter((o) => o.outcome === 'started');
    expect(started).toHaveLength(1);
    const opened = incidentOf(started[0]);
    expect(outcomes.filter((o) => o.outcome === 'correlated').map((o) => incidentOf(o))).toEqual(
      Array(19).fill(opened),
    );
    expect(await openFor('i-forged-storm')).toBe(opened);
    expect(
      (await t.runtime.recorder.steps(opened)).filter((s) => s.action === 'correlate-finding'),
    ).toHaveLength(19);
  });

  it('keeps no marker behind when closing an incident whose resources were edited: closing fails, and the next finding opens a new incident', async () => {
    const d = deps();
    const victim = incidentOf((await routeEvent(d, ec2Finding('forged-list-1', 'i-forged-list')))[0]);
    // The forger takes the instance off the incident's list, so that closing would not release its marker.
    await editIncident(victim, 'resources', [{ type: 'instance', id: 'i-somewhere-else' }]);

    const closing = markIncident(
      {
        recorder: t.runtime.recorder,
        // Never reached: a record that does not verify releases nothing (else this error, not the refusal).
        releaseOpen: async () => {
          throw new Error('released the markers of a record that does not verify');
        },
        now: () => new Date(),
      },
      { incidentId: victim, status: 'closed' },
    );
    await expect(closing).rejects.toBeInstanceOf(RecordTamperedError);
    expect(await openFor('i-forged-list')).toBe(victim);

    const [later] = await routeEvent(d, ec2Finding('forged-list-2', 'i-forged-list'));
    expect(later).toMatchObject({ outcome: 'started' });
    expect(incidentOf(later)).not.toBe(victim);
    expect(await openFor('i-forged-list')).toBe(incidentOf(later));
  });

  it('releases nothing at the end of a playbook whose incident was edited, records the refusal, and fails', async () => {
    const d = deps();
    const victim = incidentOf((await routeEvent(d, ec2Finding('forged-end-1', 'i-forged-end')))[0]);
    await editIncident(victim, 'resources', [{ type: 'instance', id: 'i-somewhere-else' }]);
    const [execution] = executionsFor(victim);
    const event = {
      detail: {
        executionArn: execution?.arn ?? 'no execution',
        stateMachineArn: execution?.stateMachineArn ?? 'no state machine',
        status: 'SUCCEEDED',
        input: JSON.stringify({ incidentId: victim }),
      },
    };
    const ended = {
      recorder: t.runtime.recorder,
      releaseOpen: (incidentId: string, markers: readonly OpenMarkerRef[]) =>
        releaseOpenMarkers(t.table.doc, t.table.tableName, incidentId, markers),
    };
    await expect(playbookEnded(ended, event)).rejects.toBeInstanceOf(RecordTamperedError);
    // A retry of the event records nothing more.
    await expect(playbookEnded(ended, event)).rejects.toBeInstanceOf(RecordTamperedError);
    const refusals = (await t.runtime.recorder.steps(victim)).filter((s) => s.action === 'playbook-ended');
    expect(refusals).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: expect.objectContaining({ name: 'RecordTamperedError' }),
        changes: { status: 'SUCCEEDED', releasedOpenMarkers: [] },
      }),
    ]);

    const [later] = await routeEvent(d, ec2Finding('forged-end-2', 'i-forged-end'));
    expect(later).toMatchObject({ outcome: 'started' });
    expect(incidentOf(later)).not.toBe(victim);
  });
});

describe('the blast-radius limit against a forger with the table', () => {
  const ACCOUNT = '555555555555';

  it('still counts the slots a forger dated back: the next finding goes to a person', async () => {
    const d = deps({ maxAutomaticContainmentsPerHour: 2 });
    const route = async (id: string) => (await routeEvent(d, ec2Finding(id, `i-${id}`, ACCOUNT)))[0];
    const first = await Promise.all([route('back-1'), route('back-2')]);
    expect(first.map((o) => o?.outcome === 'started' && o.mode)).toEqual(['automatic', 'automatic']);
    for (const slot of [0, 1]) await editSlot(ACCOUNT, slot, { takenAt: '2001-01-01T00:00:00.000Z' });

    const third = await route('back-3');
    expect(third).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    const reasons = third?.outcome === 'started' ? third.reasons.join(' ') : '';
    expect(reasons).toMatch(/blast-radius limit reached: 2 automatic containments/);
    for (const o of first)
      expect(reasons).toContain(
        `says ${incidentOf(o)} took it at 2001-01-01T00:00:00.000Z, but its record shows it contained automatically at`,
      );
    // Neither slot was taken from its holder.
    const slots = await d.queries.automaticSlots(ACCOUNT, new Date());
    expect(slots.expired.map((h) => h.incidentId).sort()).toEqual(first.map((o) => incidentOf(o)).sort());
  });

  it('counts a slot dated in the future or naming no incident, and says why', async () => {
    const account = '666666666666';
    const d = deps({ maxAutomaticContainmentsPerHour: 2 });
    await editSlot(account, 0, {
      takenAt: '2999-01-01T00:00:00.000Z',
      incidentId: 'no-such-1',
      resourceId: 'i-x',
    });
    await editSlot(account, 1, {
      takenAt: '2001-01-01T00:00:00.000Z',
      incidentId: 'no-such-2',
      resourceId: 'i-y',
    });

    const [outcome] = await routeEvent(d, ec2Finding('slot-forged-1', 'i-slot-forged-1', account));
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    const reasons = outcome?.outcome === 'started' ? outcome.reasons.join(' ') : '';
    expect(reasons).toContain(
      `blast-radius slot 0 of ${account} says no-such-1 took it at 2999-01-01T00:00:00.000Z, later than now`,
    );
    expect(reasons).toContain(
      `blast-radius slot 1 of ${account} says no-such-2 took it at 2001-01-01T00:00:00.000Z, but no such incident exists`,
    );
  });

  it('takes over a slot whose holder contained more than 60 minutes ago, as its record shows', async () => {
    const account = '777777777777';
    let now = new Date('2026-03-02T10:00:00.000Z');
    const d = {
      ...deps({ maxAutomaticContainmentsPerHour: 1 }, () => now),
      recorder: t.table.recorder({ clock: () => now.toISOString() }),
    };
    const [first] = await routeEvent(d, ec2Finding('slot-expired-1', 'i-slot-expired-1', account));
    expect(first).toMatchObject({ outcome: 'started', mode: 'automatic' });
    now = new Date('2026-03-02T11:00:00.001Z');
    const [second] = await routeEvent(d, ec2Finding('slot-expired-2', 'i-slot-expired-2', account));
    expect(second).toMatchObject({ outcome: 'started', mode: 'automatic' });
    expect((await d.queries.automaticContainments(account, now)).map((h) => h.incidentId)).toEqual([
      incidentOf(second),
    ]);
  });
});
