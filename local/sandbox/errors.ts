/**
 * Errors the sandbox throws: the SDK's own exception classes where the client models the error
 * (IAM's `NoSuchEntityException`, SFN's `TaskDoesNotExist`...), otherwise the client's
 * `<Service>ServiceException` with `name` set to AWS's error code, as the SDK itself does when it
 * deserializes an unmodeled error.
 */
import * as autoScaling from '@aws-sdk/client-auto-scaling';
import * as backup from '@aws-sdk/client-backup';
import * as ec2 from '@aws-sdk/client-ec2';
import * as elb from '@aws-sdk/client-elastic-load-balancing';
import * as elbv2 from '@aws-sdk/client-elastic-load-balancing-v2';
import * as iam from '@aws-sdk/client-iam';
import * as kms from '@aws-sdk/client-kms';
import * as s3 from '@aws-sdk/client-s3';
import * as sesv2 from '@aws-sdk/client-sesv2';
import * as sfn from '@aws-sdk/client-sfn';
import * as sts from '@aws-sdk/client-sts';

/** Services the sandbox simulates, by the short name used in `failNext` and `calls`. */
export type ServiceName =
  | 'EC2'
  | 'IAM'
  | 'AutoScaling'
  | 'ELBv2'
  | 'ELB'
  | 'Backup'
  | 'SESv2'
  | 'STS'
  | 'SFN'
  | 'KMS'
  | 'S3';

interface ServiceInfo {
  readonly clientName: string;
  readonly base: new (options: {
    name: string;
    $fault: 'client' | 'server';
    message?: string;
    $metadata: object;
  }) => Error;
  readonly exports: Map<string, unknown>;
}

const info = (clientName: string, base: ServiceInfo['base'], mod: object): ServiceInfo => ({
  clientName,
  base,
  exports: new Map<string, unknown>(Object.entries(mod)),
});

/** The services by short name, with the SDK client name that identifies them in a middleware context. */
export const SERVICES: Readonly<Record<ServiceName, ServiceInfo>> = {
  EC2: info('EC2Client', ec2.EC2ServiceException, ec2),
  IAM: info('IAMClient', iam.IAMServiceException, iam),
  AutoScaling: info('AutoScalingClient', autoScaling.AutoScalingServiceException, autoScaling),
  ELBv2: info('ElasticLoadBalancingV2Client', elbv2.ElasticLoadBalancingV2ServiceException, elbv2),
  ELB: info('ElasticLoadBalancingClient', elb.ElasticLoadBalancingServiceException, elb),
  Backup: info('BackupClient', backup.BackupServiceException, backup),
  SESv2: info('SESv2Client', sesv2.SESv2ServiceException, sesv2),
  STS: info('STSClient', sts.STSServiceException, sts),
  SFN: info('SFNClient', sfn.SFNServiceException, sfn),
  KMS: info('KMSClient', kms.KMSServiceException, kms),
  S3: info('S3Client', s3.S3ServiceException, s3),
};

/** The short service name for an SDK client name such as `EC2Client`, or undefined. */
export function serviceOf(clientName: string | undefined): ServiceName | undefined {
  for (const [name, service] of Object.entries(SERVICES)) {
    if (service.clientName === clientName) return name as ServiceName;
  }
  return undefined;
}

/**
 * Modeled exception classes whose wire code differs from the class name
 * (classic ELB's `LoadBalancerNotFound` is `AccessPointNotFoundException`).
 */
const ALIASES: Record<string, string> = {
  'ELB:LoadBalancerNotFound': 'AccessPointNotFoundException',
  'ELB:InvalidInstance': 'InvalidEndPointException',
  'ELBv2:TargetGroupNotFound': 'TargetGroupNotFoundException',
  'ELBv2:InvalidTarget': 'InvalidTargetException',
  'Backup:ResourceNotFound': 'ResourceNotFoundException',
};

const STATUS: Record<string, number> = {
  AccessDenied: 403,
  AccessDeniedException: 403,
  UnauthorizedOperation: 403,
  DryRunOperation: 412,
  NoSuchEntity: 404,
  RequestLimitExceeded: 503,
  ThrottlingException: 400,
  Throttling: 400,
  InternalError: 500,
  InternalFailure: 500,
  ServiceUnavailable: 503,
  // KMS answers every error with 400, except DryRun's.
  DryRunOperationException: 412,
  // S3's codes: https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html#ErrorCodeList
  NoSuchBucket: 404,
  NoSuchKey: 404,
  NoSuchVersion: 404,
  NotFound: 404,
  ObjectLockConfigurationNotFoundError: 404,
  MethodNotAllowed: 405,
  BucketAlreadyOwnedByYou: 409,
  BucketNotEmpty: 409,
  InvalidBucketState: 409,
  PreconditionFailed: 412,
  NotImplemented: 501,
};

