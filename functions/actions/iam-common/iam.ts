/**
 * What the IAM actions share: the session-revoking deny policy, the recorded shapes of a user's and a
 * role's state, the input fields' schemas, and IAM calls that turn `NoSuchEntity` into Cordon's
 * {@link ResourceNotFoundError}.
 */
import { type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { awsCall } from '#shared/aws';
import { ProtectedResourceError, ResourceNotFoundError } from '#shared/errors';

/** What an IAM action needs of an IAM client. */
export type IamSender = Pick<IAMClient, 'send'>;

/** The name of the inline policy that Cordon puts on a user or a role to void their older sessions. */
export const REVOKE_POLICY_NAME = 'cordon-revoke-sessions';

/**
 * The deny-all policy that voids every temporary credential issued before `issuedBefore`, in the shape of
 * the console's `AWSRevokeOlderSessions` policy
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html). Permissions of
 * temporary credentials are evaluated on every request, so the deny takes effect on sessions already issued
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html).
 * It does not stop a long-term access key: `aws:TokenIssueTime` is only present in requests signed with
 * temporary credentials
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-tokenissuetime).
 */
export function revokePolicyDocument(issuedBefore: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore } },
      },
    ],
  });
}

// Strict at every level: a statement or condition added to the policy makes it someone else's policy.
const RevokePolicySchema = z.strictObject({
  Version: z.literal('2012-10-17'),
  Statement: z.tuple([
    z.strictObject({
      Effect: z.literal('Deny'),
      Action: z.tuple([z.literal('*')]),
      Resource: z.tuple([z.literal('*')]),
      Condition: z.strictObject({ DateLessThan: z.strictObject({ 'aws:TokenIssueTime': z.string() }) }),
    }),
  ]),
});

/**
 * The time before which a policy document denies every session, when the document is exactly Cordon's
 * revoke policy; undefined for any other document (an edited policy is not trusted to revoke).
 */
export function revokedBefore(document: string): string | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(document);
  } catch {
    return undefined;
  }
  const result = z.safeParse(RevokePolicySchema, parsed);
  if (!result.success) return undefined;
  const issuedBefore = result.data.Statement[0].Condition.DateLessThan['aws:TokenIssueTime'];
  return Number.isNaN(Date.parse(issuedBefore)) ? undefined : issuedBefore;
}

/**
 * Whether an existing revoke policy still does the job: it must be Cordon's exact shape, and when the
 * finding's time is known, cut off at or after it (sessions issued after an older cut-off would survive).
 */
export function revokesSince(document: string | null, findingTime: string | undefined): boolean {
  if (document === null) return false;
  const before = revokedBefore(document);
  if (before === undefined) return false;
  return findingTime === undefined || Date.parse(before) >= Date.parse(findingTime);
}

/**
 * IAM returns policy documents URL-encoded (RFC 3986): GetUserPolicy, GetRolePolicy and the trust policy
 * in GetRole (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetUserPolicy.html,
 * https://docs.aws.amazon.com/IAM/latest/APIReference/API_Role.html).
 */
export function decodePolicy(document: string | undefined): string {
  return decodeURIComponent(document ?? '');
}

function isNoSuchEntity(error: unknown): boolean {
  return (
    error instanceof NoSuchEntityException ||
    (error instanceof Error && error.name === 'NoSuchEntityException')
  );
}

/**
 * Runs an IAM call through {@link awsCall}; `NoSuchEntity` (the user, key or role does not exist) becomes
 * a {@link ResourceNotFoundError} naming `what`.
 */
export async function iamCall<T>(doing: string, what: string, call: () => Promise<T>): Promise<T> {
  try {
    return await awsCall(doing, call);
  } catch (error) {
    if (isNoSuchEntity(error))
      throw new ResourceNotFoundError(`${what} does not exist (${doing})`, { cause: error });
    throw error;
  }
}

/**
 * Runs an IAM read whose `NoSuchEntity` means "there is none" (no login profile, no such inline policy):
 * resolves undefined then.
 */
export async function iamFind<T>(doing: string, call: () => Promise<T>): Promise<T | undefined> {
  try {
    return await awsCall(doing, call);
  } catch (error) {
    if (isNoSuchEntity(error)) return undefined;
    throw error;
  }
}

