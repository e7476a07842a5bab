import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { between, formatDuration, parseTime } from '../../../cli/time.ts';

const NOW = new Date('2026-11-28T12:00:00.000Z');

describe('parseTime', () => {
  it('counts durations back from now', () => {
    expect(parseTime('--since', '7d', NOW)).toBe('2026-11-21T12:00:00.000Z');
    expect(parseTime('--since', '90m', NOW)).toBe('2026-11-28T10:30:00.000Z');
    expect(parseTime('--since', '2w', NOW)).toBe('2026-11-14T12:00:00.000Z');
  });

  it('reads a date as its first instant, or its last for --until', () => {
    expect(parseTime('--since', '2026-11-01', NOW)).toBe('2026-11-01T00:00:00.000Z');
    expect(parseTime('--until', '2026-11-01', NOW, true)).toBe('2026-11-01T23:59:59.999Z');
  });

  it('reads a date-time with a zone in UTC', () => {
    expect(parseTime('--since', '2026-11-01T12:00:00+02:00', NOW)).toBe('2026-11-01T10:00:00.000Z');
  });

  it.each(['yesterday', '2026-13-01', '2026-02-30', '7x', '2026-11-01T10:00'])(
    'refuses "%s" naming the flag',
    (value) => {
      expect(() => parseTime('--since', value, NOW)).toThrow(ValidationError);
      expect(() => parseTime('--since', value, NOW)).toThrow(/--since is invalid/);
    },
  );
});

describe('durations', () => {
  it('measures from one time to a later one, and nothing when either is missing', () => {
    expect(between('2026-11-01T00:00:00Z', '2026-11-01T00:01:00Z')).toBe(60_000);
    expect(between('2026-11-01T00:00:00Z', undefined)).toBeUndefined();
    expect(between('2026-11-01T00:01:00Z', '2026-11-01T00:00:00Z')).toBeUndefined();
  });

  it('prints durations for people', () => {
    expect(formatDuration(undefined)).toBe('n/a');
    expect(formatDuration(850)).toBe('850 ms');
    expect(formatDuration(42_000)).toBe('42 s');
    expect(formatDuration(200_000)).toBe('3 min 20 s');
    expect(formatDuration(5 * 3_600_000 + 120_000)).toBe('5 h 02 min');
    expect(formatDuration(52 * 3_600_000)).toBe('2 d 4 h');
  });
});
