import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { BackupClient } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import { ElasticLoadBalancingClient } from '@aws-sdk/client-elastic-load-balancing';
import { ElasticLoadBalancingV2Client } from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient } from '@aws-sdk/client-iam';
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import type { AccountSeed, SandboxOptions } from '#local/sandbox/index';
import { Sandbox } from '#local/sandbox/index';

/** Static credentials, so that no test looks up a credential chain. */
export const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

/** A fixed clock start: 2025-01-01T00:00:00Z. */
export const T0 = Date.UTC(2025, 0, 1);

/** A sandbox with real SDK clients attached. */
export function setup(seed: AccountSeed = {}, options: SandboxOptions = {}) {
  const sandbox = Sandbox.create(seed, { now: () => T0, ...options });
  return {
    sandbox,
    ec2: sandbox.attach(new EC2Client(config)),
    iam: sandbox.attach(new IAMClient(config)),
    asg: sandbox.attach(new AutoScalingClient(config)),
    elbv2: sandbox.attach(new ElasticLoadBalancingV2Client(config)),
    elb: sandbox.attach(new ElasticLoadBalancingClient(config)),
    backup: sandbox.attach(new BackupClient(config)),
    ses: sandbox.attach(new SESv2Client(config)),
    sts: sandbox.attach(new STSClient(config)),
    sfn: sandbox.attach(new SFNClient(config)),
    kms: sandbox.attach(new KMSClient(config)),
    s3: sandbox.attach(new S3Client(config)),
  };
}

/** The error a promise rejects with. */
export async function errorOf(
  promise: Promise<unknown>,
): Promise<Error & { $fault?: string; $metadata?: { httpStatusCode?: number } }> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof Error) return error;
    throw new Error(`rejected with a non-error: ${String(error)}`);
  }
  throw new Error('expected the call to fail');
}
