import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { decodeToken, encodeToken, planIncidents } from '../../../cli/queries/plan.ts';

const RANGE = { since: '2026-01-01T00:00:00.000Z', until: '2026-11-28T00:00:00.000Z' };

describe('planIncidents', () => {
  it('serves a resource from its by-ref links, whatever else is asked, and filters the rest', () => {
    expect(
      planIncidents({
        ...RANGE,
        resource: 'i-1',
        type: 'T',
        status: 'open',
        minSeverity: 7,
        account: '123456789012',
        region: 'eu-west-1',
      }),
    ).toEqual({
      index: 'by-ref',
      key: 'RESOURCE#i-1',
      via: 'BatchGet',
      filters: ['region', 'findingType', 'status', 'severity', 'account'],
    });
  });

  it('serves an account from by-place, its incident items, with the region and the rest filtered', () => {
    expect(planIncidents({ ...RANGE, account: '123456789012' })).toEqual({
      index: 'by-place',
      key: 'ACCOUNT#123456789012',
      filters: [],
    });
    expect(
      planIncidents({ ...RANGE, account: '123456789012', region: 'eu-west-1', type: 'T', status: 'open' }),
    ).toEqual({
      index: 'by-place',
      key: 'ACCOUNT#123456789012',
      filters: ['region', 'findingType', 'status'],
    });
  });

  it('serves a region from by-place, its place items, then the incidents got by BatchGet and filtered', () => {
    expect(planIncidents({ ...RANGE, region: 'eu-west-1', status: 'failed', minSeverity: 4 })).toEqual({
      index: 'by-place',
      key: 'REGION#eu-west-1',
      via: 'BatchGet',
      filters: ['status', 'severity'],
    });
  });

  it('prefers the finding type over the status, and filters on the status', () => {
    expect(planIncidents({ ...RANGE, type: 'T', status: 'open' })).toEqual({
      index: 'by-ref',
      key: 'TYPE#T',
      filters: ['status'],
    });
  });

  it('serves a status from by-status and a bare range from by-time, filtering severity', () => {
    expect(planIncidents({ ...RANGE, status: 'closed', minSeverity: 4 })).toEqual({
      index: 'by-status',
      key: 'STATUS#closed',
      filters: ['severity'],
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
