/** What the tests compare of a sandbox account after a release. */
import type { AccountState } from '../../local/sandbox/index.ts';

/**
 * The account without what a release leaves by design (local/sandbox state, functions/actions/ec2-release):
 * Cordon's isolation and untrack groups (reused by later incidents), the evidence snapshots, the id counter
 * and the emails sent. Everything else must be as it was.
 */
export function withoutResidue(state: AccountState): unknown {
  const copy = structuredClone(state);
  const made = new Set<string>();
  // Only groups and snapshots Cordon made: an instance still tagged by Cordon is a difference.
  for (const [id, tags] of Object.entries(copy.ec2.tags)) {
    const ours = tags['cordon:isolation'] !== undefined || tags['cordon:incident'] !== undefined;
    if (ours && (id in copy.ec2.securityGroups || id in copy.ec2.snapshots)) made.add(id);
  }
  for (const id of Object.keys(copy.ec2.snapshots)) {
    if (copy.ec2.snapshots[id]?.description?.startsWith('Cordon evidence')) made.add(id);
  }
  for (const id of made) {
    delete copy.ec2.tags[id];
    delete copy.ec2.securityGroups[id];
    delete copy.ec2.snapshots[id];
  }
  const { nextId: _nextId, ses: _ses, ...rest } = copy;
  return rest;
}
