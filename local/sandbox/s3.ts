/**
 * S3: buckets with versioning and Object Lock (default retention, GOVERNANCE and COMPLIANCE modes),
 * objects with conditional writes (`IfNoneMatch: '*'`, `IfMatch`), delete markers, and listings that
 * page as S3 does: keys in UTF-8 binary order, at most 1,000 a page.
 */
export { withBodyBytes } from './s3/body.ts';
export type { S3Event } from './s3/journal.ts';
export { compareKeys } from './s3/keys.ts';
export { s3Service } from './s3/service.ts';
