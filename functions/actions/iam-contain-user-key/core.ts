/**
 * The core of `iam-contain-user-key`: cuts off an IAM user's compromised access key and the sessions it
 * minted, and nothing more. It records the user's keys (status and last use), login profile, MFA devices
 * and policies first; then deactivates exactly the named key (every active key only when configured),
 * puts the incident's own deny on sessions issued before now ({@link revokePolicyName}: another incident's
 * deny on the user is neither counted nor changed), and deletes the console login profile only when
 * configured.
 */
import {
  DeleteLoginProfileCommand,
  GetAccessKeyLastUsedCommand,
  GetLoginProfileCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  PutUserPolicyCommand,
  type Tag,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { describeError } from '#shared/log';
import type { Settings } from '#shared/settings';
import {
  AccessKeyIdSchema,
  assertNotProtected,
  decodePolicy,
  IamNameSchema,
  type IamSender,
  IsoTimeSchema,
  iamCall,
  iamFind,
  isTemporaryKey,
  type ProtectedTag,
  type RecordedKey,
  type RecordedUser,
  revokedBefore,
  revokePolicyDocument,
  revokePolicyName,
  revokesSince,
  type UserChanges,
} from '../iam-common/iam.ts';
import {
  userAccessKeys,
  userAttachedPolicies,
  userMfaDevices,
  userPolicyNames,
} from '../iam-common/lists.ts';

/** The action's name in the record. */
export const CONTAIN_USER_KEY_ACTION = 'iam-contain-user-key';

export const ContainUserKeyInputSchema = lazySchema(() =>
  z.extend(ActionEventSchema, {
    /** The finding's `resource.accessKeyDetails.userName`. */
    userName: IamNameSchema,
    /** The finding's `resource.accessKeyDetails.accessKeyId`. */
    accessKeyId: AccessKeyIdSchema,
    /** Overrides the setting `iam.deactivateAllKeys`. */
    deactivateAllKeys: z.optional(z.boolean()),
    /** Overrides the setting `iam.deleteLoginProfile`. */
    deleteLoginProfile: z.optional(z.boolean()),
    /**
     * The finding's last-seen time. The incident's own revoke policy, already in place, counts only if it
     * cuts off at or after it; without it, any intact one counts.
     */
    findingTime: z.optional(IsoTimeSchema),
    /** Set by the playbook after an approval: a user with the protected tag may then be contained. */
    approved: z.optional(z.boolean()),
  }),
);
export type ContainUserKeyInput = z.infer<typeof ContainUserKeyInputSchema>;

export interface ContainUserKeyDeps {
  readonly iam: IamSender;
  readonly now: () => Date;
  /** The `iam` part of the settings: the defaults of `deactivateAllKeys` and `deleteLoginProfile`. */
  readonly settings: Pick<Settings['iam'], 'deactivateAllKeys' | 'deleteLoginProfile'>;
  /** The settings' `protectedTag`: a user carrying it is contained only after approval. */
  readonly protectedTag: ProtectedTag;
  /**
   * Where a containment that fails half-way records the state before and what it had already changed, so
   * that `iam-release` can still undo it exactly (the retry only sees the half-contained state). Optional:
   * without it the error is rethrown unrecorded beyond the middleware's `failed` step.
   */
  readonly recorder?: Pick<AuditRecorder, 'appendStep'>;
}

/**
 * Reads what containment may change, and what a reviewer needs: keys, password, MFA, policies (and the
 * document of the incident's own revoke policy, `policyName`, when it is there); and the user's tags, for
 * the protected-tag check.
 */
async function readUser(
  iam: IamSender,
  userName: string,
  accessKeyId: string,
  policyName: string,
): Promise<{ before: RecordedUser; tags: Tag[] | undefined }> {
  const user = `IAM user ${userName}`;
  const lastUsed = (id: string) =>
    iamFind(`iam:GetAccessKeyLastUsed ${id}`, () =>
      iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: id })),
    );
  // One round of reads in parallel; the named key's last use is fetched with them.
  const [got, keys, login, mfa, inline, attached, namedLastUsed] = await Promise.all([
    iamCall(`iam:GetUser ${userName}`, user, () => iam.send(new GetUserCommand({ UserName: userName }))),
    userAccessKeys(iam, userName),
    // No password is NoSuchEntity (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetLoginProfile.html).
    iamFind(`iam:GetLoginProfile ${userName}`, () =>
      iam.send(new GetLoginProfileCommand({ UserName: userName })),
    ),
    userMfaDevices(iam, userName),
    userPolicyNames(iam, userName),
    userAttachedPolicies(iam, userName),
    isTemporaryKey(accessKeyId) ? Promise.resolve(undefined) : lastUsed(accessKeyId),
  ]);
  const metadata = keys;
  const inlineNames = inline;
  const [others, existingPolicy] = await Promise.all([
    Promise.all(
      metadata.map((k) =>
        k.AccessKeyId === accessKeyId ? Promise.resolve(namedLastUsed) : lastUsed(k.AccessKeyId ?? ''),
      ),
    ),
    inlineNames.includes(policyName)
      ? iamFind(`iam:GetUserPolicy ${userName} ${policyName}`, () =>
          iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: policyName })),
        )
      : Promise.resolve(undefined),
  ]);
  const accessKeys = metadata.map((k, index): RecordedKey => {
    const used = others[index]?.AccessKeyLastUsed;
    return {
      accessKeyId: k.AccessKeyId ?? '',
      status: k.Status === 'Inactive' ? 'Inactive' : 'Active',
      createDate: k.CreateDate?.toISOString() ?? null,
      // A key never used has no LastUsedDate and `N/A` for service and region
      // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_AccessKeyLastUsed.html).
      lastUsed: used?.LastUsedDate
        ? {
            date: used.LastUsedDate.toISOString(),
            service: used.ServiceName ?? 'N/A',
            region: used.Region ?? 'N/A',
          }
        : null,
    };
  });
  const profile = login?.LoginProfile;
  const before: RecordedUser = {
    userName,
    accessKeys,
    loginProfile: profile
      ? {
          exists: true,
          ...(profile.CreateDate ? { createDate: profile.CreateDate.toISOString() } : {}),
          passwordResetRequired: profile.PasswordResetRequired ?? false,
        }
      : { exists: false },
    mfaDevices: mfa.map((d) => d.SerialNumber ?? ''),
    inlinePolicies: inlineNames,
    attachedPolicies: attached.map((p) => ({
      name: p.PolicyName ?? '',
      arn: p.PolicyArn ?? '',
    })),
    revokePolicy: existingPolicy ? decodePolicy(existingPolicy.PolicyDocument) : null,
  };
  return { before, tags: got.User?.Tags };
}

