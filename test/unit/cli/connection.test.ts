import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { resolveTableName, translateReadError } from '../../../cli/connection.ts';
import { EndpointUnreachableError, NoCredentialsError, TableNotFoundError } from '../../../cli/errors.ts';

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
