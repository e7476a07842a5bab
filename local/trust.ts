/**
 * The local runtime's record key and anchor: what the deployed stack keeps in KMS and in an S3 bucket with
 * Object Lock, simulated by a sandbox account of their own (local/sandbox, with AWS's error names). In the
 * state folder it is persisted (append-only journals under `<state>/trust/`), so that `cordon verify
 * --local` in a new shell checks the demo's record with the key and anchors the demo wrote; for tests it
 * lives in memory.
 *
 * It is kept apart from the simulated account that playbooks act on: that one is replaced by each
 * scenario; the record's key and anchor outlive them, as the security account's do.
 */
import {
  AlreadyExistsException,
  CreateAliasCommand,
  CreateKeyCommand,
  DescribeKeyCommand,
  KMSClient,
  NotFoundException,
} from '@aws-sdk/client-kms';
import {
  CreateBucketCommand,
  HeadBucketCommand,
  PutObjectLockConfigurationCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import type { Pluggable } from '@smithy/types';
import { ENV } from '#shared/config';
import { KmsS3Seal, type RecordSeal } from '#shared/seal';
import { Sandbox } from './sandbox/index.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from './store.ts';

/** The account the local record key and anchor belong to (the sandbox account's, so that ARNs agree). */
export const LOCAL_TRUST_ACCOUNT = '123456789012';
/** The local record key, by alias. */
export const LOCAL_RECORD_KEY = 'alias/cordon-record';
/** The local anchor bucket. */
export const LOCAL_ANCHOR_BUCKET = `cordon-anchor-${LOCAL_TRUST_ACCOUNT}-${LOCAL_REGION}`;
/** How long a local anchor is locked: a day is enough for a laptop, and shows the lock at work. */
const LOCAL_RETENTION_DAYS = 1;

export interface LocalTrust {
  /** The simulated KMS and S3 that hold the key and the anchors. */
  readonly sandbox: Sandbox;
  readonly seal: RecordSeal;
  /** The key by its alias, as the functions are configured locally. */
  readonly keyId: string;
  /** The key's own ARN: what a console is given (`--record-key`) as a deployed stack's output gives it. */
  readonly keyArn: string;
  readonly bucket: string;
  /** The environment a function needs to find the key and the anchor. */
  readonly env: Readonly<Record<string, string>>;
  /** True for an SDK call that concerns the record key or the anchor bucket. */
  owns(clientName: string | undefined, input: unknown): boolean;
  /**
   * A client plugin that answers the calls it {@link LocalTrust.owns} and lets every other call go on: for
   * tests that run handlers without the local runtime (which routes them itself).
   */
  plugin(): Pluggable<object, object>;
}

export interface LocalTrustOptions {
  /** Persist the key and anchors in this folder (`<state>/trust`); default in memory. */
  readonly dir?: string;
}

function isError(error: unknown, ...names: string[]): boolean {
  return error instanceof Error && names.includes(error.name);
}

/** Opens (making them the first time) the local record key and anchor bucket. */
export async function openLocalTrust(options: LocalTrustOptions = {}): Promise<LocalTrust> {
  const sandbox = Sandbox.create(
    {},
    {
      accountId: LOCAL_TRUST_ACCOUNT,
      region: LOCAL_REGION,
      ...(options.dir ? { persist: { dir: options.dir, services: ['KMS', 'S3'] } } : {}),
    },
  );
  const settings = { region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 };
  const kms = sandbox.attach(new KMSClient(settings));
  const s3 = sandbox.attach(new S3Client(settings));
  await ensureKey(kms);
  await ensureBucket(s3);
  const seal = new KmsS3Seal({ kms, s3, keyId: LOCAL_RECORD_KEY, bucket: LOCAL_ANCHOR_BUCKET });
  const keyArn = (await kms.send(new DescribeKeyCommand({ KeyId: LOCAL_RECORD_KEY }))).KeyMetadata?.Arn ?? '';
  const keyIds = new Set([LOCAL_RECORD_KEY, keyArn, keyArn.split('/').pop() ?? '']);
  const trust: LocalTrust = {
    sandbox,
    seal,
    keyId: LOCAL_RECORD_KEY,
    keyArn,
    bucket: LOCAL_ANCHOR_BUCKET,
    env: { [ENV.recordKey]: LOCAL_RECORD_KEY, [ENV.anchorBucket]: LOCAL_ANCHOR_BUCKET },
    owns(clientName, input) {
      const fields = (input ?? {}) as { KeyId?: unknown; Bucket?: unknown };
      if (clientName === 'KMSClient') return typeof fields.KeyId === 'string' && keyIds.has(fields.KeyId);
      if (clientName === 'S3Client') return fields.Bucket === LOCAL_ANCHOR_BUCKET;
      return false;
    },
    plugin: () => ({
      applyToStack: (stack) => {
        stack.add(
          (next, context) => async (args) =>
            trust.owns(context.clientName, args.input)
              ? sandbox.middleware()(next, context)(args)
              : next(args),
          { step: 'initialize', priority: 'high', name: 'cordonTrustMiddleware', override: true },
        );
      },
    }),
  };
  return trust;
}

async function ensureKey(kms: KMSClient): Promise<void> {
  try {
    await kms.send(new DescribeKeyCommand({ KeyId: LOCAL_RECORD_KEY }));
    return;
  } catch (error) {
    if (!(error instanceof NotFoundException || isError(error, 'NotFoundException'))) throw error;
  }
  const created = await kms.send(
    new CreateKeyCommand({
      KeySpec: 'HMAC_256',
      KeyUsage: 'GENERATE_VERIFY_MAC',
      Description: "Cordon's local record key",
    }),
  );
  try {
    await kms.send(
      new CreateAliasCommand({ AliasName: LOCAL_RECORD_KEY, TargetKeyId: created.KeyMetadata?.KeyId ?? '' }),
    );
  } catch (error) {
    // Another command made the key at the same moment: its alias won, and is the key.
    if (!(error instanceof AlreadyExistsException || isError(error, 'AlreadyExistsException'))) throw error;
  }
}

async function ensureBucket(s3: S3Client): Promise<void> {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: LOCAL_ANCHOR_BUCKET }));
    return;
  } catch (error) {
    if (!isError(error, 'NotFound', 'NoSuchBucket')) throw error;
  }
  try {
    await s3.send(new CreateBucketCommand({ Bucket: LOCAL_ANCHOR_BUCKET, ObjectLockEnabledForBucket: true }));
  } catch (error) {
    if (isError(error, 'BucketAlreadyOwnedByYou', 'BucketAlreadyExists')) return;
    throw error;
  }
  await s3.send(
    new PutObjectLockConfigurationCommand({
      Bucket: LOCAL_ANCHOR_BUCKET,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'COMPLIANCE', Days: LOCAL_RETENTION_DAYS } },
      },
    }),
  );
}
