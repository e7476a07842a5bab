import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ResourceNotFoundError, ThrottlingError } from '#shared/errors';
import { revokeRoleSessions } from '../../../../functions/actions/iam-revoke-role-sessions/core.ts';
import {
  APP_TRUST,
  deniesSessionIssuedAt,
  documentedRevokePolicy,
  errorOf,
  FINDING_TIME,
  mutatingCalls,
  NOW,
  now,
  protectedTag,
  SEED,
  SERVICE_LINKED,
  setupIam,
} from './helpers.ts';

const event = { incidentId: 'inc-2', roleName: 'app', findingTime: FINDING_TIME };

function bench(seed = SEED) {
  const { sandbox, iam } = setupIam(seed);
  const deps = { iam, now, protectedTag, breakGlassRoles: ['breakglass-*'], stackName: 'Cordon' };
  return { sandbox, revoke: (input: object) => revokeRoleSessions(deps, input) };
}

/** The bench's account with one more role. */
function withRole(role: NonNullable<NonNullable<typeof SEED.iam>['roles']>[number]) {
  const seed = structuredClone(SEED);
  seed.iam?.roles?.push(role);
  return seed;
}

/** Runs the action on a role that must never be touched: skipped for a person, nothing put. */
async function refusedOn(seed: typeof SEED, roleName: string, extra: object = {}) {
  const { sandbox, revoke } = bench(seed);
  const state = sandbox.state();
  const result = await revoke({ ...event, roleName, ...extra });
  expect(result.status).toBe('skipped');
  expect(result.output).toMatchObject({ roleName, manualActionRequired: true });
  expect(mutatingCalls(sandbox.calls)).toEqual([]);
  expect(sandbox.state()).toEqual(state);
  return result;
}

/** The bench's account, its role `app` carrying an inline policy (by default, this incident's deny). */
function withRolePolicy(document: object, name = 'cordon-revoke-sessions-inc-2') {
  const seed = structuredClone(SEED);
  const app = seed.iam?.roles?.[0];
  if (!app) throw new Error('seed changed');
  app.inlinePolicies = { [name]: document };
  return seed;
}

