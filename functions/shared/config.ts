/**
 * Configuration is read from the environment once, at cold start, and validated with messages that name
 * the variable and the value received. Handlers call one of these at module scope, so a misconfigured
 * function fails on its first invocation with a message that says what to fix.
 */
import { ConfigError } from './errors.ts';

type Env = Readonly<Record<string, string | undefined>>;

/** Reads a required, non-empty variable. */
export function requireEnv(name: string, env: Env = process.env): string {
  const value = env[name];
  if (value === undefined || value.trim() === '') throw new ConfigError(`${name} is required`);
  return value;
}

/** Reads an optional variable, with a default when it is unset or empty. */
export function optionalEnv(name: string, fallback: string, env: Env = process.env): string {
  const value = env[name];
  return value === undefined || value.trim() === '' ? fallback : value;
}

/** Reads an integer variable within bounds, with a default when unset. */
export function intEnv(
  name: string,
  fallback: number,
  bounds: { min?: number; max?: number } = {},
  env: Env = process.env,
): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^-?\d+$/.test(raw.trim())) throw new ConfigError(`${name} must be an integer, got "${raw}"`);
  const value = Number(raw);
  if (bounds.min !== undefined && value < bounds.min) {
    throw new ConfigError(`${name} must be at least ${bounds.min}, got ${value}`);
  }
  if (bounds.max !== undefined && value > bounds.max) {
    throw new ConfigError(`${name} must be at most ${bounds.max}, got ${value}`);
  }
  return value;
}

/** Reads a boolean variable (`true`/`false`, `1`/`0`), with a default when unset. */
export function boolEnv(name: string, fallback: boolean, env: Env = process.env): boolean {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const value = raw.trim().toLowerCase();
  if (value === 'true' || value === '1') return true;
  if (value === 'false' || value === '0') return false;
  throw new ConfigError(`${name} must be true or false, got "${raw}"`);
}

/** The names of the environment variables the stack sets, in one place. */
export const ENV = {
  tableName: 'CORDON_TABLE_NAME',
  /** The record key: a KMS HMAC key's ARN (or an alias, on the local runtime). */
  recordKey: 'CORDON_RECORD_KEY',
  /** The S3 bucket (Object Lock, compliance mode) the record's hashes are anchored in. */
  anchorBucket: 'CORDON_ANCHOR_BUCKET',
  logLevel: 'CORDON_LOG_LEVEL',
} as const;

/** What every function needs to write the audit record: the table, the record key and the anchor. */
export interface AuditConfig {
  readonly tableName: string;
  readonly recordKey: string;
  readonly anchorBucket: string;
}

const KMS_KEY =
  /^(arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:(key\/[0-9a-f-]{36}|alias\/[\w/_-]+)|alias\/[\w/_-]+|[0-9a-f-]{36})$/;
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function readAuditConfig(env: Env = process.env): AuditConfig {
  const tableName = requireEnv(ENV.tableName, env);
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw new ConfigError(
      `${ENV.tableName} must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -), got "${tableName}"`,
    );
  }
  const recordKey = requireEnv(ENV.recordKey, env);
  if (!KMS_KEY.test(recordKey)) {
    throw new ConfigError(`${ENV.recordKey} must be a KMS key ARN, key id or alias, got "${recordKey}"`);
  }
  const anchorBucket = requireEnv(ENV.anchorBucket, env);
  if (!BUCKET.test(anchorBucket)) {
    throw new ConfigError(`${ENV.anchorBucket} must be an S3 bucket name, got "${anchorBucket}"`);
  }
  return { tableName, recordKey, anchorBucket };
}
