/**
 * The roles Cordon never changes, whatever a finding or an approval says: the service-linked and the
 * AWS-reserved roles, the CDK bootstrap roles that deploy the account, Cordon's own roles, the settings'
 * break-glass roles, and every role carrying the settings' protected tag (for a role the tag means a
 * person acts, even after an approval). One list, read twice: the IAM actions refuse these roles in code
 * ({@link untouchableReason}), and the stack denies the functions' IAM changes on the same ARN patterns
 * ({@link untouchableRoleResources}) and on the tag.
 */
import { ConfigError } from '#shared/errors';
import { roleRefParts } from '#shared/settings';

/** What makes a role untouchable, besides what its path and name say. */
export interface UntouchableRules {
  /** The settings' protected tag: a role carrying it is never changed by automation. */
  readonly protectedTag: { readonly key: string; readonly value: string };
  /** The settings' `breakGlassRoles`. Default none. */
  readonly breakGlassRoles?: readonly string[];
  /** The name of Cordon's stack, whose roles are `<stack>-*`; `cordon-*` is Cordon's in any case. */
  readonly stackName?: string | undefined;
  /**
   * The organization's responder role name (settings `organization.responderRoleName`): in a member, that
   * role and its restore role (`<name>-restore`) are Cordon's own, whatever their names.
   */
  readonly responderRoleName?: string | undefined;
}

/** What the check needs of a role: GetRole's answer has it all (GetInstanceProfile's has no tags). */
export interface RoleFacts {
  readonly roleName: string;
  /** Default `/`. */
  readonly path?: string | undefined;
  readonly tags?: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined;
}

/** The environment variable that carries the stack's name to the functions that change roles. */
export const STACK_NAME_ENV = 'CORDON_STACK_NAME';

/**
 * The roles the CDK bootstrap stack creates, `cdk-<qualifier>-<kind>-role-<account>-<region>`
 * (aws-cdk's bootstrap-template.yaml; `DefaultStackSynthesizer`'s role ARNs). They deploy and publish
 * to the account: changing them is changing who may deploy.
 */
export const CDK_BOOTSTRAP_ROLE_KINDS = [
  'cfn-exec',
  'deploy',
  'file-publishing',
  'image-publishing',
  'lookup',
] as const;

/** One kind of untouchable role: why, and the role resources (what follows `role` in its ARN) it covers. */
export interface UntouchableKind {
  readonly why: string;
  /** IAM patterns (`*` any characters) of `<path><name>`, e.g. `/aws-service-role/*`. */
  readonly resources: readonly string[];
}

/**
 * Every kind of untouchable role, with its ARN patterns as the stack's deny uses them. A break-glass name
 * given without a path matches at any path: it gives two patterns, `/<name>` (the root path) and
 * `/<name>` after a `*` (any other path). Given with a path, it matches at that path only.
 */
export function untouchableRoleResources(rules: Omit<UntouchableRules, 'protectedTag'>): UntouchableKind[] {
  const breakGlass = (rules.breakGlassRoles ?? []).flatMap((ref) => {
    const { path, name } = roleRefParts(ref);
    return path === undefined ? [`/${name}`, `/*/${name}`] : [`${path}${name}`];
  });
  const own = [
    '/cordon-*',
    ...(rules.stackName ? [`/${rules.stackName}-*`] : []),
    ...(rules.responderRoleName
      ? [`/${rules.responderRoleName}`, `/${rules.responderRoleName}-restore`]
      : []),
  ].filter((pattern, index, all) => all.indexOf(pattern) === index);
  return [
    {
      // https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html
      why: 'is service-linked (path /aws-service-role/): only its service may change it, and its sessions cannot be revoked',
      resources: ['/aws-service-role/*'],
    },
    {
      // IAM Identity Center's roles, for one, live under /aws-reserved/sso.amazonaws.com/.
      why: 'is reserved by AWS (path /aws-reserved/, such as an IAM Identity Center role): only AWS may change it',
      resources: ['/aws-reserved/*'],
    },
    {
      why: 'is a CDK bootstrap role: it deploys to the account',
      resources: CDK_BOOTSTRAP_ROLE_KINDS.map((kind) => `/cdk-*-${kind}-role-*`),
    },
    { why: "is one of Cordon's own roles", resources: own },
    ...(breakGlass.length > 0
      ? [{ why: 'is a break-glass role (settings breakGlassRoles)', resources: breakGlass }]
      : []),
  ];
}

/**
 * Whether `text` matches an IAM pattern where `*` stands for any characters. Case-insensitive, as IAM role
 * names are unique regardless of case: the code refuses at least what the case-sensitive deny matches.
 */
export function matchesPattern(pattern: string, text: string): boolean {
  const source = pattern
    .split('*')
    .map((part) => part.replace(/[.+?^${}()|[\]\\/]/g, '\\$&'))
    .join('.*');
  return new RegExp(`^${source}$`, 'i').test(text);
}

/**
 * Why automation must not change this role, or undefined when it may. The IAM actions call it before any
 * change to a role and skip the role with the reason ("manual action required") when there is one.
 */
export function untouchableReason(role: RoleFacts, rules: UntouchableRules): string | undefined {
  const path = role.path ?? '/';
  const resource = `${path}${role.roleName}`;
  for (const kind of untouchableRoleResources(rules)) {
    if (kind.resources.some((pattern) => matchesPattern(pattern, resource))) {
      return `role ${role.roleName} ${kind.why}`;
    }
  }
  const { key, value } = rules.protectedTag;
  if ((role.tags ?? []).some((t) => t.Key === key && t.Value === value)) {
    return `role ${role.roleName} carries ${key}=${value}: automation never changes it, even after approval; a person acts`;
  }
  return undefined;
}

/**
 * The rules of a deployed function: its settings' protected tag, break-glass roles and responder role name, and the stack's name
 * from {@link STACK_NAME_ENV} (absent outside a deployment: only `cordon-*` then counts as Cordon's).
 */
export function untouchableRules(
  settings: Pick<UntouchableRules, 'protectedTag' | 'breakGlassRoles'> & {
    readonly organization?: { readonly responderRoleName?: string };
  },
  env: Readonly<Record<string, string | undefined>> = process.env,
): UntouchableRules {
  const stackName = env[STACK_NAME_ENV]?.trim();
  if (stackName !== undefined && stackName !== '' && !/^[A-Za-z][A-Za-z0-9-]{0,127}$/.test(stackName)) {
    throw new ConfigError(`${STACK_NAME_ENV} must be a CloudFormation stack name, got "${stackName}"`);
  }
  return {
    protectedTag: settings.protectedTag,
    breakGlassRoles: settings.breakGlassRoles ?? [],
    ...(stackName ? { stackName } : {}),
    ...(settings.organization?.responderRoleName
      ? { responderRoleName: settings.organization.responderRoleName }
      : {}),
  };
}
