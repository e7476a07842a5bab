/** The prepared file holds the groups and the organization's units: rewriting one keeps the other. */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeUnitAccounts } from '../../../cli/commands/prepare-run.ts';
import { writePreparedGroups } from '../../../functions/actions/ec2-isolate/prepared-file.ts';
import { preparedUnitAccounts } from '../../../infra/prepared-units.ts';

describe('cordon.prepared.json', () => {
  it("keeps the units' accounts when the groups are written after them, and the groups when the units are", () => {
    const file = join(mkdtempSync(join(tmpdir(), 'prepared-')), 'cordon.prepared.json');
    writeUnitAccounts(
      file,
      { 'ou-ab12-cdef3456': ['111111111111', '222222222222'] },
      '2026-12-02T00:00:00.000Z',
    );
    writePreparedGroups(
      file,
      '123456789012',
      'us-east-1',
      { 'vpc-1': { isolation: 'sg-0a', untrack: 'sg-0b' } },
      '2026-12-02T00:00:01.000Z',
    );
    expect(preparedUnitAccounts(file)).toEqual({ 'ou-ab12-cdef3456': ['111111111111', '222222222222'] });
    writeUnitAccounts(file, { 'ou-ab12-cdef3456': ['111111111111'] }, '2026-12-02T00:00:02.000Z');
    const whole = JSON.parse(readFileSync(file, 'utf8')) as { accounts: Record<string, unknown> };
    expect(Object.keys(whole.accounts)).toEqual(['123456789012/us-east-1']);
    expect(preparedUnitAccounts(file)).toEqual({ 'ou-ab12-cdef3456': ['111111111111'] });
  });
});
