/**
 * KMS: HMAC keys (`GenerateMac`, `VerifyMac`) and symmetric encryption keys, with aliases and the key
 * lifecycle (disable, enable, schedule deletion). MACs are real HMACs (node:crypto) under per-key random
 * material that no command returns. Key policies are kept but not evaluated: use the seed's `denied`.
 */
import { createHmac, randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type {
  AliasListEntry,
  CreateAliasCommandInput,
  CreateAliasCommandOutput,
  CreateKeyCommandInput,
  CreateKeyCommandOutput,
  DescribeKeyCommandInput,
  DescribeKeyCommandOutput,
  DisableKeyCommandInput,
  DisableKeyCommandOutput,
  EnableKeyCommandInput,
  EnableKeyCommandOutput,
  GenerateMacCommandInput,
  GenerateMacCommandOutput,
  KeyMetadata,
  ListAliasesCommandInput,
  ListAliasesCommandOutput,
  ScheduleKeyDeletionCommandInput,
  ScheduleKeyDeletionCommandOutput,
  VerifyMacCommandInput,
  VerifyMacCommandOutput,
} from '@aws-sdk/client-kms';
import * as z from 'zod/mini';
import type { JournalContext, JournaledService, Out } from './context.ts';
import { awsError, SandboxSeedError, SandboxUnsupportedCommandError } from './errors.ts';
import type { AccountState, KmsKeySpec, KmsKeyState } from './state.ts';
import { emptyRecord } from './state.ts';

const DAY_MS = 86_400_000;

/** The HMAC key specs: the MAC algorithm each supports, its hash and its key length. */
const HMAC = {
  HMAC_224: { algorithm: 'HMAC_SHA_224', hash: 'sha224', bytes: 28 },
  HMAC_256: { algorithm: 'HMAC_SHA_256', hash: 'sha256', bytes: 32 },
  HMAC_384: { algorithm: 'HMAC_SHA_384', hash: 'sha384', bytes: 48 },
  HMAC_512: { algorithm: 'HMAC_SHA_512', hash: 'sha512', bytes: 64 },
} as const;
type HmacSpec = keyof typeof HMAC;

const isHmac = (spec: string): spec is HmacSpec => Object.hasOwn(HMAC, spec);
const MAC_ALGORITHMS = ['HMAC_SHA_224', 'HMAC_SHA_256', 'HMAC_SHA_384', 'HMAC_SHA_512'];
/** Specs AWS offers that the sandbox does not simulate (asymmetric keys). */
const OTHER_SPECS = /^(RSA_|ECC_|SM2$|ML_DSA_|ML_KEM_)/;
const USAGES = [
  'ENCRYPT_DECRYPT',
  'SIGN_VERIFY',
  'GENERATE_VERIFY_MAC',
  'KEY_AGREEMENT',
  'ENCAPSULATE_DECAPSULATE',
];

const kmsError = (code: string, message: string): Error => awsError('KMS', code, message);

/** KMS's message for a parameter that breaks its constraint. */
const invalid = (value: unknown, field: string, constraint: string): Error =>
  kmsError(
    'ValidationException',
    `1 validation error detected: Value ${value === undefined ? 'null' : `'${String(value)}'`} at '${field}' failed to satisfy constraint: ${constraint}`,
  );

export const keyArn = (state: AccountState, keyId: string): string =>
  `arn:aws:kms:${state.region}:${state.accountId}:key/${keyId}`;
const aliasArn = (state: AccountState, aliasName: string): string =>
  `arn:aws:kms:${state.region}:${state.accountId}:${aliasName}`;

/** AWS's default key policy: the account's IAM policies decide. */
function defaultPolicy(accountId: string): string {
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
function newMaterial(spec: KmsKeySpec): string {
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
const exists = (key: KmsKeyState | undefined, now: number): key is KmsKeyState =>
  key !== undefined && (key.deletionDate === undefined || now < key.deletionDate);

/**
 * The key `keyId` names: a key id or key ARN, and with `aliases` also an alias name (`alias/x`) or alias
 * ARN. Throws `NotFoundException` for an unknown one, as KMS does.
 */
function resolveKey(
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

function notPendingDeletion(state: AccountState, key: KmsKeyState): void {
  if (key.deletionDate !== undefined) {
    throw kmsError('KMSInvalidStateException', `${keyArn(state, key.keyId)} is pending deletion.`);
  }
}

function usable(state: AccountState, key: KmsKeyState): void {
  notPendingDeletion(state, key);
  if (!key.enabled) throw kmsError('DisabledException', `${keyArn(state, key.keyId)} is disabled.`);
}

function metadata(state: AccountState, key: KmsKeyState): KeyMetadata {
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

/** A blob parameter as bytes: the SDK takes a string too (and sends its UTF-8 bytes). */
const bytesOf = (value: Uint8Array | string | undefined): Uint8Array | undefined =>
  typeof value === 'string' ? Buffer.from(value, 'utf8') : value;

/** The checks GenerateMac and VerifyMac share, in KMS's order; returns the key and the message's MAC. */
function mac(
  ctx: JournalContext<KmsEvent>,
  input: GenerateMacCommandInput | VerifyMacCommandInput,
): { key: KmsKeyState; mac: Buffer } {
  const message = bytesOf(input.Message);
  if (message === undefined) throw invalid(undefined, 'message', 'Member must not be null');
  if (message.length < 1)
    throw invalid('java.nio.HeapByteBuffer', 'message', 'Member must have length greater than or equal to 1');
  if (message.length > 4096)
    throw invalid('java.nio.HeapByteBuffer', 'message', 'Member must have length less than or equal to 4096');
  const algorithm = input.MacAlgorithm;
  if (algorithm === undefined || !MAC_ALGORITHMS.includes(algorithm)) {
    throw invalid(
      algorithm,
      'macAlgorithm',
      algorithm === undefined
        ? 'Member must not be null'
        : `Member must satisfy enum value set: [${MAC_ALGORITHMS.join(', ')}]`,
    );
  }
  const key = resolveKey(ctx.state, input.KeyId, ctx.now, true);
  usable(ctx.state, key);
  const arn = keyArn(ctx.state, key.keyId);
  if (!isHmac(key.keySpec)) {
    throw kmsError(
      'InvalidKeyUsageException',
      `${arn} key usage is ${key.keyUsage} which is not valid for ${ctx.command}.`,
    );
  }
  const spec = HMAC[key.keySpec];
  if (spec.algorithm !== algorithm) {
    throw kmsError(
      'InvalidKeyUsageException',
      `Algorithm ${algorithm} is incompatible with key spec ${key.keySpec}.`,
    );
  }
  const digest = createHmac(spec.hash, Buffer.from(key.material, 'base64')).update(message).digest();
  return { key, mac: digest };
}

function dryRun(input: { DryRun?: boolean | undefined }): void {
  if (input.DryRun === true) {
    throw awsError(
      'KMS',
      'DryRunOperationException',
      'The request would have succeeded, but the DryRun option is set.',
    );
  }
}

/** The alias listing's marker: the last alias name of the page, opaque to the caller. */
const marker = (aliasName: string): string => Buffer.from(aliasName, 'utf8').toString('base64url');

function afterMarker(value: string): string {
  const name = Buffer.from(value, 'base64url').toString('utf8');
  if (!name.startsWith('alias/') || marker(name) !== value)
    throw kmsError('InvalidMarkerException', 'Invalid marker');
  return name;
}

/** KMS commands the sandbox simulates. */
export const kmsHandlers: JournaledService<KmsEvent>['handlers'] = {
  CreateKey: (ctx, input: CreateKeyCommandInput): Out<CreateKeyCommandOutput> => {
    if (input.KeySpec !== undefined && input.CustomerMasterKeySpec !== undefined) {
      throw kmsError(
        'ValidationException',
        'You cannot specify KeySpec and CustomerMasterKeySpec in the same request. CustomerMasterKeySpec is deprecated.',
      );
    }
    const spec: string = input.KeySpec ?? input.CustomerMasterKeySpec ?? 'SYMMETRIC_DEFAULT';
    const usage: string = input.KeyUsage ?? 'ENCRYPT_DECRYPT';
    if (!USAGES.includes(usage))
      throw invalid(usage, 'keyUsage', `Member must satisfy enum value set: [${USAGES.join(', ')}]`);
    if (spec !== 'SYMMETRIC_DEFAULT' && !isHmac(spec)) {
      if (OTHER_SPECS.test(spec))
        throw new SandboxUnsupportedCommandError('KMS', `CreateKey with KeySpec ${spec}`);
      throw invalid(spec, 'keySpec', 'Member must satisfy enum value set');
    }
    const expected = isHmac(spec) ? 'GENERATE_VERIFY_MAC' : 'ENCRYPT_DECRYPT';
    if (usage !== expected) {
      throw kmsError('ValidationException', `KeyUsage ${usage} is not compatible with KeySpec ${spec}`);
    }
    if (input.Origin !== undefined && input.Origin !== 'AWS_KMS')
      throw new SandboxUnsupportedCommandError('KMS', `CreateKey with Origin ${input.Origin}`);
    if (input.MultiRegion === true)
      throw new SandboxUnsupportedCommandError('KMS', 'CreateKey with MultiRegion');
    if (input.Policy !== undefined) {
      try {
        JSON.parse(input.Policy);
      } catch {
        throw kmsError('MalformedPolicyDocumentException', 'The key policy is not valid JSON.');
      }
    }
    if ((input.Description?.length ?? 0) > 8192)
      throw invalid(input.Description, 'description', 'Member must have length less than or equal to 8192');
    const key: KmsKeyState = {
      keyId: randomUUID(),
      keySpec: spec,
      keyUsage: expected,
      description: input.Description ?? '',
      creationDate: ctx.now,
      enabled: true,
      policy: input.Policy ?? defaultPolicy(ctx.state.accountId),
      tags: Object.fromEntries((input.Tags ?? []).map((t) => [t.TagKey ?? '', t.TagValue ?? ''])),
      material: newMaterial(spec),
    };
    ctx.commit({ op: 'CreateKey', at: ctx.now, key });
    return { KeyMetadata: metadata(ctx.state, key) };
  },

  DescribeKey: (ctx, input: DescribeKeyCommandInput): Out<DescribeKeyCommandOutput> => ({
    KeyMetadata: metadata(ctx.state, resolveKey(ctx.state, input.KeyId, ctx.now, true)),
  }),

  CreateAlias: (ctx, input: CreateAliasCommandInput): Out<CreateAliasCommandOutput> => {
    const aliasName = input.AliasName ?? '';
    if (!/^alias\/[a-zA-Z0-9/_-]+$/.test(aliasName) || aliasName.length > 256) {
      throw invalid(
        aliasName,
        'aliasName',
        'Member must satisfy regular expression pattern: ^alias/[a-zA-Z0-9/_-]+$',
      );
    }
    if (aliasName.startsWith('alias/aws/')) {
      throw kmsError(
        'NotAuthorizedException',
        `Cannot create alias with reserved prefix alias/aws/: ${aliasName}`,
      );
    }
    const target = input.TargetKeyId ?? '';
    if (target.startsWith('alias/') || /^arn:[^:]*:kms:[^:]*:\d*:alias\//.test(target)) {
      throw kmsError('ValidationException', 'Aliases must refer to keys. Not aliases');
    }
    const key = resolveKey(ctx.state, target, ctx.now, false);
    ctx.commit({ op: 'CreateAlias', at: ctx.now, aliasName, targetKeyId: key.keyId });
    return {};
  },

  /** Aliases in name order, `Limit` (1 to 100, default 50) a page. */
  ListAliases: (ctx, input: ListAliasesCommandInput): Out<ListAliasesCommandOutput> => {
    const limit = input.Limit ?? 50;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
      throw invalid(limit, 'limit', 'Member must have value between 1 and 100');
    }
    const only = input.KeyId === undefined ? undefined : resolveKey(ctx.state, input.KeyId, ctx.now, false);
    const after = input.Marker === undefined ? undefined : afterMarker(input.Marker);
    const names = Object.keys(ctx.state.kms.aliases)
      .sort()
      .filter((name) => after === undefined || name > after);
    const page: AliasListEntry[] = [];
    let truncated = false;
    for (const name of names) {
      const alias = ctx.state.kms.aliases[name];
      if (!alias || !exists(ctx.state.kms.keys[alias.targetKeyId], ctx.now)) continue;
      if (only && alias.targetKeyId !== only.keyId) continue;
      if (page.length === limit) {
        truncated = true;
        break;
      }
      page.push({
        AliasName: name,
        AliasArn: aliasArn(ctx.state, name),
        TargetKeyId: alias.targetKeyId,
        CreationDate: new Date(alias.creationDate),
        LastUpdatedDate: new Date(alias.creationDate),
      });
    }
    const last = page.at(-1)?.AliasName;
    return {
      Aliases: page,
      Truncated: truncated,
      ...(truncated && last !== undefined ? { NextMarker: marker(last) } : {}),
    };
  },

  GenerateMac: (ctx, input: GenerateMacCommandInput): Out<GenerateMacCommandOutput> => {
    const { key, mac: digest } = mac(ctx, input);
    dryRun(input);
    return {
      Mac: new Uint8Array(digest),
      KeyId: keyArn(ctx.state, key.keyId),
      MacAlgorithm: input.MacAlgorithm,
    };
  },

  /** A MAC that does not match fails with `KMSInvalidMacException`: `MacValid` is never false. */
  VerifyMac: (ctx, input: VerifyMacCommandInput): Out<VerifyMacCommandOutput> => {
    const given = bytesOf(input.Mac);
    if (given === undefined) throw invalid(undefined, 'mac', 'Member must not be null');
    if (given.length < 1 || given.length > 6144)
      throw invalid('java.nio.HeapByteBuffer', 'mac', 'Member must have length between 1 and 6144');
    const { key, mac: digest } = mac(ctx, input);
    if (given.length !== digest.length || !timingSafeEqual(given, digest)) {
      throw kmsError(
        'KMSInvalidMacException',
        `The MAC is not valid for this message under ${keyArn(ctx.state, key.keyId)}.`,
      );
    }
    dryRun(input);
    return { KeyId: keyArn(ctx.state, key.keyId), MacValid: true, MacAlgorithm: input.MacAlgorithm };
  },

  DisableKey: (ctx, input: DisableKeyCommandInput): Out<DisableKeyCommandOutput> => {
    const key = resolveKey(ctx.state, input.KeyId, ctx.now, false);
    ctx.commit({ op: 'DisableKey', at: ctx.now, keyId: key.keyId });
    return {};
  },

  EnableKey: (ctx, input: EnableKeyCommandInput): Out<EnableKeyCommandOutput> => {
    const key = resolveKey(ctx.state, input.KeyId, ctx.now, false);
    ctx.commit({ op: 'EnableKey', at: ctx.now, keyId: key.keyId });
    return {};
  },

  /** The key is `PendingDeletion` for `PendingWindowInDays` (7 to 30, default 30), then gone. */
  ScheduleKeyDeletion: (
    ctx,
    input: ScheduleKeyDeletionCommandInput,
  ): Out<ScheduleKeyDeletionCommandOutput> => {
    const days = input.PendingWindowInDays ?? 30;
    if (!Number.isInteger(days) || days < 7 || days > 30) {
      throw invalid(days, 'pendingWindowInDays', 'Member must have value between 7 and 30');
    }
    const key = resolveKey(ctx.state, input.KeyId, ctx.now, false);
    ctx.commit({ op: 'ScheduleKeyDeletion', at: ctx.now, keyId: key.keyId, pendingWindowInDays: days });
    return {
      KeyId: keyArn(ctx.state, key.keyId),
      DeletionDate: new Date(ctx.now + days * DAY_MS),
      KeyState: 'PendingDeletion',
      PendingWindowInDays: days,
    };
  },
};

const keySchema = z.object({
  keyId: z.string(),
  keySpec: z.enum(['SYMMETRIC_DEFAULT', 'HMAC_224', 'HMAC_256', 'HMAC_384', 'HMAC_512']),
  keyUsage: z.enum(['ENCRYPT_DECRYPT', 'GENERATE_VERIFY_MAC']),
  description: z.string(),
  creationDate: z.number(),
  enabled: z.boolean(),
  deletionDate: z.optional(z.number()),
  pendingWindowInDays: z.optional(z.number()),
  policy: z.string(),
  tags: z.record(z.string(), z.string()),
  material: z.string(),
});

const eventSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('CreateKey'), at: z.number(), key: keySchema }),
  z.object({ op: z.literal('CreateAlias'), at: z.number(), aliasName: z.string(), targetKeyId: z.string() }),
  z.object({ op: z.literal('DisableKey'), at: z.number(), keyId: z.string() }),
  z.object({ op: z.literal('EnableKey'), at: z.number(), keyId: z.string() }),
  z.object({
    op: z.literal('ScheduleKeyDeletion'),
    at: z.number(),
    keyId: z.string(),
    pendingWindowInDays: z.number(),
  }),
]);

