/** S3's changes as its journal records them, and how each applies to the state. */
import * as z from 'zod/mini';
import type { AccountState, S3BucketState, S3ObjectVersionState } from '../state.ts';
import { emptyRecord } from '../state.ts';
import { DAY_MS, noSuchBucket, s3Error, unquote } from './common.ts';
import { addKey, removeKey } from './keys.ts';

const lockSchema = z.object({ mode: z.enum(['GOVERNANCE', 'COMPLIANCE']), retainUntil: z.number() });

export const eventSchema = z.discriminatedUnion('op', [
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

export function prepareS3(state: AccountState, event: S3Event): () => unknown {
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
