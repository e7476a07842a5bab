/**
 * Where the runtime's sandbox organization comes from and goes: its options' seed, else the state folder's
 * account file, else the hub alone; and back to the file on close.
 */
import { existsSync } from 'node:fs';
import type { LocalOrganization, OrganizationSeed, OrganizationState } from '../sandbox/organization.ts';
import { readOrganizationFile, writeOrganizationFile, writeSingleAccountFile } from './account-file.ts';
import type { LocalRuntimeOptions } from './options.ts';
import { LOCAL_EXTERNAL_ID, LOCAL_ORGANIZATION_ID } from './organization.ts';
import { NoSandboxError } from './switch.ts';

/**
 * What a runtime's sandbox starts from: its options' organization (with `seed` as the hub's home region),
 * else the organization the account file keeps, else the hub alone with a default VPC.
 */
export function startingOrganization(options: LocalRuntimeOptions): OrganizationSeed | OrganizationState {
  const { seed, organization, accountFile } = options;
  if (seed && organization?.hub) {
    throw new NoSandboxError("give the hub's seed once: either seed or organization.hub, not both");
  }
  if (seed || organization) return { ...organization, ...(seed ? { hub: seed } : {}) };
  if (accountFile !== undefined && existsSync(accountFile)) {
    return readOrganizationFile(accountFile, { id: LOCAL_ORGANIZATION_ID, externalId: LOCAL_EXTERNAL_ID });
  }
  return {};
}

/**
 * Writes the organization to the account file: as a single account's state (the file's first version, which
 * every earlier command reads) when it is the hub's home account alone under the local names, else whole.
 */
export function saveOrganization(file: string, organization: LocalOrganization): void {
  const state = organization.state();
  const hub = state.accounts[organization.hub.account]?.regions;
  const alone =
    Object.keys(state.accounts).length === 1 &&
    hub?.length === 1 &&
    state.id === LOCAL_ORGANIZATION_ID &&
    state.externalId === LOCAL_EXTERNAL_ID;
  const only = hub?.[0];
  if (alone && only) writeSingleAccountFile(file, only);
  else writeOrganizationFile(file, state);
}
