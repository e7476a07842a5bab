/**
 * A member whose responder role cannot be assumed, end to end on the local runtime: one member without the
 * role, one whose role requires another external id than the one Cordon gives. The hub's router routes the
 * real GuardDuty findings placed there; the playbook's first action in the member fails its AssumeRole
 * (the organization answers as AWS does), the failed step is recorded with ResponderUnavailableError naming
 * the role, the playbook's catch emails the approvers from the hub, and nothing in the member changed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OrganizationSeed } from '../../../local/sandbox/organization.ts';
import { stateAt } from '../../support/account.ts';
import { member, organizationRuntime, type TestRuntime } from '../../support/runtime.ts';
import {
  EC2_EVENT,
  findingAt,
  fixtureSeeds,
  HUB,
  hubRouter,
  IAM_EVENT,
  responderArn,
  route,
  runToEnd,
} from './helpers.ts';

const NO_ROLE = '444444444444';
const OTHER_EXTERNAL_ID = '555555555555';

let t: TestRuntime;
let seed: OrganizationSeed;

beforeAll(async () => {
  const { both } = fixtureSeeds();
  seed = {
    hub: both,
    members: {
      [NO_ROLE]: member(both, { responder: false }),
      [OTHER_EXTERNAL_ID]: member(both, { responder: { externalId: 'not-the-external-id-cordon-gives' } }),
    },
  };
  t = await organizationRuntime(seed, { approvals: {}, waitScale: 0.001 });
}, 120_000);
afterAll(async () => {
  await t?.close();
});

describe('a responder role that cannot be assumed', () => {
  it.each([
    ['a missing responder role', NO_ROLE, EC2_EVENT, ['approve'] as const],
    ['a missing responder role', NO_ROLE, IAM_EVENT, [] as const],
    ['a wrong external id', OTHER_EXTERNAL_ID, EC2_EVENT, ['approve'] as const],
    ['a wrong external id', OTHER_EXTERNAL_ID, IAM_EVENT, [] as const],
  ])(
    '%s (%s, %s): a recorded failure, the approvers emailed, nothing in the member changed',
    async (_what, account, event, decisions) => {
      const org = t.runtime.useOrganization(seed);
      const router = hubRouter(t);
      const before = org.state();
      const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
      const hubSentBefore = stateAt(before, HUB.account)?.ses.sent.length ?? 0;
      const outcome = await route(
        router,
        findingAt(event, { account, region: 'us-east-1' }, router.settings),
      );
      const result = await runToEnd(t, outcome, decisions, emailsBefore);

      expect(result.status).toBe('FAILED');
      expect(result.error).toBe('ResponderUnavailableError');
      // The failed step, in the member's place, names the role it could not assume.
      const steps = await t.runtime.recorder.steps(outcome.incidentId);
      const failed = steps.filter((s) => s.status === 'failed');
      expect(failed.map((s) => s.error?.name)).toEqual(['ResponderUnavailableError']);
      expect(failed[0]?.error?.message).toContain(responderArn(account));
      expect(failed[0]).toMatchObject({ account, region: 'us-east-1' });
      expect(steps.some((s) => s.status === 'succeeded' && /^(ec2|iam)-/.test(s.action))).toBe(false);
      expect((await t.runtime.recorder.verify(outcome.incidentId)).ok).toBe(true);

      // The approvers are emailed the failure, from the hub's SES, naming where.
      const failure = (t.runtime.outbox?.emails ?? [])
        .slice(emailsBefore)
        .filter((e) => e.subject.includes('FAILED') && e.subject.includes(outcome.incidentId));
      expect(failure.length).toBeGreaterThan(0);
      expect(failure[0]?.subject).toContain(`in account ${account}, us-east-1`);
      expect(failure[0]?.text).toContain('ResponderUnavailableError');
      const hubSent = stateAt(org.state(), HUB.account)?.ses.sent.slice(hubSentBefore) ?? [];
      expect(hubSent.map((e) => e.subject)).toContain(failure[0]?.subject);

      // No session was issued, and the member is exactly as it was (every region).
      expect(org.sessions()).toEqual([]);
      expect(org.state().accounts[account]).toEqual(before.accounts[account]);
      expect(org.sandbox(account).calls).toEqual([]);
    },
  );
});
