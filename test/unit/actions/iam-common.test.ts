import { describe, expect, it } from 'vitest';
import {
  releaseRevokePolicy,
  revokedBefore,
  revokePolicyDocument,
  revokePolicyName,
} from '../../../functions/actions/iam-common/iam.ts';
import { untouchableReason, untouchableRules } from '../../../functions/actions/iam-common/untouchable.ts';

/** The console's revoke policy with any value as its cut-off. */
const withCutOff = (value: string) =>
  JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': value } },
      },
    ],
  });

describe('the revoke policy', () => {
  it('reads the cut-off of a deny as the code writes it, to the millisecond or to the second', () => {
    expect(revokedBefore(revokePolicyDocument('2025-01-01T00:01:00.000Z'))).toBe('2025-01-01T00:01:00.000Z');
    expect(revokedBefore(withCutOff('2025-01-01T00:01:00Z'))).toBe('2025-01-01T00:01:00Z');
  });

  it('takes no other date IAM would parse for a cut-off the code wrote', () => {
    for (const value of [
      '2025-01-01',
      '2025-01-01T00:00:00+02:00',
      '2025-02-30T00:00:00Z',
      '+275760-09-13T00:00:00.000Z',
      '2025-01-01T00:00:00.5Z',
      'Wed, 01 Jan 2025 00:00:00 GMT',
    ]) {
      expect(revokedBefore(withCutOff(value)), value).toBeUndefined();
    }
  });

  it('names each incident its own policy, within what IAM allows in a policy name', () => {
    expect(revokePolicyName('0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4')).toBe(
      'cordon-revoke-sessions-0190a1b2c3d4e5f6a7b8c9d0e1f2a3b4',
    );
    const odd = revokePolicyName('incident/with spaces:and#more');
    expect(odd).toMatch(/^cordon-revoke-sessions-[0-9a-f]{40}$/);
    expect(revokePolicyName('incident/with spaces:and#more!')).not.toBe(odd);
    expect(revokePolicyName('x'.repeat(300)).length).toBeLessThanOrEqual(128);
  });
});

describe('releaseRevokePolicy', () => {
  const put = {
    document: revokePolicyDocument('2025-01-01T00:01:00.000Z'),
    seq: 4,
    recordedAt: '2025-01-01T00:01:00.200Z',
  };
  const decide = (recorded: typeof put, live: string | null) =>
    releaseRevokePolicy(
      'role app',
      'cordon-revoke-sessions-inc-1',
      recorded,
      live,
      'aws iam delete-role-policy ...',
    );

  it('deletes the deny while it is the document the incident put, and does nothing once it is gone', () => {
    expect(decide(put, put.document)).toEqual({ action: 'delete', cutOff: '2025-01-01T00:01:00.000Z' });
    expect(decide(put, null)).toEqual({ action: 'none' });
  });

  it('refuses a live deny with another cut-off, and a recorded one cut off after its step was recorded', () => {
    expect(decide(put, revokePolicyDocument('2025-01-01T00:02:00.000Z'))).toMatchObject({ action: 'refuse' });
    expect(decide({ ...put, recordedAt: '2025-01-01T00:00:59.000Z' }, put.document)).toMatchObject({
      action: 'refuse',
      reason: expect.stringMatching(/later than the step was recorded/),
    });
    expect(
      decide({ ...put, document: withCutOff('2025-01-01T00:01:00Z').replace('"Deny"', '"Allow"') }, null),
    ).toMatchObject({
      action: 'refuse',
    });
  });
});

describe('the untouchable roles of an organization', () => {
  const rules = untouchableRules({
    protectedTag: { key: 'cordon:protected', value: 'true' },
    breakGlassRoles: [],
    organization: { responderRoleName: 'SecurityResponder' },
  });

  it("refuses the responder role and its restore role, whatever their names, as Cordon's own", () => {
    expect(untouchableReason({ roleName: 'SecurityResponder' }, rules)).toMatch(/Cordon's own/);
    expect(untouchableReason({ roleName: 'SecurityResponder-restore' }, rules)).toMatch(/Cordon's own/);
  });

  it('leaves another role of the member to the playbook', () => {
    expect(untouchableReason({ roleName: 'SecurityResponderish' }, rules)).toBeUndefined();
    expect(untouchableReason({ roleName: 'web-app' }, rules)).toBeUndefined();
  });
});
