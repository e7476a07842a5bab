import { createHmac } from 'node:crypto';
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  DisabledException,
  DisableKeyCommand,
  DryRunOperationException,
  EnableKeyCommand,
  GenerateMacCommand,
  InvalidKeyUsageException,
  KMSInvalidMacException,
  KMSInvalidStateException,
  ListAliasesCommand,
  NotFoundException,
  ScheduleKeyDeletionCommand,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import { describe, expect, it } from 'vitest';
import { SandboxUnsupportedCommandError } from '#local/sandbox/index';
import { errorOf, setup } from './helpers.ts';

const message = new TextEncoder().encode('step 1 of incident i-1');
const MATERIAL = Buffer.alloc(32, 7).toString('base64');
const ARN = 'arn:aws:kms:us-east-1:123456789012:key/audit-key';

/** A sandbox with one HMAC_256 key, `audit-key`, alias `alias/cordon-audit`, of known material. */
function withKey(extra: Parameters<typeof setup>[0] = {}) {
  return setup({
    kms: { keys: [{ id: 'audit-key', alias: 'alias/cordon-audit', material: MATERIAL }] },
    ...extra,
  });
}

const generate = (keyId: string, algorithm = 'HMAC_SHA_256') =>
  new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: algorithm as 'HMAC_SHA_256' });

