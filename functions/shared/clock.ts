/**
 * Time and ids come from injectable sources so that tests are deterministic and the record's
 * timestamps come from one place.
 */
import { randomBytes } from 'node:crypto';

/** Returns the current time as an ISO 8601 string with milliseconds, in UTC. */
export type Clock = () => string;

/** Returns a new unique id. */
export type IdSource = () => string;

export const systemClock: Clock = () => new Date().toISOString();

/**
 * Sortable, unguessable ids: 12 hex digits of milliseconds since the epoch, then 20 random hex digits
 * (80 bits from the system's CSPRNG).
 */
export const randomIds: IdSource = () =>
  Date.now().toString(16).padStart(12, '0') + randomBytes(10).toString('hex');

/** A clock for tests: starts at `start` and moves by `stepMs` each time it is read. */
export function steppingClock(start: string, stepMs = 1000): Clock {
  let t = Date.parse(start);
  if (Number.isNaN(t)) throw new RangeError(`steppingClock: start must be an ISO date, got "${start}"`);
  return () => {
    const value = new Date(t).toISOString();
    t += stepMs;
    return value;
  };
}

/** Ids for tests: `prefix-0001`, `prefix-0002`... */
export function sequentialIds(prefix: string): IdSource {
  let n = 0;
  return () => `${prefix}-${String(++n).padStart(4, '0')}`;
}