/** IAM user and role names (https://docs.aws.amazon.com/IAM/latest/APIReference/API_User.html). */
export const IamNameSchema = z
  .string()
  .check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM name (1-64 of letters, digits and +=,.@_-)'));

/** Access key ids (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html). */
export const AccessKeyIdSchema = z
  .string()
  .check(z.regex(/^\w{16,128}$/, 'must be an access key id (16-128 letters and digits)'));

/** An ISO 8601 date-time. */
export const IsoTimeSchema = z.string().check(
  z.refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
    message: 'must be an ISO 8601 date-time',
  }),
);

/**
 * Temporary access key ids start with `ASIA`, long-term ones with `AKIA`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
 */
export function isTemporaryKey(accessKeyId: string): boolean {
  return accessKeyId.startsWith('ASIA');
}

/** One access key of a user, as recorded before containment. */
export const RecordedKeySchema = z.object({
  accessKeyId: z.string(),
  status: z.enum(['Active', 'Inactive']),
  createDate: z.nullable(z.string()),
  /** When, where and with what service the key was last used; null when never. */
  lastUsed: z.nullable(z.object({ date: z.string(), service: z.string(), region: z.string() })),
});
export type RecordedKey = z.infer<typeof RecordedKeySchema>;

/** A user's state as `iam-contain-user-key` records it: enough to undo containment exactly. */
export const RecordedUserSchema = z.object({
  userName: z.string(),
  accessKeys: z.array(RecordedKeySchema),
  /** The console password: whether it existed, and its reset flag. */
  loginProfile: z.object({
    exists: z.boolean(),
    createDate: z.optional(z.string()),
    passwordResetRequired: z.optional(z.boolean()),
  }),
  mfaDevices: z.array(z.string()),
  inlinePolicies: z.array(z.string()),
  attachedPolicies: z.array(z.object({ name: z.string(), arn: z.string() })),
  /** The document of a `cordon-revoke-sessions` policy that was already there, or null. */
  revokePolicy: z.nullable(z.string()),
});
export type RecordedUser = z.infer<typeof RecordedUserSchema>;

/** What `iam-contain-user-key` changed. */
export const UserChangesSchema = z.object({
  deactivatedKeys: z.array(z.string()),
  /** The revoke policy put on the user (its document), or null when none was put. */
  revokePolicy: z.nullable(z.string()),
  deletedLoginProfile: z.boolean(),
});
export type UserChanges = z.infer<typeof UserChangesSchema>;

/** A role's state as `iam-revoke-role-sessions` records it. */
export const RecordedRoleSchema = z.object({
  roleName: z.string(),
  arn: z.string(),
  path: z.string(),
  serviceLinked: z.boolean(),
  maxSessionDuration: z.nullable(z.number()),
  /** The trust policy, decoded, for review: whoever it trusts can still get fresh credentials. */
  trustPolicy: z.unknown(),
  revokePolicy: z.nullable(z.string()),
});
export type RecordedRole = z.infer<typeof RecordedRoleSchema>;

/** What `iam-revoke-role-sessions` changed. */
export const RoleChangesSchema = z.object({
  /** The revoke policy put on the role (its document), or null when none was put. */
  revokePolicy: z.nullable(z.string()),
});
export type RoleChanges = z.infer<typeof RoleChangesSchema>;

/** Parses JSON, or returns the text itself when it is not JSON. */
export function parseJsonOrText(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** The settings' protected tag: resources that carry it are acted on only after approval. */
export interface ProtectedTag {
  readonly key: string;
  readonly value: string;
}

/**
 * Throws {@link ProtectedResourceError} when a user carries the protected tag and the event does not say
 * the action was approved, as the EC2 actions do for instances. Not for roles: a role with the protected
 * tag is never changed by automation, approved or not (`untouchableReason` in `untouchable.ts`).
 */
export function assertNotProtected(
  what: string,
  tags: readonly { Key?: string | undefined; Value?: string | undefined }[] | undefined,
  protectedTag: ProtectedTag,
  approved: boolean | undefined,
): void {
  if (approved === true) return;
  if ((tags ?? []).some((t) => t.Key === protectedTag.key && t.Value === protectedTag.value)) {
    throw new ProtectedResourceError(
      `${what} carries ${protectedTag.key}=${protectedTag.value}: it is acted on only after approval`,
    );
  }
}
