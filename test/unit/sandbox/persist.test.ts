import { execFile } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import {
  CreateAliasCommand,
  CreateKeyCommand,
  DisabledException,
  DisableKeyCommand,
  GenerateMacCommand,
  KMSClient,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadBucketCommand,
  ListObjectsV2Command,
  ListObjectVersionsCommand,
  NoSuchBucket,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { afterEach, describe, expect, it } from 'vitest';
import type { AccountSeed, SandboxOptions } from '#local/sandbox/index';
import { Sandbox, SandboxJournalError, SandboxSeedError } from '#local/sandbox/index';
import { config, errorOf, T0 } from './helpers.ts';

const run = promisify(execFile);
const dirs: string[] = [];

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'cordon-sandbox-'));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A sandbox persisting KMS and S3 in `dir`, with its clients. */
function open(dir: string, seed: AccountSeed = {}, options: SandboxOptions = {}) {
  const sandbox = Sandbox.create(seed, { now: () => T0, persist: { dir }, ...options });
  return {
    sandbox,
    kms: sandbox.attach(new KMSClient(config)),
    s3: sandbox.attach(new S3Client(config)),
  };
}

const message = new TextEncoder().encode('anchor 0000000001');
const mac = (kms: KMSClient, keyId: string) =>
  kms.send(new GenerateMacCommand({ KeyId: keyId, Message: message, MacAlgorithm: 'HMAC_SHA_256' }));
const verify = (kms: KMSClient, keyId: string, tag: Uint8Array | undefined) =>
  kms.send(new VerifyMacCommand({ KeyId: keyId, Message: message, Mac: tag, MacAlgorithm: 'HMAC_SHA_256' }));

