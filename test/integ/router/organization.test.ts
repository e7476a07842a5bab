/**
 * The router in an organization, on DynamoDB Local and the engine: a finding out of scope (an account not
 * named, an excluded one, a region not covered) is recorded with why and starts nothing; the record's keys
 * tell accounts apart (the same finding id, instance id or key id in two accounts never meet), and a global
 * resource (an access key) is one resource in every region of its account.
 */
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keys, resourceKey } from '#shared/audit-table';
import type { SettingsInput } from '#shared/settings';
import { type RouteOutcome, type RouterDeps, routeEvent } from '../../../functions/router/core.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { ec2Finding, iamFinding, placeOf, routerDeps } from '../../support/router.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const HUB = placeOf('123456789012');
const MEMBER = '210987654321';
const EXCLUDED = '333333333333';
const STRANGER = '999999999999';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: stubPlaybooksStack(), waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

/** The hub's router, with a member in scope, one account excluded and one more region covered. */
function hubDeps(organization: SettingsInput['organization'] = {}): RouterDeps {
  return {
    ...routerDeps(t, {
      organization: {
        id: 'o-a1b2c3d4e5',
        externalId: 'cordon-external-id',
        accounts: [MEMBER, EXCLUDED],
        excludedAccounts: [EXCLUDED],
        regions: ['eu-west-1'],
        ...organization,
      },
    }),
    home: HUB,
  };
}

const executionsFor = (incidentId: string) =>
  t.runtime.engine
    .executionList()
    .filter((e) => (e.input as { incidentId?: string }).incidentId === incidentId);