/** Options of {@link awsError}. */
export interface AwsErrorOptions {
  /** Default `client`, or `server` for 5xx codes. */
  readonly fault?: 'client' | 'server';
  /** Default from the code: 403 for access errors, 412 for `DryRunOperation`, 500 for server faults, else 400. */
  readonly httpStatusCode?: number;
}

/** Returns the error AWS returns for `code`, as the SDK client of `service` would throw it. */
export function awsError(
  service: ServiceName,
  code: string,
  message: string,
  options: AwsErrorOptions = {},
): Error {
  const fault = options.fault ?? ((STATUS[code] ?? 400) >= 500 ? 'server' : 'client');
  const httpStatusCode = options.httpStatusCode ?? STATUS[code] ?? (fault === 'server' ? 500 : 400);
  const $metadata = { httpStatusCode, requestId: requestId(), attempts: 1, totalRetryDelay: 0 };
  const svc = SERVICES[service];
  const modeled = modeledClass(svc, service, code);
  if (modeled) {
    const error = new modeled({ message, Message: message, $metadata });
    return error;
  }
  return new svc.base({ name: code, $fault: fault, message, $metadata });
}

type Modeled = new (options: { message: string; Message: string; $metadata: object }) => Error;

function modeledClass(svc: ServiceInfo, service: ServiceName, code: string): Modeled | undefined {
  const names = [ALIASES[`${service}:${code}`], code, `${code}Exception`, `${code}Fault`];
  for (const name of names) {
    if (name === undefined) continue;
    const candidate = svc.exports.get(name);
    if (typeof candidate === 'function' && candidate.prototype instanceof svc.base)
      return candidate as Modeled;
  }
  return undefined;
}

let requestCounter = 0;
function requestId(): string {
  requestCounter += 1;
  return `sandbox-${requestCounter.toString(16).padStart(8, '0')}`;
}

/** Thrown for a command the sandbox does not simulate, so that a gap never looks like an empty answer. */
export class SandboxUnsupportedCommandError extends Error {
  override readonly name = 'SandboxUnsupportedCommandError';
  constructor(
    readonly service: string,
    readonly command: string,
  ) {
    super(`The sandbox account does not simulate ${service}:${command}`);
  }
}

/** Thrown by `Sandbox.create` for a seed that contradicts itself (a volume attached twice, an unknown VPC...). */
export class SandboxSeedError extends Error {
  override readonly name = 'SandboxSeedError';
}

/** Thrown when a persisted service's journal cannot be read: it names the file and what is wrong. */
export class SandboxJournalError extends Error {
  override readonly name = 'SandboxJournalError';
  constructor(
    readonly file: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Sandbox journal ${file}: ${problem}`, options);
  }
}

/** S3 commands whose IAM action has another name (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html). */
const S3_ACTIONS: Record<string, string> = {
  HeadBucket: 'ListBucket',
  HeadObject: 'GetObject',
  ListObjectsV2: 'ListBucket',
  ListObjectVersions: 'ListBucketVersions',
  PutObjectLockConfiguration: 'PutBucketObjectLockConfiguration',
  GetObjectLockConfiguration: 'GetBucketObjectLockConfiguration',
};

/** The access-denied error each service returns. */
export function accessDenied(service: ServiceName, command: string, callerArn: string): Error {
  const action =
    service === 'S3' ? `s3:${S3_ACTIONS[command] ?? command}` : `${service.toLowerCase()}:${command}`;
  if (service === 'EC2')
    return awsError(service, 'UnauthorizedOperation', 'You are not authorized to perform this operation.');
  if (
    service === 'IAM' ||
    service === 'STS' ||
    service === 'AutoScaling' ||
    service === 'ELB' ||
    service === 'ELBv2' ||
    service === 'S3'
  ) {
    return awsError(service, 'AccessDenied', `User: ${callerArn} is not authorized to perform: ${action}`);
  }
  return awsError(
    service,
    'AccessDeniedException',
    `User: ${callerArn} is not authorized to perform: ${action}`,
    // KMS answers every client error with 400.
    service === 'KMS' ? { httpStatusCode: 400 } : {},
  );
}