describe('KMS GenerateMac and VerifyMac', () => {
  it('makes a real HMAC under the key material, which VerifyMac accepts', async () => {
    const { kms } = withKey();
    const made = await kms.send(generate('alias/cordon-audit'));
    const expected = createHmac('sha256', Buffer.from(MATERIAL, 'base64')).update(message).digest();
    expect(Buffer.from(made.Mac ?? [])).toEqual(expected);
    expect(made.Mac).toBeInstanceOf(Uint8Array);
    expect(made).toMatchObject({ KeyId: ARN, MacAlgorithm: 'HMAC_SHA_256' });
    const verified = await kms.send(
      new VerifyMacCommand({
        KeyId: 'audit-key',
        Message: message,
        Mac: made.Mac,
        MacAlgorithm: 'HMAC_SHA_256',
      }),
    );
    expect(verified).toMatchObject({ KeyId: ARN, MacValid: true, MacAlgorithm: 'HMAC_SHA_256' });
  });

  it('refuses a changed message or a changed MAC with KMSInvalidMacException', async () => {
    const { kms } = withKey();
    const { Mac } = await kms.send(generate('audit-key'));
    const mac = Uint8Array.from(Mac ?? []);
    const changedMessage = Uint8Array.from(message);
    changedMessage[0] = (changedMessage[0] ?? 0) ^ 1;
    const changedMac = Uint8Array.from(mac);
    changedMac[5] = (changedMac[5] ?? 0) ^ 1;
    for (const [m, tag] of [
      [changedMessage, mac],
      [message, changedMac],
      [message, mac.subarray(0, 16)],
    ] as const) {
      const error = await errorOf(
        kms.send(
          new VerifyMacCommand({ KeyId: 'audit-key', Message: m, Mac: tag, MacAlgorithm: 'HMAC_SHA_256' }),
        ),
      );
      expect(error).toBeInstanceOf(KMSInvalidMacException);
      expect(error.$metadata?.httpStatusCode).toBe(400);
    }
  });

  it('names the key by id, key ARN, alias name or alias ARN, and says NotFoundException for others', async () => {
    const { kms } = withKey();
    const macs = [];
    for (const keyId of [
      'audit-key',
      ARN,
      'alias/cordon-audit',
      'arn:aws:kms:us-east-1:123456789012:alias/cordon-audit',
    ]) {
      macs.push(Buffer.from((await kms.send(generate(keyId))).Mac ?? []).toString('hex'));
    }
    expect(new Set(macs).size).toBe(1);
    for (const keyId of [
      'nope',
      'alias/nope',
      'arn:aws:kms:eu-west-1:123456789012:key/audit-key',
      'arn:aws:kms:us-east-1:999999999999:alias/cordon-audit',
    ]) {
      expect(await errorOf(kms.send(generate(keyId)))).toBeInstanceOf(NotFoundException);
    }
  });

  it('takes a string message as its UTF-8 bytes, as the SDK sends it', async () => {
    const { kms } = withKey();
    const fromString = await kms.send(
      new GenerateMacCommand({
        KeyId: 'audit-key',
        Message: 'step 1 of incident i-1' as unknown as Uint8Array,
        MacAlgorithm: 'HMAC_SHA_256',
      }),
    );
    const fromBytes = await kms.send(generate('audit-key'));
    expect(fromString.Mac).toEqual(fromBytes.Mac);
  });

  it('refuses a MAC algorithm other than the key spec’s with InvalidKeyUsageException', async () => {
    const { kms } = withKey();
    const error = await errorOf(kms.send(generate('audit-key', 'HMAC_SHA_384')));
    expect(error).toBeInstanceOf(InvalidKeyUsageException);
    expect(error.message).toContain('HMAC_SHA_384');
    expect((await errorOf(kms.send(generate('audit-key', 'SHA_1')))).name).toBe('ValidationException');
  });

  it('checks the message length: 1 to 4096 bytes', async () => {
    const { kms } = withKey();
    const send = (bytes: number) =>
      kms.send(
        new GenerateMacCommand({
          KeyId: 'audit-key',
          Message: new Uint8Array(bytes),
          MacAlgorithm: 'HMAC_SHA_256',
        }),
      );
    await expect(send(4096)).resolves.toBeDefined();
    expect((await errorOf(send(4097))).name).toBe('ValidationException');
    expect((await errorOf(send(0))).name).toBe('ValidationException');
  });

  it('fails on a disabled key with DisabledException until it is enabled again', async () => {
    const { kms } = withKey();
    await kms.send(new DisableKeyCommand({ KeyId: 'audit-key' }));
    expect(
      (await kms.send(new DescribeKeyCommand({ KeyId: 'alias/cordon-audit' }))).KeyMetadata,
    ).toMatchObject({
      Enabled: false,
      KeyState: 'Disabled',
    });
    expect(await errorOf(kms.send(generate('audit-key')))).toBeInstanceOf(DisabledException);
    await kms.send(new EnableKeyCommand({ KeyId: ARN }));
    await expect(kms.send(generate('audit-key'))).resolves.toBeDefined();
  });

  it('keeps a key scheduled for deletion PendingDeletion for its window, then forgets it', async () => {
    const { kms, sandbox } = withKey();
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: 'audit-key', PendingWindowInDays: 7 }),
    );
    expect(scheduled).toMatchObject({ KeyId: ARN, KeyState: 'PendingDeletion', PendingWindowInDays: 7 });
    expect(scheduled.DeletionDate?.getTime()).toBe(sandbox.now() + 7 * 86_400_000);
    expect(await errorOf(kms.send(generate('audit-key')))).toBeInstanceOf(KMSInvalidStateException);
    expect(await errorOf(kms.send(new EnableKeyCommand({ KeyId: 'audit-key' })))).toBeInstanceOf(
      KMSInvalidStateException,
    );
    expect(
      await errorOf(kms.send(new ScheduleKeyDeletionCommand({ KeyId: 'audit-key', PendingWindowInDays: 7 }))),
    ).toBeInstanceOf(KMSInvalidStateException);
    sandbox.advance(7 * 86_400_000);
    expect(await errorOf(kms.send(new DescribeKeyCommand({ KeyId: 'audit-key' })))).toBeInstanceOf(
      NotFoundException,
    );
    expect((await kms.send(new ListAliasesCommand({}))).Aliases).toEqual([]);
    // Its aliases went with it: the name is free again.
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
    );
    await kms.send(
      new CreateAliasCommand({ AliasName: 'alias/cordon-audit', TargetKeyId: KeyMetadata?.KeyId }),
    );
    await expect(kms.send(generate('alias/cordon-audit'))).resolves.toMatchObject({
      KeyId: KeyMetadata?.Arn,
    });
  });

  it('refuses a window outside 7 to 30 days', async () => {
    const { kms } = withKey();
    const error = await errorOf(
      kms.send(new ScheduleKeyDeletionCommand({ KeyId: 'audit-key', PendingWindowInDays: 6 })),
    );
    expect(error.name).toBe('ValidationException');
  });

  it('answers a DryRun that would succeed with KMS’s DryRunOperationException, not EC2’s', async () => {
    const { kms } = withKey();
    const error = await errorOf(
      kms.send(
        new GenerateMacCommand({
          KeyId: 'audit-key',
          Message: message,
          MacAlgorithm: 'HMAC_SHA_256',
          DryRun: true,
        }),
      ),
    );
    expect(error).toBeInstanceOf(DryRunOperationException);
    expect(error.$metadata?.httpStatusCode).toBe(412);
  });
});

