/**
 * The core of `iam-delete-key` (eradication, after approval): deletes the compromised access key, recording
 * its state first. A deleted key is gone for good, whatever its status was: IAM cannot restore it, and the
 * user needs a new key if one is still needed
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteAccessKey.html).
 */
import { DeleteAccessKeyCommand, GetAccessKeyLastUsedCommand } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { parseOrThrow } from '#shared/domain';
import { ResourceNotFoundError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import {
  AccessKeyIdSchema,
  IamNameSchema,
  type IamSender,
  iamCall,
  iamFind,
  type RecordedKey,
} from '../iam-common/iam.ts';
import { userAccessKeys } from '../iam-common/lists.ts';

/** The action's name in the record. */
export const DELETE_KEY_ACTION = 'iam-delete-key';

export const DeleteKeyInputSchema = lazySchema(() =>
  z.extend(ActionEventSchema, {
    userName: IamNameSchema,
    accessKeyId: AccessKeyIdSchema,
  }),
);
export type DeleteKeyInput = z.infer<typeof DeleteKeyInputSchema>;

export interface DeleteKeyDeps {
  readonly iam: IamSender;
  /**
   * The incident's record, read only when the key is missing: a key this action deleted before is
   * `already-done`; a key never seen is {@link ResourceNotFoundError}. Without it, a missing key is always
   * the latter.
   */
  /** The record, read verified: a key is `already-done` only when a verified step of this action deleted it. */
  readonly recorder?: Pick<AuditRecorder, 'verified'>;
}

/** What `iam-delete-key` records before it deletes. */
export interface DeleteKeyBefore {
  userName: string;
  key: RecordedKey;
}

/** Deletes one access key of one user. */
export async function deleteKey(deps: DeleteKeyDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(DeleteKeyInputSchema, event, `${DELETE_KEY_ACTION} input`);
  const { iam } = deps;
  const { userName, accessKeyId } = input;
  const dryRun = input.dryRun === true;

  const [keys, lastUsed] = await Promise.all([
    userAccessKeys(iam, userName),
    iamFind(`iam:GetAccessKeyLastUsed ${accessKeyId}`, () =>
      iam.send(new GetAccessKeyLastUsedCommand({ AccessKeyId: accessKeyId })),
    ),
  ]);
  const found = keys.find((k) => k.AccessKeyId === accessKeyId);
  if (!found) {
    if (await deletedBefore(deps, input)) {
      return {
        status: 'already-done',
        note: `${accessKeyId} of ${userName} was deleted by an earlier ${DELETE_KEY_ACTION} step of this incident`,
        dryRun,
        output: { userName, accessKeyId, deleted: true },
      };
    }
    throw new ResourceNotFoundError(`access key ${accessKeyId} does not belong to IAM user ${userName}`);
  }
  const used = lastUsed?.AccessKeyLastUsed;
  const before: DeleteKeyBefore = {
    userName,
    key: {
      accessKeyId,
      status: found.Status === 'Inactive' ? 'Inactive' : 'Active',
      createDate: found.CreateDate?.toISOString() ?? null,
      lastUsed: used?.LastUsedDate
        ? {
            date: used.LastUsedDate.toISOString(),
            service: used.ServiceName ?? 'N/A',
            region: used.Region ?? 'N/A',
          }
        : null,
    },
  };
  const irreversible = `a deleted access key cannot be restored (it was ${before.key.status}): ${userName} needs a new key if one is still needed`;
  if (dryRun) {
    return {
      status: 'succeeded',
      before,
      changes: { deletedKeys: [accessKeyId] },
      note: `dry run, nothing changed: would delete ${accessKeyId} of ${userName}; ${irreversible}`,
      dryRun: true,
      output: { userName, accessKeyId, deleted: false },
    };
  }
  await iamCall(
    `iam:DeleteAccessKey ${userName} ${accessKeyId}`,
    `access key ${accessKeyId} of IAM user ${userName}`,
    () => iam.send(new DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId })),
  );
  return {
    status: 'succeeded',
    before,
    changes: { deletedKeys: [accessKeyId] },
    note: `deleted ${accessKeyId} of ${userName}; ${irreversible}`,
    dryRun: false,
    output: { userName, accessKeyId, deleted: true },
  };
}

const DeletedStepSchema = lazySchema(() =>
  z.object({
    before: z.object({ userName: z.string() }),
    changes: z.object({ deletedKeys: z.array(z.string()) }),
  }),
);

/** Whether a finished, real (not dry-run) step of this action deleted the key. */
async function deletedBefore(deps: DeleteKeyDeps, input: DeleteKeyInput): Promise<boolean> {
  if (!deps.recorder) return false;
  const { steps } = await deps.recorder.verified(input.incidentId);
  return steps.some((step) => {
    if (step.action !== DELETE_KEY_ACTION || step.status !== 'succeeded' || step.dryRun === true)
      return false;
    const parsed = z.safeParse(DeletedStepSchema, step);
    return (
      parsed.success &&
      parsed.data.before.userName === input.userName &&
      parsed.data.changes.deletedKeys.includes(input.accessKeyId)
    );
  });
}