/** A change to KMS, as its journal records it. */
export type KmsEvent = z.infer<typeof eventSchema>;

function prepareKms(state: AccountState, event: KmsEvent): () => unknown {
  const { kms } = state;
  switch (event.op) {
    case 'CreateKey': {
      const key = event.key;
      if (kms.keys[key.keyId]) {
        throw kmsError('AlreadyExistsException', `Key '${keyArn(state, key.keyId)}' already exists`);
      }
      return () => {
        kms.keys[key.keyId] = { ...key, tags: { ...key.tags } };
      };
    }
    case 'CreateAlias': {
      // A deleted key's aliases went with it.
      const taken = kms.aliases[event.aliasName];
      if (taken && exists(kms.keys[taken.targetKeyId], event.at)) {
        throw kmsError(
          'AlreadyExistsException',
          `An alias with the name ${aliasArn(state, event.aliasName)} already exists`,
        );
      }
      notPendingDeletion(state, resolveKey(state, event.targetKeyId, event.at, false));
      return () => {
        kms.aliases[event.aliasName] = {
          aliasName: event.aliasName,
          targetKeyId: event.targetKeyId,
          creationDate: event.at,
        };
      };
    }
    case 'DisableKey':
    case 'EnableKey': {
      const key = resolveKey(state, event.keyId, event.at, false);
      notPendingDeletion(state, key);
      return () => {
        key.enabled = event.op === 'EnableKey';
      };
    }
    case 'ScheduleKeyDeletion': {
      const key = resolveKey(state, event.keyId, event.at, false);
      notPendingDeletion(state, key);
      return () => {
        key.enabled = false;
        key.deletionDate = event.at + event.pendingWindowInDays * DAY_MS;
        key.pendingWindowInDays = event.pendingWindowInDays;
      };
    }
  }
}

/** KMS as a journaled service. */
export const kmsService: JournaledService<KmsEvent> = {
  handlers: kmsHandlers,
  prepare: prepareKms,
  parse: (value) => {
    const result = eventSchema.safeParse(value);
    return result.success ? { event: result.data } : { problem: z.prettifyError(result.error) };
  },
};
