/**
 * A finding in a member account is acted on there, and only there, end to end on the local runtime: the
 * hub's router (as the demo drives it) routes the real GuardDuty finding placed in the member, the stack's
 * playbook runs on the local engine, and its actions assume the member's responder role and act in the
 * finding's region. The hub and the other members hold the same instance id and the same access key id,
 * so that an action in the wrong account or region would change something the tests compare whole.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Step } from '#shared/domain';
import type { AccountState } from '../../../local/sandbox/index.ts';
import type { OrganizationSeed, OrganizationState } from '../../../local/sandbox/organization.ts';
import { stateAt } from '../../support/account.ts';
import { member, organizationRuntime, type TestRuntime } from '../../support/runtime.ts';
import {
  EC2_EVENT,
  EU,
  findingAt,
  fixtureSeeds,
  HUB,
  hubRouter,
  IAM_EVENT,
  route,
  runToEnd,
} from './helpers.ts';

const A = '111111111111';
const B = '222222222222';
/** A member of two regions: us-east-1 (its IAM) and eu-west-1, both holding the instance. */
const C = '333333333333';
const INSTANCE = 'i-99999999';
const KEY = 'GeneratedFindingAccessKeyId';
const USER = 'GeneratedFindingUserName';

let t: TestRuntime;
let seed: OrganizationSeed;

