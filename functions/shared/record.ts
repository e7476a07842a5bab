/**
 * The audit record as a function makes it at cold start: the recorder on the table, sealed with the
 * record key and the anchor (functions/shared/seal.ts), every client from the one factory.
 */
import { KMSClient } from '@aws-sdk/client-kms';
import { S3Client } from '@aws-sdk/client-s3';
import { AuditRecorder, type DocumentSender } from './audit.ts';
import { makeClient } from './clients.ts';
import type { AuditConfig } from './config.ts';
import { makeDocumentClient } from './dynamo.ts';
import type { Logger } from './log.ts';
import { KmsS3Seal, type RecordSeal } from './seal.ts';

/** The record key and anchor the configuration names, through the factory's KMS and S3 clients. */
export function makeSeal(config: Pick<AuditConfig, 'recordKey' | 'anchorBucket'>): RecordSeal {
  return new KmsS3Seal({
    kms: makeClient(KMSClient, { service: 'KMS' }),
    s3: makeClient(S3Client, { service: 'S3' }),
    keyId: config.recordKey,
    bucket: config.anchorBucket,
  });
}

export interface MakeRecorderOptions {
  /** The document client to share; default a new one. */
  readonly client?: DocumentSender;
  /** The seal to share; default {@link makeSeal}. */
  readonly seal?: RecordSeal;
  readonly logger?: Pick<Logger, 'warn'>;
}

/** A recorder on the configured table, sealed with the configured key and anchor. */
export function makeRecorder(config: AuditConfig, options: MakeRecorderOptions = {}): AuditRecorder {
  return new AuditRecorder({
    client: options.client ?? makeDocumentClient(),
    tableName: config.tableName,
    seal: options.seal ?? makeSeal(config),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}
