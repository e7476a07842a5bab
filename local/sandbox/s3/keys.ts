/** Each bucket's keys in S3's listing order (UTF-8 binary), kept sorted as keys come and go. */
import type { S3BucketState } from '../state.ts';

/**
 * Compares keys in UTF-8 binary order, S3's listing order. UTF-16 order differs from it only between a
 * surrogate (a character above U+FFFF) and a character from U+E000 to U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i += 1) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs !== ys) return xs ? 1 : -1;
    return x - y;
  }
  return a.length - b.length;
}

/** Each bucket's keys in listing order, kept up to date as keys come and go; rebuilt when missing. */
const sortedKeys = new WeakMap<object, string[]>();

export function keysOf(bucket: S3BucketState): string[] {
  let keys = sortedKeys.get(bucket.objects);
  if (!keys) {
    keys = Object.keys(bucket.objects).sort(compareKeys);
    sortedKeys.set(bucket.objects, keys);
  }
  return keys;
}

/** The first index whose key is not before `key` (or, with `strict`, is after it). */
export function bound(keys: readonly string[], key: string, strict: boolean): number {
  let low = 0;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    const order = compareKeys(keys[mid] ?? '', key);
    if (order < 0 || (strict && order === 0)) low = mid + 1;
    else high = mid;
  }
  return low;
}

/** The first index from `from` whose key does not start with `prefix` (those that do are contiguous). */
export function pastPrefix(keys: readonly string[], from: number, prefix: string): number {
  let low = from;
  let high = keys.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if ((keys[mid] ?? '').startsWith(prefix)) low = mid + 1;
    else high = mid;
  }
  return low;
}

export function addKey(bucket: S3BucketState, key: string): void {
  const keys = sortedKeys.get(bucket.objects);
  if (keys) keys.splice(bound(keys, key, false), 0, key);
}

export function removeKey(bucket: S3BucketState, key: string): void {
  delete bucket.objects[key];
  const keys = sortedKeys.get(bucket.objects);
  if (!keys) return;
  const index = bound(keys, key, false);
  if (keys[index] === key) keys.splice(index, 1);
}
