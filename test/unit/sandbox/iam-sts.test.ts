import {
  CreateAccessKeyCommand,
  CreateLoginProfileCommand,
  DeleteAccessKeyCommand,
  DeleteLoginProfileCommand,
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetAccessKeyLastUsedCommand,
  GetInstanceProfileCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  LimitExceededException,
  ListAccessKeysCommand,
  ListAttachedRolePoliciesCommand,
  ListAttachedUserPoliciesCommand,
  ListInstanceProfilesForRoleCommand,
  ListMFADevicesCommand,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UnmodifiableEntityException,
  UpdateAccessKeyCommand,
  UpdateLoginProfileCommand,
} from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import type { AccountSeed } from '#local/sandbox/index';
import { errorOf, setup, T0 } from './helpers.ts';

const trust = {
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
};
const policy = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Deny', Action: '*', Resource: '*' }],
});

const seed: AccountSeed = {
  iam: {
    users: [
      {
        name: 'alice',
        accessKeys: [
          { id: 'AKIAALICE1', lastUsed: { at: T0 - 60_000, service: 's3', region: 'eu-west-1' } },
          { id: 'AKIAALICE2' },
        ],
        loginProfile: true,
        mfaDevices: ['arn:aws:iam::123456789012:mfa/alice'],
        inlinePolicies: { inline: policy },
        attachedPolicies: ['arn:aws:iam::aws:policy/ReadOnlyAccess'],
      },
      { name: 'bob' },
    ],
    roles: [
      {
        name: 'app',
        trustPolicy: trust,
        attachedPolicies: ['arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess'],
      },
      { name: 'AWSServiceRoleForAutoScaling', path: '/aws-service-role/autoscaling.amazonaws.com/' },
    ],
    instanceProfiles: [{ name: 'app-profile', roles: ['app'] }],
  },
};

