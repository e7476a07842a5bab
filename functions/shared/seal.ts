/**
 * What makes the audit record a thing a forger cannot rewrite unseen: a key the table does not hold, and
 * an anchor the functions cannot rewrite.
 *
 * - **The key** is a KMS HMAC key (`HMAC_256`). Every step, the incident's opening and every approval link
 *   carries the key's MAC of its hash. Only Cordon's functions may `GenerateMac` (the key policy names
 *   their roles); anyone the account allows may `VerifyMac`, which tells valid from invalid and nothing
 *   more, so an auditor who can verify still cannot forge. The key material never leaves KMS.
 * - **The anchor** is an S3 bucket with Object Lock in compliance mode: each step's hash is written as the
 *   name of an object of its own (`anchors/<incident>/<seq, 10 digits>-<sha-256>`), with `If-None-Match`
 *   so that no name is written twice, under a retention that nobody, the account's root included, can
 *   shorten or lift. A forger who can rewrite the whole table can recompute every hash but cannot add the
 *   MACs, and cannot take back an anchor: a truncated tail, a head rolled back or a chain rewritten whole
 *   no longer matches what was anchored.
 *
 * Both are reached through the SDK clients the factory makes, so the local runtime's sandbox account
 * answers them as AWS would.
 */
import {
  GenerateMacCommand,
  type KMSClient,
  KMSInvalidMacException,
  VerifyMacCommand,
} from '@aws-sdk/client-kms';
import {
  ListObjectVersionsCommand,
  type ListObjectVersionsCommandOutput,
  PutObjectCommand,
  type S3Client,
} from '@aws-sdk/client-s3';
import { SEQ_DIGITS } from './audit-table.ts';
import { awsCall } from './aws.ts';
import { PagingError } from './errors.ts';
import { eachPage } from './pages.ts';

/** One anchored hash: step `seq` of an incident (0 is the incident's opening) had this hash. */
export interface AnchorEntry {
  readonly incidentId: string;
  readonly seq: number;
  readonly hash: string;
  /**
   * Set when the anchor was hidden: a delete marker stands over its name, so a listing of current objects
   * no longer shows it. The locked version itself cannot be deleted; nobody Cordon trusts ever hides one.
   */
  readonly hidden?: true;
}

/** The key and the anchor, as the recorder and the approval functions use them. */
export interface RecordSeal {
  /** The key, as configured (a key ARN when deployed). */
  readonly keyId: string;
  /** The anchor bucket's name. */
  readonly bucket: string;
  /** The key's MAC of `message`, base64. */
  mac(message: string): Promise<string>;
  /** True when `mac` is the key's MAC of `message`, false when it is not; throws when KMS cannot say. */
  verify(message: string, mac: string): Promise<boolean>;
  /** Anchors a hash; an identical anchor already there counts as written. */
  anchor(entry: AnchorEntry): Promise<void>;
  /** Every anchor of an incident, hidden ones included, in sequence order, every page read. */
  anchors(incidentId: string): Promise<AnchorEntry[]>;
}

/** The MAC algorithm of an `HMAC_256` key. */
export const MAC_ALGORITHM = 'HMAC_SHA_256';

const ANCHOR_PREFIX = 'anchors/';

/** The message whose MAC a step (or, at `seq` 0, the incident's opening) carries. */
export function stepMacMessage(incidentId: string, seq: number, hash: string): string {
  return `cordon:step:v1\n${incidentId}\n${seq}\n${hash}`;
}

/** The message whose MAC an approval link carries: it binds the link to its request, approver and expiry. */
export function linkMacMessage(
  linkHash: string,
  requestId: string,
  approver: string,
  expiresAt: string,
): string {
  return `cordon:approval-link:v1\n${linkHash}\n${requestId}\n${approver}\n${expiresAt}`;
}

/** The object name an anchor is stored under: the name is the anchor, so it is never written twice. */
export function anchorKey(entry: AnchorEntry): string {
  return `${ANCHOR_PREFIX}${entry.incidentId}/${String(entry.seq).padStart(SEQ_DIGITS, '0')}-${entry.hash}`;
}

const ANCHOR_NAME = /^(\d{10})-([0-9a-f]{64})$/;

/** Parses an anchor's object name back; undefined for a name that is not one (reported by verify). */
export function parseAnchorKey(incidentId: string, key: string): AnchorEntry | undefined {
  const prefix = `${ANCHOR_PREFIX}${incidentId}/`;
  if (!key.startsWith(prefix)) return undefined;
  const match = ANCHOR_NAME.exec(key.slice(prefix.length));
  if (!match?.[1] || !match[2]) return undefined;
  return { incidentId, seq: Number(match[1]), hash: match[2] };
}

export interface KmsS3SealOptions {
  readonly kms: Pick<KMSClient, 'send'>;
  readonly s3: Pick<S3Client, 'send'>;
  /** The HMAC key: its ARN (or an alias, for the local runtime). */
  readonly keyId: string;
  readonly bucket: string;
}

