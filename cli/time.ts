/**
 * Times on the command line: ISO dates (`2026-11-01`, `2026-11-01T12:00:00Z`) or durations back from now
 * (`30m`, `12h`, `7d`, `2w`), and durations printed for people.
 */
import { ValidationError } from '#shared/errors';

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/**
 * Parses `--since` / `--until`: a duration back from `now` (`7d`) or an ISO date or date-time. Returns an ISO
 * time in UTC with milliseconds, the form the record's keys use. A bare date means its first instant, or with
 * `endOfDay` its last (so that `--until 2026-11-30` includes that day).
 */
export function parseTime(flag: string, value: string, now: Date, endOfDay = false): string {
  const text = value.trim();
  const duration = /^(\d+)([mhdw])$/.exec(text);
  if (duration) {
    const [, amount, unit] = duration;
    return new Date(now.getTime() - Number(amount) * (UNITS[unit ?? 'd'] ?? 0)).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    const time = Date.parse(`${text}T00:00:00.000Z`);
    if (!Number.isNaN(time) && new Date(time).toISOString().startsWith(text)) {
      return new Date(endOfDay ? time + 86_400_000 - 1 : time).toISOString();
    }
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(text)) {
    const time = Date.parse(text);
    if (!Number.isNaN(time)) return new Date(time).toISOString();
  }
  throw new ValidationError(flag, [
    `must be a date (2026-11-01), a date-time with a zone (2026-11-01T12:00:00Z) or a duration back from now (30m, 12h, 7d, 2w), got "${value}"`,
  ]);
}

/** Milliseconds from `from` to `to`, or undefined when either is missing or `to` is before `from`. */
export function between(from: string | undefined, to: string | undefined): number | undefined {
  if (!from || !to) return undefined;
  const ms = Date.parse(to) - Date.parse(from);
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined;
}

/** A duration for people: `850 ms`, `42 s`, `3 min 20 s`, `5 h 02 min`, `2 d 4 h`; `n/a` when unknown. */
export function formatDuration(ms: number | undefined): string {
  if (ms === undefined) return 'n/a';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 60) return `${min} min ${String(s % 60).padStart(2, '0')} s`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${String(min % 60).padStart(2, '0')} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}
