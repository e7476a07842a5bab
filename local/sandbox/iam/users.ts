/** IAM users: access keys, login profiles, MFA devices and user policies. */
import type {
  CreateAccessKeyCommandInput,
  CreateAccessKeyCommandOutput,
  CreateLoginProfileCommandInput,
  CreateLoginProfileCommandOutput,
  DeleteAccessKeyCommandInput,
  DeleteLoginProfileCommandInput,
  DeleteUserPolicyCommandInput,
  GetAccessKeyLastUsedCommandInput,
  GetAccessKeyLastUsedCommandOutput,
  GetLoginProfileCommandInput,
  GetLoginProfileCommandOutput,
  GetUserCommandInput,
  GetUserCommandOutput,
  GetUserPolicyCommandInput,
  GetUserPolicyCommandOutput,
  ListAccessKeysCommandInput,
  ListAccessKeysCommandOutput,
  ListAttachedUserPoliciesCommandInput,
  ListAttachedUserPoliciesCommandOutput,
  ListMFADevicesCommandInput,
  ListMFADevicesCommandOutput,
  ListUserPoliciesCommandInput,
  ListUserPoliciesCommandOutput,
  PutUserPolicyCommandInput,
  UpdateAccessKeyCommandInput,
  UpdateLoginProfileCommandInput,
} from '@aws-sdk/client-iam';
import type { HandlerMap, Out } from '../context.ts';
import { fail, tagList } from '../context.ts';
import { newId } from '../state.ts';
import {
  accessKeyOf,
  checkInlineQuota,
  checkPolicyDocument,
  date,
  iamPage,
  underPath,
  userOrFail,
} from './common.ts';

/** IAM's user commands. */
export const userHandlers: HandlerMap = {
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
    const keys = Object.values(ctx.state.iam.accessKeys)
      .filter((k) => k.userName === user.userName)
      .sort((a, b) => a.createDate - b.createDate || a.accessKeyId.localeCompare(b.accessKeyId));
    const { items, truncation } = iamPage(ctx, keys, input);
    return {
      AccessKeyMetadata: items.map((k) => ({
        UserName: k.userName,
        AccessKeyId: k.accessKeyId,
        Status: k.status,
        CreateDate: date(k.createDate),
      })),
      ...truncation,
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
    const { items, truncation } = iamPage(ctx, user.mfaDevices, input);
    return {
      MFADevices: items.map((d) => ({
        UserName: user.userName,
        SerialNumber: d.serialNumber,
        EnableDate: date(d.enableDate),
      })),
      ...truncation,
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
    const { items, truncation } = iamPage(ctx, Object.keys(user.inlinePolicies).sort(), input);
    return { PolicyNames: items, ...truncation };
  },

  ListAttachedUserPolicies: (
    ctx,
    input: ListAttachedUserPoliciesCommandInput,
  ): Out<ListAttachedUserPoliciesCommandOutput> => {
    const user = userOrFail(ctx, input.UserName);
    const attached = user.attachedPolicies.filter(underPath(input.PathPrefix));
    const { items, truncation } = iamPage(ctx, attached, input);
    return {
      AttachedPolicies: items.map((p) => ({ PolicyName: p.policyName, PolicyArn: p.policyArn })),
      ...truncation,
    };
  },
};
