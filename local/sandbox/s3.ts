/**
 * S3: buckets with versioning and Object Lock (default retention, GOVERNANCE and COMPLIANCE modes),
 * objects with conditional writes (`IfNoneMatch: '*'`, `IfMatch`), delete markers, and listings that
 * page as S3 does: keys in UTF-8 binary order, at most 1,000 a page.
 */
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type {
  _Object,
  CommonPrefix,
  CreateBucketCommandInput,
  CreateBucketCommandOutput,
  DeleteBucketCommandInput,
  DeleteBucketCommandOutput,
  DeleteMarkerEntry,
  DeleteObjectCommandInput,
  DeleteObjectCommandOutput,
  GetBucketVersioningCommandInput,
  GetBucketVersioningCommandOutput,
  GetObjectCommandInput,
  GetObjectCommandOutput,
  GetObjectLockConfigurationCommandInput,
  GetObjectLockConfigurationCommandOutput,
  HeadBucketCommandInput,
  HeadBucketCommandOutput,
  HeadObjectCommandInput,
  HeadObjectCommandOutput,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  ListObjectVersionsCommandInput,
  ListObjectVersionsCommandOutput,
  ObjectVersion,
  PutBucketVersioningCommandInput,
  PutBucketVersioningCommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  PutObjectLockConfigurationCommandInput,
  PutObjectLockConfigurationCommandOutput,
} from '@aws-sdk/client-s3';
import type { SdkStreamMixin } from '@smithy/types';
import * as z from 'zod/mini';
import type { JournaledService, Out } from './context.ts';
import { awsError, SandboxUnsupportedCommandError } from './errors.ts';
import type { AccountState, ObjectLockMode, S3BucketState, S3ObjectVersionState } from './state.ts';
import { emptyRecord } from './state.ts';

const DAY_MS = 86_400_000;
/** S3's page size: the default and the most `MaxKeys` gives. */
const MAX_KEYS = 1000;

const s3Error = (code: string, message: string): Error => awsError('S3', code, message);
const noSuchBucket = (): Error => s3Error('NoSuchBucket', 'The specified bucket does not exist');
const malformed = (): Error =>
  s3Error(
    'MalformedXML',
    'The XML you provided was not well-formed or did not validate against our published schema',
  );

/**
 * Compares keys in UTF-8 binary order, S3's listing order. UTF-16 order differs from it only between a
 * surrogate (a character above U+FFFF) and a character from U+E000 to U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Each bucket's keys in listing order, kept up to date as keys come and go; rebuilt when missing. */
const sortedKeys = new WeakMap<object, string[]>();

function keysOf(bucket: S3BucketState): string[] {
  let keys = sortedKeys.get(bucket.objects);
  if (!keys) {
    keys = Object.keys(bucket.objects).sort(compareKeys);
    sortedKeys.set(bucket.objects, keys);
  }
  return keys;
}

/** The first index whose key is not before `key` (or, with `strict`, is after it). */
function bound(keys: readonly string[], key: string, strict: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = compareKeys(keys[mid] ?? '', key);
    if (order < 0 || (strict && order === 0)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The first index from `from` whose key does not start with `prefix` (those that do are contiguous). */
function pastPrefix(keys: readonly string[], from: number, prefix: string): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] ?? '').startsWith(prefix)) low = mid + 1;
    else high = mid;
  }
  return low;
}

function addKey(bucket: S3BucketState, key: string): void {
  const keys = sortedKeys.get(bucket.objects);
  if (keys) keys.splice(bound(keys, key, false), 0, key);
}

function removeKey(bucket: S3BucketState, key: string): void {
  delete bucket.objects[key];
  const keys = sortedKeys.get(bucket.objects);
  if (!keys) return;
  const index = bound(keys, key, false);
  if (keys[index] === key) keys.splice(index, 1);
}

function bucketOf(state: AccountState, name: string | undefined): S3BucketState {
  const bucket = name === undefined ? undefined : state.s3.buckets[name];
  if (!bucket) throw noSuchBucket();
  return bucket;
}

