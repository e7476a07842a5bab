/**
 * The hash chain over an incident's steps. Each step's hash is SHA-256 over the previous step's hash and
 * the canonical JSON of the step as stored (every attribute but `hash` itself, keys included), so that
 * changing any field, deleting a step or moving one breaks the chain at that step.
 */
import { createHash } from 'node:crypto';

/** The `prevHash` of an incident's first step. */
export const GENESIS_HASH = '0'.repeat(64);

/** JSON with object keys sorted at every depth and `undefined` dropped, as DynamoDB stores it. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

/** Normalizes a value to what survives a JSON round trip (and so a DynamoDB round trip). */
export function normalize<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

/** The hash of a stored step: `item` is the step as stored, without `hash`. */
export function stepHash(item: Readonly<Record<string, unknown>>): string {
  const { hash: _ignored, ...content } = item;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}
