/**
 * The core of `ec2-tag`: marks the instance with the incident (`cordon:incident=<id>`) and its status
 * (`cordon:status=<status>`), so that anyone who finds it in the console knows why it is isolated.
 * CreateTags overwrites a tag of the same key
 * (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_CreateTags.html), so the previous values are
 * recorded for the release.
 *
 * AWS calls: DescribeInstances, CreateTags.
 */
import { CreateTagsCommand } from '@aws-sdk/client-ec2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  assertNotProtected,
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  ec2Mutation,
  newPlan,
  TAG,
  tagsOf,
} from '../ec2-common/instance.ts';
import type { TagBefore } from '../ec2-common/records.ts';

/** The event of `ec2-tag`. */
export const TagInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, {
    /** Default `contained`. */
    status: z._default(
      z.string().check(z.regex(/^[a-z][a-z0-9-]{0,63}$/, 'must be a short lowercase word')),
      'contained',
    ),
    approved: z.optional(z.boolean()),
  }),
);

/** What the core needs: the EC2 client and the protected tag. */
export interface TagDeps {
  readonly ec2: Ec2Sender;
  readonly protectedTag: { readonly key: string; readonly value: string };
}

/** Tags the instance with the incident and its status. */
export async function tagInstance(deps: TagDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(TagInputSchema, event, 'ec2-tag input');
  const plan = newPlan(input.dryRun);
  const instance = await describeLiveInstance(deps.ec2, input.instanceId);
  assertNotProtected(instance, deps.protectedTag, input.approved);
  const current = tagsOf(instance.Tags);
  const wanted: Record<string, string> = { [TAG.incident]: input.incidentId, [TAG.status]: input.status };
  const before: TagBefore = {
    instanceId: input.instanceId,
    tags: Object.fromEntries(Object.keys(wanted).map((key) => [key, current[key] ?? null])),
  };
  const missing = Object.entries(wanted).filter(([key, value]) => current[key] !== value);
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (missing.length === 0) {
    return {
      status: 'already-done',
      before,
      changes: { calls: [] },
      note: 'the instance already carries these tags',
      ...dryRun,
    };
  }
  await ec2Mutation(plan, `ec2:CreateTags ${input.instanceId}`, (DryRun) =>
    deps.ec2.send(
      new CreateTagsCommand({
        DryRun,
        Resources: [input.instanceId],
        Tags: missing.map(([Key, Value]) => ({ Key, Value })),
      }),
    ),
  );
  return {
    status: 'succeeded',
    before,
    changes: { calls: plan.calls, tags: Object.fromEntries(missing) },
    ...dryRun,
  };
}
