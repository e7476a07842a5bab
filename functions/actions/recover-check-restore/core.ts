/**
 * The core of `recover-check-restore`: one look at the restore job, for the playbook's Wait-and-check loop
 * (the loop's bound is the playbook's). A job is `PENDING`, then `RUNNING`, then `COMPLETED`, or ends
 * `FAILED` or `ABORTED` (https://docs.aws.amazon.com/aws-backup/latest/devguide/API_DescribeRestoreJob.html);
 * the last two throw {@link RestoreFailedError} with AWS's message, so that the playbook's Catch records
 * the failure and tells the approvers. Once the job is `COMPLETED` the new resource gets Cordon's tags
 * (`cordon:incident`, `cordon:restored-from` and the event's `tags`, usually `recover-start-restore`'s
 * `output.tags`), which StartRestoreJob cannot set; CreateTags only sets values, so a repeat changes
 * nothing (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html).
 *
 * AWS calls: backup:DescribeRestoreJob; ec2:CreateTags on the created resource once it is COMPLETED.
 */
import { DescribeRestoreJobCommand } from '@aws-sdk/client-backup';
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { type Ec2Sender, ec2Mutation, newPlan } from '../ec2-common/instance.ts';
import { RestoreFailedError } from '../recover-common/errors.ts';
import {
  type BackupSender,
  RECOVERY_TAG,
  RecoverEventSchema,
  resourceIdOf,
} from '../recover-common/recovery.ts';

/** The event of `recover-check-restore`. */
export const CheckRestoreInputSchema = lazySchema(() =>
  z.extend(RecoverEventSchema, {
    /** From `recover-start-restore`. */
    restoreJobId: z.string().check(z.minLength(1, 'must not be empty')),
    /** More tags for the restored resource (`recover-start-restore`'s `output.tags`). */
    tags: z.optional(z.record(z.string(), z.string())),
  }),
);

/** What the core needs. */
export interface CheckRestoreDeps {
  readonly backup: BackupSender;
  readonly ec2: Ec2Sender;
}

const STATUSES = ['PENDING', 'RUNNING', 'COMPLETED', 'FAILED', 'ABORTED'] as const;
type RestoreStatus = (typeof STATUSES)[number];

function isStatus(value: string | undefined): value is RestoreStatus {
  return (STATUSES as readonly (string | undefined)[]).includes(value);
}

/** Reports the restore job's status; tags what it created; throws when it failed. */
export async function checkRestore(deps: CheckRestoreDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(CheckRestoreInputSchema, event, 'recover-check-restore input');
  const id = input.restoreJobId;
  const job = await awsCall(`backup:DescribeRestoreJob ${id}`, () =>
    deps.backup.send(new DescribeRestoreJobCommand({ RestoreJobId: id })),
  );
  const status = job.Status;
  if (!isStatus(status)) throw new Error(`backup:DescribeRestoreJob ${id}: unexpected status ${status}`);
  if (status === 'FAILED' || status === 'ABORTED')
    throw new RestoreFailedError(id, status, job.StatusMessage);

  const plan = newPlan(input.dryRun);
  const createdResourceArn = job.CreatedResourceArn;
  const done = status === 'COMPLETED';
  let tagged: Record<string, string> | undefined;
  if (done && createdResourceArn) {
    const resourceId = resourceIdOf(createdResourceArn);
    tagged = {
      ...input.tags,
      [RECOVERY_TAG.incident]: input.incidentId,
      ...(job.RecoveryPointArn ? { [RECOVERY_TAG.restoredFrom]: job.RecoveryPointArn } : {}),
    };
    const tags = Object.entries(tagged).map(([Key, Value]) => ({ Key, Value }));
    await ec2Mutation(plan, `ec2:CreateTags ${resourceId}`, (DryRun) =>
      deps.ec2.send(new CreateTagsCommand({ DryRun, Resources: [resourceId], Tags: tags })),
    );
  }
  return {
    status: 'succeeded',
    changes: { calls: plan.calls, ...(tagged ? { tags: tagged } : {}) },
    evidence: [id, ...(createdResourceArn ? [createdResourceArn] : [])],
    ...(job.StatusMessage ? { note: job.StatusMessage } : {}),
    ...(plan.dryRun ? { dryRun: true } : {}),
    output: {
      restoreJobId: id,
      status,
      done,
      ...(createdResourceArn ? { createdResourceArn } : {}),
      ...(job.StatusMessage ? { statusMessage: job.StatusMessage } : {}),
      ...(job.PercentDone ? { percentDone: job.PercentDone } : {}),
    },
  };
}