/** S3's rules for general purpose bucket names (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html). */
function validBucketName(name: string): boolean {
  return (
    /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(name) &&
    !name.includes('..') &&
    !/^\d+\.\d+\.\d+\.\d+$/.test(name) &&
    !/^(xn--|sthree-|amzn-s3-demo-)/.test(name) &&
    !/(-s3alias|--ol-s3|\.mrap|--x-s3|--table-s3)$/.test(name)
  );
}

function objectKey(key: string | undefined): string {
  // The SDK refuses an empty key before sending anything.
  if (key === undefined || key === '') throw new Error('Empty value provided for input HTTP label: Key.');
  if (Buffer.byteLength(key, 'utf8') > 1024) throw s3Error('KeyTooLongError', 'Your key is too long');
  return key;
}

const newVersionId = (): string => randomBytes(24).toString('base64url');
const ownerId = (state: AccountState): string =>
  createHash('sha256').update(`sandbox-owner-${state.accountId}`).digest('hex');
/** Object responses carry `Last-Modified`, an HTTP date: whole seconds. */
const httpDate = (ms: number): Date => new Date(Math.floor(ms / 1000) * 1000);
const unquote = (etag: string): string => etag.replace(/^"|"$/g, '');

/**
 * PutObject's input with its body as bytes. The SDK takes a string, bytes, a Node or web stream or a Blob;
 * the sandbox reads a stream or Blob before answering (and before logging the call).
 */
export async function withBodyBytes(input: object): Promise<object> {
  if (!('Body' in input)) return input;
  const body: unknown = input.Body;
  if (body === undefined || typeof body === 'string' || body instanceof Uint8Array) return input;
  if (body instanceof Blob) return { ...input, Body: new Uint8Array(await body.arrayBuffer()) };
  if (typeof body === 'object' && body !== null && Symbol.asyncIterator in body) {
    const chunks: Buffer[] = [];
    for await (const chunk of body as AsyncIterable<unknown>) {
      if (typeof chunk === 'string') chunks.push(Buffer.from(chunk, 'utf8'));
      else if (chunk instanceof Uint8Array) chunks.push(Buffer.from(chunk));
      else throw new TypeError(`PutObject Body stream gave a ${typeof chunk}, expected bytes or strings`);
    }
    return { ...input, Body: new Uint8Array(Buffer.concat(chunks)) };
  }
  throw new TypeError(
    `PutObject Body must be a string, a Uint8Array, a stream or a Blob, got ${typeof body}`,
  );
}

function bodyBytes(body: unknown): Buffer {
  if (body === undefined) return Buffer.alloc(0);
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body instanceof Uint8Array) return Buffer.from(body);
  throw new TypeError('PutObject Body must be read into bytes first (withBodyBytes)');
}

/**
 * A GetObject body: a Node stream with the SDK's helpers (`transformToString`, `transformToByteArray`,
 * `transformToWebStream`), each of which consumes the stream and may be called once, as the SDK's.
 */
function bodyStream(bytes: Buffer): Readable & SdkStreamMixin {
  const stream = Readable.from([bytes], { objectMode: false });
  let transformed = false;
  const claim = (): void => {
    if (transformed) throw new Error('The stream has already been transformed.');
    transformed = true;
  };
  const collect = async (): Promise<Buffer> => {
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  };
  const mixin: SdkStreamMixin = {
    transformToByteArray: async () => {
      claim();
      return new Uint8Array(await collect());
    },
    transformToString: async (encoding?: string) => {
      claim();
      const data = await collect();
      if (encoding === undefined || Buffer.isEncoding(encoding)) return data.toString(encoding);
      return new TextDecoder(encoding).decode(data);
    },
    transformToWebStream: () => {
      claim();
      return Readable.toWeb(stream) as unknown as ReturnType<SdkStreamMixin['transformToWebStream']>;
    },
  };
  return Object.assign(stream, mixin);
}

