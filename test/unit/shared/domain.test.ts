import { describe, expect, it, vi } from 'vitest';
import { sequentialIds, steppingClock } from '#shared/clock';
import { FindingSchema, parseOrThrow } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import { canonicalJson, stepHash } from '#shared/hash-chain';

const finding = {
  id: 'f-1',
  source: 'guardduty',
  type: 'Backdoor:EC2/C&CActivity.B!DNS',
  severity: 8,
  resources: [{ type: 'instance', id: 'i-99999999' }],
  account: '123456789012',
  region: 'us-east-1',
  firstSeen: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:05:00.000Z',
  raw: {},
};

describe('the domain schemas', () => {
  it('accepts a well-formed finding', () => {
    expect(parseOrThrow(FindingSchema, finding, 'finding').resources[0]?.id).toBe('i-99999999');
  });

  it('names every bad field of a finding', () => {
    const bad = { ...finding, severity: 12, account: 'abc', resources: [{ type: 'planet', id: 'x' }] };
    const error = (() => {
      try {
        parseOrThrow(FindingSchema, bad, 'finding');
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      'severity: must be at most 10',
      expect.stringMatching(/^resources\.0\.type: /),
      'account: must be a 12-digit AWS account id',
    ]);
  });
});

describe('the domain at a cold start', () => {
  it('builds no schema at import: each is built the first time it is used, once', async () => {
    vi.resetModules();
    const lazy = await import('#shared/lazy-schema');
    const domain = await import('#shared/domain');
    await import('#shared/settings');
    await import('#shared/action');
    await import('#shared/define-action');
    expect(lazy.schemasBuilt()).toBe(0);
    domain.parseOrThrow(domain.ResourceSchema, { type: 'instance', id: 'i-1' }, 'resource');
    const built = lazy.schemasBuilt();
    // The resource's schema and the non-empty string it holds; nothing else.
    expect(built).toBe(2);
    domain.parseOrThrow(domain.ResourceSchema, { type: 'access-key', id: 'AKIA1' }, 'resource');
    expect(lazy.schemasBuilt()).toBe(built);
    // Built on first use, a schema names each bad field as before, in English.
    expect(() =>
      domain.parseOrThrow(domain.StepInputSchema, { phase: 'containment', action: '', status: 'x' }, 'step'),
    ).toThrow(
      /^step is invalid: action: must not be empty; status: Invalid option: .*; actor: Invalid input/,
    );
  });
});

describe('the hash chain', () => {
  it('hashes the same content the same way whatever the key order', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { z: 1, y: 2 }], c: undefined } })).toBe(
      '{"a":{"d":[1,{"y":2,"z":1}]},"b":1}',
    );
    expect(stepHash({ a: 1, b: 2, hash: 'x' })).toBe(stepHash({ b: 2, a: 1 }));
    expect(stepHash({ a: 1 })).not.toBe(stepHash({ a: 2 }));
  });
});

describe('test clocks and ids', () => {
  it('step by the interval given', () => {
    const clock = steppingClock('2026-01-01T00:00:00.000Z', 500);
    expect([clock(), clock()]).toEqual(['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:00.500Z']);
    const ids = sequentialIds('inc');
    expect([ids(), ids()]).toEqual(['inc-0001', 'inc-0002']);
    expect(() => steppingClock('yesterday')).toThrow('start must be an ISO date, got "yesterday"');
  });
});
