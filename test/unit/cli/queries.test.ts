import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { decodeToken, encodeToken, planIncidents } from '../../../cli/queries/plan.ts';

const RANGE = { since: '2026-01-01T00:00:00.000Z', until: '2026-11-28T00:00:00.000Z' };

describe('planIncidents', () => {
  it('serves a resource from its by-ref links, whatever else is asked, and filters the rest', () => {
    expect(planIncidents({ ...RANGE, resource: 'i-1', type: 'T', status: 'open', minSeverity: 7 })).toEqual({
      index: 'by-ref',
      key: 'RESOURCE#i-1',
      filters: ['findingType', 'status', 'severity'],
    });
  });

  it('prefers the finding type over the status, and filters on the status', () => {
    expect(planIncidents({ ...RANGE, type: 'T', status: 'open' })).toEqual({
      index: 'by-ref',
      key: 'TYPE#T',
      filters: ['status'],
    });
  });

  it('serves a status from by-status and a bare range from by-time, filtering severity and account', () => {
    expect(planIncidents({ ...RANGE, status: 'closed', account: '123456789012' })).toEqual({
      index: 'by-status',
      key: 'STATUS#closed',
      filters: ['account'],
    });
    expect(planIncidents({ ...RANGE, minSeverity: 4 })).toEqual({
      index: 'by-time',
      key: 'MONTH#<yyyy-mm>',
      filters: ['severity'],
    });
  });
});

describe('continuation tokens', () => {
  it('come back as they were printed', () => {
    const token = { v: 1 as const, q: 'q', since: 'a', until: 'b', m: '2026-11', k: { pk: 'x' } };
    expect(decodeToken(encodeToken(token), 'q')).toEqual(token);
  });

  it('refuse a token of a list with other filters, or one that is not a token', () => {
    const text = encodeToken({ v: 1, q: 'q', since: 'a', until: 'b' });
    expect(() => decodeToken(text, 'other')).toThrow(/other filters/);
    expect(() => decodeToken('not-a-token', 'q')).toThrow(ValidationError);
  });
});
