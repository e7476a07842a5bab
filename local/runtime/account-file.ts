/**
 * The sandbox account kept between commands (`.cordon/account.json`): read back with a message naming the
 * file and what is wrong with it, written whole through a temporary file.
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { CordonError } from '#shared/errors';
import type { AccountSeed, AccountState } from '../sandbox/index.ts';

/** A saved sandbox account (`accountFile`) that cannot be read back. */
export class AccountFileError extends CordonError {
  override readonly name: string = 'AccountFileError';
}

/** Reads a saved account state, with a message that names the file and what is wrong with it. */
export function readAccountFile(file: string): AccountState {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new AccountFileError(
      `the saved sandbox account ${file} cannot be read: ${(error as Error).message}`,
    );
  }
  const state = value as Partial<Record<keyof AccountState, unknown>> | null;
  const missing = (['accountId', 'region', 'ec2', 'iam', 'kms', 's3'] as const).filter(
    (field) => state === null || typeof state !== 'object' || state[field] === undefined,
  );
  if (missing.length > 0) {
    throw new AccountFileError(
      `the saved sandbox account ${file} is not an account state (it lacks ${missing.join(', ')}): delete it to start from a new account`,
    );
  }
  return value as AccountState;
}

/** A saved state, not a seed: a seed has no `nextId` (and no `ec2`). */
export function isAccountState(value: AccountSeed | AccountState): value is AccountState {
  return 'nextId' in value && 'ec2' in value;
}

/** Writes the account's state whole, through a temporary file so that a reader never sees half of it. */
export function writeAccountFile(file: string, state: AccountState): void {
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state)}\n`, { mode: 0o600 });
  renameSync(temporary, file);
}