describe('IAM users and access keys', () => {
  it('lists access keys and deactivates one', async () => {
    const { iam, sandbox } = setup(seed);
    const listed = await iam.send(new ListAccessKeysCommand({ UserName: 'alice' }));
    expect(listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status])).toEqual([
      ['AKIAALICE1', 'Active'],
      ['AKIAALICE2', 'Active'],
    ]);
    await iam.send(
      new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE1', Status: 'Inactive' }),
    );
    expect(sandbox.state().iam.accessKeys.AKIAALICE1?.status).toBe('Inactive');
  });

  it('fails UpdateAccessKey on an unknown key with NoSuchEntity', async () => {
    const { iam } = setup(seed);
    const error = await errorOf(
      iam.send(
        new UpdateAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIANOPE', Status: 'Inactive' }),
      ),
    );
    expect(error).toBeInstanceOf(NoSuchEntityException);
    expect(error.$metadata?.httpStatusCode).toBe(404);
  });

  it('fails for an unknown user with NoSuchEntity', async () => {
    const { iam } = setup(seed);
    expect(await errorOf(iam.send(new GetUserCommand({ UserName: 'mallory' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });

  it('reports when a key was last used, and N/A when never', async () => {
    const { iam } = setup(seed);
    const used = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAALICE1' }));
    expect(used.UserName).toBe('alice');
    expect(used.AccessKeyLastUsed).toEqual({
      LastUsedDate: new Date(T0 - 60_000),
      ServiceName: 's3',
      Region: 'eu-west-1',
    });
    const never = await iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: 'AKIAALICE2' }));
    expect(never.AccessKeyLastUsed).toEqual({ ServiceName: 'N/A', Region: 'N/A' });
  });

  it('deletes a key, creates one, and refuses a third key with LimitExceeded', async () => {
    const { iam } = setup(seed);
    await iam.send(new DeleteAccessKeyCommand({ UserName: 'alice', AccessKeyId: 'AKIAALICE2' }));
    const created = await iam.send(new CreateAccessKeyCommand({ UserName: 'alice' }));
    expect(created.AccessKey?.Status).toBe('Active');
    expect(await errorOf(iam.send(new CreateAccessKeyCommand({ UserName: 'alice' })))).toBeInstanceOf(
      LimitExceededException,
    );
  });

  it("refuses an inline policy past IAM's quota for all of a user's (2,048) or a role's (10,240) together, white space not counted", async () => {
    const { iam } = setup(seed);
    const sized = (length: number) => {
      const base = JSON.stringify({
        Version: '2012-10-17',
        Statement: [{ Effect: 'Deny', Action: '*', Resource: '*', Sid: '' }],
      });
      return base.replace('"Sid":""', `"Sid":"${'S'.repeat(length - base.length)}"`);
    };
    // alice already has one policy: the quota counts it with the new one.
    const left = 2048 - policy.replace(/\s/g, '').length;
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'fits', PolicyDocument: sized(left) }),
    );
    const over = await errorOf(
      iam.send(
        new PutUserPolicyCommand({ UserName: 'alice', PolicyName: 'more', PolicyDocument: sized(200) }),
      ),
    );
    expect(over).toBeInstanceOf(LimitExceededException);
    expect((over as Error).message).toBe('Maximum policy size of 2048 bytes exceeded for user alice');
    // Replacing a policy counts its new document, not its old one as well.
    await iam.send(
      new PutUserPolicyCommand({
        UserName: 'alice',
        PolicyName: 'fits',
        PolicyDocument: `${sized(left)}   \n`,
      }),
    );
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames).toEqual([
      'fits',
      'inline',
    ]);
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'big', PolicyDocument: sized(10240) }),
    );
    expect(
      await errorOf(
        iam.send(
          new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'more', PolicyDocument: sized(200) }),
        ),
      ),
    ).toBeInstanceOf(LimitExceededException);
  });

  it('reads, updates and deletes a login profile, then reports it missing', async () => {
    const { iam } = setup(seed);
    expect((await iam.send(new GetLoginProfileCommand({ UserName: 'alice' }))).LoginProfile?.UserName).toBe(
      'alice',
    );
    await iam.send(new UpdateLoginProfileCommand({ UserName: 'alice', PasswordResetRequired: true }));
    await iam.send(new DeleteLoginProfileCommand({ UserName: 'alice' }));
    expect(await errorOf(iam.send(new GetLoginProfileCommand({ UserName: 'alice' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
    expect(await errorOf(iam.send(new DeleteLoginProfileCommand({ UserName: 'bob' })))).toBeInstanceOf(
      NoSuchEntityException,
    );
  });

  it('creates a login profile once, and refuses a second', async () => {
    const { iam } = setup(seed);
    await iam.send(
      new CreateLoginProfileCommand({ UserName: 'bob', Password: 'x', PasswordResetRequired: true }),
    );
    const error = await errorOf(iam.send(new CreateLoginProfileCommand({ UserName: 'bob', Password: 'x' })));
    expect(error.name).toBe('EntityAlreadyExistsException');
  });

  it('lists MFA devices and policies of a user', async () => {
    const { iam } = setup(seed);
    expect(
      (await iam.send(new ListMFADevicesCommand({ UserName: 'alice' }))).MFADevices?.[0]?.SerialNumber,
    ).toBe('arn:aws:iam::123456789012:mfa/alice');
    expect((await iam.send(new ListUserPoliciesCommand({ UserName: 'alice' }))).PolicyNames).toEqual([
      'inline',
    ]);
    expect(
      (await iam.send(new ListAttachedUserPoliciesCommand({ UserName: 'alice' }))).AttachedPolicies,
    ).toEqual([{ PolicyName: 'ReadOnlyAccess', PolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }]);
  });

  it('puts, reads (URL-encoded) and deletes a user inline policy', async () => {
    const { iam } = setup(seed);
    await iam.send(
      new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'deny-all', PolicyDocument: policy }),
    );
    const read = await iam.send(new GetUserPolicyCommand({ UserName: 'bob', PolicyName: 'deny-all' }));
    expect(decodeURIComponent(read.PolicyDocument ?? '')).toBe(policy);
    await iam.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'deny-all' }));
    expect(
      await errorOf(iam.send(new DeleteUserPolicyCommand({ UserName: 'bob', PolicyName: 'deny-all' }))),
    ).toBeInstanceOf(NoSuchEntityException);
  });

  it('refuses a malformed policy document', async () => {
    const { iam } = setup(seed);
    const error = await errorOf(
      iam.send(new PutUserPolicyCommand({ UserName: 'bob', PolicyName: 'p', PolicyDocument: '{' })),
    );
    expect(error.name).toBe('MalformedPolicyDocumentException');
  });
});