describe('iam-revoke-role-sessions', () => {
  it('puts the revocation on the assumed role, cut off at the time of containment, not the finding', async () => {
    const { sandbox, revoke } = bench();
    const result = await revoke(event);
    expect(result.status).toBe('succeeded');
    const document = sandbox.state().iam.roles.app?.inlinePolicies['cordon-revoke-sessions-inc-2'];
    expect(JSON.parse(document ?? '')).toStrictEqual(documentedRevokePolicy(NOW));
    expect(NOW > FINDING_TIME).toBe(true);
    expect(result.output).toMatchObject({ roleName: 'app', containedAt: NOW, manualActionRequired: false });
    expect(mutatingCalls(sandbox.calls)).toEqual(['PutRolePolicy']);
    expect(sandbox.calls.map((c) => c.command)).toEqual(['GetRole', 'GetRolePolicy', 'PutRolePolicy']);
  });

  it('records the trust policy, decoded, for review', async () => {
    const { revoke } = bench();
    const result = await revoke(event);
    expect(result.before).toEqual({
      roleName: 'app',
      arn: 'arn:aws:iam::123456789012:role/app',
      path: '/',
      serviceLinked: false,
      maxSessionDuration: 3600,
      trustPolicy: APP_TRUST,
      revokePolicy: null,
    });
    expect(result.note).toContain('trust policy');
  });

  it('skips a service-linked role and reports it for a person, changing nothing', async () => {
    const { sandbox, revoke } = bench();
    const state = sandbox.state();
    const result = await revoke({ ...event, roleName: SERVICE_LINKED });
    expect(result.status).toBe('skipped');
    expect(result.note).toMatch(/^manual action required: .*service-linked/);
    expect(result.output).toMatchObject({ serviceLinked: true, manualActionRequired: true });
    expect(result.before).toMatchObject({
      serviceLinked: true,
      path: '/aws-service-role/autoscaling.amazonaws.com/',
    });
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
    expect(sandbox.state()).toEqual(state);
  });

  it('skips a role that IAM refuses to modify, from the UnmodifiableEntity answer', async () => {
    const { sandbox, revoke } = bench();
    sandbox.failNext('PutRolePolicy', 1, { code: 'UnmodifiableEntity' });
    const result = await revoke(event);
    expect(result.status).toBe('skipped');
    expect(result.note).toContain('UnmodifiableEntity');
    expect(sandbox.state().iam.roles.app?.inlinePolicies).toEqual({});
  });

  it('reports already-done on a second run, with no change made', async () => {
    const { sandbox, revoke } = bench();
    await revoke(event);
    const callsBefore = sandbox.calls.length;
    const second = await revoke(event);
    expect(second.status).toBe('already-done');
    expect(second.output).toMatchObject({ containedAt: NOW });
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual([]);
  });

  it("is already done when the incident's revoke policy cuts off at or after the finding", async () => {
    const { sandbox, revoke } = bench(withRolePolicy(documentedRevokePolicy(FINDING_TIME) as object));
    expect((await revoke(event)).status).toBe('already-done');
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });

  it('renews a revoke policy that cuts off before the finding, recording the old one', async () => {
    const stale = documentedRevokePolicy('2024-06-01T00:00:00.000Z') as object;
    const { sandbox, revoke } = bench(withRolePolicy(stale));
    const result = await revoke(event);
    expect(result.status).toBe('succeeded');
    expect(result.before).toMatchObject({ revokePolicy: JSON.stringify(stale) });
    const document = sandbox.state().iam.roles.app?.inlinePolicies['cordon-revoke-sessions-inc-2'];
    expect(JSON.parse(document ?? '')).toStrictEqual(documentedRevokePolicy(NOW));
  });

  it("adds its own deny beside another incident's older one, cut off at its own time", async () => {
    const earlier = documentedRevokePolicy('2024-06-01T00:00:00.000Z') as object;
    const { sandbox, revoke } = bench(withRolePolicy(earlier, 'cordon-revoke-sessions-inc-1'));
    const result = await revoke(event);
    expect(result.status).toBe('succeeded');
    expect(result.changes).toEqual({
      revokePolicy: JSON.stringify(documentedRevokePolicy(NOW)),
      policyName: 'cordon-revoke-sessions-inc-2',
    });
    const policies = sandbox.state().iam.roles.app?.inlinePolicies;
    expect(JSON.parse(policies?.['cordon-revoke-sessions-inc-1'] ?? '')).toStrictEqual(earlier);
    // A session issued after the earlier cut-off and before the finding is denied.
    expect(deniesSessionIssuedAt(policies, FINDING_TIME)).toBe(true);
  });

  it('renews its own revoke policy when it is cut off later than now, which the code never writes', async () => {
    const { sandbox, revoke } = bench(
      withRolePolicy(documentedRevokePolicy('2099-01-01T00:00:00.000Z') as object),
    );
    expect((await revoke(event)).status).toBe('succeeded');
    const document = sandbox.state().iam.roles.app?.inlinePolicies['cordon-revoke-sessions-inc-2'];
    expect(JSON.parse(document ?? '')).toStrictEqual(documentedRevokePolicy(NOW));
  });

  it('replaces a policy of that name that is not the exact revoke policy', async () => {
    const edited = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] };
    const { revoke } = bench(withRolePolicy(edited));
    expect((await revoke({ incidentId: 'inc-2', roleName: 'app' })).status).toBe('succeeded');
  });

  it('refuses to put its deny on a break-glass role', async () => {
    const seed = withRole({ name: 'breakglass-admin', path: '/emergency/' });
    const result = await refusedOn(seed, 'breakglass-admin');
    expect(result.note).toMatch(/^manual action required: role breakglass-admin is a break-glass role/);
  });

  it('refuses to put its deny on a CDK bootstrap role', async () => {
    for (const kind of ['cfn-exec', 'deploy', 'file-publishing', 'image-publishing', 'lookup']) {
      const name = `cdk-hnb659fds-${kind}-role-123456789012-us-east-1`;
      const result = await refusedOn(withRole({ name }), name);
      expect(result.note).toMatch(/^manual action required: role \S+ is a CDK bootstrap role/);
    }
  });

  // A protected role was changed after an approval before; now a person acts, approved or not.
  it('refuses to put its deny on a role with the protected tag, even after approval', async () => {
    const seed = structuredClone(SEED);
    const app = seed.iam?.roles?.[0];
    if (!app) throw new Error('seed changed');
    app.tags = { 'cordon:protected': 'true' };
    for (const approved of [false, true]) {
      const result = await refusedOn(seed, 'app', { approved });
      expect(result.note).toMatch(
        /^manual action required: role app carries cordon:protected=true: automation never changes it, even after approval/,
      );
    }
  });

  it("refuses to put its deny on an AWS-reserved role and on Cordon's own roles", async () => {
    const reserved = 'AWSReservedSSO_AdministratorAccess_0123456789abcdef';
    const seed = withRole({ name: reserved, path: '/aws-reserved/sso.amazonaws.com/' });
    expect((await refusedOn(seed, reserved)).note).toMatch(/is reserved by AWS/);
    for (const own of ['cordon-restore-us-east-1', 'Cordon-IamReleaseServiceRole-ABCDEF123456']) {
      expect((await refusedOn(withRole({ name: own }), own)).note).toMatch(/is one of Cordon's own roles/);
    }
  });

  it('still revokes a role whose name only resembles an untouchable one', async () => {
    for (const name of ['cdk-app-role', 'my-cordon-role', 'team-breakglass-admin']) {
      const { sandbox, revoke } = bench(withRole({ name }));
      expect((await revoke({ ...event, roleName: name })).status).toBe('succeeded');
      expect(mutatingCalls(sandbox.calls)).toEqual(['PutRolePolicy']);
    }
  });

  it('throws ResourceNotFoundError for a role that does not exist', async () => {
    const { revoke } = bench();
    expect(await errorOf(revoke({ ...event, roleName: 'ghost' }))).toBeInstanceOf(ResourceNotFoundError);
  });

  it('throws ThrottlingError and AccessDeniedError from IAM, leaving the role unchanged', async () => {
    const { sandbox, revoke } = bench();
    const state = sandbox.state();
    sandbox.failNext('PutRolePolicy', 1, { code: 'Throttling' });
    expect(await errorOf(revoke(event))).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('PutRolePolicy', 1, { code: 'AccessDenied' });
    expect(await errorOf(revoke(event))).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state()).toEqual(state);
  });

  it('changes nothing on a dry run, and says what it would put', async () => {
    const { sandbox, revoke } = bench();
    const state = sandbox.state();
    const result = await revoke({ ...event, dryRun: true });
    expect(result).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      changes: {
        revokePolicy: JSON.stringify(documentedRevokePolicy(NOW)),
        policyName: 'cordon-revoke-sessions-inc-2',
      },
    });
    expect(sandbox.state()).toEqual(state);
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });
});