/** The version a read names: the current one, or `versionId`'s. Throws S3's error codes for a GET. */
function versionOf(bucket: S3BucketState, key: string, versionId: string | undefined): S3ObjectVersionState {
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
function headError(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  if (['NoSuchBucket', 'NoSuchKey', 'NoSuchVersion'].includes(error.name))
    return s3Error('NotFound', 'Not Found');
  if (error.name === 'MethodNotAllowed') return s3Error('MethodNotAllowed', 'Method Not Allowed');
  return error;
}

function objectHeaders(bucket: S3BucketState, version: S3ObjectVersionState) {
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

/** `EncodingType: 'url'` would make S3 encode the keys of its answer; the sandbox does not. */
function plainKeys(command: string, input: { EncodingType?: string | undefined }): void {
  if (input.EncodingType !== undefined) {
    throw new SandboxUnsupportedCommandError('S3', `${command} with EncodingType ${input.EncodingType}`);
  }
}

function maxKeysOf(value: number | undefined): number {
  if (value === undefined) return MAX_KEYS;
  if (!Number.isInteger(value) || value < 0) {
    throw s3Error('InvalidArgument', 'Provided max-keys not an integer or within integer range');
  }
  return Math.min(value, MAX_KEYS);
}

/** The continuation token: where the last page stopped (a key, or a common prefix), opaque to callers. */
const token = (after: string, isPrefix: boolean): string =>
  Buffer.from(JSON.stringify([after, isPrefix]), 'utf8').toString('base64url');

function fromToken(value: string): { after: string; isPrefix: boolean } {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(value, 'base64url').toString('utf8'));
    if (Array.isArray(parsed) && typeof parsed[0] === 'string' && typeof parsed[1] === 'boolean')
      return { after: parsed[0], isPrefix: parsed[1] };
  } catch {
    // Falls through to S3's error.
  }
  throw s3Error('InvalidArgument', 'The continuation token provided is incorrect');
}

/** The common prefix `key` rolls up into, if the listing has a delimiter and the key holds one. */
function commonPrefix(key: string, prefix: string, delimiter: string | undefined): string | undefined {
  if (!delimiter) return undefined;
  const index = key.indexOf(delimiter, prefix.length);
  return index < 0 ? undefined : key.slice(0, index + delimiter.length);
}

