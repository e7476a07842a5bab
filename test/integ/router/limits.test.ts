/**
 * The blast-radius limits of an organization under concurrent findings, on DynamoDB Local and the engine:
 * each account's (the general one, or its own in `organization.perAccount`) and the organization's hold
 * together, since an automatic containment takes one slot of each in the transaction that opens it. A
 * file of its own: its table's organization slots are only its tests'.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RouteOutcome } from '../../../functions/router/core.ts';
import { routeEvent } from '../../../functions/router/core.ts';
import { stubPlaybooksStack } from '../../../local/stub-playbooks.ts';
import { ec2Finding, placeOf, routerDeps } from '../../support/router.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const HUB = placeOf('123456789012');
const MEMBERS = ['210987654321', '210987654322'];
const TRUST = { id: 'o-a1b2c3d4e5', externalId: 'cordon-external-id' };

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: stubPlaybooksStack(), waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

type Started = Extract<RouteOutcome, { outcome: 'started' }>;

function allStarted(outcomes: readonly RouteOutcome[]): Started[] {
  return outcomes.map((o) => {
    if (o.outcome !== 'started') throw new Error(`not started: ${JSON.stringify(o)}`);
    return o;
  });
}

describe("the account's and the organization's limits together", () => {
  it('contains exactly 5 of 12 concurrent findings over 3 accounts (account limit 3, organization 5), each account at most 3', async () => {
    const d = {
      ...routerDeps(t, {
        maxAutomaticContainmentsPerHour: 3,
        organization: { ...TRUST, accounts: MEMBERS, maxAutomaticContainmentsPerHour: 5 },
      }),
      home: HUB,
    };
    const accounts = [HUB.account, ...MEMBERS];
    const findings = Array.from({ length: 12 }, (_, i) => {
      const account = accounts[i % 3] ?? '';
      return { account, event: ec2Finding(`limits-${i}`, `i-limits-${i}`, account) };
    });
    const outcomes = allStarted((await Promise.all(findings.map((f) => routeEvent(d, f.event)))).flat());
    const accountOf = new Map(findings.map((f, i) => [outcomes[i]?.incidentId, f.account]));

    const automatic = outcomes.filter((o) => o.mode === 'automatic');
    expect(automatic).toHaveLength(5);
    for (const account of accounts)
      expect(automatic.filter((o) => accountOf.get(o.incidentId) === account).length).toBeLessThanOrEqual(3);

    // Every other one waits for a person, saying which limit it met and who used it.
    const waiting = outcomes.filter((o) => o.mode !== 'automatic');
    expect(waiting.map((o) => o.mode)).toEqual(Array(7).fill('approval-first'));
    for (const o of waiting) {
      const account = accountOf.get(o.incidentId) ?? '';
      const inAccount = automatic.filter((a) => accountOf.get(a.incidentId) === account);
      const organization = o.reasons.find((r) => r.startsWith('organization blast-radius limit reached'));
      const own = o.reasons.find((r) => r.startsWith('blast-radius limit reached'));
      expect(organization ?? own, o.reasons.join(' | ')).toBeDefined();
      if (organization !== undefined) {
        expect(organization).toMatch(
          /^organization blast-radius limit reached: 5 automatic containments across the organization in the last 60 minutes \(.*\), the limit is 5 \(organization\.maxAutomaticContainmentsPerHour\): sent to a person$/,
        );
        for (const a of automatic)
          expect(organization).toContain(
            `${a.incidentId} on i-${a.findingId} in ${accountOf.get(a.incidentId)} at`,
          );
      }
      if (own !== undefined) {
        expect(own).toMatch(
          new RegExp(`^blast-radius limit reached: 3 automatic containments in ${account} `),
        );
        for (const a of inAccount) expect(own).toContain(`${a.incidentId} on i-${a.findingId} at`);
      }
    }

    // The slots say the same: the organization's five are the automatic incidents, each naming its account.
    const now = new Date();
    const held = (await d.queries.organizationSlots(now)).holders;
    expect(held.map((h) => h.incidentId).sort()).toEqual(automatic.map((o) => o.incidentId).sort());
    for (const h of held) expect(h.account).toBe(accountOf.get(h.incidentId));
    for (const account of accounts) {
      const own = (await d.queries.automaticContainments(account, now)).map((h) => h.incidentId).sort();
      expect(own).toEqual(
        automatic
          .filter((o) => accountOf.get(o.incidentId) === account)
          .map((o) => o.incidentId)
          .sort(),
      );
    }
    // And the executions: five automatic, the rest waiting for approval.
    const inputs = t.runtime.engine
      .executionList()
      .map((e) => e.input as { incidentId: string; mode: string })
      .filter((i) => accountOf.has(i.incidentId));
    expect(inputs.filter((i) => i.mode === 'automatic')).toHaveLength(5);
  });

  it('holds an account to its own limit (organization.perAccount) under concurrent findings, and names it', async () => {
    const account = '210987654399';
    const d = {
      ...routerDeps(t, {
        organization: {
          ...TRUST,
          accounts: [account],
          // The first test's five still hold the organization's slots: room for these.
          maxAutomaticContainmentsPerHour: 100,
          perAccount: { [account]: { maxAutomaticContainmentsPerHour: 1 } },
        },
      }),
      home: HUB,
    };
    const outcomes = allStarted(
      (
        await Promise.all(
          Array.from({ length: 4 }, (_, i) =>
            routeEvent(d, ec2Finding(`own-limit-${i}`, `i-own-limit-${i}`, account)),
          ),
        )
      ).flat(),
    );
    expect(outcomes.filter((o) => o.mode === 'automatic')).toHaveLength(1);
    for (const o of outcomes.filter((o) => o.mode !== 'automatic')) {
      expect(o.mode).toBe('approval-first');
      expect(o.reasons.join(' ')).toContain(
        `the limit is 1 (organization.perAccount.${account}.maxAutomaticContainmentsPerHour): sent to a person`,
      );
    }
    expect(await d.queries.automaticContainments(account, new Date())).toHaveLength(1);
  });
});