function describeChanges(
  userName: string,
  changes: UserChanges,
  containedAt: string,
  dryRun: boolean,
): string {
  const policyName = changes.policyName ?? 'its revoke policy';
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const parts: string[] = [];
  if (changes.deactivatedKeys.length > 0) {
    parts.push(`${verb('deactivated', 'would deactivate')} ${changes.deactivatedKeys.join(', ')}`);
  }
  if (changes.revokePolicy !== null) {
    parts.push(
      `${verb('put', 'would put')} ${policyName} on ${userName}, denying sessions issued before ${containedAt}`,
    );
  }
  if (changes.deletedLoginProfile) parts.push(`${verb('deleted', 'would delete')} the console login profile`);
  return parts.join('; ');
}

function hasChanges(changes: UserChanges): boolean {
  return changes.deactivatedKeys.length > 0 || changes.revokePolicy !== null || changes.deletedLoginProfile;
}

/** Deactivates an IAM user's compromised access key and revokes its sessions. */
export async function containUserKey(deps: ContainUserKeyDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ContainUserKeyInputSchema, event, `${CONTAIN_USER_KEY_ACTION} input`);
  const { iam } = deps;
  const { userName, accessKeyId } = input;
  const dryRun = input.dryRun === true;
  const allKeys = input.deactivateAllKeys ?? deps.settings.deactivateAllKeys;
  const deleteLoginProfile = input.deleteLoginProfile ?? deps.settings.deleteLoginProfile;
  const temporary = isTemporaryKey(accessKeyId);
  const policyName = revokePolicyName(input.incidentId);

  const { before, tags } = await readUser(iam, userName, accessKeyId, policyName);
  assertNotProtected(`IAM user ${userName}`, tags, deps.protectedTag, input.approved);
  if (!temporary && !before.accessKeys.some((k) => k.accessKeyId === accessKeyId)) {
    throw new ResourceNotFoundError(`access key ${accessKeyId} does not belong to IAM user ${userName}`);
  }

  // The named key first, so that it is the first call made.
  const toDeactivate = before.accessKeys
    .filter((k) => k.status === 'Active' && (allKeys || k.accessKeyId === accessKeyId))
    .map((k) => k.accessKeyId)
    .sort((a, b) => Number(b === accessKeyId) - Number(a === accessKeyId));
  // A key still active may have minted sessions up to now: an older cut-off would let those live.
  const needsPolicy =
    toDeactivate.length > 0 || !revokesSince(before.revokePolicy, input.findingTime, deps.now());
  const deletesLogin = deleteLoginProfile && before.loginProfile.exists;
  const keysLeftActive = before.accessKeys
    .filter((k) => k.status === 'Active' && !toDeactivate.includes(k.accessKeyId))
    .map((k) => k.accessKeyId);
  const loginProfile = before.loginProfile.exists ? (deletesLogin ? 'deleted' : 'kept') : 'none';
  const temporaryNote = temporary
    ? `${accessKeyId} is a temporary key: the revoke policy voids it; the long-term key that minted it is not named by the finding`
    : undefined;

  if (!needsPolicy && !deletesLogin) {
    const containedAt = revokedBefore(before.revokePolicy ?? '') ?? '';
    return {
      status: 'already-done',
      before,
      changes: { deactivatedKeys: [], revokePolicy: null, deletedLoginProfile: false } satisfies UserChanges,
      note: `${userName} already contained: ${temporary ? 'no key to deactivate' : `${accessKeyId} is inactive`}, ${policyName} denies sessions issued before ${containedAt}`,
      dryRun,
      output: { userName, accessKeyId, containedAt, deactivatedKeys: [], keysLeftActive, loginProfile },
    };
  }

  if (dryRun) {
    const containedAt = deps.now().toISOString();
    const planned: UserChanges = {
      deactivatedKeys: toDeactivate,
      revokePolicy: needsPolicy ? revokePolicyDocument(containedAt) : null,
      ...(needsPolicy ? { policyName } : {}),
      deletedLoginProfile: deletesLogin,
    };
    return {
      status: 'succeeded',
      before,
      changes: planned,
      note: `dry run, nothing changed: ${describeChanges(userName, planned, containedAt, true)}`,
      dryRun: true,
      output: { userName, accessKeyId, containedAt, deactivatedKeys: [], keysLeftActive, loginProfile },
    };
  }

  const changes: UserChanges = { deactivatedKeys: [], revokePolicy: null, deletedLoginProfile: false };
  let containedAt = '';
  try {
    // Stop the key first. A deactivated key fails every request, including GetSessionToken
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateAccessKey.html).
    const settled = await Promise.allSettled(
      toDeactivate.map(async (id) => {
        await iamCall(
          `iam:UpdateAccessKey ${userName} ${id}`,
          `access key ${id} of IAM user ${userName}`,
          () =>
            iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: id, Status: 'Inactive' })),
        );
        changes.deactivatedKeys.push(id);
      }),
    );
    changes.deactivatedKeys.sort((a, b) => toDeactivate.indexOf(a) - toDeactivate.indexOf(b));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    // The cut-off is read after the keys are stopped, so that no session they minted is issued after it.
    containedAt = deps.now().toISOString();
    if (needsPolicy) {
      const document = revokePolicyDocument(containedAt);
      await iamCall(`iam:PutUserPolicy ${userName} ${policyName}`, `IAM user ${userName}`, () =>
        iam.send(
          new PutUserPolicyCommand({
            UserName: userName,
            PolicyName: policyName,
            PolicyDocument: document,
          }),
        ),
      );
      changes.revokePolicy = document;
      changes.policyName = policyName;
    } else {
      containedAt = revokedBefore(before.revokePolicy ?? '') ?? containedAt;
    }
    if (deletesLogin) {
      // Deleting the password ends console sign-in only; API access is what the key and the policy stop
      // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteLoginProfile.html).
      const deleted = await iamFind(`iam:DeleteLoginProfile ${userName}`, () =>
        iam.send(new DeleteLoginProfileCommand({ UserName: userName })),
      );
      changes.deletedLoginProfile = deleted !== undefined;
    }
  } catch (error) {
    if (hasChanges(changes)) await recordPartial(deps, input, before, changes, error);
    throw error;
  }

  const notes = [describeChanges(userName, changes, containedAt, false)];
  if (keysLeftActive.length > 0) notes.push(`left active: ${keysLeftActive.join(', ')}`);
  if (loginProfile === 'kept') notes.push('console login profile kept (not configured to delete it)');
  if (temporaryNote) notes.push(temporaryNote);
  return {
    status: 'succeeded',
    before,
    changes,
    note: notes.join('; '),
    dryRun: false,
    output: {
      userName,
      accessKeyId,
      containedAt,
      deactivatedKeys: changes.deactivatedKeys,
      keysLeftActive,
      loginProfile,
    },
  };
}

/**
 * Records a half-done containment (the state before, and what did change) before the error goes on to the
 * middleware: the retry's `before` is the half-contained state, so without this step `iam-release` could
 * not restore what the first attempt changed.
 */
async function recordPartial(
  deps: ContainUserKeyDeps,
  input: ContainUserKeyInput,
  before: RecordedUser,
  changes: UserChanges,
  error: unknown,
): Promise<void> {
  if (!deps.recorder) return;
  const { name, message } = describeError(error);
  try {
    await deps.recorder.appendStep(input.incidentId, {
      phase: 'containment',
      action: CONTAIN_USER_KEY_ACTION,
      status: 'noted',
      actor: 'automation',
      before,
      changes,
      note: `partly contained, then ${name}: ${message}`,
      ...(input.executionArn ? { executionArn: input.executionArn } : {}),
    });
  } catch {
    // The action's own error is what the state machine must see; the failed step still records it.
  }
}
