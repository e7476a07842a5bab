/**
 * What the EC2 actions share: the event fields, the instance lookup that turns "gone" into
 * {@link ResourceNotFoundError}, the protected-tag check, Cordon's tag keys, and the helpers that make a
 * mutating call (or, with `dryRun`, check it and only report it).
 */
import { DescribeInstancesCommand, type EC2Client, type Instance, type Tag } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import { ActionEventSchema } from '#shared/action';
import { awsCall, ec2DryRun } from '#shared/aws';
import { ProtectedResourceError, ResourceNotFoundError } from '#shared/errors';
import { lazySchema } from '#shared/lazy-schema';
import { allItems, nextToken } from '#shared/pages';

/** What the EC2 cores need of an EC2 client. */
export type Ec2Sender = Pick<EC2Client, 'send'>;

/** Tag keys Cordon writes and looks up. */
export const TAG = {
  /** On the isolation security group (`true`) and the temporary allow-all group (`untrack`). */
  isolation: 'cordon:isolation',
  /** On the quarantine network ACL. */
  quarantine: 'cordon:quarantine',
  incident: 'cordon:incident',
  status: 'cordon:status',
  instance: 'cordon:instance',
  finding: 'cordon:finding',
  volume: 'cordon:volume',
} as const;

/** An EC2 instance id: `i-` then 8 or 17 hex digits. */
export const InstanceIdSchema = lazySchema(() =>
  z.string().check(z.regex(/^i-[0-9a-f]{8,17}$/, 'must be an EC2 instance id such as i-0123456789abcdef0')),
);

/** Every EC2 action's event: the common fields and the instance. */
export const Ec2EventSchema = lazySchema(() => z.extend(ActionEventSchema, { instanceId: InstanceIdSchema }));

function errorNamed(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/**
 * Describes one instance. An unknown id is `InvalidInstanceID.NotFound`
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html), which becomes
 * {@link ResourceNotFoundError}. Every page is read: even with an id, EC2 may answer a page without it and
 * a `NextToken` for the rest.
 */
export async function describeInstance(ec2: Ec2Sender, instanceId: string): Promise<Instance> {
  let instance: Instance | undefined;
  const doing = `ec2:DescribeInstances ${instanceId}`;
  try {
    const reservations = await allItems({
      doing,
      fetch: (NextToken) =>
        awsCall(doing, () =>
          ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId], NextToken })),
        ),
      next: nextToken,
      items: (page) => page.Reservations,
    });
    instance = reservations.flatMap((r) => r.Instances ?? []).find((i) => i.InstanceId === instanceId);
  } catch (error) {
    if (errorNamed(error, 'InvalidInstanceID.NotFound', 'InvalidInstanceID.Malformed')) {
      throw new ResourceNotFoundError(`instance ${instanceId} does not exist`, { cause: error });
    }
    throw error;
  }
  if (!instance) throw new ResourceNotFoundError(`instance ${instanceId} does not exist`);
  return instance;
}

/**
 * Describes an instance that must still exist: a terminated (or terminating) instance is gone, though
 * DescribeInstances lists it for about an hour
 * (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/ec2-instance-lifecycle.html).
 */
export async function describeLiveInstance(ec2: Ec2Sender, instanceId: string): Promise<Instance> {
  const instance = await describeInstance(ec2, instanceId);
  const state = instance.State?.Name;
  if (state === 'terminated' || state === 'shutting-down') {
    throw new ResourceNotFoundError(`instance ${instanceId} is ${state}`);
  }
  return instance;
}

/** An instance's tags as a map. */
export function tagsOf(tags: readonly Tag[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const tag of tags ?? []) if (tag.Key !== undefined) out[tag.Key] = tag.Value ?? '';
  return out;
}

/** Refuses to act on an instance that carries the protected tag, unless a person approved it. */
export function assertNotProtected(
  instance: Instance,
  protectedTag: { readonly key: string; readonly value: string },
  approved: boolean | undefined,
): void {
  if (approved === true) return;
  if (tagsOf(instance.Tags)[protectedTag.key] === protectedTag.value) {
    throw new ProtectedResourceError(
      `instance ${instance.InstanceId} carries ${protectedTag.key}=${protectedTag.value}: it is acted on only after approval`,
    );
  }
}

/** The mutating calls a run made, or with `dryRun` would make, in order (`ec2:CreateTags i-...`). */
export interface CallPlan {
  readonly dryRun: boolean;
  readonly calls: string[];
}

/** An empty plan; `dryRun` makes every mutation a check that changes nothing. */
export function newPlan(dryRun: boolean | undefined): CallPlan {
  return { dryRun: dryRun === true, calls: [] };
}

/**
 * Makes a mutating EC2 call, or with `dryRun` makes it with `DryRun: true` so that AWS checks the
 * permission and the parameters and changes nothing
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/CommonParameters.html: "DryRun").
 * Returns undefined for a dry run.
 */
export async function ec2Mutation<T>(
  plan: CallPlan,
  doing: string,
  call: (dryRun: boolean) => Promise<T>,
): Promise<T | undefined> {
  plan.calls.push(doing);
  if (plan.dryRun) {
    await ec2DryRun(doing, () => call(true));
    return undefined;
  }
  return awsCall(doing, () => call(false));
}

/** Makes a mutating call of an API that has no dry run (IAM, Auto Scaling, ELB): a dry run only reports it. */
export async function mutation<T>(
  plan: CallPlan,
  doing: string,
  call: () => Promise<T>,
): Promise<T | undefined> {
  plan.calls.push(doing);
  if (plan.dryRun) return undefined;
  return awsCall(doing, call);
}

/** True when two id lists hold the same ids, in any order. */
export function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((id) => right.has(id));
}

/** True when the error is the AWS error `name`. */
export function isAwsError(error: unknown, ...names: string[]): boolean {
  return errorNamed(error, ...names);
}
