import { describe, expect, it } from 'vitest';
import { boolEnv, intEnv, readAuditConfig, requireEnv } from '#shared/config';
import { ConfigError } from '#shared/errors';

describe('configuration from the environment', () => {
  it('names a missing variable', () => {
    expect(() => requireEnv('CORDON_TABLE_NAME', {})).toThrow(
      new ConfigError('CORDON_TABLE_NAME is required'),
    );
    expect(() => readAuditConfig({ CORDON_TABLE_NAME: '  ' })).toThrow('CORDON_TABLE_NAME is required');
  });

  it('names a malformed value and what was expected', () => {
    expect(() => intEnv('CORDON_LIMIT', 5, {}, { CORDON_LIMIT: 'abc' })).toThrow(
      'CORDON_LIMIT must be an integer, got "abc"',
    );
    expect(() => intEnv('CORDON_LIMIT', 5, { min: 1 }, { CORDON_LIMIT: '0' })).toThrow(
      'CORDON_LIMIT must be at least 1, got 0',
    );
    expect(() => boolEnv('CORDON_DRY_RUN', false, { CORDON_DRY_RUN: 'yes' })).toThrow(
      'CORDON_DRY_RUN must be true or false, got "yes"',
    );
    expect(() => readAuditConfig({ CORDON_TABLE_NAME: 'bad name!' })).toThrow(/got "bad name!"/);
  });

  it('applies defaults and parses good values', () => {
    expect(intEnv('X', 5, {}, {})).toBe(5);
    expect(intEnv('X', 5, { max: 10 }, { X: '7' })).toBe(7);
    expect(boolEnv('X', false, { X: 'TRUE' })).toBe(true);
    const key = 'arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    expect(
      readAuditConfig({
        CORDON_TABLE_NAME: 'cordon-audit',
        CORDON_RECORD_KEY: key,
        CORDON_ANCHOR_BUCKET: 'cordon-anchor-123456789012-us-east-1',
      }),
    ).toEqual({
      tableName: 'cordon-audit',
      recordKey: key,
      anchorBucket: 'cordon-anchor-123456789012-us-east-1',
    });
  });

  it('needs the record key and the anchor bucket, and names a malformed one', () => {
    const table = { CORDON_TABLE_NAME: 'cordon-audit' };
    expect(() => readAuditConfig(table)).toThrow('CORDON_RECORD_KEY is required');
    expect(() => readAuditConfig({ ...table, CORDON_RECORD_KEY: 'alias/cordon-record' })).toThrow(
      'CORDON_ANCHOR_BUCKET is required',
    );
    expect(() =>
      readAuditConfig({ ...table, CORDON_RECORD_KEY: 'not a key', CORDON_ANCHOR_BUCKET: 'b-1-2' }),
    ).toThrow(/CORDON_RECORD_KEY must be a KMS key ARN, key id or alias, got "not a key"/);
    expect(() =>
      readAuditConfig({
        ...table,
        CORDON_RECORD_KEY: 'alias/cordon-record',
        CORDON_ANCHOR_BUCKET: 'Bad_Bucket',
      }),
    ).toThrow(/CORDON_ANCHOR_BUCKET must be an S3 bucket name, got "Bad_Bucket"/);
  });
});
