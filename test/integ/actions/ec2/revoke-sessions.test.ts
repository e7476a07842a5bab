import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError } from '#shared/errors';
import { revokeSessions } from '../../../../functions/actions/ec2-revoke-sessions/core.ts';
import { errorOf, mutationsSince, PROTECTED_TAG, SLR, setup, T0, WEB } from './helpers.ts';

function world() {
  const env = setup();
  const deps = { ec2: env.ec2, iam: env.iam, now: env.now, protectedTag: PROTECTED_TAG };
  const run = (instanceId: string, extra: Record<string, unknown> = {}) =>
    revokeSessions(deps, { incidentId: 'inc-1', instanceId, ...extra });
  return { ...env, run };
}

const associationsOf = (state: ReturnType<ReturnType<typeof setup>['sandbox']['state']>, id: string) =>
  Object.values(state.ec2.profileAssociations).filter((a) => a.instanceId === id);

describe('ec2-revoke-sessions', () => {
  it('denies the role sessions issued before now, then disassociates the profile', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB);
    const state = sandbox.state();
    expect(associationsOf(state, WEB)).toEqual([]);
    const policy = state.iam.roles['web-role']?.inlinePolicies['cordon-revoke-sessions'];
    expect(JSON.parse(policy ?? '{}')).toEqual({
      Version: '2012-10-17',
      Statement: [
        {
          Effect: 'Deny',
          Action: ['*'],
          Resource: ['*'],
          Condition: {
            DateLessThan: { 'aws:TokenIssueTime': new Date(T0).toISOString().replace('.000Z', 'Z') },
          },
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

  it('changes nothing in a dry run and lists the calls it would make', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    const result = await run(WEB, { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(result.changes).toMatchObject({
      calls: [
        'iam:PutRolePolicy web-role cordon-revoke-sessions',
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
