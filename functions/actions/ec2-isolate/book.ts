/**
 * Which group of each kind an isolation puts on each VPC's interfaces, and where it came from:
 * - `settings`: prepared before the incident (`cordon prepare`, `settings.ec2.isolationGroups`), used
 *   without a lookup; a setting is not proof, so it is checked after isolating (after.ts);
 * - `swap-stage`: what the two-step swap stage found or created, handed over (handover.ts), for a VPC
 *   the settings do not name; checked after isolating as well;
 * - `found` / `created`: looked up (one DescribeSecurityGroups listing for every VPC not prepared) and
 *   made ready on the spot, as before there were prepared groups.
 *
 * A prepared group that no longer exists (or is of another VPC) fails the ModifyNetworkInterfaceAttribute
 * that uses it: the book then finds or creates the VPC's group on the spot, once, records the fallback,
 * and the call is made again with it.
 */
import { ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { describeError } from '#shared/log';
import { type CallPlan, type Ec2Sender, ec2Mutation, isAwsError } from '../ec2-common/instance.ts';
import {
  ensureGroup,
  type FoundGroups,
  findGroups,
  foundGroup,
  type GroupKind,
  groupName,
} from './groups.ts';
import type { Handover } from './handover.ts';
import type { Nic } from './interfaces.ts';

/** The prepared groups of the settings, by VPC. */
export type PreparedGroups = Readonly<
  Record<string, { readonly isolation: string; readonly untrack?: string }>
>;

export type GroupSource = 'settings' | 'swap-stage' | 'found' | 'created';

interface Chosen {
  readonly id: string | undefined;
  readonly source: GroupSource;
}

/** A prepared group that could not be used, and what was used instead. */
export interface Fallback {
  readonly vpcId: string;
  readonly kind: GroupKind;
  readonly was: string | undefined;
  readonly now: string | undefined;
  readonly created: boolean;
  readonly why: string;
}

/** The errors of a ModifyNetworkInterfaceAttribute whose group does not exist, or not in the interface's VPC. */
const UNUSABLE_GROUP = ['InvalidGroup.NotFound', 'InvalidGroupId.NotFound', 'InvalidGroupId.Malformed'];

const key = (kind: GroupKind, vpcId: string): string => `${kind}:${vpcId}`;

export class GroupBook {
  readonly #chosen = new Map<string, Chosen>();
  readonly #found: FoundGroups = new Map();
  /** Groups created in this run (a dry run's would-be groups by name). */
  readonly createdGroups: string[] = [];
  readonly fallbacks: Fallback[] = [];

  constructor(
    readonly ec2: Ec2Sender,
    readonly plan: CallPlan,
    readonly prepared: PreparedGroups,
    readonly handover?: Handover,
  ) {}

  #preparedOf(kind: GroupKind, vpcId: string): Chosen | undefined {
    const set = this.prepared[vpcId]?.[kind];
    if (set) return { id: set, source: 'settings' };
    const handed = this.handover?.groups[vpcId]?.[kind];
    return handed ? { id: handed, source: 'swap-stage' } : undefined;
  }

  /**
   * Takes each VPC's groups of `kinds` from the settings (or the handover) when all of them are named
   * there, and looks up every other VPC with one listing. Creates nothing.
   */
  async lookup(vpcIds: readonly string[], kinds: readonly GroupKind[]): Promise<void> {
    const unprepared: string[] = [];
    for (const vpc of vpcIds) {
      const picks = kinds.map((kind) => [kind, this.#preparedOf(kind, vpc)] as const);
      if (picks.every(([, pick]) => pick)) {
        for (const [kind, pick] of picks) if (pick) this.#chosen.set(key(kind, vpc), pick);
      } else unprepared.push(vpc);
    }
    if (unprepared.length === 0) return;
    const found = await findGroups(this.ec2, unprepared);
    for (const [k, group] of found) this.#found.set(k, group);
    for (const vpc of unprepared) {
      for (const kind of kinds) {
        this.#chosen.set(key(kind, vpc), { id: foundGroup(found, kind, vpc)?.GroupId, source: 'found' });
      }
    }
  }

  /** True when the VPC's groups of these kinds are all known (prepared or looked up). */
  knows(vpcId: string, kinds: readonly GroupKind[]): boolean {
    return kinds.every((kind) => this.#chosen.has(key(kind, vpcId)));
  }

  id(kind: GroupKind, vpcId: string): string | undefined {
    return this.#chosen.get(key(kind, vpcId))?.id;
  }

  /**
   * The VPC's allow-all group as far as this run knows it (chosen, prepared, handed over or seen in a
   * lookup), to tell an interface the swap left on it.
   */
  allowAllOf(vpcId: string): string | undefined {
    return (
      this.id('untrack', vpcId) ??
      this.#preparedOf('untrack', vpcId)?.id ??
      foundGroup(this.#found, 'untrack', vpcId)?.GroupId
    );
  }

  /** True when the group is taken on the word of the settings or the handover, not of a lookup in this run. */
  isPrepared(kind: GroupKind, vpcId: string): boolean {
    const source = this.#chosen.get(key(kind, vpcId))?.source;
    return source === 'settings' || source === 'swap-stage';
  }

  /** A looked-up isolation group that has rules (it must be fixed, so the run is not already done). */
  isDirty(vpcId: string): boolean {
    const group = foundGroup(this.#found, 'isolation', vpcId);
    return (
      group !== undefined &&
      !this.isPrepared('isolation', vpcId) &&
      ((group.IpPermissions?.length ?? 0) > 0 || (group.IpPermissionsEgress?.length ?? 0) > 0)
    );
  }

  /** Makes each looked-up group of `kinds` ready (created, or fixed to exactly its rules); prepared ones are left. */
  async ensure(vpcIds: readonly string[], kinds: readonly GroupKind[]): Promise<void> {
    for (const vpc of vpcIds) {
      for (const kind of kinds) {
        if (this.isPrepared(kind, vpc)) continue;
        const ensured = await ensureGroup(this.ec2, this.plan, this.#found, kind, vpc);
        if (ensured.created) this.createdGroups.push(ensured.groupId ?? groupName(kind, vpc));
        this.#chosen.set(key(kind, vpc), {
          id: ensured.groupId,
          source: ensured.created ? 'created' : 'found',
        });
      }
    }
  }

  /** Finds or creates the VPC's group on the spot, in place of a prepared one that cannot be used; recorded. */
  async fallBack(
    kind: GroupKind,
    vpcId: string,
    why: string,
    was = this.id(kind, vpcId),
  ): Promise<string | undefined> {
    const found = await findGroups(this.ec2, [vpcId]);
    for (const [k, group] of found) this.#found.set(k, group);
    const ensured = await ensureGroup(this.ec2, this.plan, found, kind, vpcId);
    if (ensured.created) this.createdGroups.push(ensured.groupId ?? groupName(kind, vpcId));
    this.#chosen.set(key(kind, vpcId), {
      id: ensured.groupId,
      source: ensured.created ? 'created' : 'found',
    });
    this.fallbacks.push({ vpcId, kind, was, now: ensured.groupId, created: ensured.created, why });
    return ensured.groupId;
  }

  /**
   * Puts the VPC's group of `kind` on an interface (one ModifyNetworkInterfaceAttribute); a prepared group
   * that the call says does not exist is replaced once by {@link fallBack}. Returns the groups put on.
   */
  async put(nic: Nic, kind: GroupKind): Promise<string[]> {
    const modify = (target: string | undefined) =>
      ec2Mutation(
        this.plan,
        `ec2:ModifyNetworkInterfaceAttribute ${nic.networkInterfaceId} groups`,
        (DryRun) =>
          this.ec2.send(
            new ModifyNetworkInterfaceAttributeCommand({
              DryRun,
              NetworkInterfaceId: nic.networkInterfaceId,
              // A dry run whose group does not exist yet checks the call with the interface's own groups.
              Groups: target ? [target] : nic.groups,
            }),
          ),
      );
    let target = this.id(kind, nic.vpcId);
    try {
      await modify(target);
    } catch (error) {
      if (!target || !this.isPrepared(kind, nic.vpcId) || !isAwsError(error, ...UNUSABLE_GROUP)) throw error;
      const { name, message } = describeError(error);
      target = await this.fallBack(
        kind,
        nic.vpcId,
        `${target} failed ModifyNetworkInterfaceAttribute on ${nic.networkInterfaceId} (${name}: ${message})`,
      );
      await modify(target);
    }
    return target ? [target] : [];
  }

  /** Each VPC's groups and where they came from, for the record. */
  sources(): Record<string, Partial<Record<GroupKind, { groupId: string | undefined; from: GroupSource }>>> {
    const out: Record<
      string,
      Partial<Record<GroupKind, { groupId: string | undefined; from: GroupSource }>>
    > = {};
    for (const [k, chosen] of this.#chosen) {
      const [kind, vpc] = k.split(':') as [GroupKind, string];
      out[vpc] = { ...out[vpc], [kind]: { groupId: chosen.id, from: chosen.source } };
    }
    return out;
  }

  /** The ids known, by VPC: what the swap stage hands over. */
  ids(): Record<string, { isolation?: string; untrack?: string }> {
    const out: Record<string, { isolation?: string; untrack?: string }> = {};
    for (const [k, chosen] of this.#chosen) {
      const [kind, vpc] = k.split(':') as [GroupKind, string];
      if (chosen.id) out[vpc] = { ...out[vpc], [kind]: chosen.id };
    }
    return out;
  }

  /**
   * The prepared groups used, to check after isolating; with `untrack`, also each VPC's prepared or
   * handed-over allow-all group (the isolate stage checks what the swap stage used).
   */
  preparedUsed(untrack = false): { kind: GroupKind; vpcId: string; groupId: string }[] {
    const out: { kind: GroupKind; vpcId: string; groupId: string }[] = [];
    const vpcs = new Set<string>();
    for (const [k, chosen] of this.#chosen) {
      const [kind, vpcId] = k.split(':') as [GroupKind, string];
      vpcs.add(vpcId);
      if (chosen.id && (chosen.source === 'settings' || chosen.source === 'swap-stage'))
        out.push({ kind, vpcId, groupId: chosen.id });
    }
    if (untrack) {
      for (const vpcId of vpcs) {
        const handed = this.#chosen.has(key('untrack', vpcId))
          ? undefined
          : this.#preparedOf('untrack', vpcId);
        if (handed?.id) out.push({ kind: 'untrack', vpcId, groupId: handed.id });
      }
    }
    return out;
  }
}
