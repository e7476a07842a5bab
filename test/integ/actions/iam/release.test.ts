import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { ThrottlingError } from '#shared/errors';
import { ReleaseRefusedError } from '../../../../functions/actions/ec2-release/errors.ts';
import { containUserKey } from '../../../../functions/actions/iam-contain-user-key/core.ts';
import { deleteKey } from '../../../../functions/actions/iam-delete-key/core.ts';
import { release } from '../../../../functions/actions/iam-release/core.ts';
import { revokeRoleSessions } from '../../../../functions/actions/iam-revoke-role-sessions/core.ts';
import { createTestTable, type TestTable } from '../../../support/store.ts';
import {
  audited,
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
  openIncident,
  protectedTag,
  SEED,
  SERVICE_LINKED,
  setupIam,
} from './helpers.ts';

let table: TestTable;
let recorder: AuditRecorder;
beforeAll(async () => {
  table = await createTestTable('iam-release');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

async function bench(settings = { deactivateAllKeys: false, deleteLoginProfile: false }, seed = SEED) {
  const { sandbox, iam } = setupIam(seed);
  const incident = await openIncident(recorder);
  const incidentId = incident.id;
  const contain = audited(recorder, 'containment', 'iam-contain-user-key', (event) =>
    containUserKey({ iam, now, settings, protectedTag, recorder }, event),
  );
  const revoke = audited(recorder, 'containment', 'iam-revoke-role-sessions', (event) =>
    revokeRoleSessions({ iam, now, protectedTag }, event),
  );
  const eradicate = audited(recorder, 'eradication', 'iam-delete-key', (event) =>
    deleteKey({ iam, recorder }, event),
  );
  const recover = audited(recorder, 'recovery', 'iam-release', (event) =>
    release({ iam, recorder, untouchable: () => undefined }, event),
  );
  return { sandbox, iam, incidentId, contain, revoke, eradicate, recover };
}

describe('iam-release', () => {
  it('returns the IAM state to exactly the state before containment', async () => {
    const { sandbox, incidentId, contain, revoke, recover } = await bench();
    const before = sandbox.state().iam;
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    await revoke({ incidentId, roleName: 'app', findingTime: FINDING_TIME });
    expect(sandbox.state().iam).not.toEqual(before);
    const callsBefore = sandbox.calls.length;
    const result = await recover({ incidentId });
    expect(result.status).toBe('succeeded');
    expect(sandbox.state().iam).toEqual(before);
    expect(result.output).toEqual({
      reactivatedKeys: [KEY_2],
      deletedKeys: [],
      removedRevokePolicies: ['user/alice', 'role/app'],
      needsPasswordReset: [],
    });
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([
      'UpdateAccessKey',
      'DeleteUserPolicy',
      'DeleteRolePolicy',
    ]);
  });

  it('reactivates only the keys containment deactivated, when it deactivated all', async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice?.accessKeys?.[2]) throw new Error('seed changed');
    alice.accessKeys[2].status = 'Inactive';
    const { sandbox, incidentId, contain, recover } = await bench(
      { deactivateAllKeys: true, deleteLoginProfile: false },
      seed,
    );
    const before = sandbox.state().iam;
    const contained = await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    expect(contained.output).toMatchObject({ deactivatedKeys: [KEY_2, KEY_1] });
    const result = await recover({ incidentId });
    expect(result.output).toMatchObject({ reactivatedKeys: [KEY_2, KEY_1] });
    expect(sandbox.state().iam).toEqual(before);
    expect(sandbox.state().iam.accessKeys[KEY_3]?.status).toBe('Inactive');
  });

  it('is already done on a second run, with no change made', async () => {
    const { sandbox, incidentId, contain, revoke, recover } = await bench();
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    await revoke({ incidentId, roleName: 'app' });
    await recover({ incidentId });
    const callsBefore = sandbox.calls.length;
    const second = await recover({ incidentId });
    expect(second.status).toBe('already-done');
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([]);
  });

  it('undoes a containment that failed half-way and was retried, from the state recorded before the failure', async () => {
    const { sandbox, incidentId, contain, recover } = await bench();
    const before = sandbox.state().iam;
    sandbox.failNext('PutUserPolicy', 1, { code: 'Throttling' });
    expect(await errorOf(contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 }))).toBeInstanceOf(
      ThrottlingError,
    );
    const retried = await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    // The retry finds the key already inactive: its own record alone would not say to reactivate it.
    expect(retried.before).toMatchObject({
      accessKeys: [{}, { accessKeyId: KEY_2, status: 'Inactive' }, {}],
    });
    const steps = await recorder.steps(incidentId);
    expect(steps.map((s) => s.status)).toEqual(['started', 'noted', 'failed', 'started', 'succeeded']);
    expect(steps[1]).toMatchObject({ changes: { deactivatedKeys: [KEY_2], revokePolicy: null } });
    expect(steps[1]?.note).toMatch(/^partly contained, then ThrottlingError/);
    await recover({ incidentId });
    expect(sandbox.state().iam).toEqual(before);
  });

  it("leaves another incident's deny that was there before containment as it was, and puts no policy", async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice) throw new Error('seed changed');
    alice.inlinePolicies = {
      ...alice.inlinePolicies,
      'cordon-revoke-sessions-inc-0': documentedRevokePolicy('2024-01-01T00:00:00.000Z') as object,
    };
    const { sandbox, incidentId, contain, recover } = await bench(undefined, seed);
    const before = sandbox.state().iam;
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const callsBefore = sandbox.calls.length;
    const result = await recover({ incidentId });
    expect(result.output).toMatchObject({ removedRevokePolicies: ['user/alice'] });
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual(['UpdateAccessKey', 'DeleteUserPolicy']);
    expect(sandbox.state().iam).toEqual(before);
  });

  it("releases one incident on a user while another is open: the other's deny and key stay, its release removes them", async () => {
    const { sandbox, iam } = setupIam();
    const before = sandbox.state().iam;
    const settings = { deactivateAllKeys: false, deleteLoginProfile: false };
    const containAt = (at: string) =>
      audited(recorder, 'containment', 'iam-contain-user-key', (event) =>
        containUserKey({ iam, now: () => new Date(at), settings, protectedTag, recorder }, event),
      );
    const recover = audited(recorder, 'recovery', 'iam-release', (event) =>
      release({ iam, recorder, untouchable: () => undefined }, event),
    );
    // Incident A contains KEY_2; an hour later incident B contains KEY_1 of the same user.
    const later = new Date(Date.parse(NOW) + 3_600_000).toISOString();
    const a = (await openIncident(recorder)).id;
    const b = (await openIncident(recorder)).id;
    await containAt(NOW)({ incidentId: a, userName: 'alice', accessKeyId: KEY_2 });
    await containAt(later)({ incidentId: b, userName: 'alice', accessKeyId: KEY_1 });
    // A session minted with KEY_1 between the two containments, stolen in B.
    const stolenInB = new Date(Date.parse(NOW) + 1_800_000).toISOString();
    const alice = () => sandbox.state().iam.users.alice;

    expect((await recover({ incidentId: a })).status).toBe('succeeded');
    expect(deniesSessionIssuedAt(alice()?.inlinePolicies, stolenInB)).toBe(true);
    expect(sandbox.state().iam.accessKeys[KEY_1]?.status).toBe('Inactive');
    expect(sandbox.state().iam.accessKeys[KEY_2]?.status).toBe('Active');

    expect((await recover({ incidentId: b })).status).toBe('succeeded');
    expect(sandbox.state().iam).toEqual(before);
  });

  it("releases one incident on a role while another is open: the other's deny stays, its release removes it", async () => {
    const { sandbox, iam } = setupIam();
    const before = sandbox.state().iam;
    const revokeAt = (at: string) =>
      audited(recorder, 'containment', 'iam-revoke-role-sessions', (event) =>
        revokeRoleSessions({ iam, now: () => new Date(at), protectedTag }, event),
      );
    const recover = audited(recorder, 'recovery', 'iam-release', (event) =>
      release({ iam, recorder, untouchable: () => undefined }, event),
    );
    const later = new Date(Date.parse(NOW) + 3_600_000).toISOString();
    const stolenInB = new Date(Date.parse(NOW) + 1_800_000).toISOString();
    const a = (await openIncident(recorder)).id;
    const b = (await openIncident(recorder)).id;
    await revokeAt(NOW)({ incidentId: a, roleName: 'app', findingTime: FINDING_TIME });
    // B's finding was seen after A's cut-off: A's deny alone would let B's stolen session live.
    await revokeAt(later)({ incidentId: b, roleName: 'app', findingTime: stolenInB });
    const app = () => sandbox.state().iam.roles.app?.inlinePolicies;
    expect(deniesSessionIssuedAt(app(), stolenInB)).toBe(true);

    expect((await recover({ incidentId: a })).status).toBe('succeeded');
    expect(deniesSessionIssuedAt(app(), stolenInB)).toBe(true);

    expect((await recover({ incidentId: b })).status).toBe('succeeded');
    expect(sandbox.state().iam).toEqual(before);
  });

  it('refuses to reactivate keys of a user the incident is not about, even from a record that verifies', async () => {
    const seed = structuredClone(SEED);
    const bob = seed.iam?.users?.find((u) => u.name === 'bob');
    if (!bob?.accessKeys?.[0]) throw new Error('seed changed');
    // An administrator deactivated bob's key after an earlier compromise.
    bob.accessKeys[0].status = 'Inactive';
    const { sandbox, iam, incidentId, contain } = await bench(undefined, seed);
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const verified = await recorder.verified(incidentId);
    const last = verified.steps.at(-1);
    if (!last) throw new Error('no step');
    // One more containment step that says bob's key was active and Cordon deactivated it.
    const bobStep = {
      ...last,
      seq: last.seq + 1,
      before: {
        userName: 'bob',
        accessKeys: [{ accessKeyId: BOB_KEY, status: 'Active', createDate: null, lastUsed: null }],
        loginProfile: { exists: false },
        mfaDevices: [],
        inlinePolicies: [],
        attachedPolicies: [],
        revokePolicy: null,
      },
      changes: { deactivatedKeys: [BOB_KEY], revokePolicy: null, deletedLoginProfile: false },
    };
    const record = { verified: async () => ({ ...verified, steps: [...verified.steps, bobStep] }) };
    const callsBefore = sandbox.calls.length;
    const error = await errorOf(
      release({ iam, recorder: record, untouchable: () => undefined }, { incidentId }),
    );
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/name IAM users it is not about \(bob; it is about alice\)/);
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([]);
    expect(sandbox.state().iam.accessKeys[BOB_KEY]?.status).toBe('Inactive');
  });

  it('says a key deleted after approval cannot be reactivated, and restores the rest', async () => {
    const { sandbox, incidentId, contain, eradicate, recover } = await bench();
    const before = sandbox.state().iam;
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    await eradicate({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const result = await recover({ incidentId });
    expect(result.output).toMatchObject({
      reactivatedKeys: [],
      deletedKeys: [KEY_2],
      removedRevokePolicies: ['user/alice'],
    });
    expect(result.note).toContain(`not reactivated, deleted since containment: ${KEY_2}`);
    const { [KEY_2]: _deleted, ...otherKeys } = before.accessKeys;
    expect(sandbox.state().iam).toEqual({ ...before, accessKeys: otherKeys });
  });

  it('creates no password for a login profile containment deleted, and reports that the user needs a reset', async () => {
    const { sandbox, incidentId, contain, recover } = await bench({
      deactivateAllKeys: false,
      deleteLoginProfile: true,
    });
    const before = sandbox.state().iam;
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const callsBefore = sandbox.calls.length;
    const result = await recover({ incidentId });
    expect(result.output).toMatchObject({ needsPasswordReset: ['alice'] });
    expect(result.note).toContain('an administrator must set a new one for alice');
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).not.toContain('CreateLoginProfile');
    const { loginProfile: _gone, ...aliceBefore } = before.users.alice ?? {};
    expect(sandbox.state().iam).toEqual({ ...before, users: { ...before.users, alice: aliceBefore } });
  });

  it('changes nothing on a dry run, and says what it would restore', async () => {
    const { sandbox, incidentId, contain, recover } = await bench();
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const contained = sandbox.state();
    const callsBefore = sandbox.calls.length;
    const result = await recover({ incidentId, dryRun: true });
    expect(result).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      changes: { reactivatedKeys: [KEY_2] },
    });
    expect(result.note).toMatch(/^dry run, nothing changed: would reactivate/);
    expect(sandbox.state()).toEqual(contained);
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([]);
  });

  it('has nothing to release after a dry-run containment or a skipped service-linked role', async () => {
    const { sandbox, incidentId, contain, revoke, recover } = await bench();
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2, dryRun: true });
    await revoke({ incidentId, roleName: SERVICE_LINKED });
    const result = await recover({ incidentId });
    expect(result.status).toBe('skipped');
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });
});
