/**
 * The hash chain over an incident's steps. Each step's hash is SHA-256 over the canonical JSON of the step
 * as stored (every attribute but `hash` and `mac`, keys and `prevHash` included), so that changing any
 * field, deleting a step or moving one breaks the chain at that step. The first step's `prevHash` is the
 * hash of the incident's opening ({@link openingHash}), so the chain also covers what the incident was
 * opened with. The chain alone has no key: functions/shared/seal.ts adds the key and the anchor.
 */
import { createHash } from 'node:crypto';

/** The `prevHash` of the first step of an incident opened before incidents had an opening hash. */
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

/** The hash of a stored step: `item` is the step as stored; its `hash` and `mac` are left out. */
export function stepHash(item: Readonly<Record<string, unknown>>): string {
  const { hash: _hash, mac: _mac, ...content } = item;
  return createHash('sha256').update(canonicalJson(content)).digest('hex');
}

/** The hash of an incident's opening: what it was opened with, before any step changed it. */
export function openingHash(opening: Readonly<Record<string, unknown>>): string {
  return createHash('sha256')
    .update(canonicalJson({ kind: 'cordon:incident-opening:v1', ...opening }))
    .digest('hex');
}
