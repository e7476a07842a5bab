import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import {
  AccessDenied,
  BucketAlreadyOwnedByYou,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  GetBucketVersioningCommand,
  GetObjectCommand,
  GetObjectLockConfigurationCommand,
  HeadBucketCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  type ListObjectsV2CommandOutput,
  ListObjectVersionsCommand,
  NoSuchBucket,
  NoSuchKey,
  NotFound,
  PutBucketVersioningCommand,
  PutObjectCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
  S3ServiceException,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { config, errorOf, setup } from './helpers.ts';

const DAY = 86_400_000;
const anchorKey = (seq: number, hash = 'ab'.repeat(32)) =>
  `anchors/inc-1/${String(seq).padStart(10, '0')}-${hash}`;

/** A sandbox with bucket `anchors` under Object Lock, default retention COMPLIANCE 30 days. */
async function lockedBucket() {
  const env = setup();
  await env.s3.send(new CreateBucketCommand({ Bucket: 'anchors', ObjectLockEnabledForBucket: true }));
  await env.s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: 'anchors',
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
      },
    }),
  );
  return env;
}

async function plainBucket(versioned = false) {
  const env = setup();
  await env.s3.send(new CreateBucketCommand({ Bucket: 'plain' }));
  if (versioned) {
    await env.s3.send(
      new PutBucketVersioningCommand({ Bucket: 'plain', VersioningConfiguration: { Status: 'Enabled' } }),
    );
  }
  return env;
}

/** Every key of a listing, following each page; returns the keys and the page sizes. */
async function listAll(s3: S3Client, input: { Bucket: string; Prefix?: string; MaxKeys?: number }) {
  const keys: string[] = [];
  const pages: ListObjectsV2CommandOutput[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ ...input, ...(token ? { ContinuationToken: token } : {}) }),
    );
    pages.push(page);
    keys.push(...(page.Contents ?? []).map((c) => c.Key ?? ''));
    token = page.NextContinuationToken;
  } while (token);
  return { keys, pages };
}

