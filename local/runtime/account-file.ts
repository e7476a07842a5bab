/**
 * The sandbox organization kept between commands (`.cordon/account.json`): read back with a message naming
 * the file and what is wrong with it, written whole through a temporary file.
 *
 * Version 2 (`{ "version": 2, "organization": ... }`) holds the whole organization: the hub and every
 * member, each region's account. A file without a version is a single account's state (what the runtime
 * wrote before it held an organization): it loads as the hub's home account, alone.
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CordonError } from '#shared/errors';
import type { AccountSeed, AccountState } from '../sandbox/index.ts';
import type { OrganizationState } from '../sandbox/organization.ts';

/** A saved sandbox account (`accountFile`) that cannot be read back. */
export class AccountFileError extends CordonError {
  override readonly name: string = 'AccountFileError';
}

/** The version of the file this runtime writes. */
export const ACCOUNT_FILE_VERSION = 2;

const ACCOUNT_FIELDS = ['accountId', 'region', 'ec2', 'iam', 'kms', 's3'] as const;

function lacking(value: unknown): string[] {
  const state = value as Partial<Record<string, unknown>> | null;
  return ACCOUNT_FIELDS.filter(
    (field) => state === null || typeof state !== 'object' || state[field] === undefined,
  );
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AccountFileError(
      `the saved sandbox account ${file} cannot be read: ${(error as Error).message}`,
    );
  }
}

function notAccount(file: string, what: string): AccountFileError {
  return new AccountFileError(
    `the saved sandbox account ${file} is not an account state (${what}): delete it to start from a new account`,
  );
}

/** The organization a single-account file holds: its account as the hub, alone. */
export function organizationOfAccount(
  state: AccountState,
  id: string,
  externalId: string,
): OrganizationState {
  return {
    id,
    externalId,
    hub: { account: state.accountId, region: state.region },
    accounts: { [state.accountId]: { inOrganization: true, regions: [state] } },
  };
}

/**
 * Reads a saved organization, of either version, with a message that names the file and what is wrong
 * with it. A single account's file gives the organization `defaults` names, with that account as its hub.
 */
export function readOrganizationFile(
  file: string,
  defaults: { readonly id: string; readonly externalId: string },
): OrganizationState {
  const value = readJson(file);
  const versioned = value as { version?: unknown; organization?: unknown } | null;
  if (versioned === null || typeof versioned !== 'object' || versioned.version === undefined) {
    const missing = lacking(value);
    if (missing.length > 0) throw notAccount(file, `it lacks ${missing.join(', ')}`);
    return organizationOfAccount(value as AccountState, defaults.id, defaults.externalId);
  }
  if (versioned.version !== ACCOUNT_FILE_VERSION) {
    throw notAccount(file, `version ${String(versioned.version)}; this Cordon reads 2 and unversioned files`);
  }
  const organization = versioned.organization as Partial<OrganizationState> | undefined;
  const accounts = organization?.accounts;
  if (
    typeof organization?.id !== 'string' ||
    typeof organization.externalId !== 'string' ||
    typeof organization.hub?.account !== 'string' ||
    typeof organization.hub.region !== 'string' ||
    accounts === null ||
    typeof accounts !== 'object'
  ) {
    throw notAccount(file, 'its organization lacks id, externalId, hub or accounts');
  }
  for (const [account, saved] of Object.entries(accounts)) {
    if (!Array.isArray(saved?.regions) || saved.regions.length === 0) {
      throw notAccount(file, `account ${account} has no regions`);
    }
    for (const [index, region] of saved.regions.entries()) {
      const missing = lacking(region);
      if (missing.length > 0)
        throw notAccount(file, `account ${account}'s regions[${index}] lacks ${missing.join(', ')}`);
    }
  }
  return organization as OrganizationState;
}

/** Writes the whole organization, through a temporary file so that a reader never sees half of it. */
export function writeOrganizationFile(file: string, state: OrganizationState): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ version: ACCOUNT_FILE_VERSION, organization: state })}\n`, {
    mode: 0o600,
  });
  renameSync(temporary, file);
}

/** The hub's home account of a saved organization (or the account of a single-account file). */
export function readAccountFile(file: string): AccountState {
  const organization = readOrganizationFile(file, { id: 'o-unnamed0000', externalId: 'unnamed' });
  const { account, region } = organization.hub;
  const state = organization.accounts[account]?.regions.find((r) => r.region === region);
  if (!state) throw notAccount(file, `its organization has no sandbox for its hub ${account}/${region}`);
  return state;
}

/**
 * Writes one account's state (its `accountId` and `region` say which): into the saved organization, in
 * place of that account's region, when the file holds one with it (`cordon prepare --local` changes the hub
 * and keeps the members); else as the file's only account.
 */
export function writeAccountFile(file: string, state: AccountState): void {
  if (existsSync(file)) {
    let organization: OrganizationState | undefined;
    try {
      organization = readOrganizationFile(file, { id: 'o-unnamed0000', externalId: 'unnamed' });
    } catch {
      organization = undefined;
    }
    const saved = organization?.accounts[state.accountId];
    const index = saved?.regions.findIndex((r) => r.region === state.region) ?? -1;
    if (organization && saved && index >= 0 && Object.keys(organization.accounts).length > 1) {
      const regions = saved.regions.map((r, i) => (i === index ? state : r));
      writeOrganizationFile(file, {
        ...organization,
        accounts: { ...organization.accounts, [state.accountId]: { ...saved, regions } },
      });
      return;
    }
  }
  writeSingleAccountFile(file, state);
}

/** Writes one account's state as the whole file (the unversioned form), whatever the file held. */
export function writeSingleAccountFile(file: string, state: AccountState): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}

/** A saved state, not a seed: a seed has no `nextId` (and no `ec2`). */
export function isAccountState(value: AccountSeed | AccountState): value is AccountState {
  return 'nextId' in value && 'ec2' in value;
}
