import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError } from '#shared/errors';
import { revokeSessions } from '../../../../functions/actions/ec2-revoke-sessions/core.ts';
import { deniesSessionIssuedAt } from '../iam/helpers.ts';
import { errorOf, mutationsSince, PEER, PROTECTED_TAG, SLR, seed, setup, T0, WEB } from './helpers.ts';

/** Instances whose profile holds a role that must never be touched, one of each kind. */
const UNTOUCHABLE = {
  breakGlass: { instance: 'i-0a1b2c3d4e5f60011', role: 'breakglass-admin', path: '/emergency/' },
  cdk: { instance: 'i-0a1b2c3d4e5f60012', role: 'cdk-hnb659fds-cfn-exec-role-123456789012-us-east-1' },
  tagged: { instance: 'i-0a1b2c3d4e5f60013', role: 'payments-role', tags: { 'cordon:protected': 'true' } },
  reserved: {
    instance: 'i-0a1b2c3d4e5f60014',
    role: 'AWSReservedSSO_AdministratorAccess_0123456789abcdef',
    path: '/aws-reserved/sso.amazonaws.com/',
  },
  own: { instance: 'i-0a1b2c3d4e5f60015', role: 'Cordon-Ec2ReleaseServiceRole-ABCDEF123456' },
} as const;

/** The account of the EC2 tests, with an instance for each untouchable role. */
function untouchableSeed() {
  const account = seed();
  for (const [kind, t] of Object.entries(UNTOUCHABLE)) {
    account.instances?.push({
      id: t.instance,
      subnet: 'subnet-app',
      groups: ['sg-web'],
      profile: `${kind}-profile`,
    });
    account.iam?.roles?.push({
      name: t.role,
      ...('path' in t ? { path: t.path } : {}),
      ...('tags' in t ? { tags: { ...t.tags } } : {}),
    });
    account.iam?.instanceProfiles?.push({ name: `${kind}-profile`, roles: [t.role] });
  }
  return account;
}

function world(accountSeed = seed()) {
  const env = setup(accountSeed);
  const deps = {
    ec2: env.ec2,
    iam: env.iam,
    now: env.now,
    protectedTag: PROTECTED_TAG,
    breakGlassRoles: ['breakglass-*'],
    stackName: 'Cordon',
  };
  const run = (instanceId: string, extra: Record<string, unknown> = {}) =>
    revokeSessions(deps, { incidentId: 'inc-1', instanceId, ...extra });
  return { ...env, run };
}

/** Runs the action on an instance whose role must never be touched, and checks that only the profile went. */
async function refusedOn(kind: keyof typeof UNTOUCHABLE, extra: Record<string, unknown> = {}) {
  const { instance, role } = UNTOUCHABLE[kind];
  const { sandbox, run } = world(untouchableSeed());
  const result = await run(instance, extra);
  const state = sandbox.state();
  expect(result.status).toBe('succeeded');
  expect(state.iam.roles[role]?.inlinePolicies).toEqual({});
  expect(mutationsSince(sandbox)).toEqual(['EC2:DisassociateIamInstanceProfile']);
  expect(associationsOf(state, instance)).toEqual([]);
  expect(result.changes).toMatchObject({ revokePolicy: { roleName: role, skipped: expect.any(String) } });
  expect(result.before).toMatchObject({ role: { roleName: role, revokePolicy: null } });
  return result;
}

const associationsOf = (state: ReturnType<ReturnType<typeof setup>['sandbox']['state']>, id: string) =>
  Object.values(state.ec2.profileAssociations).filter((a) => a.instanceId === id);