describe('S3 objects', () => {
  it('stores string, Uint8Array, Buffer and stream bodies and returns them with the SDK stream helpers', async () => {
    const { s3 } = await plainBucket();
    const bodies = {
      string: 'héllo',
      bytes: new TextEncoder().encode('bytes'),
      buffer: Buffer.from([0, 1, 2, 255]),
      stream: Readable.from([Buffer.from('str'), Buffer.from('eam')]),
    };
    const expected = {
      string: Buffer.from('héllo'),
      bytes: Buffer.from('bytes'),
      buffer: Buffer.from([0, 1, 2, 255]),
      stream: Buffer.from('stream'),
    };
    for (const [key, Body] of Object.entries(bodies)) {
      const put = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: key, Body }));
      const bytes = expected[key as keyof typeof expected];
      expect(put.ETag).toBe(`"${createHash('md5').update(bytes).digest('hex')}"`);
      const got = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: key }));
      expect(got.ContentLength).toBe(bytes.length);
      expect(got.ETag).toBe(put.ETag);
      expect(Buffer.from((await got.Body?.transformToByteArray()) ?? [])).toEqual(bytes);
    }
    const text = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'string' }));
    expect(await text.Body?.transformToString()).toBe('héllo');
    await expect(text.Body?.transformToString()).rejects.toThrow('already been transformed');
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'string' }));
    expect(head).toMatchObject({ ContentLength: 6, ETag: text.ETag });
    expect(head.VersionId).toBeUndefined();
  });

  it('keeps an object readable as a stream too', async () => {
    const { s3 } = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'streamed' }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' }));
    const chunks: Buffer[] = [];
    for await (const chunk of got.Body as Readable) chunks.push(chunk as Buffer);
    expect(Buffer.concat(chunks).toString()).toBe('streamed');
  });

  it('fails IfNoneMatch: * with PreconditionFailed (412) when a current object exists', async () => {
    const { s3, sandbox } = await lockedBucket();
    const key = anchorKey(1);
    await s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: key, Body: '', IfNoneMatch: '*' }));
    const error = await errorOf(
      s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: key, Body: 'x', IfNoneMatch: '*' })),
    );
    expect(error.name).toBe('PreconditionFailed');
    expect(error).toBeInstanceOf(S3ServiceException);
    expect(error.$metadata?.httpStatusCode).toBe(412);
    expect(sandbox.state().s3.buckets.anchors?.objects[key]).toHaveLength(1);
    // Behind a delete marker there is no current object: the conditional put succeeds.
    await s3.send(new DeleteObjectCommand({ Bucket: 'anchors', Key: key }));
    await s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: key, Body: 'y', IfNoneMatch: '*' }));
    expect(sandbox.state().s3.buckets.anchors?.objects[key]).toHaveLength(3);
  });

  it('fails IfMatch with PreconditionFailed when the ETag differs', async () => {
    const { s3 } = await plainBucket();
    const { ETag } = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'one' }));
    const stale = await errorOf(
      s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'x', IfMatch: '"0"' })),
    );
    expect(stale.name).toBe('PreconditionFailed');
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'two', IfMatch: ETag }));
    const got = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('two');
  });

  it('replaces an object in an unversioned bucket, and deletes it for good', async () => {
    const { s3, sandbox } = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'one' }));
    const put = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'two' }));
    expect(put.VersionId).toBeUndefined();
    expect(sandbox.state().s3.buckets.plain?.objects.k).toHaveLength(1);
    expect(await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k' }))).not.toHaveProperty(
      'DeleteMarker',
    );
    expect(await errorOf(s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' })))).toBeInstanceOf(
      NoSuchKey,
    );
    expect((await s3.send(new ListObjectVersionsCommand({ Bucket: 'plain' }))).Versions).toBeUndefined();
  });

  it('keeps every version in a versioned bucket; a delete marker hides the key from reads and listings', async () => {
    const { s3 } = await plainBucket(true);
    const one = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'one' }));
    const two = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'two' }));
    expect(one.VersionId).toMatch(/^[\w-]{32}$/);
    expect(two.VersionId).not.toBe(one.VersionId);
    const deleted = await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k' }));
    expect(deleted.DeleteMarker).toBe(true);
    expect(await errorOf(s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' })))).toBeInstanceOf(
      NoSuchKey,
    );
    expect(await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'plain', Key: 'k' })))).toBeInstanceOf(
      NotFound,
    );
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'plain' }))).KeyCount).toBe(0);
    const old = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: one.VersionId }));
    expect(await old.Body?.transformToString()).toBe('one');
    const versions = await s3.send(new ListObjectVersionsCommand({ Bucket: 'plain' }));
    expect(versions.DeleteMarkers?.map((m) => [m.VersionId, m.IsLatest])).toEqual([
      [deleted.VersionId, true],
    ]);
    expect(versions.Versions?.map((v) => [v.VersionId, v.IsLatest])).toEqual([
      [two.VersionId, false],
      [one.VersionId, false],
    ]);
    const onMarker = await errorOf(
      s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: deleted.VersionId })),
    );
    expect(onMarker.name).toBe('MethodNotAllowed');
    // Deleting the marker brings the object back.
    await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k', VersionId: deleted.VersionId }));
    const back = await s3.send(new GetObjectCommand({ Bucket: 'plain', Key: 'k' }));
    expect(back.VersionId).toBe(two.VersionId);
  });

  it('keeps a key named __proto__ as an ordinary object', async () => {
    const { s3, sandbox } = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: '__proto__', Body: 'p' }));
    expect(
      (await s3.send(new ListObjectsV2Command({ Bucket: 'plain' }))).Contents?.map((c) => c.Key),
    ).toEqual(['__proto__']);
    const state = sandbox.state();
    expect(Object.keys(state.s3.buckets.plain?.objects ?? {})).toEqual(['__proto__']);
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
  });

  it('fails with NoSuchBucket for an unknown bucket, and NotFound for a HEAD', async () => {
    const { s3 } = setup();
    expect(
      await errorOf(s3.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' }))),
    ).toBeInstanceOf(NoSuchBucket);
    expect(await errorOf(s3.send(new ListObjectsV2Command({ Bucket: 'nope' })))).toBeInstanceOf(NoSuchBucket);
    const head = await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'nope' })));
    expect(head).toBeInstanceOf(NotFound);
    expect(head.$metadata?.httpStatusCode).toBe(404);
  });

  it('injects failures and denies S3 commands with AccessDenied', async () => {
    const env = await plainBucket();
    const { s3, sandbox } = env;
    sandbox.failNext('S3:PutObject', 1, { code: 'SlowDown', fault: 'server' });
    expect(
      (await errorOf(s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'x' })))).name,
    ).toBe('SlowDown');
    const denied = setup({ denied: ['S3:ListObjectsV2'] });
    const error = await errorOf(denied.s3.send(new ListObjectsV2Command({ Bucket: 'plain' })));
    expect(error).toBeInstanceOf(AccessDenied);
    expect(error.message).toContain('s3:ListBucket');
    expect(sandbox.calls.at(-1)).toMatchObject({
      service: 'S3',
      command: 'PutObject',
      error: { name: 'SlowDown' },
    });
  });
});

