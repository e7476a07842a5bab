/**
 * The `note` of an `ec2-isolate` step: in plain words, where the groups came from (prepared, handed over,
 * looked up, created), what was taken on trust and whether it was checked, and every fix the check made.
 */
import type { AfterCheck } from './after.ts';
import type { Fallback, GroupSource } from './book.ts';
import type { GroupKind } from './groups.ts';

export interface RunFacts {
  readonly kind: GroupKind;
  readonly dryRun: boolean;
  readonly alreadyDone: boolean;
  /** Every interface carried the isolation group before the run. */
  readonly allIsolated: boolean;
  readonly sources: Record<
    string,
    Partial<Record<GroupKind, { groupId: string | undefined; from: GroupSource }>>
  >;
  readonly fallbacks: readonly Fallback[];
  readonly after: AfterCheck | undefined;
  /** When the swap stage read the instance, for an isolate stage that took its handover. */
  readonly handover: string | undefined;
  /** Why the `nacl` strategy ran as `direct`. */
  readonly strangers: string | undefined;
}

const and = (items: readonly string[]): string =>
  items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;

export function describeRun(facts: RunFacts): string | undefined {
  const notes: string[] = [];
  if (facts.alreadyDone) {
    notes.push(
      facts.kind === 'untrack' && facts.allIsolated
        ? 'every interface already carries the isolation group: the swap window is not reopened'
        : `every interface already carries the ${facts.kind === 'untrack' ? 'untrack or isolation' : 'isolation'} group`,
    );
  }
  const byFrom = (from: GroupSource) =>
    Object.entries(facts.sources)
      .filter(([, kinds]) => Object.values(kinds).some((k) => k?.from === from))
      .map(([vpc]) => vpc);
  const fromSettings = byFrom('settings');
  const fromSwap = byFrom('swap-stage');
  const checked = facts.after !== undefined;
  if (fromSettings.length > 0) {
    notes.push(
      `the groups of ${and(fromSettings)} are the prepared ones of the settings, ${
        facts.kind === 'untrack'
          ? 'not checked by this stage (the isolate stage checks them after isolating)'
          : checked
            ? 'checked after isolating'
            : 'not checked (dry run)'
      }`,
    );
  }
  if (fromSwap.length > 0) {
    notes.push(
      `the isolation group of ${and(fromSwap)} is the one the swap stage used${checked ? ', checked after isolating' : ''}`,
    );
  }
  const spot = [...new Set([...byFrom('found'), ...byFrom('created')])].filter(
    (vpc) => !facts.fallbacks.some((f) => f.vpcId === vpc),
  );
  if (spot.length > 0) {
    notes.push(
      `${and(spot)} ${spot.length === 1 ? 'is' : 'are'} not prepared (cordon prepare): the groups were looked up${
        byFrom('created').some((v) => spot.includes(v)) ? ' and created' : ''
      } on the spot`,
    );
  }
  for (const f of facts.fallbacks) {
    notes.push(
      `the ${f.kind} group ${f.was ?? '?'} of ${f.vpcId} could not be used (${f.why}): ${
        f.created ? 'created' : 'found'
      } ${f.now ?? `cordon-${f.kind}-${f.vpcId}`} on the spot instead; run cordon prepare to update the settings`,
    );
  }
  for (const fix of facts.after?.fixedGroups ?? []) {
    notes.push(
      `the ${fix.kind} group ${fix.groupId} had rules that are not its own: fixed (${fix.calls.join(', ')})`,
    );
  }
  const replaced = new Set(facts.fallbacks.filter((f) => f.kind === 'isolation').map((f) => f.was));
  const onReplaced = (facts.after?.late ?? []).filter(
    (n) => n.groups.length === 1 && replaced.has(n.groups[0]),
  );
  if (onReplaced.length > 0) {
    notes.push(
      `${and(onReplaced.map((n) => n.networkInterfaceId))} moved to the replacement isolation group`,
    );
  }
  const late = (facts.after?.late ?? []).filter((n) => !onReplaced.includes(n));
  if (late.length > 0) {
    notes.push(
      `${and(late.map((n) => n.networkInterfaceId))} did not carry the isolation group after isolating (attached or changed after ${
        facts.handover ? 'the swap stage read the instance' : 'the instance was read'
      }): isolated too`,
    );
  }
  const gone = facts.after?.notAttached ?? [];
  if (gone.length > 0) {
    notes.push(
      `${and(gone)} ${gone.length === 1 ? 'is' : 'are'} no longer attached to the instance: ${gone.length === 1 ? 'it keeps' : 'they keep'} the group put on`,
    );
  }
  if (facts.handover) {
    notes.push(
      `the interfaces and their groups are as the swap stage read them at ${facts.handover} and left them; not read again before isolating`,
    );
  }
  if (facts.strangers) notes.push(facts.strangers);
  return notes.length > 0 ? notes.join('; ') : undefined;
}