/** S3 commands the sandbox simulates. */
export const s3Handlers: JournaledService<S3Event>['handlers'] = {
  /**
   * In us-east-1 a repeat succeeds and changes nothing (S3's legacy behaviour); elsewhere it is
   * `BucketAlreadyOwnedByYou` (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucket.html).
   */
  CreateBucket: (ctx, input: CreateBucketCommandInput): Out<CreateBucketCommandOutput> => {
    const name = input.Bucket ?? '';
    if (!validBucketName(name)) throw s3Error('InvalidBucketName', 'The specified bucket is not valid.');
    const region = ctx.state.region;
    const constraint: string | undefined = input.CreateBucketConfiguration?.LocationConstraint;
    if (region === 'us-east-1' && constraint === 'us-east-1') {
      throw s3Error('InvalidLocationConstraint', 'The specified location-constraint is not valid');
    }
    if (region !== 'us-east-1' && constraint !== region) {
      throw s3Error(
        'IllegalLocationConstraintException',
        `The ${constraint ?? 'unspecified'} location constraint is incompatible for the region specific endpoint this request was sent to.`,
      );
    }
    const location = region === 'us-east-1' ? `/${name}` : `http://${name}.s3.amazonaws.com/`;
    if (ctx.state.s3.buckets[name] && region === 'us-east-1') return { Location: location };
    ctx.commit({
      op: 'CreateBucket',
      at: ctx.now,
      bucket: name,
      objectLock: input.ObjectLockEnabledForBucket === true,
    });
    return { Location: location };
  },

  HeadBucket: (ctx, input: HeadBucketCommandInput): Out<HeadBucketCommandOutput> => {
    try {
      bucketOf(ctx.state, input.Bucket);
    } catch (error) {
      throw headError(error);
    }
    return { BucketRegion: ctx.state.region, AccessPointAlias: false };
  },

  DeleteBucket: (ctx, input: DeleteBucketCommandInput): Out<DeleteBucketCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    ctx.commit({ op: 'DeleteBucket', at: ctx.now, bucket: bucket.name });
    return {};
  },

  PutBucketVersioning: (
    ctx,
    input: PutBucketVersioningCommandInput,
  ): Out<PutBucketVersioningCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    const status = input.VersioningConfiguration?.Status;
    if (status !== 'Enabled' && status !== 'Suspended') throw malformed();
    ctx.commit({ op: 'PutBucketVersioning', at: ctx.now, bucket: bucket.name, status });
    return {};
  },

  GetBucketVersioning: (
    ctx,
    input: GetBucketVersioningCommandInput,
  ): Out<GetBucketVersioningCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    return bucket.versioning ? { Status: bucket.versioning } : {};
  },

  /**
   * Sets (or, without a rule, removes) the default retention. On a versioned bucket without Object Lock
   * it turns Object Lock on, as S3 has allowed since 2023; on an unversioned one it fails.
   */
  PutObjectLockConfiguration: (
    ctx,
    input: PutObjectLockConfigurationCommandInput,
  ): Out<PutObjectLockConfigurationCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    const config = input.ObjectLockConfiguration;
    if (config?.ObjectLockEnabled !== 'Enabled') throw malformed();
    const retention = config.Rule?.DefaultRetention;
    let rule: { mode: ObjectLockMode; days?: number; years?: number } | undefined;
    if (config.Rule) {
      const mode = retention?.Mode;
      const { Days: days, Years: years } = retention ?? {};
      if (
        (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE') ||
        (days === undefined) === (years === undefined)
      ) {
        throw malformed();
      }
      const period = days ?? years ?? 0;
      if (!Number.isInteger(period) || period <= 0) {
        throw s3Error('InvalidArgument', 'Default retention period must be a positive integer value.');
      }
      rule = { mode, ...(days === undefined ? { years: period } : { days: period }) };
    }
    ctx.commit({
      op: 'PutObjectLockConfiguration',
      at: ctx.now,
      bucket: bucket.name,
      ...(rule ? { retention: rule } : {}),
    });
    return {};
  },

  GetObjectLockConfiguration: (
    ctx,
    input: GetObjectLockConfigurationCommandInput,
  ): Out<GetObjectLockConfigurationCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    if (!bucket.objectLock) {
      throw s3Error(
        'ObjectLockConfigurationNotFoundError',
        'Object Lock configuration does not exist for this bucket',
      );
    }
    const rule = bucket.defaultRetention;
    return {
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        ...(rule
          ? {
              Rule: {
                DefaultRetention: {
                  Mode: rule.mode,
                  ...(rule.days === undefined ? { Years: rule.years } : { Days: rule.days }),
                },
              },
            }
          : {}),
      },
    };
  },

  /**
   * `IfNoneMatch: '*'` fails with `PreconditionFailed` when a current object exists; `IfMatch` when its
   * ETag differs. In an Object Lock bucket the version gets the explicit retention, else the default one.
   */
  PutObject: (ctx, input: PutObjectCommandInput): Out<PutObjectCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    const key = objectKey(input.Key);
    const body = bodyBytes(input.Body);
    if (input.IfNoneMatch !== undefined && input.IfNoneMatch !== '*') {
      throw s3Error('NotImplemented', 'A header you provided implies functionality that is not implemented');
    }
    const mode = input.ObjectLockMode;
    const until = input.ObjectLockRetainUntilDate;
    if ((mode === undefined) !== (until === undefined)) {
      throw s3Error(
        'InvalidArgument',
        'x-amz-object-lock-retain-until-date and x-amz-object-lock-mode must both be supplied',
      );
    }
    let lock: { mode: ObjectLockMode; retainUntil: number } | undefined;
    if (mode !== undefined && until !== undefined) {
      if (mode !== 'GOVERNANCE' && mode !== 'COMPLIANCE')
        throw s3Error('InvalidArgument', 'Unknown wormMode directive.');
      const retainUntil = new Date(until).getTime();
      if (!(retainUntil > ctx.now))
        throw s3Error('InvalidArgument', 'The retain until date must be in the future!');
      lock = { mode, retainUntil };
    }
    const etag = `"${createHash('md5').update(body).digest('hex')}"`;
    const metadata = Object.fromEntries(
      Object.entries(input.Metadata ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
    );
    const result = ctx.commit({
      op: 'PutObject',
      at: ctx.now,
      bucket: bucket.name,
      key,
      versionId: newVersionId(),
      body: body.toString('base64'),
      size: body.length,
      etag,
      ...(input.ContentType === undefined ? {} : { contentType: input.ContentType }),
      ...(Object.keys(metadata).length > 0 ? { metadata } : {}),
      ...(input.IfNoneMatch === '*' ? { ifNoneMatch: true } : {}),
      ...(input.IfMatch === undefined ? {} : { ifMatch: input.IfMatch }),
      ...(lock ? { lock } : {}),
    }) as { versionId?: string };
    return {
      ETag: etag,
      ServerSideEncryption: 'AES256',
      ...(result.versionId === undefined ? {} : { VersionId: result.versionId }),
    };
  },

  GetObject: (ctx, input: GetObjectCommandInput): Out<GetObjectCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    const version = versionOf(bucket, objectKey(input.Key), input.VersionId);
    const body = bodyStream(Buffer.from(version.body, 'base64'));
    // The SDK types the body as its own stream classes; this one has the same helpers.
    return { ...objectHeaders(bucket, version), Body: body as unknown as GetObjectCommandOutput['Body'] };
  },

  HeadObject: (ctx, input: HeadObjectCommandInput): Out<HeadObjectCommandOutput> => {
    try {
      const bucket = bucketOf(ctx.state, input.Bucket);
      return objectHeaders(bucket, versionOf(bucket, objectKey(input.Key), input.VersionId));
    } catch (error) {
      throw headError(error);
    }
  },

  /** Current objects that are not delete markers, in UTF-8 binary order, `MaxKeys` (at most 1,000) a page. */
  ListObjectsV2: (ctx, input: ListObjectsV2CommandInput): Out<ListObjectsV2CommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    plainKeys(ctx.command, input);
    const maxKeys = maxKeysOf(input.MaxKeys);
    const prefix = input.Prefix ?? '';
    const delimiter = input.Delimiter === '' ? undefined : input.Delimiter;
    const resume =
      input.ContinuationToken !== undefined
        ? fromToken(input.ContinuationToken)
        : input.StartAfter
          ? { after: input.StartAfter, isPrefix: false }
          : undefined;
    const keys = keysOf(bucket);
    let index = bound(keys, prefix, false);
    if (resume) {
      index = Math.max(index, bound(keys, resume.after, true));
      if (resume.isPrefix) index = pastPrefix(keys, index, resume.after);
    }
    const contents: _Object[] = [];
    const prefixes: CommonPrefix[] = [];
    let last: { after: string; isPrefix: boolean } | undefined;
    let truncated = false;
    while (index < keys.length) {
      const key = keys[index] ?? '';
      if (!key.startsWith(prefix)) break;
      const current = bucket.objects[key]?.at(-1);
      if (!current || current.deleteMarker) {
        index += 1;
        continue;
      }
      if (contents.length + prefixes.length === maxKeys) {
        truncated = maxKeys > 0;
        break;
      }
      const rolled = commonPrefix(key, prefix, delimiter);
      if (rolled !== undefined) {
        prefixes.push({ Prefix: rolled });
        last = { after: rolled, isPrefix: true };
        index = pastPrefix(keys, index, rolled);
        continue;
      }
      contents.push({
        Key: key,
        LastModified: new Date(current.lastModified),
        ETag: current.etag,
        Size: current.size,
        StorageClass: 'STANDARD',
        ...(input.FetchOwner === true ? { Owner: { ID: ownerId(ctx.state) } } : {}),
      });
      last = { after: key, isPrefix: false };
      index += 1;
    }
    return {
      IsTruncated: truncated,
      ...(contents.length > 0 ? { Contents: contents } : {}),
      Name: bucket.name,
      Prefix: prefix,
      ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
      MaxKeys: maxKeys,
      ...(prefixes.length > 0 ? { CommonPrefixes: prefixes } : {}),
      KeyCount: contents.length + prefixes.length,
      ...(input.ContinuationToken === undefined ? {} : { ContinuationToken: input.ContinuationToken }),
      ...(truncated && last ? { NextContinuationToken: token(last.after, last.isPrefix) } : {}),
      ...(input.StartAfter === undefined ? {} : { StartAfter: input.StartAfter }),
    };
  },

  /** Versions and delete markers, keys in order and each key's newest first, `MaxKeys` entries a page. */
  ListObjectVersions: (ctx, input: ListObjectVersionsCommandInput): Out<ListObjectVersionsCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    plainKeys(ctx.command, input);
    const maxKeys = maxKeysOf(input.MaxKeys);
    const prefix = input.Prefix ?? '';
    const delimiter = input.Delimiter === '' ? undefined : input.Delimiter;
    const keyMarker = input.KeyMarker === '' ? undefined : input.KeyMarker;
    const versionIdMarker = input.VersionIdMarker === '' ? undefined : input.VersionIdMarker;
    if (versionIdMarker !== undefined && keyMarker === undefined) {
      throw s3Error('InvalidArgument', 'A version-id marker cannot be specified without a key marker.');
    }
    const keys = keysOf(bucket);
    let index = bound(keys, prefix, false);
    if (keyMarker !== undefined) {
      index = Math.max(index, bound(keys, keyMarker, versionIdMarker === undefined));
      // A key marker that is a common prefix (a page ended on one) resumes after all its keys.
      if (delimiter && keyMarker.startsWith(prefix) && keyMarker.endsWith(delimiter)) {
        index = pastPrefix(keys, index, keyMarker);
      }
    }
    const owner = { ID: ownerId(ctx.state) };
    const versions: ObjectVersion[] = [];
    const markers: DeleteMarkerEntry[] = [];
    const prefixes: CommonPrefix[] = [];
    let count = 0;
    let truncated = false;
    let next: { key: string; versionId?: string } | undefined;
    outer: while (index < keys.length) {
      const key = keys[index] ?? '';
      if (!key.startsWith(prefix)) break;
      const rolled = commonPrefix(key, prefix, delimiter);
      if (rolled !== undefined) {
        if (count === maxKeys) {
          truncated = maxKeys > 0;
          break;
        }
        prefixes.push({ Prefix: rolled });
        count += 1;
        next = { key: rolled };
        index = pastPrefix(keys, index, rolled);
        continue;
      }
      const entries = bucket.objects[key] ?? [];
      let position = entries.length - 1;
      if (key === keyMarker && versionIdMarker !== undefined) {
        const markerAt = entries.findIndex((v) => v.versionId === versionIdMarker);
        position = markerAt < 0 ? -1 : markerAt - 1;
      }
      for (; position >= 0; position -= 1) {
        const entry = entries[position];
        if (!entry) continue;
        if (count === maxKeys) {
          truncated = maxKeys > 0;
          break outer;
        }
        const common = {
          Key: key,
          VersionId: entry.versionId,
          IsLatest: position === entries.length - 1,
          LastModified: new Date(entry.lastModified),
          Owner: owner,
        };
        if (entry.deleteMarker) markers.push(common);
        else versions.push({ ...common, ETag: entry.etag, Size: entry.size, StorageClass: 'STANDARD' });
        count += 1;
        next = { key, versionId: entry.versionId };
      }
      index += 1;
    }
    return {
      IsTruncated: truncated,
      KeyMarker: input.KeyMarker ?? '',
      VersionIdMarker: input.VersionIdMarker ?? '',
      ...(truncated && next
        ? {
            NextKeyMarker: next.key,
            ...(next.versionId === undefined ? {} : { NextVersionIdMarker: next.versionId }),
          }
        : {}),
      ...(versions.length > 0 ? { Versions: versions } : {}),
      ...(markers.length > 0 ? { DeleteMarkers: markers } : {}),
      Name: bucket.name,
      Prefix: prefix,
      ...(delimiter === undefined ? {} : { Delimiter: delimiter }),
      MaxKeys: maxKeys,
      ...(prefixes.length > 0 ? { CommonPrefixes: prefixes } : {}),
    };
  },

  /**
   * Without `VersionId` in a versioned bucket: adds a delete marker (Object Lock allows it). With one:
   * removes that version, unless its retention has not expired (COMPLIANCE; GOVERNANCE without
   * `BypassGovernanceRetention`): `AccessDenied`.
   */
  DeleteObject: (ctx, input: DeleteObjectCommandInput): Out<DeleteObjectCommandOutput> => {
    const bucket = bucketOf(ctx.state, input.Bucket);
    const key = objectKey(input.Key);
    const versions = bucket.objects[key];
    // Deleting what is not there succeeds and changes nothing.
    if (input.VersionId !== undefined && !versions?.some((v) => v.versionId === input.VersionId)) {
      return { VersionId: input.VersionId };
    }
    if (input.VersionId === undefined && !bucket.versioning && !versions) return {};
    const result = ctx.commit({
      op: 'DeleteObject',
      at: ctx.now,
      bucket: bucket.name,
      key,
      ...(input.VersionId === undefined ? {} : { versionId: input.VersionId }),
      markerVersionId: newVersionId(),
      bypassGovernance: input.BypassGovernanceRetention === true,
    }) as { versionId?: string; deleteMarker?: boolean };
    return {
      ...(result.deleteMarker ? { DeleteMarker: true } : {}),
      ...(result.versionId === undefined ? {} : { VersionId: result.versionId }),
    };
  },
};

