/** What S3's simulated commands share: its errors, finding a bucket and an object's version, response headers. */
import { createHash, randomBytes } from 'node:crypto';
import { awsError } from '../errors.ts';
import type { AccountState, S3BucketState, S3ObjectVersionState } from '../state.ts';

export const DAY_MS = 86_400_000;
/** S3's page size: the default and the most `MaxKeys` gives. */
export const MAX_KEYS = 1000;

export const s3Error = (code: string, message: string): Error => awsError('S3', code, message);
export const noSuchBucket = (): Error => s3Error('NoSuchBucket', 'The specified bucket does not exist');
export const malformed = (): Error =>
  s3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

export function bucketOf(state: AccountState, name: string | undefined): S3BucketState {
  const bucket = name === undefined ? undefined : state.s3.buckets[name];
  if (!bucket) throw noSuchBucket();
  return bucket;
}

/** S3's rules for general purpose bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
export function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

export function objectKey(key: string | undefined): string {
  // The SDK refuses an empty key before sending anything.
  if (key === undefined || key === '') throw new Error('Empty value provided for input HTTP label: Key.');
  if (Buffer.byteLength(key, 'utf8') > 1024) throw s3Error('KeyTooLongError', 'Your key is too long');
  return key;
}

export const newVersionId = (): string => randomBytes(24).toString('base64url');
export const ownerId = (state: AccountState): string =>
  createHash('sha256').update(`sandbox-owner-${state.accountId}`).digest('hex');
/** Object responses carry `Last-Modified`, an HTTP date: whole seconds. */
const httpDate = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
export const unquote = (etag: string): string => etag.replace(/^"|"$/g, '');
/** The version a read names: the current one, or `versionId`'s. Throws S3's error codes for a GET. */
export function versionOf(
  bucket: S3BucketState,
  key: string,
  versionId: string | undefined,
): S3ObjectVersionState {
  const versions = bucket.objects[key];
  if (versionId === undefined) {
    const current = versions?.at(-1);
    if (!current || current.deleteMarker) throw s3Error('NoSuchKey', 'The specified key does not exist.');
    return current;
  }
  const version = versions?.find((v) => v.versionId === versionId);
  if (!version) throw s3Error('NoSuchVersion', 'The specified version does not exist.');
  if (version.deleteMarker) {
    throw s3Error('MethodNotAllowed', 'The specified method is not allowed against this resource.');
  }
  return version;
}

/** A HEAD response has no body: the SDK names its errors from the status alone. */
export function headError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (['NoSuchBucket', 'NoSuchKey', 'NoSuchVersion'].includes(error.name))
    return s3Error('NotFound', 'Not Found');
  if (error.name === 'MethodNotAllowed') return s3Error('MethodNotAllowed', 'Method Not Allowed');
  return error;
}

export function objectHeaders(bucket: S3BucketState, version: S3ObjectVersionState) {
  return {
    AcceptRanges: 'bytes',
    LastModified: httpDate(version.lastModified),
    ContentLength: version.size,
    ETag: version.etag,
    ContentType: version.contentType ?? 'application/octet-stream',
    ...(bucket.versioning ? { VersionId: version.versionId } : {}),
    ServerSideEncryption: 'AES256' as const,
    Metadata: { ...version.metadata },
    ...(version.lockMode !== undefined && version.retainUntil !== undefined
      ? { ObjectLockMode: version.lockMode, ObjectLockRetainUntilDate: new Date(version.retainUntil) }
      : {}),
  };
}