describe('S3 listings', () => {
  it('pages 2,500 keys in three pages, in UTF-8 binary order', async () => {
    const { s3 } = await plainBucket();
    // In UTF-16 order U+1F600 sorts before U+E000; in UTF-8 (S3's order) after it.
    const keys = [
      ...Array.from({ length: 2497 }, (_, i) => anchorKey(i)),
      'anchors/\u{e000}',
      'anchors/\u{1f600}',
      'anchors/Z',
    ];
    for (const [i, key] of [...keys].reverse().entries()) {
      await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: key, Body: String(i) }));
    }
    const { keys: listed, pages } = await listAll(s3, { Bucket: 'plain', Prefix: 'anchors/' });
    const expected = [...keys].sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)));
    expect(expected.indexOf('anchors/\u{e000}')).toBeLessThan(expected.indexOf('anchors/\u{1f600}'));
    expect(listed).toEqual(expected);
    expect(pages.map((p) => [p.KeyCount, p.IsTruncated, p.MaxKeys])).toEqual([
      [1000, true, 1000],
      [1000, true, 1000],
      [500, false, 1000],
    ]);
    expect(pages[2]?.NextContinuationToken).toBeUndefined();
    // More than 1000 is capped at 1000; fewer is honoured.
    expect((await s3.send(new ListObjectsV2Command({ Bucket: 'plain', MaxKeys: 5000 }))).KeyCount).toBe(1000);
    const small = await listAll(s3, { Bucket: 'plain', Prefix: 'anchors/inc-1/000000000', MaxKeys: 7 });
    expect(small.keys).toEqual(expected.filter((k) => k.startsWith('anchors/inc-1/000000000')));
    expect(small.pages.map((p) => p.KeyCount)).toEqual([7, 3]);
  });

  it('starts after StartAfter, and rolls keys up into CommonPrefixes with a Delimiter', async () => {
    const { s3 } = await plainBucket();
    for (const key of ['a/1', 'a/2', 'b/1', 'c', 'd/x/1', 'd/y']) {
      await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: key, Body: '' }));
    }
    const after = await s3.send(new ListObjectsV2Command({ Bucket: 'plain', StartAfter: 'a/2' }));
    expect(after.Contents?.map((c) => c.Key)).toEqual(['b/1', 'c', 'd/x/1', 'd/y']);
    expect(after.StartAfter).toBe('a/2');
    const rolled = await s3.send(new ListObjectsV2Command({ Bucket: 'plain', Delimiter: '/' }));
    expect(rolled.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['a/', 'b/', 'd/']);
    expect(rolled.Contents?.map((c) => c.Key)).toEqual(['c']);
    expect(rolled.KeyCount).toBe(4);
    // A page may end on a common prefix; the next one does not repeat it.
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await s3.send(
        new ListObjectsV2Command({
          Bucket: 'plain',
          Delimiter: '/',
          MaxKeys: 1,
          ...(token ? { ContinuationToken: token } : {}),
        }),
      );
      seen.push(
        ...(page.CommonPrefixes ?? []).map((p) => p.Prefix ?? ''),
        ...(page.Contents ?? []).map((c) => c.Key ?? ''),
      );
      token = page.NextContinuationToken;
    } while (token);
    expect(seen).toEqual(['a/', 'b/', 'c', 'd/']);
    const nested = await s3.send(new ListObjectsV2Command({ Bucket: 'plain', Prefix: 'd/', Delimiter: '/' }));
    expect(nested.CommonPrefixes?.map((p) => p.Prefix)).toEqual(['d/x/']);
    expect(nested.Contents?.map((c) => c.Key)).toEqual(['d/y']);
    expect(
      (await errorOf(s3.send(new ListObjectsV2Command({ Bucket: 'plain', ContinuationToken: '!' })))).name,
    ).toBe('InvalidArgument');
  });

  it('pages ListObjectVersions by KeyMarker and VersionIdMarker, newest version first', async () => {
    const { s3 } = await plainBucket(true);
    const written: [string, string][] = [];
    for (const key of ['a', 'b', 'c']) {
      for (let i = 0; i < 3; i += 1) {
        const put = await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: key, Body: `${key}${i}` }));
        written.push([key, put.VersionId ?? '']);
      }
    }
    const marker = await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'b' }));
    const expected = [
      ...written.filter(([k]) => k === 'a').reverse(),
      ['b', marker.VersionId ?? ''],
      ...written.filter(([k]) => k === 'b').reverse(),
      ...written.filter(([k]) => k === 'c').reverse(),
    ];
    const seen: string[][] = [];
    let keyMarker: string | undefined;
    let versionIdMarker: string | undefined;
    let pages = 0;
    for (;;) {
      const page = await s3.send(
        new ListObjectVersionsCommand({
          Bucket: 'plain',
          MaxKeys: 4,
          ...(keyMarker ? { KeyMarker: keyMarker } : {}),
          ...(versionIdMarker ? { VersionIdMarker: versionIdMarker } : {}),
        }),
      );
      pages += 1;
      const entries = [...(page.Versions ?? []), ...(page.DeleteMarkers ?? [])].map((v) => ({
        key: v.Key ?? '',
        id: v.VersionId ?? '',
        when: v.LastModified?.getTime() ?? 0,
      }));
      // Versions and markers come as two lists; their order in the listing is key, then newest first.
      const order = expected.map(([k, id]) => `${k}:${id}`);
      entries.sort((x, y) => order.indexOf(`${x.key}:${x.id}`) - order.indexOf(`${y.key}:${y.id}`));
      seen.push(...entries.map((e) => [e.key, e.id]));
      if (!page.IsTruncated) break;
      keyMarker = page.NextKeyMarker;
      versionIdMarker = page.NextVersionIdMarker;
    }
    expect(seen).toEqual(expected);
    expect(pages).toBe(3);
  });
});