describe('a persisted sandbox', () => {
  it('shows each sandbox on the folder the keys, aliases, buckets and objects the other made', async () => {
    const dir = tempDir();
    const a = open(dir);
    const b = open(dir);
    const { KeyMetadata } = await a.kms.send(
      new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }),
    );
    await b.kms.send(
      new CreateAliasCommand({ AliasName: 'alias/cordon-audit', TargetKeyId: KeyMetadata?.KeyId }),
    );
    const { Mac } = await a.kms.send(
      new GenerateMacCommand({ KeyId: 'alias/cordon-audit', Message: message, MacAlgorithm: 'HMAC_SHA_256' }),
    );
    await expect(verify(b.kms, 'alias/cordon-audit', Mac)).resolves.toMatchObject({ MacValid: true });

    await b.s3.send(new CreateBucketCommand({ Bucket: 'anchors', ObjectLockEnabledForBucket: true }));
    await a.s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: 'k', Body: 'from a', IfNoneMatch: '*' }));
    const got = await b.s3.send(new GetObjectCommand({ Bucket: 'anchors', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('from a');
    const repeat = await errorOf(
      b.s3.send(new PutObjectCommand({ Bucket: 'anchors', Key: 'k', Body: 'from b', IfNoneMatch: '*' })),
    );
    expect(repeat.name).toBe('PreconditionFailed');

    // A sandbox made later, as a new process would, sees it all too.
    const c = open(dir);
    await expect(verify(c.kms, KeyMetadata?.Arn ?? '', Mac)).resolves.toMatchObject({ MacValid: true });
    expect(c.sandbox.state().s3.buckets.anchors?.objects.k).toHaveLength(1);
  });

  it('keeps every one of two sandboxes’ interleaved writes, in the order they were made', async () => {
    const dir = tempDir();
    const a = open(dir);
    const b = open(dir);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    await b.s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'x', Body: '' }));
    const written: string[] = [];
    for (let i = 0; i < 60; i += 1) {
      const [writer, name] = i % 3 === 0 ? [b, 'b'] : [a, 'a'];
      const key = `anchors/i/${String(i).padStart(10, '0')}`;
      await writer.s3.send(
        new PutObjectCommand({ Bucket: 'shared', Key: key, Body: name, IfNoneMatch: '*' }),
      );
      written.push(key);
    }
    for (const reader of [a, b, open(dir)]) {
      const listed = await reader.s3.send(new ListObjectsV2Command({ Bucket: 'shared', Prefix: 'anchors/' }));
      expect(listed.Contents?.map((c) => c.Key)).toEqual(written);
    }
    const c = open(dir);
    const last = await c.s3.send(new GetObjectCommand({ Bucket: 'shared', Key: written[59] }));
    expect(await last.Body?.transformToString()).toBe('a');
  });

  it('keeps versions of one key written by both, newest first', async () => {
    const dir = tempDir();
    const a = open(dir);
    const b = open(dir);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'ver', ObjectLockEnabledForBucket: true }));
    const ids: string[] = [];
    for (let i = 0; i < 6; i += 1) {
      const writer = i % 2 === 0 ? a : b;
      ids.push(
        (await writer.s3.send(new PutObjectCommand({ Bucket: 'ver', Key: 'k', Body: String(i) })))
          .VersionId ?? '',
      );
    }
    const versions = await open(dir).s3.send(new ListObjectVersionsCommand({ Bucket: 'ver' }));
    expect(versions.Versions?.map((v) => v.VersionId)).toEqual([...ids].reverse());
  });

  it('lets two processes race for the same keys: each conditional put is won exactly once', async () => {
    const dir = tempDir();
    await open(dir).s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
    const worker = fileURLToPath(new URL('./persist-worker.ts', import.meta.url));
    const count = 150;
    const spawn = (name: string, other: string) =>
      run(process.execPath, ['--import', 'tsx', worker, dir, name, other, String(count)], {
        cwd: fileURLToPath(new URL('../../..', import.meta.url)),
        env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      });
    const [one, two] = await Promise.all([spawn('one', 'two'), spawn('two', 'one')]);
    const results = [one, two].map((r) => JSON.parse(r.stdout) as { won: number; lost: number });
    expect(results.map((r) => r.won + r.lost)).toEqual([count, count]);
    expect((results[0]?.won ?? 0) + (results[1]?.won ?? 0)).toBe(count);

    const reader = open(dir);
    const objects = reader.sandbox.state().s3.buckets.shared?.objects ?? {};
    const race = Object.keys(objects).filter((k) => k.startsWith('race/'));
    expect(race).toHaveLength(count);
    for (const key of race) expect(objects[key]).toHaveLength(1);
    const winners = race.map((k) => Buffer.from(objects[k]?.[0]?.body ?? '', 'base64').toString());
    expect(winners.filter((w) => w === 'one')).toHaveLength(results[0]?.won ?? -1);
    for (const name of ['one', 'two']) {
      expect(Object.keys(objects).filter((k) => k.startsWith(`own/${name}/`))).toHaveLength(count);
    }
  }, 60_000);

  it('applies racing conditional puts in journal order: the first line wins, the second changes nothing', async () => {
    // Two sandboxes that both checked IfNoneMatch before either appended: their lines, one after the other.
    const lines: string[] = [];
    for (const body of ['first', 'second']) {
      const dir = tempDir();
      const { s3 } = open(dir);
      await s3.send(new CreateBucketCommand({ Bucket: 'shared' }));
      await s3.send(new PutObjectCommand({ Bucket: 'shared', Key: 'race', Body: body, IfNoneMatch: '*' }));
      const [bucket = '', put = ''] = readFileSync(join(dir, 's3.jsonl'), 'utf8').trim().split('\n');
      if (lines.length === 0) lines.push(bucket);
      lines.push(put);
    }
    const dir = tempDir();
    writeFileSync(join(dir, 's3.jsonl'), `${lines.join('\n')}\n`);
    const { s3, sandbox } = open(dir);
    expect(sandbox.state().s3.buckets.shared?.objects.race).toHaveLength(1);
    const got = await s3.send(new GetObjectCommand({ Bucket: 'shared', Key: 'race' }));
    expect(await got.Body?.transformToString()).toBe('first');
  });

  it('writes its journals with mode 0600 in a folder of mode 0700, and tightens a looser journal', async () => {
    const parent = tempDir();
    const dir = join(parent, 'state');
    const { kms, s3 } = open(dir);
    await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const file of ['kms.jsonl', 's3.jsonl']) expect(statSync(join(dir, file)).mode & 0o777).toBe(0o600);
    chmodSync(join(dir, 'kms.jsonl'), 0o644);
    open(dir);
    expect(statSync(join(dir, 'kms.jsonl')).mode & 0o777).toBe(0o600);
  });

  it('only appends: a change that fails is not written, and written lines are never rewritten', async () => {
    const dir = tempDir();
    const { s3 } = open(dir);
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'one', IfNoneMatch: '*' }));
    const before = readFileSync(join(dir, 's3.jsonl'));
    expect(
      await errorOf(s3.send(new PutObjectCommand({ Bucket: 'nope', Key: 'k', Body: 'x' }))),
    ).toBeInstanceOf(NoSuchBucket);
    await errorOf(s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x', IfNoneMatch: '*' })));
    expect(readFileSync(join(dir, 's3.jsonl'))).toEqual(before);
    await s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k2', Body: 'two' }));
    const after = readFileSync(join(dir, 's3.jsonl'));
    expect(after.subarray(0, before.length)).toEqual(before);
    expect(after.toString().trim().split('\n')).toHaveLength(3);
  });

  it('reads only what was appended since its last call', async () => {
    const dir = tempDir();
    const a = open(dir);
    await a.s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    const b = open(dir);
    // Spoil the line both have read, keeping its length: b never reads it again, a new sandbox does.
    const file = join(dir, 's3.jsonl');
    const text = readFileSync(file, 'utf8');
    writeFileSync(file, `#${text.slice(1)}`);
    await a.s3.send(new PutObjectCommand({ Bucket: 'bkt', Key: 'k', Body: 'x' }));
    const got = await b.s3.send(new GetObjectCommand({ Bucket: 'bkt', Key: 'k' }));
    expect(await got.Body?.transformToString()).toBe('x');
    const error = (() => {
      try {
        open(dir);
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SandboxJournalError);
    expect((error as SandboxJournalError).file).toBe(file);
    expect((error as Error).message).toBe(`Sandbox journal ${file}: line 1 is not JSON`);
  });

  it('names the file and line of a journal entry it cannot read', () => {
    const dir = tempDir();
    writeFileSync(
      join(dir, 's3.jsonl'),
      '{"v":1,"id":"x","event":{"op":"CreateBucket","at":0,"bucket":"b"}}\n',
    );
    expect(() => open(dir)).toThrow(
      new RegExp(`^Sandbox journal ${join(dir, 's3.jsonl')}: line 1 is not a S3 change`),
    );
    writeFileSync(join(dir, 's3.jsonl'), '{"v":2}\n');
    expect(() => open(dir)).toThrow(SandboxJournalError);
  });

  it('refuses a journal that shrank under it', async () => {
    const dir = tempDir();
    const { s3 } = open(dir);
    await s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    truncateSync(join(dir, 's3.jsonl'), 0);
    const error = await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'bkt' })));
    expect(error).toBeInstanceOf(SandboxJournalError);
    expect(error.message).toContain('truncated or replaced');
  });

  it('leaves a line that is still being written for a later call', async () => {
    const source = tempDir();
    await open(source).s3.send(new CreateBucketCommand({ Bucket: 'bkt' }));
    const line = readFileSync(join(source, 's3.jsonl'), 'utf8');
    const dir = tempDir();
    writeFileSync(join(dir, 's3.jsonl'), line.slice(0, 20));
    const { s3 } = open(dir);
    expect((await errorOf(s3.send(new HeadBucketCommand({ Bucket: 'bkt' })))).name).toBe('NotFound');
    appendFileSync(join(dir, 's3.jsonl'), line.slice(20));
    await expect(s3.send(new HeadBucketCommand({ Bucket: 'bkt' }))).resolves.toBeDefined();
  });

  it('writes the seed’s keys once, so that every later sandbox on the folder has the same material', async () => {
    const dir = tempDir();
    const seed: AccountSeed = { kms: { keys: [{ id: 'audit', alias: 'alias/cordon-audit' }] } };
    const first = open(dir, seed);
    const { Mac } = await mac(first.kms, 'alias/cordon-audit');
    const second = open(dir, seed);
    await expect(verify(second.kms, 'audit', Mac)).resolves.toMatchObject({ MacValid: true });
    expect(readFileSync(join(dir, 'kms.jsonl'), 'utf8').trim().split('\n')).toHaveLength(2);
    await second.kms.send(new DisableKeyCommand({ KeyId: 'audit' }));
    expect(await errorOf(mac(first.kms, 'audit'))).toBeInstanceOf(DisabledException);
    expect(() => open(dir, { kms: { keys: [{ id: 'audit', spec: 'HMAC_512' }] } })).toThrow(SandboxSeedError);
    expect(() =>
      open(dir, { kms: { keys: [{ id: 'audit', material: Buffer.alloc(32).toString('base64') }] } }),
    ).toThrow(SandboxSeedError);
  });

  it('persists only the services it is told to', async () => {
    const dir = tempDir();
    const sandbox = Sandbox.create({}, { persist: { dir, services: ['S3'] } });
    const kms = sandbox.attach(new KMSClient(config));
    await kms.send(new CreateKeyCommand({ KeySpec: 'HMAC_256', KeyUsage: 'GENERATE_VERIFY_MAC' }));
    expect(existsSync(join(dir, 'kms.jsonl'))).toBe(false);
    expect(existsSync(join(dir, 's3.jsonl'))).toBe(true);
    expect(() => Sandbox.create({}, { persist: { dir, services: ['EC2' as 'S3'] } })).toThrow(
      'persist.services: EC2 cannot be persisted; expected KMS or S3',
    );
  });
});
