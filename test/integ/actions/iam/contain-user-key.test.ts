import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ProtectedResourceError,
  ResourceNotFoundError,
  ThrottlingError,
  ValidationError,
} from '#shared/errors';
import { containUserKey } from '../../../../functions/actions/iam-contain-user-key/core.ts';
import {
  BOB_KEY,
  deniesSessionIssuedAt,
  documentedRevokePolicy,
  errorOf,
  FINDING_TIME,
  KEY_1,
  KEY_2,
  KEY_3,
  mutatingCalls,
  NOW,
  now,
  protectedTag,
  SEED,
  setupIam,
  T0,
} from './helpers.ts';

const defaults = { deactivateAllKeys: false, deleteLoginProfile: false };
const event = { incidentId: 'inc-1', userName: 'alice', accessKeyId: KEY_2 };

function bench(settings = defaults, seed = SEED) {
  const { sandbox, iam } = setupIam(seed);
  return { sandbox, contain: (input: object) => containUserKey({ iam, now, settings, protectedTag }, input) };
}

const statuses = (state: ReturnType<ReturnType<typeof setupIam>['sandbox']['state']>) =>
  Object.fromEntries(Object.values(state.iam.accessKeys).map((k) => [k.accessKeyId, k.status]));

describe('iam-contain-user-key', () => {
  it('deactivates only the key the finding names, of a user with three', async () => {
    const { sandbox, contain } = bench();
    const result = await contain(event);
    expect(result.status).toBe('succeeded');
    expect(statuses(sandbox.state())).toEqual({
      [KEY_1]: 'Active',
      [KEY_2]: 'Inactive',
      [KEY_3]: 'Active',
      [BOB_KEY]: 'Active',
    });
    expect(result.output).toMatchObject({
      containedAt: NOW,
      deactivatedKeys: [KEY_2],
      keysLeftActive: [KEY_1, KEY_3],
      loginProfile: 'kept',
    });
  });

  it('puts a deny-all policy in exactly the documented shape, cut off at the time of containment', async () => {
    const { sandbox, contain } = bench();
    await contain(event);
    const document = sandbox.state().iam.users.alice?.inlinePolicies['cordon-revoke-sessions-inc-1'];
    expect(JSON.parse(document ?? '')).toStrictEqual(documentedRevokePolicy(NOW));
  });

  it("fails, never succeeds, when the user's inline policies leave no room for the incident's deny; the key stays stopped", async () => {
    const filler = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'b'.repeat(1900)}/*` },
      ],
    };
    const alice = SEED.iam?.users?.[0];
    const full = {
      ...SEED,
      iam: { ...SEED.iam, users: [{ ...alice, name: 'alice', inlinePolicies: { filler } }] },
    };
    const { sandbox, contain } = bench(defaults, full);
    const error = await errorOf(contain(event));
    expect(error.message).toMatch(/Maximum policy size of 2048 bytes exceeded for user alice/);
    expect(Object.keys(sandbox.state().iam.users.alice?.inlinePolicies ?? {})).toEqual(['filler']);
    expect(statuses(sandbox.state())[KEY_2]).toBe('Inactive');
  });

  it('records the keys with status and last use, the login profile, MFA devices and policies before changing anything', async () => {
    const { sandbox, contain } = bench();
    const result = await contain(event);
    expect(result.before).toEqual({
      userName: 'alice',
      accessKeys: [
        {
          accessKeyId: KEY_1,
          status: 'Active',
          createDate: new Date(T0 - 3 * 86_400_000).toISOString(),
          lastUsed: { date: new Date(T0 - 600_000).toISOString(), service: 's3', region: 'eu-west-1' },
        },
        {
          accessKeyId: KEY_2,
          status: 'Active',
          createDate: new Date(T0 - 2 * 86_400_000).toISOString(),
          lastUsed: { date: new Date(T0 - 86_400_000).toISOString(), service: 'ec2', region: 'us-east-1' },
        },
        {
          accessKeyId: KEY_3,
          status: 'Active',
          createDate: new Date(T0 - 86_400_000).toISOString(),
          lastUsed: null,
        },
      ],
      loginProfile: { exists: true, createDate: new Date(T0).toISOString(), passwordResetRequired: false },
      mfaDevices: ['arn:aws:iam::123456789012:mfa/alice'],
      inlinePolicies: ['app-access'],
      attachedPolicies: [{ name: 'ReadOnlyAccess', arn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }],
      revokePolicy: null,
    });
    expect(result.changes).toEqual({
      deactivatedKeys: [KEY_2],
      revokePolicy: JSON.stringify(documentedRevokePolicy(NOW)),
      policyName: 'cordon-revoke-sessions-inc-1',
      deletedLoginProfile: false,
    });
    // Every read comes before the first change; the key is the first change.
    const commands = sandbox.calls.map((c) => c.command);
    const firstChange = commands.indexOf('UpdateAccessKey');
    expect(commands.slice(firstChange)).toEqual(['UpdateAccessKey', 'PutUserPolicy']);
    expect(commands.slice(0, firstChange).every((c) => c.startsWith('List') || c.startsWith('Get'))).toBe(
      true,
    );
  });

  it('makes 11 IAM calls for a user with three keys: 6 reads, 3 last uses, 2 changes', async () => {
    const { sandbox, contain } = bench();
    await contain(event);
    expect(sandbox.calls).toHaveLength(11);
    expect(sandbox.calls.filter((c) => c.command === 'GetAccessKeyLastUsed')).toHaveLength(3);
    expect(mutatingCalls(sandbox.calls)).toEqual(['UpdateAccessKey', 'PutUserPolicy']);
  });

  it('deactivates every active key when the settings say all', async () => {
    const { sandbox, contain } = bench({ deactivateAllKeys: true, deleteLoginProfile: false });
    const result = await contain(event);
    expect(statuses(sandbox.state())).toMatchObject({
      [KEY_1]: 'Inactive',
      [KEY_2]: 'Inactive',
      [KEY_3]: 'Inactive',
    });
    expect(result.output).toMatchObject({ deactivatedKeys: [KEY_2, KEY_1, KEY_3], keysLeftActive: [] });
    expect(statuses(sandbox.state())[BOB_KEY]).toBe('Active');
  });

  it('lets the event override the setting to deactivate all keys', async () => {
    const { sandbox, contain } = bench();
    await contain({ ...event, deactivateAllKeys: true });
    expect(Object.values(sandbox.state().iam.accessKeys).filter((k) => k.status === 'Inactive')).toHaveLength(
      3,
    );
  });

  it('keeps the console login profile unless configured to delete it', async () => {
    const { sandbox, contain } = bench();
    await contain(event);
    expect(sandbox.state().iam.users.alice?.loginProfile).toBeDefined();
    expect(mutatingCalls(sandbox.calls)).not.toContain('DeleteLoginProfile');
  });

  it('deletes the console login profile when configured, recording that it existed', async () => {
    const { sandbox, contain } = bench({ deactivateAllKeys: false, deleteLoginProfile: true });
    const result = await contain(event);
    expect(sandbox.state().iam.users.alice?.loginProfile).toBeUndefined();
    expect(result.before).toMatchObject({ loginProfile: { exists: true } });
    expect(result.changes).toMatchObject({ deletedLoginProfile: true });
    expect(result.output).toMatchObject({ loginProfile: 'deleted' });
  });

  it('records a user without a login profile as having none, and deletes nothing', async () => {
    const { sandbox, contain } = bench({ deactivateAllKeys: false, deleteLoginProfile: true });
    const result = await contain({ ...event, userName: 'bob', accessKeyId: BOB_KEY });
    expect(result.before).toMatchObject({ loginProfile: { exists: false } });
    expect(result.output).toMatchObject({ loginProfile: 'none' });
    expect(mutatingCalls(sandbox.calls)).toEqual(['UpdateAccessKey', 'PutUserPolicy']);
  });

  it('reports already-done on a second run, with no change made', async () => {
    const { sandbox, contain } = bench();
    const first = await contain(event);
    const callsBefore = sandbox.calls.length;
    const state = sandbox.state();
    const second = await contain(event);
    expect(second.status).toBe('already-done');
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([]);
    expect(sandbox.state()).toEqual(state);
    expect(second.output).toMatchObject({ containedAt: first.output?.containedAt });
  });

  it("is already done when the key is already inactive and the incident's policy is already there", async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice?.accessKeys?.[1]) throw new Error('seed changed');
    alice.accessKeys[1].status = 'Inactive';
    alice.inlinePolicies = {
      ...alice.inlinePolicies,
      'cordon-revoke-sessions-inc-1': documentedRevokePolicy(NOW) as object,
    };
    const { sandbox, contain } = bench(defaults, seed);
    const result = await contain({ ...event, findingTime: FINDING_TIME });
    expect(result.status).toBe('already-done');
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });

  it('renews a revoke policy older than the finding, even with the key already inactive', async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice?.accessKeys?.[1]) throw new Error('seed changed');
    alice.accessKeys[1].status = 'Inactive';
    const stale = documentedRevokePolicy('2024-01-01T00:00:00.000Z') as object;
    alice.inlinePolicies = { ...alice.inlinePolicies, 'cordon-revoke-sessions-inc-1': stale };
    const { sandbox, contain } = bench(defaults, seed);
    const result = await contain({ ...event, findingTime: FINDING_TIME });
    expect(result.status).toBe('succeeded');
    expect(mutatingCalls(sandbox.calls)).toEqual(['PutUserPolicy']);
    expect(result.before).toMatchObject({ revokePolicy: JSON.stringify(stale) });
    const document = sandbox.state().iam.users.alice?.inlinePolicies['cordon-revoke-sessions-inc-1'];
    expect(JSON.parse(document ?? '')).toStrictEqual(documentedRevokePolicy(NOW));
  });

  it("adds its own deny beside another incident's, which it neither counts nor changes", async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice?.accessKeys?.[1]) throw new Error('seed changed');
    // An earlier incident deactivated the key and denied the sessions issued before its own time.
    alice.accessKeys[1].status = 'Inactive';
    const earlier = documentedRevokePolicy(FINDING_TIME) as object;
    alice.inlinePolicies = { ...alice.inlinePolicies, 'cordon-revoke-sessions-inc-0': earlier };
    const { sandbox, contain } = bench(defaults, seed);
    const result = await contain({ ...event, findingTime: FINDING_TIME });
    expect(result.status).toBe('succeeded');
    expect(mutatingCalls(sandbox.calls)).toEqual(['PutUserPolicy']);
    const policies = sandbox.state().iam.users.alice?.inlinePolicies;
    expect(JSON.parse(policies?.['cordon-revoke-sessions-inc-0'] ?? '')).toStrictEqual(earlier);
    expect(JSON.parse(policies?.['cordon-revoke-sessions-inc-1'] ?? '')).toStrictEqual(
      documentedRevokePolicy(NOW),
    );
    // A session issued after the earlier cut-off, before this containment, is denied too.
    expect(deniesSessionIssuedAt(policies, new Date(Date.parse(NOW) - 1000).toISOString())).toBe(true);
  });

  it('refuses a key that does not belong to the user, changing nothing', async () => {
    const { sandbox, contain } = bench();
    const error = await errorOf(contain({ ...event, accessKeyId: BOB_KEY }));
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(error.message).toContain(`${BOB_KEY} does not belong to IAM user alice`);
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });

  it('throws ResourceNotFoundError for a user that does not exist', async () => {
    const { contain } = bench();
    expect(await errorOf(contain({ ...event, userName: 'mallory' }))).toBeInstanceOf(ResourceNotFoundError);
  });

  it('throws ThrottlingError when IAM throttles the deactivation, and succeeds when retried', async () => {
    const { sandbox, contain } = bench();
    const state = sandbox.state();
    sandbox.failNext('UpdateAccessKey', 1, { code: 'Throttling' });
    const error = await errorOf(contain(event));
    expect(error).toBeInstanceOf(ThrottlingError);
    expect(error.name).toBe('ThrottlingError');
    expect(sandbox.state()).toEqual(state);
    expect((await contain(event)).status).toBe('succeeded');
    expect(statuses(sandbox.state())[KEY_2]).toBe('Inactive');
  });

  it('throws AccessDeniedError when IAM denies the deactivation, leaving the state unchanged', async () => {
    const { sandbox, contain } = bench();
    const state = sandbox.state();
    sandbox.failNext('UpdateAccessKey', 1, { code: 'AccessDenied' });
    const error = await errorOf(contain(event));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(error.message).toContain('iam:UpdateAccessKey alice');
    expect(sandbox.state()).toEqual(state);
  });

  it('throws AccessDeniedError when the responder may not read the user, before changing anything', async () => {
    const { sandbox, contain } = bench(defaults, { ...SEED, denied: ['ListMFADevices'] });
    expect(await errorOf(contain(event))).toBeInstanceOf(AccessDeniedError);
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });

  it('changes nothing on a dry run, and says what it would change', async () => {
    const { sandbox, contain } = bench({ deactivateAllKeys: false, deleteLoginProfile: true });
    const state = sandbox.state();
    const result = await contain({ ...event, dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
    expect(result).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      changes: {
        deactivatedKeys: [KEY_2],
        revokePolicy: JSON.stringify(documentedRevokePolicy(NOW)),
        policyName: 'cordon-revoke-sessions-inc-1',
        deletedLoginProfile: true,
      },
    });
    expect(result.note).toMatch(/^dry run, nothing changed: would deactivate/);
  });

  it('revokes the sessions of a temporary key without touching the long-term keys', async () => {
    const { sandbox, contain } = bench();
    const result = await contain({ ...event, accessKeyId: 'ASIAALICE00000000009' });
    expect(mutatingCalls(sandbox.calls)).toEqual(['PutUserPolicy']);
    expect(Object.values(statuses(sandbox.state()))).not.toContain('Inactive');
    expect(result.note).toContain('temporary key');
  });

  it('refuses a user with the protected tag unless the event says it was approved', async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice) throw new Error('seed changed');
    alice.tags = { 'cordon:protected': 'true' };
    const { sandbox, contain } = bench(defaults, seed);
    const error = await errorOf(contain(event));
    expect(error).toBeInstanceOf(ProtectedResourceError);
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
    expect((await contain({ ...event, approved: true })).status).toBe('succeeded');
  });

  it('refuses an event without a user name, naming the field', async () => {
    const { contain } = bench();
    const error = await errorOf(contain({ incidentId: 'inc-1', accessKeyId: KEY_2 }));
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toContain('userName');
  });
});
