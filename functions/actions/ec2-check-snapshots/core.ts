/**
 * The core of `ec2-check-snapshots`: one look at the incident's snapshots, for the playbook's
 * Wait-and-check loop. A snapshot is `pending` until its data is copied, then `completed`, or `error`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_Snapshot.html). It changes nothing.
 *
 * AWS calls: one DescribeSnapshots.
 */
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { Ec2EventSchema, type Ec2Sender } from '../ec2-common/instance.ts';
import { incidentSnapshots } from '../ec2-common/snapshots.ts';

/** The event of `ec2-check-snapshots`. */
export const CheckInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** The snapshots to check; default: the incident's snapshots of the instance, found by tag. */
    snapshotIds: z.optional(z.array(z.string().check(z.regex(/^snap-[0-9a-f]+$/, 'must be a snapshot id')))),
  }),
);

/** What the core needs: the EC2 client. */
export interface CheckDeps {
  readonly ec2: Ec2Sender;
}

/** Reports whether every snapshot is complete. */
export async function checkSnapshots(deps: CheckDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(CheckInputSchema, event, 'ec2-check-snapshots input');
  const snapshots = await incidentSnapshots(deps.ec2, input.incidentId, input.instanceId, input.snapshotIds);
  const ids = (state: string) => snapshots.filter((s) => s.State === state).map((s) => s.SnapshotId ?? '');
  const failed = ids('error');
  const completed = ids('completed');
  const pending = snapshots.length - failed.length - completed.length;
  const allCompleted = snapshots.length > 0 && completed.length === snapshots.length;
  return {
    status: 'succeeded',
    evidence: snapshots.map((s) => s.SnapshotId ?? '').filter((s) => s !== ''),
    ...(snapshots.length === 0 ? { note: 'no snapshot of this incident was found' } : {}),
    ...(input.dryRun ? { dryRun: true } : {}),
    output: {
      allCompleted,
      pending,
      failed,
      completed: completed.length,
      snapshotIds: snapshots.map((s) => s.SnapshotId ?? ''),
      progress: Object.fromEntries(snapshots.map((s) => [s.SnapshotId ?? '', s.Progress ?? ''])),
    },
  };
}
