/**
 * What the IAM actions share: the session-revoking deny policies (one per incident) and how a release
 * decides to remove one, the recorded shapes of a user's and a role's state, the input fields' schemas,
 * and IAM calls that turn `NoSuchEntity` into Cordon's {@link ResourceNotFoundError}.
 */
import { createHash } from 'node:crypto';
import { type IAMClient, NoSuchEntityException } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { awsCall } from '#shared/aws';
import { ProtectedResourceError, ResourceNotFoundError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';

/** What an IAM action needs of an IAM client. */
export type IamSender = Pick<IAMClient, 'send'>;

/** How the name of every session-revoking deny Cordon puts begins. */
const REVOKE_POLICY_PREFIX = 'cordon-revoke-sessions';

// IAM policy names: 1-128 of letters, digits and +=,.@_-
// (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html).
const POLICY_NAME_ID = /^[\w+=,.@-]{1,105}$/;

/**
 * The name of the inline deny that incident `incidentId` puts on a user or a role: each incident has a
 * policy of its own, `cordon-revoke-sessions-<incident>`, with its own cut-off. Why one policy per
 * incident: a release must undo exactly what its incident did, and two incidents can revoke the same
 * principal (two instances with one role, two keys of one user). With one shared policy the second
 * incident either keeps the first one's deny (whose older cut-off leaves alive the sessions issued after
 * it) or replaces it, and then releasing either incident drops the other's protection. With a policy per
 * incident a revocation always adds its own deny and never reads another's, and a release deletes only
 * its own, when it is still the document its record says it put; no release ever puts a policy (no
 * `PutRolePolicy`/`PutUserPolicy` grant), and no two incidents read, modify and write one document (IAM
 * has no conditional put, so a statement per incident in a shared policy could be lost to a race, and
 * removing one would need a put). The cost is IAM's aggregate size of inline policies per principal
 * (2,048 characters for a user, 10,240 for a role:
 * https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html): a deny is about 150, so a
 * user can carry about a dozen open incidents' denies besides its own policies; beyond that the put fails
 * (`LimitExceeded`) and the step is recorded failed, never succeeded.
 *
 * The incident id is used as it is when IAM allows it in a name (the router's ids are 32 hex digits);
 * any other id is replaced by the start of its SHA-256, so that the name stays the incident's alone.
 */
export function revokePolicyName(incidentId: string): string {
  const id = POLICY_NAME_ID.test(incidentId)
    ? incidentId
    : createHash('sha256').update(incidentId).digest('hex').slice(0, 40);
  return `${REVOKE_POLICY_PREFIX}-${id}`;
}

/**
 * The deny-all policy that voids every temporary credential issued before `issuedBefore`, in the shape of
 * the console's `AWSRevokeOlderSessions` policy
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html). Permissions of
 * temporary credentials are evaluated on every request, so the deny takes effect on sessions already issued
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html).
 * It does not stop a long-term access key: `aws:TokenIssueTime` is only present in requests signed with
 * temporary credentials
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-tokenissuetime).
 * `issuedBefore` is a time as `Date.toISOString` writes it: the milliseconds keep a session issued in the
 * second of containment, before it, from surviving.
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
const RevokePolicySchema = lazySchema(() =>
  z.strictObject({
    Version: z.literal('2012-10-17'),
    Statement: z.tuple([
      z.strictObject({
        Effect: z.literal('Deny'),
        Action: z.tuple([z.literal('*')]),
        Resource: z.tuple([z.literal('*')]),
        Condition: z.strictObject({ DateLessThan: z.strictObject({ 'aws:TokenIssueTime': z.string() }) }),
      }),
    ]),
  }),
);

/**
 * Whether `value` is a cut-off as the code writes it: UTC, to the second or the millisecond, and a real
 * time (`2025-02-30T00:00:00Z` is not). Any other date IAM would accept (a bare day, an offset, a year
 * 9999) is not one Cordon wrote.
 */
function isCutOff(value: string): boolean {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{3})?Z$/.test(value)) return false;
  const time = Date.parse(value);
  return !Number.isNaN(time) && new Date(time).toISOString() === value.replace(/:(\d{2})Z$/, ':$1.000Z');
}

/**
 * The time before which a policy document denies every session, when the document is exactly Cordon's
 * revoke policy with a cut-off as the code writes it; undefined for any other document (an edited policy
 * is not trusted to revoke).
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
  return isCutOff(issuedBefore) ? issuedBefore : undefined;
}

/**
 * Whether an incident's own revoke policy, found in place (a retry, or a later finding of the same
 * incident), still does the job: it must be Cordon's exact shape, cut off no later than now (a later
 * cut-off is not one the code wrote), and when the finding's time is known, at or after it (sessions
 * issued after an older cut-off would survive).
 */
export function revokesSince(document: string | null, findingTime: string | undefined, now: Date): boolean {
  if (document === null) return false;
  const before = revokedBefore(document);
  if (before === undefined || Date.parse(before) > now.getTime()) return false;
  return findingTime === undefined || Date.parse(before) >= Date.parse(findingTime);
}

/** What a release does with its incident's revoke policy, from {@link releaseRevokePolicy}. */
export type RevokePolicyRelease =
  | { readonly action: 'delete'; readonly cutOff: string }
  | { readonly action: 'none' }
  | { readonly action: 'refuse'; readonly reason: string };

