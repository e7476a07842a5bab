/**
 * Safe readers for events of unknown shape. Normalization never trusts an event: every field is read
 * through these, which return `undefined` for anything that is not what was expected.
 */

/** A plain JSON object (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The value at `path` in `value`, or undefined where any step is not an object. */
export function at(value: unknown, ...path: readonly string[]): unknown {
  let current = value;
  for (const key of path) {
    if (!isRecord(current)) return undefined;
    current = current[key];
  }
  return current;
}

/** A non-empty string, else undefined. */
export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value.trim() !== '' ? value : undefined;
}

/** A finite number, else undefined. */
export function num(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

/** The elements of an array, or none when it is not one. */
export function list(value: unknown): readonly unknown[] {
  return Array.isArray(value) ? value : [];
}

/** Distinct non-empty strings, in order of first appearance. */
export function distinct(values: readonly (string | undefined)[]): string[] {
  return [...new Set(values.filter((v): v is string => v !== undefined && v !== ''))];
}

/**
 * An ISO 8601 date-time in UTC (`2019-10-02T17:04:40.989Z`) from a string the `Date` parser accepts
 * (CloudWatch writes `+0000` offsets), or undefined.
 */
export function isoDate(value: unknown): string | undefined {
  if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T/.test(value)) return undefined;
  const time = Date.parse(value);
  if (Number.isNaN(time)) return undefined;
  const iso = new Date(time).toISOString();
  return /^\d{4}-/.test(iso) ? iso : undefined;
}

/** Tags as `{ key: value }` from AWS's `[{ key, value }]` (or `Key`/`Value`) lists or a plain map. */
export function tagMap(value: unknown): Record<string, string> {
  const tags: Record<string, string> = {};
  if (Array.isArray(value)) {
    for (const tag of value) {
      const key = str(at(tag, 'key')) ?? str(at(tag, 'Key'));
      const tagValue = at(tag, 'value') ?? at(tag, 'Value');
      if (key !== undefined && typeof tagValue === 'string') tags[key] = tagValue;
    }
  } else if (isRecord(value)) {
    for (const [key, tagValue] of Object.entries(value)) {
      if (typeof tagValue === 'string') tags[key] = tagValue;
    }
  }
  return tags;
}

/** A short description of an unexpected value for a rejection reason: its type, never its content. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** The message of an error of any kind. */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  return String(error);
}

/** What reading one finding gives: a candidate to validate, or the reason it could not be read. */
export type Candidate<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly reason: string };

/** A candidate that could not be read. */
export function refuse(reason: string): { readonly ok: false; readonly reason: string } {
  return { ok: false, reason };
}