function started(outcome: RouteOutcome | undefined): Extract<RouteOutcome, { outcome: 'started' }> {
  if (outcome?.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(outcome)}`);
  return outcome;
}

const instance = (id: string) => ({ type: 'instance', id });

describe('a finding out of scope', () => {
  it.each([
    ['an account not in scope', STRANGER, 'us-east-1', `account ${STRANGER} is not in scope: not the hub`],
    [
      'an excluded account',
      EXCLUDED,
      'us-east-1',
      `account ${EXCLUDED} is excluded (organization.excludedAccounts)`,
    ],
    [
      'a region not covered',
      MEMBER,
      'ap-south-1',
      'region ap-south-1 is not covered (organization.regions): Cordon acts in us-east-1, eu-west-1',
    ],
  ])('is recorded with why, and starts nothing: %s', async (what, account, region, reason) => {
    const d = hubDeps();
    const id = `scope-${what.replaceAll(' ', '-')}`;
    const instanceId = `i-scope-${account}`;
    const executionsBefore = t.runtime.engine.executionList().length;
    const [outcome] = await routeEvent(d, ec2Finding(id, instanceId, account, undefined, region));
    expect(outcome).toMatchObject({ outcome: 'no-action', findingId: id });
    // The policy's reasons (what it would have done), then why nothing starts.
    const last = outcome?.outcome === 'no-action' ? (outcome.reasons.at(-1) ?? '') : '';
    expect(last.startsWith(reason)).toBe(true);
    expect(last).toMatch(/: nothing starts, a person must respond$/);
    expect(outcome?.outcome === 'no-action' && outcome.reasons[0]).toMatch(
      /^playbook ec2-compromise for instance/,
    );
    // The finding is recorded in its place with the decision; no incident, marker or execution.
    expect(await d.queries.finding(placeOf(account, region), id)).toMatchObject({
      findingId: id,
      status: 'routed',
      decision: {
        playbook: null,
        mode: 'none',
        reasons: expect.arrayContaining([expect.stringContaining(reason)]),
      },
    });
    expect(await d.queries.openIncidentFor(placeOf(account, region), instance(instanceId))).toBeUndefined();
    expect((await d.queries.incidentIdsByResource(instanceId)).items).toEqual([]);
    expect(t.runtime.engine.executionList()).toHaveLength(executionsBefore);
  });

  it('is acted on in the hub, a member named and a region covered', async () => {
    const d = hubDeps();
    const outcomes = await Promise.all(
      [
        [HUB.account, 'us-east-1'],
        [MEMBER, 'us-east-1'],
        [MEMBER, 'eu-west-1'],
      ].map(([account = '', region = ''], i) =>
        routeEvent(d, ec2Finding(`scope-in-${i}`, `i-scope-in-${i}`, account, undefined, region)),
      ),
    );
    for (const [outcome] of outcomes) expect(started(outcome).mode).toBe('automatic');
  });

  it('is excluded without a hub too (the local runtime), while any other place is acted on', async () => {
    const d = { ...hubDeps(), home: undefined };
    const [excluded] = await routeEvent(d, ec2Finding('scope-nohub-1', 'i-scope-nohub-1', EXCLUDED));
    expect(excluded).toMatchObject({ outcome: 'no-action' });
    const [elsewhere] = await routeEvent(
      d,
      ec2Finding('scope-nohub-2', 'i-scope-nohub-2', STRANGER, undefined, 'ap-south-1'),
    );
    expect(started(elsewhere).mode).toBe('automatic');
  });
});

describe("the record's keys in an organization", () => {
  it('opens two incidents for the same instance id in two accounts, and each later finding joins its own', async () => {
    const d = hubDeps();
    const [hub, member] = await Promise.all([
      routeEvent(d, ec2Finding('keys-instance-hub', 'i-0same00000000001', HUB.account)),
      routeEvent(d, ec2Finding('keys-instance-member', 'i-0same00000000001', MEMBER)),
    ]);
    const inHub = started(hub?.[0]).incidentId;
    const inMember = started(member?.[0]).incidentId;
    expect(inHub).not.toBe(inMember);
    expect(executionsFor(inHub)).toHaveLength(1);
    expect(executionsFor(inMember)).toHaveLength(1);
    expect(await d.queries.openIncidentFor(HUB, instance('i-0same00000000001'))).toBe(inHub);
    expect(await d.queries.openIncidentFor(placeOf(MEMBER), instance('i-0same00000000001'))).toBe(inMember);
    expect((await t.runtime.recorder.getIncident(inMember)).account).toBe(MEMBER);

    const [later] = await routeEvent(d, ec2Finding('keys-instance-member-2', 'i-0same00000000001', MEMBER));
    expect(later).toMatchObject({ outcome: 'correlated', incidentId: inMember });
  });

  it("opens a new incident when a member's marker is forged to name the hub's incident on the same instance id", async () => {
    const d = hubDeps();
    const [hub] = await routeEvent(d, ec2Finding('keys-forged-hub', 'i-0forged0000000001', HUB.account));
    const inHub = started(hub).incidentId;
    // What a forger with the table does: points the member's marker of that id at the hub's incident.
    const memberPlace = placeOf(MEMBER);
    await t.table.doc.send(
      new PutCommand({
        TableName: t.table.tableName,
        Item: {
          ...keys.openMarker(resourceKey(memberPlace, instance('i-0forged0000000001'))),
          incidentId: inHub,
          resourceId: 'i-0forged0000000001',
        },
      }),
    );
    const [member] = await routeEvent(d, ec2Finding('keys-forged-member', 'i-0forged0000000001', MEMBER));
    const inMember = started(member).incidentId;
    expect(inMember).not.toBe(inHub);
    expect(started(member).reasons.join(' ')).toContain(
      `named incident ${inHub}, which is in ${HUB.account}/us-east-1, not on the i-0forged0000000001 of ${MEMBER}/us-east-1`,
    );
    expect(await d.queries.openIncidentFor(memberPlace, instance('i-0forged0000000001'))).toBe(inMember);
    expect((await t.runtime.recorder.steps(inHub)).some((s) => s.action === 'correlate-finding')).toBe(false);
  });

  it('opens one incident for the same access key in two regions of one account', async () => {
    const d = hubDeps();
    const [east] = await routeEvent(
      d,
      iamFinding('keys-key-east', 'AKIASAMEKEY0000001', MEMBER, 'us-east-1'),
    );
    const incidentId = started(east).incidentId;
    const [west] = await routeEvent(
      d,
      iamFinding('keys-key-west', 'AKIASAMEKEY0000001', MEMBER, 'eu-west-1'),
    );
    expect(west).toMatchObject({ outcome: 'correlated', incidentId });
    expect(executionsFor(incidentId)).toHaveLength(1);
    const steps = await t.runtime.recorder.steps(incidentId);
    expect(steps.filter((s) => s.action === 'correlate-finding')).toHaveLength(1);
    // The marker is the account's, whatever the region it is read from.
    expect(
      await d.queries.openIncidentFor(placeOf(MEMBER, 'eu-west-1'), {
        type: 'access-key',
        id: 'AKIASAMEKEY0000001',
      }),
    ).toBe(incidentId);
  });

  it('opens two incidents for the same access key id in two accounts', async () => {
    const d = hubDeps();
    const [hub] = await routeEvent(
      d,
      iamFinding('keys-key-hub', 'AKIASAMEKEY0000002', HUB.account, 'us-east-1'),
    );
    const [member] = await routeEvent(
      d,
      iamFinding('keys-key-member', 'AKIASAMEKEY0000002', MEMBER, 'us-east-1'),
    );
    expect(started(member).incidentId).not.toBe(started(hub).incidentId);
  });

  it('keeps the same finding id of two accounts apart: neither is a repeat of the other', async () => {
    const d = hubDeps();
    const [hub, member] = await Promise.all([
      routeEvent(d, ec2Finding('keys-same-finding-id', 'i-keys-finding-hub', HUB.account)),
      routeEvent(d, ec2Finding('keys-same-finding-id', 'i-keys-finding-member', MEMBER)),
    ]);
    const inHub = started(hub?.[0]).incidentId;
    const inMember = started(member?.[0]).incidentId;
    expect(inHub).not.toBe(inMember);
    expect(await d.queries.finding(HUB, 'keys-same-finding-id')).toMatchObject({
      findingId: 'keys-same-finding-id',
      incidentId: inHub,
      deliveries: 1,
    });
    expect(await d.queries.finding(placeOf(MEMBER), 'keys-same-finding-id')).toMatchObject({
      findingId: 'keys-same-finding-id',
      incidentId: inMember,
      deliveries: 1,
    });
  });
});
