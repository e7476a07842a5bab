/** What the tests compare of a sandbox account, or a whole organization, after a release. */
import type { AccountState } from '../../local/sandbox/index.ts';
import type { OrganizationState } from '../../local/sandbox/organization.ts';

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

/** {@link withoutResidue} of every account and region of an organization, by `<account>/<region>`. */
export function withoutResidueEverywhere(state: OrganizationState): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [account, saved] of Object.entries(state.accounts)) {
    for (const region of saved.regions) out[`${account}/${region.region}`] = withoutResidue(region);
  }
  return out;
}

/** The state of one account in one region (default its first) of an organization. */
export function stateAt(
  state: OrganizationState,
  account: string,
  region?: string,
): AccountState | undefined {
  const regions = state.accounts[account]?.regions ?? [];
  return region === undefined ? regions[0] : regions.find((r) => r.region === region);
}

/** Whom a member's responder role trusts (its trust policy's `Principal.AWS`), as the saved state has it. */
export function responderTrust(state: OrganizationState, account: string): string[] {
  const saved = state.accounts[account];
  const role =
    saved?.responderRoleName === undefined ? undefined : saved.regions[0]?.iam.roles[saved.responderRoleName];
  const policy = JSON.parse(role?.assumeRolePolicyDocument ?? '{}') as {
    Statement?: { Principal?: { AWS?: string | string[] } }[];
  };
  const principals = policy.Statement?.[0]?.Principal?.AWS ?? [];
  return Array.isArray(principals) ? principals : [principals];
}
