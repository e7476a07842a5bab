import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { EC2ServiceException } from '@aws-sdk/client-ec2';
import { NoSuchEntityException } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { AccessDeniedError, AwsServiceError, ThrottlingError, translateAwsError } from '#shared/errors';

const ec2Error = (name: string, fault: 'client' | 'server' = 'client', status = 400) =>
  new EC2ServiceException({
    name,
    $fault: fault,
    $metadata: { httpStatusCode: status },
    message: `${name} message`,
  });

describe('translating AWS errors', () => {
  it('names throttling, access denial and server faults so that playbooks can match them', () => {
    const throttled = translateAwsError(ec2Error('RequestLimitExceeded'), 'ec2:DescribeInstances');
    expect(throttled).toBeInstanceOf(ThrottlingError);
    expect((throttled as Error).name).toBe('ThrottlingError');
    expect((throttled as Error).message).toBe(
      'ec2:DescribeInstances: RequestLimitExceeded: RequestLimitExceeded message',
    );
    expect((throttled as Error).cause).toBeInstanceOf(EC2ServiceException);
    expect(translateAwsError(ec2Error('UnauthorizedOperation'), 'x')).toBeInstanceOf(AccessDeniedError);
    expect(translateAwsError(ec2Error('InternalError', 'server', 500), 'x')).toBeInstanceOf(AwsServiceError);
  });

  it('returns the errors it does not expect unchanged', () => {
    const missing = new NoSuchEntityException({ message: 'no such key', $metadata: {} });
    expect(translateAwsError(missing, 'x')).toBe(missing);
    const plain = new TypeError('bug');
    expect(translateAwsError(plain, 'x')).toBe(plain);
  });
});

describe("every error class's name", () => {
  it('is written out in each class, so that minified bundles keep the names the playbooks match', async () => {
    const { CordonError } = await import('#shared/errors');
    const root = fileURLToPath(new URL('../../../', import.meta.url));
    // Every module that declares a class extending an error class, found by reading the sources.
    const declaring = ['functions', 'cli', 'local']
      .flatMap((dir) =>
        readdirSync(join(root, dir), { recursive: true, encoding: 'utf8' }).map((f) => join(dir, f)),
      )
      .filter(
        (file) =>
          file.endsWith('.ts') && /class \w+ extends \w*Error\b/.test(readFileSync(join(root, file), 'utf8')),
      );
    const named: string[] = [];
    for (const file of declaring) {
      const exports: Record<string, unknown> = await import(pathToFileURL(join(root, file)).href);
      for (const [exported, value] of Object.entries(exports)) {
        if (typeof value !== 'function' || !(value.prototype instanceof CordonError)) continue;
        const error = new (value as new (...args: unknown[]) => Error)('message', [], {});
        expect({ exported, name: error.name }).toEqual({ exported, name: exported });
        named.push(exported);
      }
    }
    expect(named).toEqual(
      expect.arrayContaining(['ValidationError', 'RecoveryNotReadyError', 'ApprovalNotRecordedError']),
    );
  });
});