/**
 * Decides what a release does with the revoke policy its incident put on `who` (`role web-role`), from the
 * last document the incident's steps recorded putting (`put`, with its step's sequence number and time)
 * and the live one. It deletes the policy only when the live document is exactly that deny; nothing is to
 * do when the policy is gone. It refuses, with the command to run by hand, a recorded document that is
 * not the deny the code builds, or whose cut-off is later than its step was recorded (the cut-off is read
 * before the put, the step written after), and a live document that differs from the recorded one (someone
 * changed it since).
 */
export function releaseRevokePolicy(
  who: string,
  policyName: string,
  put: { readonly document: string; readonly seq: number; readonly recordedAt: string },
  live: string | null,
  manual: string,
): RevokePolicyRelease {
  const cutOff = revokedBefore(put.document);
  if (cutOff === undefined || put.document !== revokePolicyDocument(cutOff)) {
    return {
      action: 'refuse',
      reason: `step ${put.seq} records putting a ${policyName} on ${who} that is not the deny Cordon builds; review the policy and remove it by hand (${manual})`,
    };
  }
  const recordedAt = Date.parse(put.recordedAt);
  if (Number.isNaN(recordedAt) || Date.parse(cutOff) > recordedAt) {
    return {
      action: 'refuse',
      reason: `step ${put.seq} records a ${policyName} on ${who} cut off at ${cutOff}, later than the step was recorded (${put.recordedAt}): the code never writes that; review the policy and remove it by hand (${manual})`,
    };
  }
  if (live === null) return { action: 'none' };
  if (revokedBefore(live) !== cutOff) {
    return {
      action: 'refuse',
      reason: `the ${policyName} policy on ${who} is no longer the deny this incident put there (cut off at ${cutOff}): someone changed it; review it and remove it by hand (${manual})`,
    };
  }
  return { action: 'delete', cutOff };
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
export const IamNameSchema = lazySchema(() =>
  z
    .string()
    .check(z.regex(/^[\w+=,.@-]{1,64}$/, 'must be an IAM name (1-64 of letters, digits and +=,.@_-)')),
);

/** Access key ids (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKey.html). */
export const AccessKeyIdSchema = lazySchema(() =>
  z.string().check(z.regex(/^\w{16,128}$/, 'must be an access key id (16-128 letters and digits)')),
);

/** An ISO 8601 date-time. */
export const IsoTimeSchema = lazySchema(() =>
  z.string().check(
    z.refine((value) => /^\d{4}-\d{2}-\d{2}T/.test(value) && !Number.isNaN(Date.parse(value)), {
      message: 'must be an ISO 8601 date-time',
    }),
  ),
);

/**
 * Temporary access key ids start with `ASIA`, long-term ones with `AKIA`
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_identifiers.html#identifiers-unique-ids).
 */
export function isTemporaryKey(accessKeyId: string): boolean {
  return accessKeyId.startsWith('ASIA');
}

/** One access key of a user, as recorded before containment. */
export const RecordedKeySchema = lazySchema(() =>
  z.object({
    accessKeyId: z.string(),
    status: z.enum(['Active', 'Inactive']),
    createDate: z.nullable(z.string()),
    /** When, where and with what service the key was last used; null when never. */
    lastUsed: z.nullable(z.object({ date: z.string(), service: z.string(), region: z.string() })),
  }),
);
export type RecordedKey = z.infer<typeof RecordedKeySchema>;

/** A user's state as `iam-contain-user-key` records it: enough to undo containment exactly. */
export const RecordedUserSchema = lazySchema(() =>
  z.object({
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
    /** The document of this incident's revoke policy ({@link revokePolicyName}) found in place, or null. */
    revokePolicy: z.nullable(z.string()),
  }),
);
export type RecordedUser = z.infer<typeof RecordedUserSchema>;

/** What `iam-contain-user-key` changed. */
export const UserChangesSchema = lazySchema(() =>
  z.object({
    deactivatedKeys: z.array(z.string()),
    /** The revoke policy put on the user (its document), or null when none was put. */
    revokePolicy: z.nullable(z.string()),
    /** The name it was put under ({@link revokePolicyName}); absent when none was put. */
    policyName: z.optional(z.string()),
    deletedLoginProfile: z.boolean(),
  }),
);
export type UserChanges = z.infer<typeof UserChangesSchema>;

/** A role's state as `iam-revoke-role-sessions` records it. */
export const RecordedRoleSchema = lazySchema(() =>
  z.object({
    roleName: z.string(),
    arn: z.string(),
    path: z.string(),
    serviceLinked: z.boolean(),
    maxSessionDuration: z.nullable(z.number()),
    /** The trust policy, decoded, for review: whoever it trusts can still get fresh credentials. */
    trustPolicy: z.unknown(),
    /** The document of this incident's revoke policy ({@link revokePolicyName}) found in place, or null. */
    revokePolicy: z.nullable(z.string()),
  }),
);
export type RecordedRole = z.infer<typeof RecordedRoleSchema>;

/** What `iam-revoke-role-sessions` changed. */
export const RoleChangesSchema = lazySchema(() =>
  z.object({
    /** The revoke policy put on the role (its document), or null when none was put. */
    revokePolicy: z.nullable(z.string()),
    /** The name it was put under ({@link revokePolicyName}); absent when none was put. */
    policyName: z.optional(z.string()),
  }),
);
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
