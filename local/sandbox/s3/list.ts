/** S3's listings, ListObjectsV2 and ListObjectVersions: keys in UTF-8 binary order, `MaxKeys` a page. */
import type {
  _Object,
  CommonPrefix,
  DeleteMarkerEntry,
  ListObjectsV2CommandInput,
  ListObjectsV2CommandOutput,
  ListObjectVersionsCommandInput,
  ListObjectVersionsCommandOutput,
  ObjectVersion,
} from '@aws-sdk/client-s3';
import type { CallContext, JournaledService, Out } from '../context.ts';
import { SandboxUnsupportedCommandError } from '../errors.ts';
import { bucketOf, MAX_KEYS, ownerId, s3Error } from './common.ts';
import type { S3Event } from './journal.ts';
import { bound, keysOf, pastPrefix } from './keys.ts';

/** `EncodingType: 'url'` would make S3 encode the keys of its answer; the sandbox does not. */
function plainKeys(command: string, input: { EncodingType?: string | undefined }): void {
  if (input.EncodingType !== undefined) {
    throw new SandboxUnsupportedCommandError('S3', `${command} with EncodingType ${input.EncodingType}`);
  }
}

/**
 * `MaxKeys` as S3 reads it: 1,000 when not given and never more, a negative value `InvalidArgument`
 * (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectsV2.html: "returns up to 1,000 key names
 * ... may contain fewer keys but will never contain more"). The sandbox's `pageCap` cuts a page shorter
 * still, with a token for the rest, as S3 may; the response's `MaxKeys` stays the one asked.
 */
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

/** What both listings read the same way: the bucket, the page length (`pageCap` applied), prefix, delimiter. */
function listingOf(
  ctx: CallContext,
  input: ListObjectsV2CommandInput | ListObjectVersionsCommandInput,
): {
  bucket: ReturnType<typeof bucketOf>;
  maxKeys: number;
  pageLength: number;
  prefix: string;
  delimiter?: string;
} {
  const bucket = bucketOf(ctx.state, input.Bucket);
  plainKeys(ctx.command, input);
  const maxKeys = maxKeysOf(input.MaxKeys);
  const delimiter = input.Delimiter === '' ? undefined : input.Delimiter;
  return {
    bucket,
    maxKeys,
    pageLength: Math.min(maxKeys, ctx.pageCap ?? maxKeys),
    prefix: input.Prefix ?? '',
    ...(delimiter === undefined ? {} : { delimiter }),
  };
}

/** S3's listings. */
export const listHandlers: JournaledService<S3Event>['handlers'] = {
  /** Current objects that are not delete markers, in UTF-8 binary order, `MaxKeys` (at most 1,000) a page. */
  ListObjectsV2: (ctx, input: ListObjectsV2CommandInput): Out<ListObjectsV2CommandOutput> => {
    const { bucket, maxKeys, pageLength, prefix, delimiter } = listingOf(ctx, input);
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
      if (contents.length + prefixes.length === pageLength) {
        truncated = pageLength > 0;
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
    const { bucket, maxKeys, pageLength, prefix, delimiter } = listingOf(ctx, input);
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
        if (count === pageLength) {
          truncated = pageLength > 0;
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
        if (count === pageLength) {
          truncated = pageLength > 0;
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
};
