import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { rootManual } from '../../../../functions/actions/iam-root-manual/core.ts';
import { errorOf, setupIam } from './helpers.ts';

describe('iam-root-manual', () => {
  it('changes nothing and records that manual action is required', async () => {
    const { sandbox } = setupIam();
    const state = sandbox.state();
    const result = await rootManual(
      {},
      { incidentId: 'inc-3', account: '123456789012', accessKeyId: 'AKIAROOT000000000001' },
    );
    expect(result.status).toBe('skipped');
    expect(result.note).toMatch(/^manual action required/);
    expect(sandbox.calls).toEqual([]);
    expect(sandbox.state()).toEqual(state);
  });

  it('gives the by-hand steps for the approval email, naming the key and the account', async () => {
    const result = await rootManual(
      {},
      { incidentId: 'inc-3', account: '123456789012', accessKeyId: 'AKIAROOT000000000001' },
    );
    const instructions = result.output?.instructions as { step: string; doc: string }[];
    const text = instructions.map((i) => i.step).join('\n');
    expect(text).toContain('as the root user of account 123456789012');
    expect(text).toContain('delete the root access key AKIAROOT000000000001');
    expect(text).toContain('Enable MFA');
    expect(text).toContain('CloudTrail');
    expect(instructions.every((i) => i.doc.startsWith('https://docs.aws.amazon.com/'))).toBe(true);
    expect(result.output).toMatchObject({ manualActionRequired: true, account: '123456789012' });
  });

  it('handles a root finding that names no key', async () => {
    const result = await rootManual({}, { incidentId: 'inc-3', account: '123456789012' });
    const instructions = result.output?.instructions as { step: string }[];
    expect(instructions[1]?.step).toContain('delete every root access key');
  });

  it('refuses an account id that is not 12 digits', async () => {
    expect(await errorOf(rootManual({}, { incidentId: 'inc-3', account: 'abc' }))).toBeInstanceOf(
      ValidationError,
    );
  });
});
