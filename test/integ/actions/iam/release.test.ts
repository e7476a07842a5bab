import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { ThrottlingError } from '#shared/errors';
import { containUserKey } from '../../../../functions/actions/iam-contain-user-key/core.ts';
import { deleteKey } from '../../../../functions/actions/iam-delete-key/core.ts';
import { release } from '../../../../functions/actions/iam-release/core.ts';
import { revokeRoleSessions } from '../../../../functions/actions/iam-revoke-role-sessions/core.ts';
import { createTestTable, type TestTable } from '../../../support/store.ts';
import {
  audited,
  documentedRevokePolicy,
  errorOf,
  FINDING_TIME,
  KEY_1,
  KEY_2,
  KEY_3,
  mutatingCalls,
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
  return { sandbox, incidentId, contain, revoke, eradicate, recover };
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
      restoredRevokePolicies: [],
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

  it('puts back a revoke policy that was there before containment renewed it', async () => {
    const seed = structuredClone(SEED);
    const alice = seed.iam?.users?.[0];
    if (!alice) throw new Error('seed changed');
    alice.inlinePolicies = {
      ...alice.inlinePolicies,
      'cordon-revoke-sessions': documentedRevokePolicy('2024-01-01T00:00:00.000Z') as object,
    };
    const { sandbox, incidentId, contain, recover } = await bench(undefined, seed);
    const before = sandbox.state().iam;
    await contain({ incidentId, userName: 'alice', accessKeyId: KEY_2 });
    const result = await recover({ incidentId });
    expect(result.output).toMatchObject({
      restoredRevokePolicies: ['user/alice'],
      removedRevokePolicies: [],
    });
    expect(sandbox.state().iam).toEqual(before);
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