const lockSchema = z.object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), retainUntil: z.number() });

const eventSchema = z.discriminatedUnion('op', [
  z.object({ op: z.literal('CreateBucket'), at: z.number(), bucket: z.string(), objectLock: z.boolean() }),
  z.object({ op: z.literal('DeleteBucket'), at: z.number(), bucket: z.string() }),
  z.object({
    op: z.literal('PutBucketVersioning'),
    at: z.number(),
    bucket: z.string(),
    status: z.enum(['Enabled', 'Suspended']),
  }),
  z.object({
    op: z.literal('PutObjectLockConfiguration'),
    at: z.number(),
    bucket: z.string(),
    retention: z.optional(
      z.object({
        mode: z.enum(['GOVERNANCE', 'COMPLIANCE']),
        days: z.optional(z.number()),
        years: z.optional(z.number()),
      }),
    ),
  }),
  z.object({
    op: z.literal('PutObject'),
    at: z.number(),
    bucket: z.string(),
    key: z.string(),
    versionId: z.string(),
    body: z.string(),
    size: z.number(),
    etag: z.string(),
    contentType: z.optional(z.string()),
    metadata: z.optional(z.record(z.string(), z.string())),
    ifNoneMatch: z.optional(z.boolean()),
    ifMatch: z.optional(z.string()),
    lock: z.optional(lockSchema),
  }),
  z.object({
    op: z.literal('DeleteObject'),
    at: z.number(),
    bucket: z.string(),
    key: z.string(),
    versionId: z.optional(z.string()),
    markerVersionId: z.string(),
    bypassGovernance: z.boolean(),
  }),
]);

