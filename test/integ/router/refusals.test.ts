/**
 * The router's opening transaction refused, on DynamoDB Local and the engine: a delivery is held just
 * before it opens (its reads made, its transaction not yet sent) while another routes, so that each
 * condition of the opening fails for certain, and the refusal's reason is what the router acts on: the
 * finding taken over → a duplicate, the marker taken → the finding joins, the slot taken → another slot or
 * a person. And a start that fails is recorded as failed, and taken over by the next delivery.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { freeSlots } from '#shared/audit-queries';
import type { SettingsInput } from '#shared/settings';
import { type RouteOutcome, type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { ec2Finding, placeOf, routerDeps } from '../../support/router.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: stubPlaybooksStack(), waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

function deps(settings: Partial<SettingsInput> = {}, now: () => Date = () => new Date()): RouterDeps {
  return { ...routerDeps(t, settings, now), recorder: t.table.recorder() };
}

/**
 * A recorder whose first opening waits until released: the delivery has made its reads and decided, and
 * sends its transaction only once another delivery has routed.
 */
function heldAtOpening(recorder: AuditRecorder): {
  recorder: AuditRecorder;
  reached: Promise<void>;
  release: () => void;
} {
  let release = () => {};
  let arrive = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const reached = new Promise<void>((resolve) => {
    arrive = resolve;
  });
  const held = new Proxy(recorder, {
    get(target, property) {
      if (property === 'openIncidentWith') {
        return async (...args: Parameters<AuditRecorder['openIncidentWith']>) => {
          arrive();
          await gate;
          return target.openIncidentWith(...args);
        };
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { recorder: held, reached, release };
}

const executionsFor = (incidentId: string) =>
  t.runtime.engine
    .executionList()
    .filter((e) => (e.input as { incidentId?: string }).incidentId === incidentId);

function incidentOf(outcome: RouteOutcome | undefined): string {
  if (outcome?.outcome !== 'started' && outcome?.outcome !== 'correlated')
    throw new Error(`neither started nor correlated: ${JSON.stringify(outcome)}`);
  return outcome.incidentId;
}

describe('the opening refused, and what the router does about it', () => {
  it('writes nothing for a delivery that stalled and was taken over: the one that took it over opens', async () => {
    const stalled = heldAtOpening(t.table.recorder());
    const slow = { ...deps(), recorder: stalled.recorder };
    const first = routeEvent(slow, ec2Finding('refused-finding-1', 'i-refused-finding-1'));
    await stalled.reached;
    // A minute later the delivery counts as dead (45 s), and the retry takes it over.
    const later = deps({}, () => new Date(Date.now() + 60_000));
    const [retry] = await routeEvent(later, ec2Finding('refused-finding-1', 'i-refused-finding-1'));
    expect(retry).toMatchObject({ outcome: 'started', mode: 'automatic' });
    stalled.release();
    const [outcome] = await first;
    const incidentId = incidentOf(retry);
    expect(outcome).toMatchObject({ outcome: 'duplicate', incidentId });
    expect(executionsFor(incidentId)).toHaveLength(1);
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => s.action)).toEqual(['triage', 'start-playbook']);
    expect(await slow.queries.finding(placeOf('123456789012'), 'refused-finding-1')).toMatchObject({
      incidentId,
      status: 'routed',
    });
    expect((await t.runtime.recorder.verify(incidentId)).ok).toBe(true);
  });

  it('joins the incident that took the marker while it decided', async () => {
    const held = heldAtOpening(t.table.recorder());
    const slow = { ...deps(), recorder: held.recorder };
    const first = routeEvent(slow, ec2Finding('refused-marker-1', 'i-refused-marker'));
    await held.reached;
    const [other] = await routeEvent(deps(), ec2Finding('refused-marker-2', 'i-refused-marker'));
    held.release();
    const [outcome] = await first;
    const incidentId = incidentOf(other);
    expect(other).toMatchObject({ outcome: 'started' });
    expect(outcome).toMatchObject({ outcome: 'correlated', incidentId });
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => s.action)).toEqual(['triage', 'start-playbook', 'correlate-finding']);
    expect(await slow.queries.finding(placeOf('123456789012'), 'refused-marker-1')).toMatchObject({
      incidentId,
      status: 'routed',
    });
    expect(executionsFor(incidentId)).toHaveLength(1);
  });

  it('sends the finding to a person when the last slot was taken while it decided, naming who took it', async () => {
    const account = '820000000001';
    const held = heldAtOpening(t.table.recorder());
    const slow = { ...deps({ maxAutomaticContainmentsPerHour: 1 }), recorder: held.recorder };
    const first = routeEvent(slow, ec2Finding('refused-slot-1', 'i-refused-slot-1', account));
    await held.reached;
    const [other] = await routeEvent(
      deps({ maxAutomaticContainmentsPerHour: 1 }),
      ec2Finding('refused-slot-2', 'i-refused-slot-2', account),
    );
    expect(other).toMatchObject({ outcome: 'started', mode: 'automatic' });
    held.release();
    const [outcome] = await first;
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'approval-first' });
    expect(outcome?.outcome === 'started' && outcome.reasons.join(' ')).toMatch(
      new RegExp(
        `blast-radius limit reached: 1 automatic containments in ${account} .*\\(${incidentOf(other)} on i-refused-slot-2 at `,
      ),
    );
    // Its record says what the playbook was started with: approval first.
    const [triage] = await t.runtime.recorder.steps(incidentOf(outcome));
    expect(triage).toMatchObject({ action: 'triage', changes: { mode: 'approval-first' } });
    expect((await slow.queries.automaticContainments(account, new Date())).map((h) => h.incidentId)).toEqual([
      incidentOf(other),
    ]);
  });

  it('takes another free slot when the one it chose was taken while it decided', async () => {
    const account = '820000000002';
    const none = { holders: [], expired: [] };
    // The held delivery's incident, and another whose first choice is the same slot.
    const held = heldAtOpening(t.table.recorder());
    const chosen = freeSlots(none, 2, 'refused-slot-a')[0]?.slot;
    const rival = Array.from({ length: 50 }, (_, i) => `refused-slot-b${i}`).find(
      (id) => freeSlots(none, 2, id)[0]?.slot === chosen,
    );
    if (rival === undefined) throw new Error('no incident id chooses the same slot');
    const slow = {
      ...deps({ maxAutomaticContainmentsPerHour: 2 }),
      recorder: held.recorder,
      ids: () => 'refused-slot-a',
    };
    const first = routeEvent(slow, ec2Finding('refused-slot-3', 'i-refused-slot-3', account));
    await held.reached;
    const [other] = await routeEvent(
      { ...deps({ maxAutomaticContainmentsPerHour: 2 }), ids: () => rival },
      ec2Finding('refused-slot-4', 'i-refused-slot-4', account),
    );
    expect(other).toMatchObject({ outcome: 'started', mode: 'automatic', incidentId: rival });
    held.release();
    const [outcome] = await first;
    expect(outcome).toMatchObject({ outcome: 'started', mode: 'automatic', incidentId: 'refused-slot-a' });
    const holders = await slow.queries.automaticContainments(account, new Date());
    expect(Object.fromEntries(holders.map((h) => [h.slot, h.incidentId]))).toEqual({
      [String(chosen)]: rival,
      [String(1 - (chosen ?? 0))]: 'refused-slot-a',
    });
  });

  it('records a start that failed, and the next delivery takes the finding over and starts it', async () => {
    const failing = deps();
    const sfn = failing.sfn;
    let refuse = true;
    const flaky: RouterDeps = {
      ...failing,
      sfn: {
        send: ((command: Parameters<SFNClient['send']>[0]) => {
          if (refuse) {
            refuse = false;
            return Promise.reject(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
          }
          return sfn.send(command);
        }) as SFNClient['send'],
      },
    };
    const event = ec2Finding('refused-start-1', 'i-refused-start-1');
    await expect(routeEvent(flaky, structuredClone(event))).rejects.toThrow(/Rate exceeded/);
    expect(await flaky.queries.finding(placeOf('123456789012'), 'refused-start-1')).toMatchObject({
      status: 'failed',
    });
    const [retry] = await routeEvent(flaky, event);
    expect(retry).toMatchObject({ outcome: 'started' });
    const incidentId = incidentOf(retry);
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.map((s) => [s.action, s.status])).toEqual([
      ['triage', 'succeeded'],
      ['start-playbook', 'failed'],
      ['triage', 'succeeded'],
      ['start-playbook', 'succeeded'],
    ]);
    expect(steps[1]?.error).toMatchObject({ name: 'ThrottlingException', message: 'Rate exceeded' });
    expect(executionsFor(incidentId)).toHaveLength(1);
    expect(await flaky.queries.finding(placeOf('123456789012'), 'refused-start-1')).toMatchObject({
      incidentId,
      status: 'routed',
    });
    expect((await t.runtime.recorder.verify(incidentId)).ok).toBe(true);
  });
});
