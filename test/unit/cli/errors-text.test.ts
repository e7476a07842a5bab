/** What the console prints for an error: one line, never a trace. */
import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { describeCause, describeError } from '../../../cli/errors-text.ts';

const LAMBDA_ERROR = JSON.stringify({
  errorType: 'ResourceNotFoundError',
  errorMessage: 'instance i-99999999 does not exist',
  trace: [
    'ResourceNotFoundError: instance i-99999999 does not exist',
    '    at describeInstance (/var/task/index.mjs:1:2)',
  ],
});

describe('describeCause', () => {
  it("turns a Lambda error's JSON into its type and message, without the trace", () => {
    expect(describeCause(LAMBDA_ERROR)).toBe('ResourceNotFoundError: instance i-99999999 does not exist');
  });

  it('leaves out the type when it is the error already printed', () => {
    expect(describeCause(LAMBDA_ERROR, 'ResourceNotFoundError')).toBe('instance i-99999999 does not exist');
    expect(describeCause('{"errorType":"States.Timeout"}', 'States.Timeout')).toBe('States.Timeout');
  });

  it('keeps a plain cause, on one line', () => {
    expect(describeCause('Task timed out\nafter 3600 seconds')).toBe('Task timed out after 3600 seconds');
  });
});

describe('describeError', () => {
  it("prints a Cordon error's message", () => {
    expect(describeError(new ValidationError('--limit', ['must be a whole number']), 'stats')).toBe(
      'cordon: --limit is invalid: must be a whole number',
    );
  });

  it('names an SDK error and says what to do about credentials, region or the endpoint', () => {
    const noCredentials = Object.assign(new Error('Could not load credentials from any providers'), {
      name: 'CredentialsProviderError',
    });
    expect(describeError(noCredentials, 'approvals list')).toMatch(
      /^cordon: approvals list failed: CredentialsProviderError: Could not load credentials from any providers \(no usable AWS credentials: pass --profile/,
    );
    expect(describeError(new Error('Region is missing'), 'run')).toBe(
      'cordon: run failed: Region is missing (no AWS region: pass --region, set AWS_REGION, or give your profile a region)',
    );
    const refused = new TypeError('fetch failed', {
      cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:8080'), { code: 'ECONNREFUSED' }),
    });
    expect(describeError(refused, 'approvals approve')).toBe(
      'cordon: approvals approve failed: TypeError: fetch failed: connect ECONNREFUSED 127.0.0.1:8080 (the endpoint did not answer (ECONNREFUSED): check --endpoint, AWS_ENDPOINT_URL and the network)',
    );
  });

  it('names the call, the path and the code of a file-system error', () => {
    const error = Object.assign(new Error("ENOTDIR: not a directory, mkdir '/dev/null/x'"), {
      code: 'ENOTDIR',
      syscall: 'mkdir',
      path: '/dev/null/x',
    });
    expect(describeError(error, 'demo')).toBe(
      'cordon: demo failed: cannot mkdir /dev/null/x: not a directory (ENOTDIR)',
    );
  });

  it('keeps any other error to its first line', () => {
    const error = new RangeError('first line\n    at somewhere (file.ts:1:1)');
    expect(describeError(error, 'report')).toBe('cordon: report failed: RangeError: first line');
    expect(describeError('a thrown string')).toBe('cordon: a thrown string');
  });
});
