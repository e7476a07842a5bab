/** S3's bucket and object commands (the listings are in `list.ts`). */
import { createHash } from 'node:crypto';
import type {
  CreateBucketCommandInput,
  CreateBucketCommandOutput,
  DeleteBucketCommandInput,
  DeleteBucketCommandOutput,
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
  PutBucketVersioningCommandInput,
  PutBucketVersioningCommandOutput,
  PutObjectCommandInput,
  PutObjectCommandOutput,
  PutObjectLockConfigurationCommandInput,
  PutObjectLockConfigurationCommandOutput,
} from '@aws-sdk/client-s3';
import type { JournaledService, Out } from '../context.ts';
import type { ObjectLockMode } from '../state.ts';
import { bodyBytes, bodyStream } from './body.ts';
import {
  bucketOf,
  headError,
  malformed,
  newVersionId,
  objectHeaders,
  objectKey,
  s3Error,
  validBucketName,
  versionOf,
} from './common.ts';
import type { S3Event } from './journal.ts';
import { listHandlers } from './list.ts';

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

  ...listHandlers,

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
