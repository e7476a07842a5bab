/** The seed's KMS keys and their aliases. */
import { SandboxSeedError } from '../errors.ts';
import { keyFromSeed } from '../kms.ts';
import type { SeedBuild } from './context.ts';

/** Builds the KMS keys (and aliases) the seed names. */
export function seedKms(build: SeedBuild): void {
  const { seed, state, now } = build;
  for (const key of seed.kms?.keys ?? []) {
    if (state.kms.keys[key.id]) throw new SandboxSeedError(`KMS key ${key.id} is declared twice`);
    state.kms.keys[key.id] = keyFromSeed(state, key, now);
    if (key.alias === undefined) continue;
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(key.alias) || key.alias.startsWith('alias/aws/'))
      throw new SandboxSeedError(`KMS key ${key.id}: alias must be alias/<name>, got ${key.alias}`);
    if (state.kms.aliases[key.alias]) throw new SandboxSeedError(`KMS alias ${key.alias} is declared twice`);
    state.kms.aliases[key.alias] = { aliasName: key.alias, targetKeyId: key.id, creationDate: now };
  }
}
