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
    expect(readAuditConfig({ CORDON_TABLE_NAME: 'cordon-audit' })).toEqual({ tableName: 'cordon-audit' });
  });
});
