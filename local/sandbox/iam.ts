/** IAM: users, access keys, login profiles, MFA devices, policies, roles and instance profiles. */
import type {
  CreateAccessKeyCommandInput,
  CreateAccessKeyCommandOutput,
  CreateLoginProfileCommandInput,
  CreateLoginProfileCommandOutput,
  DeleteAccessKeyCommandInput,
  DeleteLoginProfileCommandInput,
  DeleteRolePolicyCommandInput,
  DeleteUserPolicyCommandInput,
  GetAccessKeyLastUsedCommandInput,
  GetAccessKeyLastUsedCommandOutput,
  GetInstanceProfileCommandInput,
  GetInstanceProfileCommandOutput,
  GetLoginProfileCommandInput,
  GetLoginProfileCommandOutput,
  GetRoleCommandInput,
  GetRoleCommandOutput,
  GetRolePolicyCommandInput,
  GetRolePolicyCommandOutput,
  GetUserCommandInput,
  GetUserCommandOutput,
  GetUserPolicyCommandInput,
  GetUserPolicyCommandOutput,
  InstanceProfile,
  ListAccessKeysCommandInput,
  ListAccessKeysCommandOutput,
  ListAttachedRolePoliciesCommandInput,
  ListAttachedRolePoliciesCommandOutput,
  ListAttachedUserPoliciesCommandInput,
  ListAttachedUserPoliciesCommandOutput,
  ListInstanceProfilesForRoleCommandInput,
  ListInstanceProfilesForRoleCommandOutput,
  ListMFADevicesCommandInput,
  ListMFADevicesCommandOutput,
  ListRolePoliciesCommandInput,
  ListRolePoliciesCommandOutput,
  ListUserPoliciesCommandInput,
  ListUserPoliciesCommandOutput,
  PutRolePolicyCommandInput,
  PutUserPolicyCommandInput,
  Role,
  UpdateAccessKeyCommandInput,
  UpdateLoginProfileCommandInput,
} from '@aws-sdk/client-iam';
import type { CallContext, HandlerMap, Out } from './context.ts';
import { fail, tagList } from './context.ts';
import type { AccountState, InstanceProfileState, RoleState, UserState } from './state.ts';
import { newId } from './state.ts';

const date = (ms: number): Date => new Date(ms);

