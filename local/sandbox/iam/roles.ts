/** IAM roles: role policies and instance profiles. */
import type {
  DeleteRolePolicyCommandInput,
  GetInstanceProfileCommandInput,
  GetInstanceProfileCommandOutput,
  GetRoleCommandInput,
  GetRoleCommandOutput,
  GetRolePolicyCommandInput,
  GetRolePolicyCommandOutput,
  ListAttachedRolePoliciesCommandInput,
  ListAttachedRolePoliciesCommandOutput,
  ListInstanceProfilesForRoleCommandInput,
  ListInstanceProfilesForRoleCommandOutput,
  ListRolePoliciesCommandInput,
  ListRolePoliciesCommandOutput,
  PutRolePolicyCommandInput,
} from '@aws-sdk/client-iam';
import type { HandlerMap, Out } from '../context.ts';
import { fail } from '../context.ts';
import {
  checkInlineQuota,
  checkPolicyDocument,
  iamPage,
  modifiableRole,
  profileShape,
  roleOrFail,
  roleShape,
  underPath,
} from './common.ts';

/** IAM's role and instance profile commands. */
export const roleHandlers: HandlerMap = {
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
    const { items, truncation } = iamPage(ctx, Object.keys(role.inlinePolicies).sort(), input);
    return { PolicyNames: items, ...truncation };
  },

  ListAttachedRolePolicies: (
    ctx,
    input: ListAttachedRolePoliciesCommandInput,
  ): Out<ListAttachedRolePoliciesCommandOutput> => {
    const role = roleOrFail(ctx, input.RoleName);
    const attached = role.attachedPolicies.filter(underPath(input.PathPrefix));
    const { items, truncation } = iamPage(ctx, attached, input);
    return {
      AttachedPolicies: items.map((p) => ({ PolicyName: p.policyName, PolicyArn: p.policyArn })),
      ...truncation,
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
    const profiles = Object.values(ctx.state.iam.instanceProfiles)
      .filter((p) => p.roles.includes(role.roleName))
      .sort((a, b) => a.name.localeCompare(b.name));
    const { items, truncation } = iamPage(ctx, profiles, input);
    return { InstanceProfiles: items.map((p) => profileShape(ctx.state, p)), ...truncation };
  },
};
