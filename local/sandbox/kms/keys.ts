/** KMS keys: specs, ARNs, the default key policy, a seed's keys, and finding a key as KMS resolves ids, ARNs and aliases. */
import { randomBytes } from 'node:crypto';
import type { KeyMetadata } from '@aws-sdk/client-kms';
import { awsError, SandboxSeedError } from '../errors.ts';
import type { AccountState, KmsKeySpec, KmsKeyState } from '../state.ts';
import { emptyRecord } from '../state.ts';

export const DAY_MS = 86_400_000;

/** The HMAC key specs: the MAC algorithm each supports, its hash and its key length. */
export const HMAC = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', hash: 'sha224', bytes: 28 },
  HMAC_256: { algorithm: 'HMAC_SHA_256', hash: 'sha256', bytes: 32 },
  HMAC_384: { algorithm: 'HMAC_SHA_384', hash: 'sha384', bytes: 48 },
  HMAC_512: { algorithm: 'HMAC_SHA_512', hash: 'sha512', bytes: 64 },
} as const;
type HmacSpec = keyof typeof HMAC;

export const isHmac = (spec: string): spec is HmacSpec => Object.hasOwn(HMAC, spec);
export const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'];
/** Specs AWS offers that the sandbox does not simulate (asymmetric keys). */
export const OTHER_SPECS = /^(RSA_|ECC_|SM2$|ML_DSA_|ML_KEM_)/;
export const USAGES = [
  'ENCRYPT_DECRYPT',
  'SIGN_VERIFY',
  'GENERATE_VERIFY_MAC',
  'KEY_AGREEMENT',
  'ENCAPSULATE_DECAPSULATE',
];

export const kmsError = (code: string, message: string): Error => awsError('KMS', code, message);

/** KMS's message for a parameter that breaks its constraint. */
export const invalid = (value: unknown, field: string, constraint: string): Error =>
  kmsError(
    'ValidationException',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export const keyArn = (state: AccountState, keyId: string): string =>
  `arn:aws:kms:${state.region}:${state.accountId}:key/${keyId}`;
export const aliasArn = (state: AccountState, aliasName: string): string =>
  `arn:aws:kms:${state.region}:${state.accountId}:${aliasName}`;

/** AWS's default key policy: the account's IAM policies decide. */
export function defaultPolicy(accountId: string): string {
  return JSON.stringify({
    Version: '2012-10-17',
    Id: 'key-default-1',
    Statement: [
      {
        Sid: 'Enable IAM User Permissions',
        Effect: 'Allow',
        Principal: { AWS: `arn:aws:iam::${accountId}:root` },
        Action: 'kms:*',
        Resource: '*',
      },
    ],
  });
}

/** Key material of the spec's length (an HMAC key's size; 32 bytes for a symmetric key). */
export function newMaterial(spec: KmsKeySpec): string {
  return randomBytes(isHmac(spec) ? HMAC[spec].bytes : 32).toString('base64');
}

/** A key of the seed (see `KmsKeySeed`). Throws {@link SandboxSeedError} for a bad spec or material. */
export function keyFromSeed(
  state: AccountState,
  seed: { id: string; spec?: KmsKeySpec; material?: string; enabled?: boolean; description?: string },
  now: number,
): KmsKeyState {
  const spec = seed.spec ?? 'HMAC_256';
  if (spec !== 'SYMMETRIC_DEFAULT' && !isHmac(spec))
    throw new SandboxSeedError(`KMS key ${seed.id}: spec must be SYMMETRIC_DEFAULT or HMAC_*, got ${spec}`);
  if (seed.material !== undefined && Buffer.from(seed.material, 'base64').length === 0)
    throw new SandboxSeedError(`KMS key ${seed.id}: material must be non-empty base64`);
  return {
    keyId: seed.id,
    keySpec: spec,
    keyUsage: isHmac(spec) ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT',
    description: seed.description ?? '',
    creationDate: now,
    enabled: seed.enabled ?? true,
    policy: defaultPolicy(state.accountId),
    tags: {},
    material: seed.material ?? newMaterial(spec),
  };
}

/** An empty KMS. */
export function emptyKms(): AccountState['kms'] {
  return { keys: emptyRecord(), aliases: emptyRecord() };
}

const keyState = (key: KmsKeyState): 'Enabled' | 'Disabled' | 'PendingDeletion' =>
  key.deletionDate !== undefined ? 'PendingDeletion' : key.enabled ? 'Enabled' : 'Disabled';

/** A key that reached its deletion date is gone. */
export const exists = (key: KmsKeyState | undefined, now: number): key is KmsKeyState =>
  key !== undefined && (key.deletionDate === undefined || now < key.deletionDate);

/**
 * The key `keyId` names: a key id or key ARN, and with `aliases` also an alias name (`alias/x`) or alias
 * ARN. Throws `NotFoundException` for an unknown one, as KMS does.
 */
export function resolveKey(
  state: AccountState,
  keyId: string | undefined,
  now: number,
  aliases: boolean,
): KmsKeyState {
  if (keyId === undefined || keyId === '') throw invalid(keyId, 'keyId', 'Member must not be null');
  const arn = /^arn:aws[a-z-]*:kms:([^:]*):(\d{12}):(key\/.+|alias\/.+)$/.exec(keyId);
  if (arn && (arn[1] !== state.region || arn[2] !== state.accountId)) {
    throw kmsError(
      'NotFoundException',
      arn[3]?.startsWith('alias/') ? `Alias ${keyId} is not found.` : `Key '${keyId}' does not exist`,
    );
  }
  const bare = arn?.[3] ?? keyId;
  if (bare.startsWith('alias/')) {
    const alias = state.kms.aliases[bare];
    const key = alias ? state.kms.keys[alias.targetKeyId] : undefined;
    if (!aliases || !exists(key, now)) {
      throw kmsError('NotFoundException', `Alias ${aliasArn(state, bare)} is not found.`);
    }
    return key;
  }
  const id = bare.startsWith('key/') ? bare.slice(4) : bare;
  const key = state.kms.keys[id];
  if (!exists(key, now)) throw kmsError('NotFoundException', `Key '${keyArn(state, id)}' does not exist`);
  return key;
}

export function notPendingDeletion(state: AccountState, key: KmsKeyState): void {
  if (key.deletionDate !== undefined) {
    throw kmsError('KMSInvalidStateException', `${keyArn(state, key.keyId)} is pending deletion.`);
  }
}

export function usable(state: AccountState, key: KmsKeyState): void {
  notPendingDeletion(state, key);
  if (!key.enabled) throw kmsError('DisabledException', `${keyArn(state, key.keyId)} is disabled.`);
}

export function metadata(state: AccountState, key: KmsKeyState): KeyMetadata {
  return {
    AWSAccountId: state.accountId,
    KeyId: key.keyId,
    Arn: keyArn(state, key.keyId),
    CreationDate: new Date(key.creationDate),
    Enabled: key.enabled,
    Description: key.description,
    KeyUsage: key.keyUsage,
    KeyState: keyState(key),
    ...(key.deletionDate !== undefined
      ? { DeletionDate: new Date(key.deletionDate), PendingDeletionWindowInDays: key.pendingWindowInDays }
      : {}),
    Origin: 'AWS_KMS',
    KeyManager: 'CUSTOMER',
    CustomerMasterKeySpec: key.keySpec,
    KeySpec: key.keySpec,
    ...(isHmac(key.keySpec)
      ? { MacAlgorithms: [HMAC[key.keySpec].algorithm] }
      : { EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'] }),
    MultiRegion: false,
  };
}
