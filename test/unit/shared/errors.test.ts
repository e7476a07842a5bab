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