describe('S3 buckets and Object Lock', () => {
  it('turns versioning on with Object Lock, and reports the default retention', async () => {
    const { s3 } = await lockedBucket();
    expect((await s3.send(new GetBucketVersioningCommand({ Bucket: 'anchors' }))).Status).toBe('Enabled');
    const config = await s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'anchors' }));
    expect(config.ObjectLockConfiguration).toEqual({
      ObjectLockEnabled: 'Enabled',
      Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: 30 } },
    });
    const suspend = await errorOf(
      s3.send(
        new PutBucketVersioningCommand({
          Bucket: 'anchors',
          VersioningConfiguration: { Status: 'Suspended' },
        }),
      ),
    );
    expect(suspend.name).toBe('InvalidBucketState');
  });

  it('refuses Object Lock settings on a bucket without it, with S3’s errors', async () => {
    const { s3 } = await plainBucket();
    const get = await errorOf(s3.send(new GetObjectLockConfigurationCommand({ Bucket: 'plain' })));
    expect(get.name).toBe('ObjectLockConfigurationNotFoundError');
    expect(get.$metadata?.httpStatusCode).toBe(404);
    const put = await errorOf(
      s3.send(
        new PutObjectLockConfigurationCommand({
          Bucket: 'plain',
          ObjectLockConfiguration: {
            ObjectLockEnabled: 'Enabled',
            Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 1 } },
          },
        }),
      ),
    );
    expect(put.name).toBe('InvalidBucketState');
    const explicit = await errorOf(
      s3.send(
        new PutObjectCommand({
          Bucket: 'plain',
          Key: 'k',
          Body: '',
          ObjectLockMode: 'GOVERNANCE',
          ObjectLockRetainUntilDate: new Date(Date.UTC(2030, 0, 1)),
        }),
      ),
    );
    expect(explicit.name).toBe('InvalidRequest');
  });

  it('applies the default retention to each version, and denies deleting it until it expires', async () => {
    const { s3, sandbox } = await lockedBucket();
    const key = anchorKey(1);
    const put = await s3.send(
      new PutObjectCommand({ Bucket: 'anchors', Key: key, Body: 'hash', IfNoneMatch: '*' }),
    );
    const got = await s3.send(new GetObjectCommand({ Bucket: 'anchors', Key: key }));
    expect(got.ObjectLockMode).toBe('COMPLIANCE');
    expect(got.ObjectLockRetainUntilDate?.getTime()).toBe(sandbox.now() + 30 * DAY);
    expect(got.VersionId).toBe(put.VersionId);
    const locked = await errorOf(
      s3.send(new DeleteObjectCommand({ Bucket: 'anchors', Key: key, VersionId: put.VersionId })),
    );
    expect(locked).toBeInstanceOf(AccessDenied);
    expect(locked.message).toBe('Access Denied because object protected by object lock.');
    const bypass = await errorOf(
      s3.send(
        new DeleteObjectCommand({
          Bucket: 'anchors',
          Key: key,
          VersionId: put.VersionId,
          BypassGovernanceRetention: true,
        }),
      ),
    );
    expect(bypass).toBeInstanceOf(AccessDenied);
    // A delete marker is allowed under Object Lock; the version stays.
    expect((await s3.send(new DeleteObjectCommand({ Bucket: 'anchors', Key: key }))).DeleteMarker).toBe(true);
    expect(sandbox.state().s3.buckets.anchors?.objects[key]?.map((v) => v.deleteMarker)).toEqual([
      false,
      true,
    ]);
    const emptyBucket = await errorOf(s3.send(new DeleteBucketCommand({ Bucket: 'anchors' })));
    expect(emptyBucket.name).toBe('BucketNotEmpty');
    sandbox.advance(30 * DAY);
    await s3.send(new DeleteObjectCommand({ Bucket: 'anchors', Key: key, VersionId: put.VersionId }));
    expect(sandbox.state().s3.buckets.anchors?.objects[key]?.map((v) => v.deleteMarker)).toEqual([true]);
  });

  it('lets GOVERNANCE retention be bypassed, and takes an explicit mode and date', async () => {
    const { s3, sandbox } = await lockedBucket();
    const until = new Date(sandbox.now() + DAY);
    const put = await s3.send(
      new PutObjectCommand({
        Bucket: 'anchors',
        Key: 'g',
        Body: 'x',
        ObjectLockMode: 'GOVERNANCE',
        ObjectLockRetainUntilDate: until,
      }),
    );
    const head = await s3.send(new HeadObjectCommand({ Bucket: 'anchors', Key: 'g' }));
    expect(head).toMatchObject({ ObjectLockMode: 'GOVERNANCE', ObjectLockRetainUntilDate: until });
    const denied = await errorOf(
      s3.send(new DeleteObjectCommand({ Bucket: 'anchors', Key: 'g', VersionId: put.VersionId })),
    );
    expect(denied).toBeInstanceOf(AccessDenied);
    await s3.send(
      new DeleteObjectCommand({
        Bucket: 'anchors',
        Key: 'g',
        VersionId: put.VersionId,
        BypassGovernanceRetention: true,
      }),
    );
    expect(await errorOf(s3.send(new HeadObjectCommand({ Bucket: 'anchors', Key: 'g' })))).toBeInstanceOf(
      NotFound,
    );
    const past = await errorOf(
      s3.send(
        new PutObjectCommand({
          Bucket: 'anchors',
          Key: 'g',
          Body: 'x',
          ObjectLockMode: 'COMPLIANCE',
          ObjectLockRetainUntilDate: new Date(sandbox.now() - 1000),
        }),
      ),
    );
    expect(past.name).toBe('InvalidArgument');
  });

  it('answers a repeated CreateBucket as S3 does: 200 in us-east-1, BucketAlreadyOwnedByYou elsewhere', async () => {
    const east = await plainBucket();
    await expect(east.s3.send(new CreateBucketCommand({ Bucket: 'plain' }))).resolves.toMatchObject({
      Location: '/plain',
    });
    const west = setup({}, { region: 'eu-west-1' });
    const s3 = west.sandbox.attach(new S3Client({ ...config, region: 'eu-west-1' }));
    const create = () =>
      s3.send(
        new CreateBucketCommand({
          Bucket: 'plain',
          CreateBucketConfiguration: { LocationConstraint: 'eu-west-1' },
        }),
      );
    await create();
    const again = await errorOf(create());
    expect(again).toBeInstanceOf(BucketAlreadyOwnedByYou);
    expect(again.$metadata?.httpStatusCode).toBe(409);
    expect((await errorOf(s3.send(new CreateBucketCommand({ Bucket: 'other' })))).name).toBe(
      'IllegalLocationConstraintException',
    );
    expect((await errorOf(east.s3.send(new CreateBucketCommand({ Bucket: 'Bad_Name' })))).name).toBe(
      'InvalidBucketName',
    );
  });

  it('deletes an empty bucket only', async () => {
    const { s3 } = await plainBucket();
    await s3.send(new PutObjectCommand({ Bucket: 'plain', Key: 'k', Body: 'x' }));
    const full = await errorOf(s3.send(new DeleteBucketCommand({ Bucket: 'plain' })));
    expect(full.name).toBe('BucketNotEmpty');
    expect(full.$metadata?.httpStatusCode).toBe(409);
    await s3.send(new DeleteObjectCommand({ Bucket: 'plain', Key: 'k' }));
    await s3.send(new DeleteBucketCommand({ Bucket: 'plain' }));
    expect(await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'plain' })))).toBeInstanceOf(NotFound);
  });
});
