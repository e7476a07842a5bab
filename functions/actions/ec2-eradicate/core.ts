/**
 * The core of `ec2-eradicate`, run only after approval: stops or terminates the instance, and only once
 * every evidence snapshot is `completed` (otherwise {@link EvidenceIncompleteError}). Containment turned
 * on stop and termination protection, which refuse StopInstances and TerminateInstances
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-stop-protection.html,
 * https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/Using_ChangingDisableAPITermination.html), so the
 * protection the chosen mode needs is turned off first, and recorded in `before`. The volumes survive a
 * termination, since containment turned DeleteOnTermination off.
 *
 * AWS calls: DescribeSnapshots, DescribeInstances, DescribeInstanceAttribute, ModifyInstanceAttribute
 * (when the protection is on), StopInstances or TerminateInstances.
 */
import {
  DescribeInstanceAttributeCommand,
  ModifyInstanceAttributeCommand,
  StopInstancesCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import {
  describeInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  newPlan,
} from '../ec2-common/instance.ts';
import { incidentSnapshots } from '../ec2-common/snapshots.ts';
import { EvidenceIncompleteError } from './errors.ts';

/** The event of `ec2-eradicate`. */
export const EradicateInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** Default: the deployment's `ec2.eradication` setting. */
    mode: z.optional(z.enum(['stop', 'terminate'])),
    /** The evidence snapshots; at least one, except in a dry run (which takes none). */
    snapshotIds: z.array(z.string().check(z.regex(/^snap-[0-9a-f]+$/, 'must be a snapshot id'))),
  }),
);

/** What the core needs: the EC2 client and the configured mode. */
export interface EradicateDeps {
  readonly ec2: Ec2Sender;
  /** The mode when the input names none. Default `stop`. */
  readonly defaultMode?: 'stop' | 'terminate';
}

const DONE: Record<'stop' | 'terminate', readonly string[]> = {
  stop: ['stopping', 'stopped', 'shutting-down', 'terminated'],
  terminate: ['shutting-down', 'terminated'],
};

/** Stops or terminates the instance once the evidence is complete. */
export async function eradicateInstance(deps: EradicateDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(EradicateInputSchema, event, 'ec2-eradicate input');
  if (input.snapshotIds.length === 0 && !input.dryRun) {
    throw new ValidationError('ec2-eradicate input', ['snapshotIds: must list the evidence snapshots']);
  }
  const mode = input.mode ?? deps.defaultMode ?? 'stop';
  const { ec2 } = deps;
  const plan = newPlan(input.dryRun);
  const id = input.instanceId;

  const snapshots = await incidentSnapshots(ec2, input.incidentId, id, input.snapshotIds);
  const state = new Map(snapshots.map((s) => [s.SnapshotId ?? '', s.State ?? 'unknown']));
  const incomplete = input.snapshotIds.filter((s) => state.get(s) !== 'completed');
  if (incomplete.length > 0) {
    throw new EvidenceIncompleteError(
      `not every evidence snapshot is completed: ${incomplete.map((s) => `${s} ${state.get(s) ?? 'missing'}`).join(', ')}`,
    );
  }

  const instance = await describeInstance(ec2, id);
  const instanceState = instance.State?.Name ?? 'unknown';
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (DONE[mode].includes(instanceState)) {
    return {
      status: 'already-done',
      before: { instanceId: id, state: instanceState },
      changes: { calls: [] },
      note: `the instance is already ${instanceState}`,
      ...dryRun,
    };
  }
  const attribute = mode === 'stop' ? 'disableApiStop' : 'disableApiTermination';
  const protection = await awsCall(`ec2:DescribeInstanceAttribute ${id} ${attribute}`, () =>
    ec2.send(new DescribeInstanceAttributeCommand({ InstanceId: id, Attribute: attribute })),
  );
  const protectedNow =
    (mode === 'stop' ? protection.DisableApiStop?.Value : protection.DisableApiTermination?.Value) === true;
  const before = { instanceId: id, state: instanceState, [attribute]: protectedNow };
  if (protectedNow) {
    await ec2Mutation(plan, `ec2:ModifyInstanceAttribute ${id} ${attribute}`, (DryRun) =>
      ec2.send(
        new ModifyInstanceAttributeCommand({
          DryRun,
          InstanceId: id,
          ...(mode === 'stop'
            ? { DisableApiStop: { Value: false } }
            : { DisableApiTermination: { Value: false } }),
        }),
      ),
    );
  }
  const doing = `ec2:${mode === 'stop' ? 'StopInstances' : 'TerminateInstances'} ${id}`;
  if (plan.dryRun && protectedNow) {
    // AWS would refuse the dry run while the protection is on, and a dry run does not turn it off.
    plan.calls.push(doing);
  } else {
    await ec2Mutation(plan, doing, (DryRun) =>
      ec2.send(
        mode === 'stop'
          ? new StopInstancesCommand({ DryRun, InstanceIds: [id] })
          : new TerminateInstancesCommand({ DryRun, InstanceIds: [id] }),
      ),
    );
  }
  return {
    status: 'succeeded',
    before,
    changes: { calls: plan.calls, mode, ...(protectedNow ? { [attribute]: false } : {}) },
    evidence: input.snapshotIds,
    ...dryRun,
  };
}
