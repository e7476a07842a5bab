import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { KmsS3Seal, stepMacMessage } from '#shared/seal';
import {
  aliasCheckedSeal,
  resolveRecordKey,
  resolveTableName,
  translateReadError,
} from '../../../cli/connection.ts';
import { EndpointUnreachableError, NoCredentialsError, TableNotFoundError } from '../../../cli/errors.ts';
import { openLocalTrust } from '../../../local/trust.ts';

describe('resolveTableName', () => {
  const empty = mkdtempSync(join(tmpdir(), 'cordon-cwd-'));

  it('takes --table, then CORDON_TABLE_NAME, then the default', () => {
    expect(resolveTableName({ table: 'mine' }, { CORDON_TABLE_NAME: 'env' }, empty)).toBe('mine');
    expect(resolveTableName({}, { CORDON_TABLE_NAME: 'env' }, empty)).toBe('env');
    expect(resolveTableName({}, {}, empty)).toBe('cordon-audit');
  });

  it("finds the deployed stack's AuditTableName in cdk-outputs.json", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-cwd-'));
    writeFileSync(
      join(dir, 'cdk-outputs.json'),
      JSON.stringify({ Cordon: { AuditTableName: 'Cordon-Audit-1X' } }),
    );
    expect(resolveTableName({}, {}, dir)).toBe('Cordon-Audit-1X');
  });
});

describe('translateReadError', () => {
  const where = 'table t in us-east-1';

  it('names a missing table', () => {
    const error = new ResourceNotFoundException({ message: 'Requested resource not found', $metadata: {} });
    const translated = translateReadError(error, where);
    expect(translated).toBeInstanceOf(TableNotFoundError);
    expect(String((translated as Error).message)).toMatch(
      /table t in us-east-1: the table .* does not exist/,
    );
  });

  it('names missing credentials, an endpoint that does not answer, and a missing region', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(translateReadError(noCredentials, where)).toBeInstanceOf(NoCredentialsError);
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
    expect(translateReadError(refused, where)).toBeInstanceOf(EndpointUnreachableError);
    expect(translateReadError(new Error('Region is missing'), where)).toBeInstanceOf(ValidationError);
  });

  it('leaves other errors as they are', () => {
    const other = new TypeError('bug');
    expect(translateReadError(other, where)).toBe(other);
  });
});

describe('the record key the console verifies with', () => {
  const empty = mkdtempSync(join(tmpdir(), 'cordon-cwd-'));
  const STACK_KEY = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';

  it('takes --record-key, then CORDON_RECORD_KEY, then the stack output, and never a default alias', () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-cwd-'));
    writeFileSync(join(dir, 'cdk-outputs.json'), JSON.stringify({ Cordon: { RecordKeyArn: STACK_KEY } }));
    expect(resolveRecordKey({ recordKey: 'arn:given' }, { CORDON_RECORD_KEY: 'arn:env' }, dir)).toEqual({
      keyId: 'arn:given',
      stackKey: STACK_KEY,
    });
    expect(resolveRecordKey({}, { CORDON_RECORD_KEY: 'arn:env' }, empty)).toEqual({ keyId: 'arn:env' });
    expect(resolveRecordKey({}, {}, dir)).toEqual({ keyId: STACK_KEY, stackKey: STACK_KEY });
    expect(resolveRecordKey({}, {}, empty)).toEqual({});
  });

  /** A sandbox KMS where alias/cordon-record names one key, and the deployed stack's key is another. */
  async function repointed() {
    const trust = await openLocalTrust();
    const settings = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } };
    const kms = trust.sandbox.attach(new KMSClient(settings));
    const s3 = trust.sandbox.attach(new S3Client(settings));
    const stackKey = (
      await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }))
    ).KeyMetadata?.Arn;
    if (!stackKey) throw new Error('the sandbox made no key');
    const sealWith = (keyId: string) => new KmsS3Seal({ kms, s3, keyId, bucket: trust.bucket });
    // A step MACed with the key the alias now names: someone else's, as a re-pointed alias would be.
    const message = stepMacMessage('inc-1', 1, 'ab'.repeat(32));
    const mac = await trust.seal.mac(message);
    return { trust, kms, stackKey, sealWith, message, mac };
  }

  it("refuses an alias that does not name the stack's key: a re-pointed alias vouches for nothing", async () => {
    const { trust, kms, stackKey, sealWith, message, mac } = await repointed();
    // Taken as given, the alias would check the other key's MAC.
    expect(await sealWith(trust.keyId).verify(message, mac)).toBe(true);
    const seal = aliasCheckedSeal(trust.keyId, stackKey, kms, sealWith);
    await expect(seal.verify(message, mac)).rejects.toThrow(
      new RegExp(
        `points at ${trust.keyArn}, not at the stack's record key ${stackKey}: the alias was re-pointed`,
      ),
    );
    await expect(seal.mac(message)).rejects.toBeInstanceOf(ValidationError);
    // Without the stack's output there is nothing to hold the alias to.
    await expect(
      aliasCheckedSeal(trust.keyId, undefined, kms, sealWith).verify(message, mac),
    ).rejects.toThrow(/is an alias, which can be re-pointed at another key: pass the key's ARN/);
  });

  it("uses an alias that names the stack's key, through the key's ARN", async () => {
    const { trust, kms, sealWith, message, mac } = await repointed();
    const used: string[] = [];
    const seal = aliasCheckedSeal(trust.keyId, trust.keyArn, kms, (keyId) => {
      used.push(keyId);
      return sealWith(keyId);
    });
    expect(await seal.verify(message, mac)).toBe(true);
    expect(await seal.verify(message, `${mac.slice(0, -4)}AAA=`)).toBe(false);
    expect(used).toEqual([trust.keyId, trust.keyArn]);
  });
});