describe('IAM roles and instance profiles', () => {
  it('returns the trust policy URL-encoded from GetRole', async () => {
    const { iam } = setup(seed);
    const out = await iam.send(new GetRoleCommand({ RoleName: 'app' }));
    expect(out.Role?.AssumeRolePolicyDocument).toBe(encodeURIComponent(JSON.stringify(trust)));
    expect(out.Role?.Arn).toBe('arn:aws:iam::123456789012:role/app');
  });

  it('puts, reads and deletes a role inline policy, and lists attached policies', async () => {
    const { iam } = setup(seed);
    await iam.send(
      new PutRolePolicyCommand({ RoleName: 'app', PolicyName: 'revoke', PolicyDocument: policy }),
    );
    expect((await iam.send(new ListRolePoliciesCommand({ RoleName: 'app' }))).PolicyNames).toEqual([
      'revoke',
    ]);
    const read = await iam.send(new GetRolePolicyCommand({ RoleName: 'app', PolicyName: 'revoke' }));
    expect(decodeURIComponent(read.PolicyDocument ?? '')).toBe(policy);
    await iam.send(new DeleteRolePolicyCommand({ RoleName: 'app', PolicyName: 'revoke' }));
    expect(
      (await iam.send(new ListAttachedRolePoliciesCommand({ RoleName: 'app' }))).AttachedPolicies,
    ).toHaveLength(1);
  });

  it('refuses PutRolePolicy on a service-linked role with UnmodifiableEntity', async () => {
    const { iam, sandbox } = setup(seed);
    const error = await errorOf(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: 'AWSServiceRoleForAutoScaling',
          PolicyName: 'p',
          PolicyDocument: policy,
        }),
      ),
    );
    expect(error).toBeInstanceOf(UnmodifiableEntityException);
    expect(sandbox.state().iam.roles.AWSServiceRoleForAutoScaling?.inlinePolicies).toEqual({});
  });

  it('reads an instance profile and the profiles of a role', async () => {
    const { iam } = setup(seed);
    const profile = await iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'app-profile' }));
    expect(profile.InstanceProfile?.Roles?.map((r) => r.RoleName)).toEqual(['app']);
    const forRole = await iam.send(new ListInstanceProfilesForRoleCommand({ RoleName: 'app' }));
    expect(forRole.InstanceProfiles?.map((p) => p.InstanceProfileName)).toEqual(['app-profile']);
    expect(
      await errorOf(iam.send(new GetInstanceProfileCommand({ InstanceProfileName: 'nope' }))),
    ).toBeInstanceOf(NoSuchEntityException);
  });
});

describe('STS', () => {
  it('returns the caller identity', async () => {
    const { sts } = setup(seed);
    const out = await sts.send(new GetCallerIdentityCommand({}));
    expect(out).toMatchObject({
      Account: '123456789012',
      Arn: 'arn:aws:sts::123456789012:assumed-role/CordonResponder/cordon',
    });
  });

  it('assumes a role of the account and refuses an unknown role with AccessDenied', async () => {
    const { sts } = setup(seed);
    const out = await sts.send(
      new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/app', RoleSessionName: 'cordon' }),
    );
    expect(out.AssumedRoleUser?.Arn).toBe('arn:aws:sts::123456789012:assumed-role/app/cordon');
    expect(out.Credentials?.Expiration).toEqual(new Date(T0 + 3600_000));
    const error = await errorOf(
      sts.send(
        new AssumeRoleCommand({ RoleArn: 'arn:aws:iam::123456789012:role/nope', RoleSessionName: 'cordon' }),
      ),
    );
    expect(error.name).toBe('AccessDenied');
    expect(error.$metadata?.httpStatusCode).toBe(403);
  });
});