function isInvalidMac(error: unknown): boolean {
  return (
    error instanceof KMSInvalidMacException ||
    (error instanceof Error && error.name === 'KMSInvalidMacException')
  );
}

function isPreconditionFailed(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  return error.name === 'PreconditionFailed' || status === 412;
}

/** The seal on AWS: KMS for the MACs, S3 Object Lock for the anchors. */
export class KmsS3Seal implements RecordSeal {
  readonly keyId: string;
  readonly bucket: string;
  readonly #kms: Pick<KMSClient, 'send'>;
  readonly #s3: Pick<S3Client, 'send'>;

  constructor(options: KmsS3SealOptions) {
    this.keyId = options.keyId;
    this.bucket = options.bucket;
    this.#kms = options.kms;
    this.#s3 = options.s3;
  }

  async mac(message: string): Promise<string> {
    const out = await awsCall(`kms:GenerateMac ${this.keyId}`, () =>
      this.#kms.send(
        new GenerateMacCommand({
          KeyId: this.keyId,
          MacAlgorithm: MAC_ALGORITHM,
          Message: Buffer.from(message, 'utf8'),
        }),
      ),
    );
    if (!out.Mac) throw new Error(`kms:GenerateMac ${this.keyId} returned no MAC`);
    return Buffer.from(out.Mac).toString('base64');
  }

  async verify(message: string, mac: string): Promise<boolean> {
    const bytes = Buffer.from(mac, 'base64');
    // A MAC of the wrong size can only be a forgery: KMS would refuse it as malformed.
    if (bytes.length !== 32) return false;
    try {
      const out = await awsCall(`kms:VerifyMac ${this.keyId}`, () =>
        this.#kms.send(
          new VerifyMacCommand({
            KeyId: this.keyId,
            MacAlgorithm: MAC_ALGORITHM,
            Message: Buffer.from(message, 'utf8'),
            Mac: bytes,
          }),
        ),
      );
      return out.MacValid === true;
    } catch (error) {
      // KMS answers an invalid MAC with an error, not with MacValid false
      // (https://docs.aws.amazon.com/kms/latest/APIReference/API_VerifyMac.html).
      if (isInvalidMac(error)) return false;
      throw error;
    }
  }

  async anchor(entry: AnchorEntry): Promise<void> {
    const key = anchorKey(entry);
    try {
      await awsCall(`s3:PutObject ${this.bucket}/${key}`, () =>
        this.#s3.send(
          new PutObjectCommand({
            Bucket: this.bucket,
            Key: key,
            Body: JSON.stringify(entry),
            ContentType: 'application/json',
            // Never a second version under one name (https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html).
            IfNoneMatch: '*',
          }),
        ),
      );
    } catch (error) {
      // The name is the content: an anchor already there is this very anchor.
      if (isPreconditionFailed(error)) return;
      throw error;
    }
  }

  /**
   * Lists versions, not current objects: Object Lock keeps a locked version from being deleted, but a
   * delete without a version id still puts a delete marker over it, and a listing of current objects would
   * then not show the anchor. Each name is reported once, marked hidden when a delete marker stands over it.
   */
  async anchors(incidentId: string): Promise<AnchorEntry[]> {
    const prefix = `${ANCHOR_PREFIX}${incidentId}/`;
    const found = new Map<string, { entry: AnchorEntry; hidden: boolean }>();
    const note = (key: string | undefined, marker: boolean) => {
      const name = key ?? '';
      const known = found.get(name);
      if (known) {
        known.hidden ||= marker;
        return;
      }
      // A name under the prefix that is not an anchor's is kept visible: verify reports it.
      const entry = parseAnchorKey(incidentId, name) ?? { incidentId, seq: -1, hash: name };
      found.set(name, { entry, hidden: marker });
    };
    const doing = `s3:ListObjectVersions ${this.bucket}/${prefix}`;
    // A truncated page names where the next starts by key and version id together
    // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_ListObjectVersions.html).
    for await (const page of eachPage<ListObjectVersionsCommandOutput, { key: string; versionId?: string }>({
      doing,
      fetch: (at) =>
        awsCall(doing, () =>
          this.#s3.send(
            new ListObjectVersionsCommand({
              Bucket: this.bucket,
              Prefix: prefix,
              KeyMarker: at?.key,
              VersionIdMarker: at?.versionId,
            }),
          ),
        ),
      next: (page) => {
        if (page.IsTruncated !== true) return undefined;
        if (page.NextKeyMarker === undefined) {
          throw new PagingError(`${doing} was truncated without a next marker`);
        }
        return {
          key: page.NextKeyMarker,
          ...(page.NextVersionIdMarker ? { versionId: page.NextVersionIdMarker } : {}),
        };
      },
    })) {
      for (const version of page.Versions ?? []) note(version.Key, false);
      for (const marker of page.DeleteMarkers ?? []) note(marker.Key, true);
    }
    return [...found.values()]
      .map(({ entry, hidden }) => (hidden ? { ...entry, hidden: true as const } : entry))
      .sort((a, b) => a.seq - b.seq);
  }
}
