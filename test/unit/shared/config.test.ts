import { describe, expect, it, vi } from 'vitest';
import { boolEnv, intEnv, readAuditConfig, requireEnv } from '#shared/config';
import { ConfigError, ValidationError } from '#shared/errors';
import { parseSettings, readSettingsFromEnv, SETTINGS_ENV } from '#shared/settings';
import settingsFile from '../../../cordon.config.ts';

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

describe('the settings a function was deployed with', () => {
  const deployed = parseSettings(settingsFile);
  const env = (settings: unknown) => ({ [SETTINGS_ENV]: JSON.stringify(settings) });

  it('read lazily are the settings the stack validated, section by section', () => {
    const read = readSettingsFromEnv(env(deployed));
    expect(read.protectedTag).toEqual(deployed.protectedTag);
    expect({ ...read }).toEqual(deployed);
    expect(JSON.parse(JSON.stringify(read))).toEqual(deployed);
  });

  it("apply each section's defaults, as a whole parse does", () => {
    const read = readSettingsFromEnv(env({ approvers: ['a@example.com'], sender: 's@example.com' }));
    expect(read.ec2.isolation).toBe('two-step');
    expect(read.ec2.isolationGroups).toEqual({});
    expect(read.protectedTag).toEqual({ key: 'cordon:protected', value: 'true' });
    expect({ ...read }).toEqual(parseSettings({ approvers: ['a@example.com'], sender: 's@example.com' }));
  });

  it('validate a section when it is first read, once, and name its bad field from the root', () => {
    const bad = { ...deployed, ec2: { ...deployed.ec2, swapWindowSeconds: 0 }, protectedTag: { key: 1 } };
    const read = readSettingsFromEnv(env(bad));
    // The sections this function reads are good: it runs.
    expect(read.approvers).toEqual(deployed.approvers);
    expect(read.iam).toEqual(deployed.iam);
    const error = (() => {
      try {
        return read.ec2;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([expect.stringMatching(/^ec2\.swapWindowSeconds: /)]);
    expect(() => read.protectedTag).toThrow(
      /settings is invalid: protectedTag\.key: .*protectedTag\.value: /,
    );
    // The whole parse names the same fields.
    expect(() => parseSettings(bad)).toThrow(ValidationError);
    try {
      parseSettings(bad);
    } catch (e) {
      expect((e as ValidationError).issues.map((i) => i.split(':')[0]).sort()).toEqual([
        'ec2.swapWindowSeconds',
        'protectedTag.key',
        'protectedTag.value',
      ]);
    }
  });

  it('parse a section once, however often it is read', () => {
    const read = readSettingsFromEnv(env(deployed));
    const spy = vi.spyOn(JSON, 'parse');
    expect(read.ec2).toBe(read.ec2);
    expect(spy).not.toHaveBeenCalled();
    spy.mockRestore();
  });

  it('refuse a missing, malformed or non-object variable', () => {
    expect(() => readSettingsFromEnv({})).toThrow(new ConfigError(`${SETTINGS_ENV} is required`));
    expect(() => readSettingsFromEnv({ [SETTINGS_ENV]: '{nope' })).toThrow(/must be JSON/);
    expect(() => readSettingsFromEnv({ [SETTINGS_ENV]: '[1]' })).toThrow(
      new ValidationError('settings', ['(root): must be an object']),
    );
  });
});
