/** KMS's commands: keys, aliases, MACs, encryption and the key lifecycle. */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
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
  ListAliasesCommandInput,
  ListAliasesCommandOutput,
  ScheduleKeyDeletionCommandInput,
  ScheduleKeyDeletionCommandOutput,
  VerifyMacCommandInput,
  VerifyMacCommandOutput,
} from '@aws-sdk/client-kms';
import type { JournalContext, JournaledService, Out } from '../context.ts';
import { awsError, SandboxUnsupportedCommandError } from '../errors.ts';
import type { PageRules } from '../listing.ts';
import { page } from '../listing.ts';
import type { KmsAliasState, KmsKeyState } from '../state.ts';
import type { KmsEvent } from './journal.ts';
import {
  aliasArn,
  DAY_MS,
  defaultPolicy,
  exists,
  HMAC,
  invalid,
  isHmac,
  keyArn,
  kmsError,
  MAC_ALGORITHMS,
  metadata,
  newMaterial,
  OTHER_SPECS,
  resolveKey,
  USAGES,
  usable,
} from './keys.ts';

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

/**
 * ListAliases' paging: `Limit` 1 to 100, 50 when not given; `Marker` in, `NextMarker` and `Truncated` out; a
 * marker KMS did not give is `InvalidMarkerException`
 * (https://docs.aws.amazon.com/kms/latest/APIReference/API_ListAliases.html: "If you include a value, it
 * must be between 1 and 100, inclusive. If you do not include a value, it defaults to 50").
 */
const ALIAS_PAGING: PageRules = {
  min: 1,
  max: 100,
  default: 50,
  badSize: (size) => [
    'ValidationException',
    `1 validation error detected: Value '${size}' at 'limit' failed to satisfy constraint: Member must have value between 1 and 100`,
  ],
  badToken: () => ['InvalidMarkerException', 'Invalid marker'],
};

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

  /** Aliases in name order, `Limit` a page ({@link ALIAS_PAGING}). */
  ListAliases: (ctx, input: ListAliasesCommandInput): Out<ListAliasesCommandOutput> => {
    const { Limit, Marker, ...scope } = input;
    const only = input.KeyId === undefined ? undefined : resolveKey(ctx.state, input.KeyId, ctx.now, false);
    const aliases = Object.keys(ctx.state.kms.aliases)
      .sort()
      .map((name) => ctx.state.kms.aliases[name])
      .filter((alias): alias is KmsAliasState => alias !== undefined)
      .filter((alias) => exists(ctx.state.kms.keys[alias.targetKeyId], ctx.now))
      .filter((alias) => !only || alias.targetKeyId === only.keyId);
    const { items, next } = page(ctx, aliases, { size: Limit, token: Marker, scope }, ALIAS_PAGING);
    return {
      Aliases: items.map(
        (alias): AliasListEntry => ({
          AliasName: alias.aliasName,
          AliasArn: aliasArn(ctx.state, alias.aliasName),
          TargetKeyId: alias.targetKeyId,
          CreationDate: new Date(alias.creationDate),
          LastUpdatedDate: new Date(alias.creationDate),
        }),
      ),
      Truncated: next !== undefined,
      ...(next === undefined ? {} : { NextMarker: next }),
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
