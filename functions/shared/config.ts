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
  logLevel: 'CORDON_LOG_LEVEL',
} as const;

/** What every function needs to write the audit record. */
export interface AuditConfig {
  readonly tableName: string;
}

export function readAuditConfig(env: Env = process.env): AuditConfig {
  const tableName = requireEnv(ENV.tableName, env);
  if (!/^[a-zA-Z0-9_.-]{3,255}$/.test(tableName)) {
    throw new ConfigError(
      `${ENV.tableName} must be a DynamoDB table name (3-255 of a-z A-Z 0-9 _ . -), got "${tableName}"`,
    );
  }
  return { tableName };
}