describe('KMS keys and aliases', () => {
  it('creates HMAC keys of each spec, with the matching MAC algorithm', async () => {
    const { kms } = setup();
    for (const [spec, algorithm, bytes] of [
      ['HMAC_224', 'HMAC_SHA_224', 28],
      ['HMAC_256', 'HMAC_SHA_256', 32],
      ['HMAC_384', 'HMAC_SHA_384', 48],
      ['HMAC_512', 'HMAC_SHA_512', 64],
    ] as const) {
      const { KeyMetadata } = await kms.send(
        new CreateKeyCommand({ KeySpec: spec, KeyUsage: 'GENERATE_VERIFY_MAC' }),
      );
      expect(KeyMetadata).toMatchObject({
        KeySpec: spec,
        KeyUsage: 'GENERATE_VERIFY_MAC',
        KeyState: 'Enabled',
        MacAlgorithms: [algorithm],
        Origin: 'AWS_KMS',
        AWSAccountId: '123456789012',
      });
      expect(KeyMetadata?.Arn).toBe(`arn:aws:kms:us-east-1:123456789012:key/${KeyMetadata?.KeyId}`);
      const { Mac } = await kms.send(
        new GenerateMacCommand({ KeyId: KeyMetadata?.Arn, Message: message, MacAlgorithm: algorithm }),
      );
      expect(Mac?.length).toBe(bytes);
    }
  });

  it('makes a different random key each time, whose material no command returns', async () => {
    const { kms, sandbox } = setup();
    const ids = [];
    for (let i = 0; i < 2; i += 1) {
      const created = await kms.send(
        new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
      );
      ids.push(created.KeyMetadata?.KeyId ?? '');
    }
    const [a, b] = ids;
    const macA = await kms.send(generate(a ?? ''));
    const macB = await kms.send(generate(b ?? ''));
    expect(macA.Mac).not.toEqual(macB.Mac);
    const material = sandbox.state().kms.keys[a ?? '']?.material ?? '';
    expect(material).not.toBe('');
    expect(JSON.stringify(sandbox.calls.map((c) => c.output))).not.toContain(material);
  });

  it('rejects an HMAC spec with ENCRYPT_DECRYPT, as AWS does', async () => {
    const { kms, sandbox } = setup();
    const error = await errorOf(
      kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'ENCRYPT_DECRYPT' })),
    );
    expect(error.name).toBe('ValidationException');
    expect(error.message).toBe('KeyUsage ENCRYPT_DECRYPT is not compatible with KeySpec HMAC_256');
    expect((await errorOf(kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256' })))).name).toBe(
      'ValidationException',
    );
    expect(Object.keys(sandbox.state().kms.keys)).toEqual([]);
  });

  it('makes a symmetric encryption key, which MAC operations refuse with InvalidKeyUsageException', async () => {
    const { kms } = setup();
    const { KeyMetadata } = await kms.send(new CreateKeyCommand({}));
    expect(KeyMetadata).toMatchObject({
      KeySpec: 'SYMMETRIC_DEFAULT',
      KeyUsage: 'ENCRYPT_DECRYPT',
      EncryptionAlgorithms: ['SYMMETRIC_DEFAULT'],
    });
    const error = await errorOf(kms.send(generate(KeyMetadata?.KeyId ?? '')));
    expect(error).toBeInstanceOf(InvalidKeyUsageException);
    expect(error.message).toContain('ENCRYPT_DECRYPT which is not valid for GenerateMac');
  });

  it('says which key specs it does not simulate rather than pretending', async () => {
    const { kms } = setup();
    const error = await errorOf(
      kms.send(new CreateKeyCommand({ KeySpec: 'RSA_2048', KeyUsage: 'SIGN_VERIFY' })),
    );
    expect(error).toBeInstanceOf(SandboxUnsupportedCommandError);
  });

  it('keeps the key policy it is given', async () => {
    const { kms, sandbox } = setup();
    const policy = JSON.stringify({ Version: '2012-10-17', Statement: [] });
    const { KeyMetadata } = await kms.send(
      new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC', Policy: policy }),
    );
    expect(sandbox.state().kms.keys[KeyMetadata?.KeyId ?? '']?.policy).toBe(policy);
  });

  it('refuses an alias that exists with AlreadyExistsException, and one that points at an alias', async () => {
    const { kms } = withKey();
    const again = await errorOf(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/cordon-audit', TargetKeyId: 'audit-key' })),
    );
    expect(again).toBeInstanceOf(AlreadyExistsException);
    const toAlias = await errorOf(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/other', TargetKeyId: 'alias/cordon-audit' })),
    );
    expect(toAlias.name).toBe('ValidationException');
    const unknown = await errorOf(
      kms.send(new CreateAliasCommand({ AliasName: 'alias/other', TargetKeyId: 'nope' })),
    );
    expect(unknown).toBeInstanceOf(NotFoundException);
  });

  it('pages ListAliases with Limit, Truncated and NextMarker, in name order', async () => {
    const { kms } = withKey();
    for (const name of ['c', 'a', 'e', 'b', 'd']) {
      await kms.send(new CreateAliasCommand({ AliasName: `alias/n-${name}`, TargetKeyId: 'audit-key' }));
    }
    const names: string[] = [];
    const pages: boolean[] = [];
    let marker: string | undefined;
    do {
      const page = await kms.send(
        new ListAliasesCommand({ Limit: 2, ...(marker ? { Marker: marker } : {}) }),
      );
      names.push(...(page.Aliases ?? []).map((a) => a.AliasName ?? ''));
      pages.push(page.Truncated === true);
      expect(page.NextMarker === undefined).toBe(page.Truncated !== true);
      marker = page.NextMarker;
    } while (marker);
    expect(names).toEqual([
      'alias/cordon-audit',
      'alias/n-a',
      'alias/n-b',
      'alias/n-c',
      'alias/n-d',
      'alias/n-e',
    ]);
    expect(pages).toEqual([true, true, false]);
    const first = (await kms.send(new ListAliasesCommand({}))).Aliases?.[0];
    expect(first).toMatchObject({
      AliasArn: 'arn:aws:kms:us-east-1:123456789012:alias/cordon-audit',
      TargetKeyId: 'audit-key',
    });
    expect((await errorOf(kms.send(new ListAliasesCommand({ Marker: 'garbage' })))).name).toBe(
      'InvalidMarkerException',
    );
  });

  it('injects failures, denies commands and logs calls as for the other services', async () => {
    const { kms, sandbox } = withKey({ denied: ['KMS:VerifyMac'] });
    sandbox.failNext('KMS:GenerateMac', 1, { code: 'KMSInternalException', fault: 'server' });
    const injected = await errorOf(kms.send(generate('audit-key')));
    expect(injected.name).toBe('KMSInternalException');
    expect(injected.$fault).toBe('server');
    const { Mac } = await kms.send(generate('audit-key'));
    const denied = await errorOf(
      kms.send(
        new VerifyMacCommand({ KeyId: 'audit-key', Message: message, Mac, MacAlgorithm: 'HMAC_SHA_256' }),
      ),
    );
    expect(denied.name).toBe('AccessDeniedException');
    expect(denied.message).toContain('kms:VerifyMac');
    expect(sandbox.calls.map((c) => [c.service, c.command, c.error?.name])).toEqual([
      ['KMS', 'GenerateMac', 'KMSInternalException'],
      ['KMS', 'GenerateMac', undefined],
      ['KMS', 'VerifyMac', 'AccessDeniedException'],
    ]);
  });
});