/** A change to S3, as its journal records it. */
export type S3Event = z.infer<typeof eventSchema>;

/** Replaces the key's `null` version, if any, with `version` (or appends it). */
function putVersion(bucket: S3BucketState, key: string, version: S3ObjectVersionState): void {
  const versions = bucket.objects[key];
  if (!versions) {
    bucket.objects[key] = [version];
    addKey(bucket, key);
    return;
  }
  if (version.versionId === 'null') {
    const existing = versions.findIndex((v) => v.versionId === 'null');
    if (existing >= 0) versions.splice(existing, 1);
  }
  versions.push(version);
}

function prepareS3(state: AccountState, event: S3Event): () => unknown {
  const { buckets } = state.s3;
  if (event.op === 'CreateBucket') {
    if (buckets[event.bucket]) {
      if (state.region === 'us-east-1') return () => ({});
      throw s3Error(
        'BucketAlreadyOwnedByYou',
        'Your previous request to create the named bucket succeeded and you already own it.',
      );
    }
    return () => {
      buckets[event.bucket] = {
        name: event.bucket,
        creationDate: event.at,
        ...(event.objectLock ? { versioning: 'Enabled' as const } : {}),
        objectLock: event.objectLock,
        objects: emptyRecord(),
      };
      return {};
    };
  }
  const bucket = buckets[event.bucket];
  if (!bucket) throw noSuchBucket();
  switch (event.op) {
    case 'DeleteBucket': {
      if (Object.keys(bucket.objects).length > 0) {
        throw s3Error(
          'BucketNotEmpty',
          bucket.versioning
            ? 'The bucket you tried to delete is not empty. You must delete all versions in the bucket.'
            : 'The bucket you tried to delete is not empty',
        );
      }
      return () => {
        delete buckets[event.bucket];
        return {};
      };
    }
    case 'PutBucketVersioning': {
      if (bucket.objectLock && event.status === 'Suspended') {
        throw s3Error(
          'InvalidBucketState',
          'An Object Lock configuration is present on this bucket, so the versioning state cannot be changed.',
        );
      }
      return () => {
        bucket.versioning = event.status;
        return {};
      };
    }
    case 'PutObjectLockConfiguration': {
      if (!bucket.objectLock && bucket.versioning !== 'Enabled') {
        throw s3Error(
          'InvalidBucketState',
          "Versioning must be 'Enabled' on the bucket to apply a Object Lock configuration",
        );
      }
      return () => {
        bucket.objectLock = true;
        if (event.retention) bucket.defaultRetention = { ...event.retention };
        else delete bucket.defaultRetention;
        return {};
      };
    }
    case 'PutObject': {
      const current = bucket.objects[event.key]?.at(-1);
      const live = current && !current.deleteMarker ? current : undefined;
      if (event.ifNoneMatch && live) {
        throw s3Error('PreconditionFailed', 'At least one of the pre-conditions you specified did not hold');
      }
      if (event.ifMatch !== undefined) {
        if (!live) throw s3Error('NoSuchKey', 'The specified key does not exist.');
        if (event.ifMatch !== '*' && unquote(event.ifMatch) !== unquote(live.etag)) {
          throw s3Error(
            'PreconditionFailed',
            'At least one of the pre-conditions you specified did not hold',
          );
        }
      }
      if (event.lock && !bucket.objectLock) {
        throw s3Error('InvalidRequest', 'Bucket is missing Object Lock Configuration');
      }
      const rule = bucket.objectLock ? bucket.defaultRetention : undefined;
      const lock =
        event.lock ??
        (rule
          ? {
              mode: rule.mode,
              retainUntil: event.at + (rule.days ?? 0) * DAY_MS + (rule.years ?? 0) * 365 * DAY_MS,
            }
          : undefined);
      const versionId = bucket.versioning === 'Enabled' ? event.versionId : 'null';
      return () => {
        putVersion(bucket, event.key, {
          versionId,
          deleteMarker: false,
          lastModified: event.at,
          body: event.body,
          size: event.size,
          etag: event.etag,
          ...(event.contentType === undefined ? {} : { contentType: event.contentType }),
          ...(event.metadata === undefined ? {} : { metadata: { ...event.metadata } }),
          ...(lock ? { lockMode: lock.mode, retainUntil: lock.retainUntil } : {}),
        });
        return bucket.versioning ? { versionId } : {};
      };
    }
    case 'DeleteObject': {
      const versions = bucket.objects[event.key];
      if (event.versionId === undefined) {
        if (!bucket.versioning) {
          return () => {
            if (bucket.objects[event.key]) removeKey(bucket, event.key);
            return {};
          };
        }
        const markerId = bucket.versioning === 'Enabled' ? event.markerVersionId : 'null';
        return () => {
          putVersion(bucket, event.key, {
            versionId: markerId,
            deleteMarker: true,
            lastModified: event.at,
            body: '',
            size: 0,
            etag: '',
          });
          return { deleteMarker: true, versionId: markerId };
        };
      }
      const index = versions?.findIndex((v) => v.versionId === event.versionId) ?? -1;
      const version = versions?.[index];
      if (!versions || !version) return () => ({ versionId: event.versionId });
      const locked =
        !version.deleteMarker &&
        version.retainUntil !== undefined &&
        version.retainUntil > event.at &&
        (version.lockMode === 'COMPLIANCE' || !event.bypassGovernance);
      if (locked) throw s3Error('AccessDenied', 'Access Denied because object protected by object lock.');
      return () => {
        versions.splice(index, 1);
        if (versions.length === 0) removeKey(bucket, event.key);
        return { versionId: event.versionId, ...(version.deleteMarker ? { deleteMarker: true } : {}) };
      };
    }
  }
}

/** S3 as a journaled service. */
export const s3Service: JournaledService<S3Event> = {
  handlers: s3Handlers,
  prepare: prepareS3,
  parse: (value) => {
    const result = eventSchema.safeParse(value);
    return result.success ? { event: result.data } : { problem: z.prettifyError(result.error) };
  },
};
