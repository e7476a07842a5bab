/**
 * A finding from a place out of the organization's scope changes nothing anywhere and is recorded with
 * why, end to end on the local runtime: the hub's router routes the real GuardDuty finding placed in a
 * member that has a working responder role and holds what the finding names (so that anything started
 * would change it), with settings that leave that member, or that region, out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '#shared/settings';
import { routeFinding } from '../../../functions/router/core.ts';
import type { OrganizationSeed } from '../../../local/sandbox/organization.ts';
import { member, organizationRuntime, type TestRuntime } from '../../support/runtime.ts';
import { EC2_EVENT, findingAt, fixtureSeeds, hubRouter, IAM_EVENT, route, runToEnd } from './helpers.ts';

const IN = '111111111111';
/** A member of the organization, with its responder role, that the router's settings may leave out. */
const OUT = '222222222222';
const FAR = 'ap-south-1';
const KEY = 'GeneratedFindingAccessKeyId';

let t: TestRuntime;
let seed: OrganizationSeed;

beforeAll(async () => {
  const { both, instance } = fixtureSeeds();
  seed = {
    hub: both,
    members: {
      [IN]: { regions: { 'us-east-1': both, [FAR]: instance } },
      [OUT]: member(both),
    },
  };
  t = await organizationRuntime(seed, { approvals: {}, waitScale: 0.001 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

/** The stack's settings with the organization's scope changed as `change` says. */
function scoped(change: Partial<Settings['organization']>): Settings {
  const stack = t.runtime.settings;
  if (!stack) throw new Error('no stack settings');
  return { ...stack, organization: { ...stack.organization, ...change } };
}

describe('a finding out of scope', () => {
  it.each([
    [
      'an account not in organization.accounts',
      () => scoped({ accounts: [IN], regions: [FAR] }),
      OUT,
      'us-east-1',
      `account ${OUT} is not in scope: not the hub 123456789012, not in organization.accounts, nor an account of organization.organizationalUnits`,
    ],
    [
      'an account in organization.excludedAccounts',
      () => scoped({ accounts: [IN, OUT], excludedAccounts: [OUT], regions: [FAR] }),
      OUT,
      'us-east-1',
      `account ${OUT} is excluded (organization.excludedAccounts)`,
    ],
    [
      'a region not in organization.regions',
      () => scoped({ accounts: [IN, OUT], regions: [] }),
      IN,
      FAR,
      `region ${FAR} is not covered (organization.regions): Cordon acts in us-east-1`,
    ],
  ])(
    'changes nothing anywhere and is recorded with the reason: %s',
    async (_what, settings, account, region, reason) => {
      const org = t.runtime.useOrganization(seed);
      const router = hubRouter(t, settings());
      const before = org.state();
      const executions = t.runtime.engine.executionList().length;
      const emails = t.runtime.outbox?.emails.length ?? 0;
      for (const event of [EC2_EVENT, IAM_EVENT]) {
        const finding = findingAt(event, { account, region }, router.settings);
        const outcome = await routeFinding(router, finding);
        expect(outcome).toMatchObject({ outcome: 'no-action', findingId: finding.id });
        const reasons = outcome.outcome === 'no-action' ? outcome.reasons : [];
        expect(reasons.at(-1)).toBe(`${reason}: nothing starts, a person must respond`);
        // The finding's record, in its place: routed, to nobody, with why.
        expect(await router.queries.finding({ account, region }, finding.id)).toMatchObject({
          findingId: finding.id,
          status: 'routed',
          decision: { playbook: null, mode: 'none', reasons },
        });
        const resource = finding.resources[0];
        if (!resource) throw new Error('no resource');
        expect(await router.queries.openIncidentFor({ account, region }, resource)).toBeUndefined();
        expect((await router.queries.incidentIdsByResource(resource.id)).items).toEqual([]);
      }
      await t.runtime.settled();
      // Nothing started, no one emailed, and every account's every region exactly as it was.
      expect(t.runtime.engine.executionList()).toHaveLength(executions);
      expect(t.runtime.outbox?.emails.length ?? 0).toBe(emails);
      expect(org.sessions()).toEqual([]);
      expect(org.state()).toEqual(before);
    },
  );

  it('is acted on once the same place is in scope (what the cases above leave out is what kept it out)', async () => {
    const org = t.runtime.useOrganization(seed);
    const router = hubRouter(t, scoped({ accounts: [IN, OUT], regions: [FAR] }));
    const outcome = await route(
      router,
      findingAt(IAM_EVENT, { account: OUT, region: 'us-east-1' }, router.settings),
    );
    expect(outcome.mode).toBe('automatic');
    const result = await runToEnd(t, outcome, ['reject']);
    expect(result.status).toBe('SUCCEEDED');
    expect(org.sandbox(OUT).state().iam.accessKeys[KEY]?.status).toBe('Inactive');
    const region = await route(router, findingAt(EC2_EVENT, { account: IN, region: FAR }, router.settings));
    expect(region.mode).toBe('approval-first');
    expect(await runToEnd(t, region, ['reject'])).toMatchObject({ status: 'SUCCEEDED' });
  });
});