beforeAll(async () => {
  // The seeds are made from the fixtures as `cordon run` makes them.
  const { both, instance } = fixtureSeeds();
  seed = {
    hub: both,
    members: {
      [A]: member(both),
      [B]: member(both),
      [C]: { regions: { 'us-east-1': both, [EU]: instance } },
    },
  };
  t = await organizationRuntime(seed, { approvals: {}, waitScale: 0.001 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/**
 * The hub's state (every region) but for the emails its SES sent (the approvals, the failures) and the ids
 * their message ids took; and those emails.
 */
function hubApartFromEmails(state: OrganizationState): { rest: unknown; sent: string[]; ids: number } {
  const regions = structuredClone(state.accounts[HUB.account]?.regions ?? []);
  const sent = regions.flatMap((r) => r.ses.sent.map((e) => `${e.subject}\n${e.text ?? ''}`));
  const ids = regions.reduce((n, r) => n + r.nextId, 0);
  const rest = regions.map(({ ses: _ses, nextId: _nextId, ...region }) => region);
  return { rest, sent, ids };
}

/** The hub changed only by the emails it sent, each about `incidentId`. */
function expectHubOnlyEmailed(before: OrganizationState, after: OrganizationState, incidentId: string) {
  const was = hubApartFromEmails(before);
  const is = hubApartFromEmails(after);
  expect(is.rest).toEqual(was.rest);
  const sent = is.sent.slice(was.sent.length);
  expect(sent.length).toBeGreaterThan(0);
  for (const email of sent) expect(email).toContain(incidentId);
  // One id per message id, nothing else made.
  expect(is.ids - was.ids).toBe(sent.length);
}

/** The isolation group on every interface of the instance, or why not. */
function isolation(state: AccountState | undefined, instanceId: string): string[] {
  const instance = state?.ec2.instances[instanceId];
  if (!state || !instance) return ['no such instance'];
  return instance.networkInterfaceIds.flatMap((eni) => {
    const groups = state.ec2.networkInterfaces[eni]?.groups ?? [];
    const isolated = groups.length === 1 && state.ec2.tags[groups[0] ?? '']?.['cordon:isolation'] === 'true';
    return isolated ? [] : [`${eni} on ${groups.join(',') || 'no group'}`];
  });
}

const placesOf = (steps: readonly Step[]) => [...new Set(steps.map((s) => `${s.account}/${s.region}`))];

/** Routes the EC2 finding placed in `account`/`region` and runs its playbook: containment approved, eradication not. */
async function containInstance(account: string, region = 'us-east-1') {
  const router = hubRouter(t);
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const outcome = await route(router, findingAt(EC2_EVENT, { account, region }, router.settings));
  expect(outcome.mode).toBe('approval-first');
  const result = await runToEnd(t, outcome, ['approve', 'reject'], emailsBefore);
  expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
  const steps = await t.runtime.recorder.steps(outcome.incidentId);
  return { outcome, steps, emailsBefore };
}

/** Routes the IAM finding placed in `account` and runs its playbook: the key's deletion not approved. */
async function containKey(account: string) {
  const router = hubRouter(t);
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const outcome = await route(
    router,
    findingAt(IAM_EVENT, { account, region: 'us-east-1' }, router.settings),
  );
  expect(outcome.mode).toBe('automatic');
  const result = await runToEnd(t, outcome, ['reject'], emailsBefore);
  expect(result.status, `${result.error}: ${result.cause}`).toBe('SUCCEEDED');
  const steps = await t.runtime.recorder.steps(outcome.incidentId);
  return { outcome, steps };
}

const keyStatus = (state: OrganizationState, account: string) =>
  stateAt(state, account)?.iam.accessKeys[KEY]?.status;

describe('a finding from member A', () => {
  it('changes only A: the hub and B compared whole, A isolated, every step in A', async () => {
    const org = t.runtime.useOrganization(seed);
    const before = org.state();
    expect(isolation(stateAt(before, A), INSTANCE)).not.toEqual([]);
    const { outcome, steps } = await containInstance(A);
    const after = org.state();

    expect(isolation(stateAt(after, A), INSTANCE)).toEqual([]);
    expect(stateAt(after, A)?.ec2.tags[INSTANCE]?.['cordon:incident']).toBe(outcome.incidentId);
    // B, every region, exactly as it was; the hub too, but for the approval emails its SES sent.
    expect(after.accounts[B]).toEqual(before.accounts[B]);
    expect(after.accounts[C]).toEqual(before.accounts[C]);
    expectHubOnlyEmailed(before, after, outcome.incidentId);
    // The record: every step, the router's, the actions', the approvals', in A's account and region.
    expect(steps.length).toBeGreaterThan(10);
    expect(placesOf(steps)).toEqual([`${A}/us-east-1`]);
    expect(steps.some((s) => s.action === 'ec2-isolate' && s.status === 'succeeded')).toBe(true);
    const incident = await t.runtime.recorder.getIncident(outcome.incidentId);
    expect(incident).toMatchObject({ account: A, region: 'us-east-1', status: 'contained' });
    // Only A's responder role was assumed, named by the incident.
    expect(org.sessions().map((s) => [s.account, s.session])).toEqual(
      org.sessions().map(() => [A, outcome.incidentId.replace(/[^\w+=,.@-]/g, '-').slice(0, 64)]),
    );
    expect(org.sessions().length).toBeGreaterThan(0);
  });
});

describe('the same instance id and the same access key id in two members', () => {
  it("contains A's instance only, then B's in an incident of its own, each acting in its own account", async () => {
    const org = t.runtime.useOrganization(seed);
    const before = org.state();
    const first = await containInstance(A);
    const between = org.state();
    expect(isolation(stateAt(between, A), INSTANCE)).toEqual([]);
    // B's instance of the same id, and B as a whole, untouched.
    expect(between.accounts[B]).toEqual(before.accounts[B]);
    expect(isolation(stateAt(between, B), INSTANCE)).not.toEqual([]);

    const second = await containInstance(B);
    const after = org.state();
    expect(second.outcome.incidentId).not.toBe(first.outcome.incidentId);
    expect(isolation(stateAt(after, B), INSTANCE)).toEqual([]);
    expect(stateAt(after, B)?.ec2.tags[INSTANCE]?.['cordon:incident']).toBe(second.outcome.incidentId);
    // The second incident did nothing more in A: A is as the first left it.
    expect(after.accounts[A]).toEqual(between.accounts[A]);
    expect(stateAt(after, A)?.ec2.tags[INSTANCE]?.['cordon:incident']).toBe(first.outcome.incidentId);
    expect(placesOf(first.steps)).toEqual([`${A}/us-east-1`]);
    expect(placesOf(second.steps)).toEqual([`${B}/us-east-1`]);
    expect(
      (await t.runtime.recorder.getIncident(second.outcome.incidentId)).resources.map((r) => r.id),
    ).toEqual([INSTANCE]);
    // The hub's instance of the same id was never acted on.
    expect(isolation(stateAt(after, HUB.account), INSTANCE)).not.toEqual([]);
    expect(stateAt(after, HUB.account)?.ec2).toEqual(stateAt(before, HUB.account)?.ec2);
  });

  it("deactivates A's key only, then B's in an incident of its own", async () => {
    const org = t.runtime.useOrganization(seed);
    const before = org.state();
    expect([keyStatus(before, A), keyStatus(before, B)]).toEqual(['Active', 'Active']);
    const first = await containKey(A);
    const between = org.state();
    expect([keyStatus(between, A), keyStatus(between, B), keyStatus(between, HUB.account)]).toEqual([
      'Inactive',
      'Active',
      'Active',
    ]);
    // Only the key the finding names: the user's other key stays active.
    expect(stateAt(between, A)?.iam.accessKeys.AKIAREHEARSALOTHER01?.status).toBe('Active');
    expect(stateAt(between, A)?.iam.users[USER]).toBeDefined();
    expect(between.accounts[B]).toEqual(before.accounts[B]);

    const second = await containKey(B);
    const after = org.state();
    expect(second.outcome.incidentId).not.toBe(first.outcome.incidentId);
    expect([keyStatus(after, A), keyStatus(after, B), keyStatus(after, HUB.account)]).toEqual([
      'Inactive',
      'Inactive',
      'Active',
    ]);
    expect(after.accounts[A]).toEqual(between.accounts[A]);
    expect(placesOf(first.steps)).toEqual([`${A}/us-east-1`]);
    expect(placesOf(second.steps)).toEqual([`${B}/us-east-1`]);
    expect(stateAt(after, HUB.account)?.iam).toEqual(stateAt(before, HUB.account)?.iam);
  });
});

describe('a finding from another region of a member', () => {
  it('acts in that region: the eu-west-1 sandbox changed, us-east-1 did not', async () => {
    expect(t.runtime.settings?.organization.regions).toContain(EU);
    const org = t.runtime.useOrganization(seed);
    const before = org.state();
    expect(isolation(stateAt(before, C, EU), INSTANCE)).not.toEqual([]);
    const { outcome, steps } = await containInstance(C, EU);
    const after = org.state();
    expect(isolation(stateAt(after, C, EU), INSTANCE)).toEqual([]);
    expect(stateAt(after, C, EU)?.ec2.tags[INSTANCE]?.['cordon:incident']).toBe(outcome.incidentId);
    // The same instance id in C's us-east-1 (which holds C's IAM), untouched, as is every other account.
    expect(stateAt(after, C, 'us-east-1')).toEqual(stateAt(before, C, 'us-east-1'));
    expect(after.accounts[A]).toEqual(before.accounts[A]);
    expect(after.accounts[B]).toEqual(before.accounts[B]);
    expectHubOnlyEmailed(before, after, outcome.incidentId);
    expect(placesOf(steps)).toEqual([`${C}/${EU}`]);
    expect(await t.runtime.recorder.getIncident(outcome.incidentId)).toMatchObject({
      account: C,
      region: EU,
    });
    // The EC2 calls were answered in eu-west-1 only.
    expect(org.sandbox(C, EU).calls.some((c) => c.command === 'ModifyNetworkInterfaceAttribute')).toBe(true);
    expect(org.sandbox(C, 'us-east-1').calls.filter((c) => c.service === 'EC2')).toEqual([]);
  });
});
