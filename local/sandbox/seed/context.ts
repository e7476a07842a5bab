/** What every part of the seed's build shares: the seed, the state it fills, and the seed's clock. */
import type { AccountState, TagMap } from '../state.ts';
import { newId } from '../state.ts';
import type { AccountSeed, SeedTime } from './types.ts';

/** The build of one account from its seed. */
export interface SeedBuild {
  readonly seed: AccountSeed;
  readonly state: AccountState;
  /** The sandbox's start time, epoch milliseconds: what a seed's missing times default to. */
  readonly now: number;
  /** A seed's time in epoch milliseconds; undefined is {@link SeedBuild.now}. */
  readonly time: (t: SeedTime | undefined) => number;
  /** Sets an EC2 resource's tags, when there are any. */
  readonly setTags: (id: string, tags: TagMap | undefined) => void;
}

/** A policy document as the state keeps it: JSON text. */
export const toJson = (doc: string | object): string => (typeof doc === 'string' ? doc : JSON.stringify(doc));

/** The random-looking upper-case suffix of IAM ids and ARNs the seed makes. */
export function idSuffix(state: AccountState): string {
  return newId(state, 'x', 16).slice(2).toUpperCase();
}