describe('ec2-revoke-sessions', () => {
  it('denies the role sessions issued before now, then disassociates the profile', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB);
    const state = sandbox.state();
    expect(associationsOf(state, WEB)).toEqual([]);
    const policy = state.iam.roles['web-role']?.inlinePolicies['cordon-revoke-sessions-inc-1'];
    expect(JSON.parse(policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: { DateLessThan: { 'aws:TokenIssueTime': new Date(T0).toISOString() } },
        },
      ],
    });
    expect(result.before).toMatchObject({
      instanceId: WEB,
      association: {
        profileArn: 'arn:aws:iam::123456789012:instance-profile/web-profile',
        profileName: 'web-profile',
      },
      role: { roleName: 'web-role', path: '/', revokePolicy: null },
    });
    expect(mutationsSince(sandbox)).toEqual(['IAM:PutRolePolicy', 'EC2:DisassociateIamInstanceProfile']);
  });

  it("adds its own deny beside another incident's older one on a shared role, cut off at its own time", async () => {
    const { sandbox, run } = world();
    // Incident 1 contains WEB; an hour later incident 2 contains PEER, whose profile holds the same role.
    await run(WEB);
    sandbox.advance(3_600_000);
    const second = await run(PEER, { incidentId: 'inc-2' });
    expect(second.status).toBe('succeeded');
    const policies = sandbox.state().iam.roles['web-role']?.inlinePolicies;
    expect(Object.keys(policies ?? {}).sort()).toEqual([
      'cordon-revoke-sessions-inc-1',
      'cordon-revoke-sessions-inc-2',
    ]);
    // A session issued between the two containments (PEER's credentials, taken then) is denied too.
    expect(deniesSessionIssuedAt(policies, new Date(T0 + 1_800_000).toISOString())).toBe(true);
    expect(second.changes).toMatchObject({
      revokePolicy: { policyName: 'cordon-revoke-sessions-inc-2', roleName: 'web-role' },
    });
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, run } = world();
    await run(WEB);
    const mark = sandbox.calls.length;
    expect((await run(WEB)).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('skips a service-linked role, records the skip, and still disassociates the profile', async () => {
    const { sandbox, run } = world();
    const result = await run(SLR);
    const state = sandbox.state();
    expect(state.iam.roles.AWSServiceRoleForCordonTest?.inlinePolicies).toEqual({});
    expect(associationsOf(state, SLR)).toEqual([]);
    expect(result.note).toMatch(
      /skipped the session revocation: role AWSServiceRoleForCordonTest is service-linked/,
    );
    expect(result.changes).toMatchObject({
      revokePolicy: { roleName: 'AWSServiceRoleForCordonTest', skipped: expect.any(String) },
    });
    expect(mutationsSince(sandbox)).toEqual(['EC2:DisassociateIamInstanceProfile']);
  });

  it('refuses to put its deny on a break-glass role', async () => {
    const result = await refusedOn('breakGlass');
    expect(result.note).toMatch(
      /skipped the session revocation: role breakglass-admin is a break-glass role .*manual action required/,
    );
  });

  it('refuses to put its deny on a CDK bootstrap role', async () => {
    const result = await refusedOn('cdk');
    expect(result.note).toMatch(/role cdk-hnb659fds-cfn-exec-role-\S+ is a CDK bootstrap role/);
  });

  it('refuses to put its deny on a role with the protected tag, even after approval', async () => {
    const result = await refusedOn('tagged', { approved: true });
    expect(result.note).toMatch(/role payments-role carries cordon:protected=true: .*even after approval/);
  });

  it("refuses to put its deny on an AWS-reserved role and on Cordon's own", async () => {
    expect((await refusedOn('reserved')).note).toMatch(/is reserved by AWS \(path \/aws-reserved\//);
    expect((await refusedOn('own')).note).toMatch(/Cordon-Ec2ReleaseServiceRole-\S+ is one of Cordon's own/);
  });

  it('reads the role and its revoke policy after the profile, and changes it only then', async () => {
    const { sandbox, run } = world();
    await run(WEB);
    expect(sandbox.calls.map((c) => `${c.service}:${c.command}`)).toEqual([
      'EC2:DescribeInstances',
      'EC2:DescribeIamInstanceProfileAssociations',
      'IAM:GetInstanceProfile',
      'IAM:GetRole',
      'IAM:GetRolePolicy',
      'IAM:PutRolePolicy',
      'EC2:DisassociateIamInstanceProfile',
    ]);
  });

  it('changes nothing in a dry run and lists the calls it would make', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    const result = await run(WEB, { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(result.changes).toMatchObject({
      calls: [
        'iam:PutRolePolicy web-role cordon-revoke-sessions-inc-1',
        expect.stringMatching(/^ec2:DisassociateIamInstanceProfile /),
      ],
    });
  });

  it('puts the role back as it was when the disassociation is denied', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    sandbox.failNext('EC2:DisassociateIamInstanceProfile', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(AccessDeniedError);
    const after = sandbox.state();
    expect(after.iam).toEqual(state.iam);
    expect(after.ec2.profileAssociations).toEqual(state.ec2.profileAssociations);
  });

  it('turns IAM throttling into ThrottlingError', async () => {
    const { sandbox, run } = world();
    sandbox.failNext('IAM:PutRolePolicy', 1, { code: 'Throttling' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(ThrottlingError);
  });
});
