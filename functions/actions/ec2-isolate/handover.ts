/**
 * What the two-step swap stage hands to the isolate stage through the state machine
 * (`$.results.swap.output.handover`), so that the isolate stage describes nothing before it isolates: the
 * interfaces as the swap stage read them (their groups before containment), which of them it put on the
 * untrack group, and the group ids it used, by VPC.
 *
 * How far it is trusted: the state machine writes it from the swap function's result alone (its
 * `resultPath`), in the same execution; nothing of the finding reaches it. Even so it decides little:
 * - the instance is the isolate stage's own input (the incident's resource): a handover of another
 *   instance is refused;
 * - a VPC's isolation group is the settings' when they name one; the handover's (what the swap stage
 *   found or created) is used only for a VPC they do not name, and every group used is checked after
 *   isolating to be that VPC's Cordon group with exactly its rules;
 * - after isolating, the isolate stage reads the instance again and isolates any interface the handover
 *   left out (attached between the stages, or left out of a forged handover).
 */
import * as z from 'zod/mini';
import { lazySchema } from '#shared/lazy-schema';
import { InstanceIdSchema } from '../ec2-common/instance.ts';
import { InterfaceRecordSchema } from '../ec2-common/records.ts';
import type { Nic } from './interfaces.ts';

const GroupIdSchema = lazySchema(() =>
  z.string().check(z.regex(/^sg-[0-9a-z]{1,32}$/, 'must be a security group id')),
);

export const HandoverSchema = lazySchema(() =>
  z.object({
    instanceId: InstanceIdSchema,
    /** When the swap stage read the instance. */
    describedAt: z.string(),
    /** Every interface, with its groups before the swap. */
    interfaces: z.array(InterfaceRecordSchema).check(
      z.minLength(1, 'must name at least one interface'),
      z.refine((nics) => nics.every((n) => /^eni-[0-9a-z]{1,32}$/.test(n.networkInterfaceId)), {
        message: 'must hold network interface ids only',
      }),
      z.refine((nics) => nics.every((n) => /^vpc-[0-9a-z]{1,32}$/.test(n.vpcId)), {
        message: 'must hold VPC ids only',
      }),
    ),
    /** The interfaces the swap stage put on the untrack group. */
    swapped: z.array(z.string()),
    /** The groups the swap stage used, by VPC. */
    groups: z.record(
      z.string().check(z.regex(/^vpc-[0-9a-z]{1,32}$/, 'must be a VPC id')),
      z.object({ isolation: z.optional(GroupIdSchema), untrack: z.optional(GroupIdSchema) }),
    ),
  }),
);
export type Handover = z.infer<typeof HandoverSchema>;

/** The interfaces as the swap stage left them: on the untrack group if it swapped them, else as it read them. */
export function interfacesLeftBySwap(handover: Handover): Nic[] {
  return handover.interfaces.map((nic) => {
    const untrack = handover.groups[nic.vpcId]?.untrack;
    return handover.swapped.includes(nic.networkInterfaceId) && untrack ? { ...nic, groups: [untrack] } : nic;
  });
}
