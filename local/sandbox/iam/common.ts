/** What IAM's simulated commands share: finding users and roles, checking policies, and IAM's paging. */
import type { InstanceProfile, Role } from '@aws-sdk/client-iam';
import type { CallContext } from '../context.ts';
import { fail, tagList } from '../context.ts';
import type { PageRules } from '../listing.ts';
import { page, sizeConstraint } from '../listing.ts';
import type { AccountState, InstanceProfileState, RoleState, UserState } from '../state.ts';

export const date = (ms: number): Date => new Date(ms);

export function userOrFail(ctx: CallContext, name: string | undefined): UserState {
  if (name === undefined) {
    fail(ctx, 'ValidationError', 'Must specify userName when calling with non-User credentials');
  }
  const user = ctx.state.iam.users[name];
  if (!user) fail(ctx, 'NoSuchEntity', `The user with name ${name} cannot be found.`);
  return user;
}

export function roleOrFail(ctx: CallContext, name: string | undefined): RoleState {
  const role = name === undefined ? undefined : ctx.state.iam.roles[name];
  if (!role) fail(ctx, 'NoSuchEntity', `The role with name ${name} cannot be found.`);
  return role;
}

/**
 * Service-linked roles (path `/aws-service-role/`) can only be changed by their service
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
 */
export function modifiableRole(ctx: CallContext, name: string | undefined): RoleState {
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

export function checkPolicyDocument(ctx: CallContext, document: string | undefined): string {
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

export function checkInlineQuota(
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

export function roleShape(role: RoleState): Role {
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

export function profileShape(state: AccountState, profile: InstanceProfileState): InstanceProfile {
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

export function accessKeyOf(ctx: CallContext, id: string | undefined, userName: string | undefined) {
  const key = id === undefined ? undefined : ctx.state.iam.accessKeys[id];
  if (!key || (userName !== undefined && key.userName !== userName)) {
    fail(ctx, 'NoSuchEntity', `The Access Key with id ${id} cannot be found.`);
  }
  return key;
}

/**
 * IAM's paging, the same for every List: `MaxItems` 1 to 1,000, 100 when not given; the response says
 * `IsTruncated` and gives `Marker` exactly when there is more
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_ListAccessKeys.html, "MaxItems ... Valid Range:
 * Minimum value of 1. Maximum value of 1000", "If you do not include this parameter, the number of items
 * defaults to 100"). IAM documents no error for a marker it did not give; the sandbox answers
 * `ValidationError`, IAM's error for a request parameter it refuses.
 */
export const IAM_PAGING: PageRules = {
  min: 1,
  max: 1000,
  default: 100,
  badSize: (size, rules) => ['ValidationError', sizeConstraint('maxItems', size, rules)],
  badToken: () => ['ValidationError', 'Invalid Marker'],
};

/** One page of an IAM List, with `IsTruncated` and `Marker` as IAM gives them. */
export function iamPage<T>(
  ctx: CallContext,
  items: readonly T[],
  input: { readonly MaxItems?: number | undefined; readonly Marker?: string | undefined },
): { items: T[]; truncation: { IsTruncated: boolean; Marker?: string } } {
  const { MaxItems, Marker, ...scope } = input;
  const result = page(ctx, items, { size: MaxItems, token: Marker, scope }, IAM_PAGING);
  return {
    items: result.items,
    truncation:
      result.next === undefined ? { IsTruncated: false } : { IsTruncated: true, Marker: result.next },
  };
}

/** Keeps the attached policies under `PathPrefix` (the path in the policy's ARN), as IAM's List calls do. */
export function underPath(pathPrefix: string | undefined): (policy: { policyArn: string }) => boolean {
  return (policy) => {
    if (pathPrefix === undefined || pathPrefix === '') return true;
    const path = policy.policyArn.replace(/^arn:[^:]*:iam::[^:]*:policy/, '');
    return path.startsWith(pathPrefix);
  };
}