function userOrFail(ctx: CallContext, name: string | undefined): UserState {
  if (name === undefined) {
    fail(ctx, 'ValidationError', 'Must specify userName when calling with non-User credentials');
  }
  const user = ctx.state.iam.users[name];
  if (!user) fail(ctx, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
  return user;
}

function roleOrFail(ctx: CallContext, name: string | undefined): RoleState {
  const role = name === undefined ? undefined : ctx.state.iam.roles[name];
  if (!role) fail(ctx, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
  return role;
}

/**
 * Service-linked roles (path `/aws-service-role/`) can only be changed by their service
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
 */
function modifiableRole(ctx: CallContext, name: string | undefined): RoleState {
  const role = roleOrFail(ctx, name);
  if (role.path.startsWith('/aws-service-role/')) {
    fail(
      ctx,
      'UnmodifiableEntity',
      `Cannot perform the operation on the protected role '${role.roleName}' - this role is only modifiable by AWS`,
    );
  }
  return role;
}

function checkPolicyDocument(ctx: CallContext, document: string | undefined): string {
  if (document === undefined) fail(ctx, 'ValidationError', 'The policy document is required');
  try {
    const parsed: unknown = JSON.parse(document);
    if (typeof parsed !== 'object' || parsed === null || !('Statement' in parsed))
      throw new Error('no Statement');
  } catch {
    fail(ctx, 'MalformedPolicyDocument', 'Syntax errors in policy.');
  }
  return document;
}

/**
 * IAM's quota on the inline policies of one user (2,048 characters) or role (10,240), all together, white
 * space not counted (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html).
 */
const INLINE_POLICY_QUOTA = { user: 2048, role: 10240 } as const;

function checkInlineQuota(
  ctx: CallContext,
  kind: keyof typeof INLINE_POLICY_QUOTA,
  name: string,
  policies: Readonly<Record<string, string>>,
  policyName: string,
  document: string,
): void {
  const size = (text: string) => text.replace(/\s/g, '').length;
  let total = size(document);
  for (const [other, text] of Object.entries(policies)) if (other !== policyName) total += size(text);
  const quota = INLINE_POLICY_QUOTA[kind];
  if (total > quota) {
    fail(ctx, 'LimitExceeded', `Maximum policy size of ${quota} bytes exceeded for ${kind} ${name}`);
  }
}

function roleShape(role: RoleState): Role {
  return {
    RoleName: role.roleName,
    RoleId: role.roleId,
    Arn: role.arn,
    Path: role.path,
    CreateDate: date(role.createDate),
    // IAM returns the trust policy URL-encoded
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html: "AssumeRolePolicyDocument ... URL-encoded").
    AssumeRolePolicyDocument: encodeURIComponent(role.assumeRolePolicyDocument),
    Description: role.description,
    MaxSessionDuration: role.maxSessionDuration,
    Tags: tagList(role.tags),
  };
}

function profileShape(state: AccountState, profile: InstanceProfileState): InstanceProfile {
  return {
    InstanceProfileName: profile.name,
    InstanceProfileId: profile.id,
    Arn: profile.arn,
    Path: profile.path,
    CreateDate: date(profile.createDate),
    Roles: profile.roles
      .map((name) => state.iam.roles[name])
      .filter((r): r is RoleState => r !== undefined)
      .map(roleShape),
  };
}

function accessKeyOf(ctx: CallContext, id: string | undefined, userName: string | undefined) {
  const key = id === undefined ? undefined : ctx.state.iam.accessKeys[id];
  if (!key || (userName !== undefined && key.userName !== userName)) {
    fail(ctx, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  }
  return key;
}

/** IAM commands the sandbox simulates. */
export const iamHandlers: HandlerMap = {
  GetUser: (ctx, input: GetUserCommandInput): Out<GetUserCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    const lastUsed = Object.values(ctx.state.iam.accessKeys)
      .filter((k) => k.userName === user.userName && k.lastUsed)
      .map((k) => k.lastUsed?.date ?? 0)
      .sort((a, b) => b - a)[0];
    return {
      User: {
        UserName: user.userName,
        UserId: user.userId,
        Arn: user.arn,
        Path: user.path,
        CreateDate: date(user.createDate),
        ...(lastUsed !== undefined ? { PasswordLastUsed: date(lastUsed) } : {}),
        Tags: tagList(user.tags),
      },
    };
  },

  ListAccessKeys: (ctx, input: ListAccessKeysCommandInput): Out<ListAccessKeysCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    return {
      AccessKeyMetadata: Object.values(ctx.state.iam.accessKeys)
        .filter((k) => k.userName === user.userName)
        .sort((a, b) => a.createDate - b.createDate || a.accessKeyId.localeCompare(b.accessKeyId))
        .map((k) => ({
          UserName: k.userName,
          AccessKeyId: k.accessKeyId,
          Status: k.status,
          CreateDate: date(k.createDate),
        })),
      IsTruncated: false,
    };
  },

  /** An unknown key is `NoSuchEntity` (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html). */
  UpdateAccessKey: (ctx, input: UpdateAccessKeyCommandInput) => {
    if (input.UserName !== undefined) userOrFail(ctx, input.UserName);
    const key = accessKeyOf(ctx, input.AccessKeyId, input.UserName);
    if (input.Status !== 'Active' && input.Status !== 'Inactive') {
      fail(ctx, 'ValidationError', `Value '${input.Status}' at 'status' failed to satisfy constraint`);
    }
    key.status = input.Status;
    return {};
  },

  DeleteAccessKey: (ctx, input: DeleteAccessKeyCommandInput) => {
    if (input.UserName !== undefined) userOrFail(ctx, input.UserName);
    const key = accessKeyOf(ctx, input.AccessKeyId, input.UserName);
    delete ctx.state.iam.accessKeys[key.accessKeyId];
    return {};
  },

  GetAccessKeyLastUsed: (
    ctx,
    input: GetAccessKeyLastUsedCommandInput,
  ): Out<GetAccessKeyLastUsedCommandOutput> => {
    const key = accessKeyOf(ctx, input.AccessKeyId, undefined);
    return {
      UserName: key.userName,
      AccessKeyLastUsed: key.lastUsed
        ? {
            LastUsedDate: date(key.lastUsed.date),
            ServiceName: key.lastUsed.serviceName,
            Region: key.lastUsed.region,
          }
        : { ServiceName: 'N/A', Region: 'N/A' },
    };
  },

  /** A user has at most two access keys (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). */
  CreateAccessKey: (ctx, input: CreateAccessKeyCommandInput): Out<CreateAccessKeyCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    const count = Object.values(ctx.state.iam.accessKeys).filter((k) => k.userName === user.userName).length;
    if (count >= 2) fail(ctx, 'LimitExceeded', 'Cannot exceed quota for AccessKeysPerUser: 2');
    const accessKeyId = `AKIA${newId(ctx.state, 'x', 16).slice(2).toUpperCase()}`;
    ctx.state.iam.accessKeys[accessKeyId] = {
      accessKeyId,
      userName: user.userName,
      status: 'Active',
      createDate: ctx.now,
    };
    return {
      AccessKey: {
        UserName: user.userName,
        AccessKeyId: accessKeyId,
        Status: 'Active',
        SecretAccessKey: `sandbox-secret-${accessKeyId}`,
        CreateDate: date(ctx.now),
      },
    };
  },

  GetLoginProfile: (ctx, input: GetLoginProfileCommandInput): Out<GetLoginProfileCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    if (!user.loginProfile)
      fail(ctx, 'NoSuchEntity', `Login Profile for User ${user.userName} cannot be found.`);
    return {
      LoginProfile: {
        UserName: user.userName,
        CreateDate: date(user.loginProfile.createDate),
        PasswordResetRequired: user.loginProfile.passwordResetRequired,
      },
    };
  },

  CreateLoginProfile: (ctx, input: CreateLoginProfileCommandInput): Out<CreateLoginProfileCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    if (user.loginProfile)
      fail(ctx, 'EntityAlreadyExists', `Login Profile for user ${user.userName} already exists.`);
    user.loginProfile = { createDate: ctx.now, passwordResetRequired: input.PasswordResetRequired ?? false };
    return {
      LoginProfile: {
        UserName: user.userName,
        CreateDate: date(ctx.now),
        PasswordResetRequired: user.loginProfile.passwordResetRequired,
      },
    };
  },

  UpdateLoginProfile: (ctx, input: UpdateLoginProfileCommandInput) => {
    const user = userOrFail(ctx, input.UserName);
    if (!user.loginProfile)
      fail(ctx, 'NoSuchEntity', `Login Profile for User ${user.userName} cannot be found.`);
    if (input.PasswordResetRequired !== undefined)
      user.loginProfile.passwordResetRequired = input.PasswordResetRequired;
    return {};
  },

  DeleteLoginProfile: (ctx, input: DeleteLoginProfileCommandInput) => {
    const user = userOrFail(ctx, input.UserName);
    if (!user.loginProfile)
      fail(ctx, 'NoSuchEntity', `Login Profile for User ${user.userName} cannot be found.`);
    delete user.loginProfile;
    return {};
  },

  ListMFADevices: (ctx, input: ListMFADevicesCommandInput): Out<ListMFADevicesCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    return {
      MFADevices: user.mfaDevices.map((d) => ({
        UserName: user.userName,
        SerialNumber: d.serialNumber,
        EnableDate: date(d.enableDate),
      })),
      IsTruncated: false,
    };
  },

  PutUserPolicy: (ctx, input: PutUserPolicyCommandInput) => {
    const user = userOrFail(ctx, input.UserName);
    const name = input.PolicyName;
    if (!name) fail(ctx, 'ValidationError', 'PolicyName is required');
    const document = checkPolicyDocument(ctx, input.PolicyDocument);
    checkInlineQuota(ctx, 'user', user.userName, user.inlinePolicies, name, document);
    user.inlinePolicies[name] = document;
    return {};
  },

  GetUserPolicy: (ctx, input: GetUserPolicyCommandInput): Out<GetUserPolicyCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    const document = user.inlinePolicies[input.PolicyName ?? ''];
    if (document === undefined) {
      fail(ctx, 'NoSuchEntity', `The user policy with name ${input.PolicyName} cannot be found.`);
    }
    return {
      UserName: user.userName,
      PolicyName: input.PolicyName,
      PolicyDocument: encodeURIComponent(document),
    };
  },

  DeleteUserPolicy: (ctx, input: DeleteUserPolicyCommandInput) => {
    const user = userOrFail(ctx, input.UserName);
    const name = input.PolicyName ?? '';
    if (user.inlinePolicies[name] === undefined) {
      fail(ctx, 'NoSuchEntity', `The user policy with name ${name} cannot be found.`);
    }
    delete user.inlinePolicies[name];
    return {};
  },

  ListUserPolicies: (ctx, input: ListUserPoliciesCommandInput): Out<ListUserPoliciesCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    return { PolicyNames: Object.keys(user.inlinePolicies).sort(), IsTruncated: false };
  },

  ListAttachedUserPolicies: (
    ctx,
    input: ListAttachedUserPoliciesCommandInput,
  ): Out<ListAttachedUserPoliciesCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    return {
      AttachedPolicies: user.attachedPolicies.map((p) => ({
        PolicyName: p.policyName,
        PolicyArn: p.policyArn,
      })),
      IsTruncated: false,
    };
  },

  GetRole: (ctx, input: GetRoleCommandInput): Out<GetRoleCommandOutput> => ({
    Role: roleShape(roleOrFail(ctx, input.RoleName)),
  }),

  PutRolePolicy: (ctx, input: PutRolePolicyCommandInput) => {
    const role = modifiableRole(ctx, input.RoleName);
    const name = input.PolicyName;
    if (!name) fail(ctx, 'ValidationError', 'PolicyName is required');
    const document = checkPolicyDocument(ctx, input.PolicyDocument);
    checkInlineQuota(ctx, 'role', role.roleName, role.inlinePolicies, name, document);
    role.inlinePolicies[name] = document;
    return {};
  },

  GetRolePolicy: (ctx, input: GetRolePolicyCommandInput): Out<GetRolePolicyCommandOutput> => {
    const role = roleOrFail(ctx, input.RoleName);
    const document = role.inlinePolicies[input.PolicyName ?? ''];
    if (document === undefined) {
      fail(ctx, 'NoSuchEntity', `The role policy with name ${input.PolicyName} cannot be found.`);
    }
    return {
      RoleName: role.roleName,
      PolicyName: input.PolicyName,
      PolicyDocument: encodeURIComponent(document),
    };
  },

  DeleteRolePolicy: (ctx, input: DeleteRolePolicyCommandInput) => {
    const role = modifiableRole(ctx, input.RoleName);
    const name = input.PolicyName ?? '';
    if (role.inlinePolicies[name] === undefined) {
      fail(ctx, 'NoSuchEntity', `The role policy with name ${name} cannot be found.`);
    }
    delete role.inlinePolicies[name];
    return {};
  },

  ListRolePolicies: (ctx, input: ListRolePoliciesCommandInput): Out<ListRolePoliciesCommandOutput> => {
    const role = roleOrFail(ctx, input.RoleName);
    return { PolicyNames: Object.keys(role.inlinePolicies).sort(), IsTruncated: false };
  },

  ListAttachedRolePolicies: (
    ctx,
    input: ListAttachedRolePoliciesCommandInput,
  ): Out<ListAttachedRolePoliciesCommandOutput> => {
    const role = roleOrFail(ctx, input.RoleName);
    return {
      AttachedPolicies: role.attachedPolicies.map((p) => ({
        PolicyName: p.policyName,
        PolicyArn: p.policyArn,
      })),
      IsTruncated: false,
    };
  },

  GetInstanceProfile: (ctx, input: GetInstanceProfileCommandInput): Out<GetInstanceProfileCommandOutput> => {
    const profile = ctx.state.iam.instanceProfiles[input.InstanceProfileName ?? ''];
    if (!profile) fail(ctx, 'NoSuchEntity', `Instance Profile ${input.InstanceProfileName} cannot be found.`);
    return { InstanceProfile: profileShape(ctx.state, profile) };
  },

  ListInstanceProfilesForRole: (
    ctx,
    input: ListInstanceProfilesForRoleCommandInput,
  ): Out<ListInstanceProfilesForRoleCommandOutput> => {
    const role = roleOrFail(ctx, input.RoleName);
    return {
      InstanceProfiles: Object.values(ctx.state.iam.instanceProfiles)
        .filter((p) => p.roles.includes(role.roleName))
        .sort((a, b) => a.name.localeCompare(b.name))
        .map((p) => profileShape(ctx.state, p)),
      IsTruncated: false,
    };
  },
};
