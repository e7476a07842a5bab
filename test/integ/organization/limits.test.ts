/**
 * The per-account and the organization's blast-radius limits under concurrent findings, end to end on the
 * local runtime: eight real GuardDuty key findings (each on its own key of the fixture's IAM user) from three
 * members, routed at once by the hub's router with an account limit of 2 and an organization limit of 4.
 * Exactly four start automatically, no account more than two, and the rest wait for a person saying which
 * limit they met; the slots say the same; and once every playbook has ended (every approval declined),
 * exactly the automatic ones' keys are deactivated, each in its own member. A file of its own: its table's
 * organization slots are only this test's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Settings } from '#shared/settings';
import type { OrganizationSeed } from '../../../local/sandbox/organization.ts';
import { member, organizationRuntime, type TestRuntime } from '../../support/runtime.ts';
import {
  configSettings,
  findingAt,
  hubRouter,
  IAM_EVENT,
  route,
  runToEnd,
  type Started,
  seedOf,
} from './helpers.ts';

const MEMBERS = ['111111111111', '222222222222', '333333333333'];
const FINDINGS = 8;
const ACCOUNT_LIMIT = 2;
const ORGANIZATION_LIMIT = 4;

/** The i-th finding's account (3, 3 and 2 findings) and key. */
const accountOf = (i: number) => MEMBERS[i % MEMBERS.length] ?? '';
const keyOf = (i: number) => `AKIALIMITS${String(i).padStart(10, '0')}`;

let t: TestRuntime;
let seed: OrganizationSeed;
let settings: Settings;

beforeAll(async () => {
  const config = configSettings();
  // The fixture's IAM user, holding in each member the keys of that member's findings.
  const user = seedOf(IAM_EVENT, config).iam?.users?.[0];
  if (!user) throw new Error('the IAM fixture names no user');
  const keysIn = (account: string) =>
    Array.from({ length: FINDINGS }, (_, i) => i)
      .filter((i) => accountOf(i) === account)
      .map((i) => ({ id: keyOf(i) }));
  seed = {
    members: Object.fromEntries(
      MEMBERS.map((account) => [
        account,
        member({ iam: { users: [{ ...user, accessKeys: keysIn(account) }] } }),
      ]),
    ),
  };
  t = await organizationRuntime(seed, { approvals: {}, waitScale: 0.001 });
  const stack = t.runtime.settings;
  if (!stack) throw new Error('no stack settings');
  settings = {
    ...stack,
    maxAutomaticContainmentsPerHour: ACCOUNT_LIMIT,
    organization: { ...stack.organization, maxAutomaticContainmentsPerHour: ORGANIZATION_LIMIT },
  };
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe("the account's and the organization's limits under concurrent findings", () => {
  it(`starts exactly ${ORGANIZATION_LIMIT} of ${FINDINGS} automatically, none over ${ACCOUNT_LIMIT} per account, the rest approval-first with the limit they met`, async () => {
    const org = t.runtime.useOrganization(seed);
    const router = hubRouter(t, settings);
    const findings = Array.from({ length: FINDINGS }, (_, i) =>
      findingAt(IAM_EVENT, { account: accountOf(i), region: 'us-east-1' }, settings, {
        resourceId: keyOf(i),
      }),
    );
    const outcomes = await Promise.all(findings.map((f) => route(router, f)));
    const account = new Map<string, string>(outcomes.map((o, i) => [o.incidentId, accountOf(i)]));
    const key = new Map<string, string>(outcomes.map((o, i) => [o.incidentId, keyOf(i)]));
    const inAccount = (list: readonly Started[], a: string) =>
      list.filter((o) => account.get(o.incidentId) === a);

    const automatic = outcomes.filter((o) => o.mode === 'automatic');
    const waiting = outcomes.filter((o) => o.mode !== 'automatic');
    expect(automatic).toHaveLength(ORGANIZATION_LIMIT);
    for (const a of MEMBERS) expect(inAccount(automatic, a).length).toBeLessThanOrEqual(ACCOUNT_LIMIT);
    expect(waiting.map((o) => o.mode)).toEqual(Array(FINDINGS - ORGANIZATION_LIMIT).fill('approval-first'));
    for (const o of waiting) {
      const a = account.get(o.incidentId) ?? '';
      const organization = o.reasons.find((r) => r.startsWith('organization blast-radius limit reached'));
      const own = o.reasons.find((r) => r.startsWith('blast-radius limit reached'));
      expect(organization ?? own, o.reasons.join(' | ')).toBeDefined();
      if (organization !== undefined)
        expect(organization).toContain(
          `the limit is ${ORGANIZATION_LIMIT} (organization.maxAutomaticContainmentsPerHour): sent to a person`,
        );
      if (own !== undefined) {
        expect(own).toContain(`${ACCOUNT_LIMIT} automatic containments in ${a}`);
        expect(inAccount(automatic, a)).toHaveLength(ACCOUNT_LIMIT);
      }
    }

    // The record says the same: each finding's decision, the organization's slots and each account's.
    for (const [i, o] of outcomes.entries()) {
      const recorded = await router.queries.finding(
        { account: accountOf(i), region: 'us-east-1' },
        o.findingId,
      );
      expect(recorded).toMatchObject({ incidentId: o.incidentId, decision: { mode: o.mode } });
    }
    const now = new Date();
    const held = (await router.queries.organizationSlots(now)).holders;
    expect(held.map((h) => h.incidentId).sort()).toEqual(automatic.map((o) => o.incidentId).sort());
    for (const h of held) expect(h.account).toBe(account.get(h.incidentId));
    for (const a of MEMBERS) {
      const own = (await router.queries.automaticContainments(a, now)).map((h) => h.incidentId).sort();
      expect(own).toEqual(
        inAccount(automatic, a)
          .map((o) => o.incidentId)
          .sort(),
      );
    }

    // Every playbook to its end, every approval declined: only the automatic ones' keys are deactivated.
    const results = await Promise.all(outcomes.map((o) => runToEnd(t, o, ['reject'])));
    expect(results.map((r) => r.status)).toEqual(Array(FINDINGS).fill('SUCCEEDED'));
    const deactivated = new Set(automatic.map((o) => key.get(o.incidentId)));
    for (const [i] of findings.entries()) {
      const status = org.sandbox(accountOf(i)).state().iam.accessKeys[keyOf(i)]?.status;
      expect(status, keyOf(i)).toBe(deactivated.has(keyOf(i)) ? 'Inactive' : 'Active');
    }
    for (const o of outcomes) {
      const steps = await t.runtime.recorder.steps(o.incidentId);
      expect(new Set(steps.map((s) => s.account))).toEqual(new Set([account.get(o.incidentId)]));
    }
  });
});
