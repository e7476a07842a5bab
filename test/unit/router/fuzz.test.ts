/**
 * Property-based tests: the real events, mutated thousands of times (keys dropped, types changed, random
 * values at random paths, text truncated), never make normalization or the policy throw.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import * as z from 'zod/mini';
import { type Finding, FindingSchema } from '#shared/domain';
import type { Settings } from '#shared/settings';
import { type NormalizeResult, normalizeEvent } from '../../../functions/router/normalize.ts';
import { decide, type PolicyContext } from '../../../functions/router/policy.ts';
import { FIXTURE_NAMES, fixture, fixtureText, testSettings } from '../../support/fixtures.ts';

const settings = testSettings();
const MODES = ['automatic', 'approval-first', 'dry-run', 'none'];

type Path = (string | number)[];

/** Every path to a value inside `value`, the root included. */
function paths(value: unknown, prefix: Path = []): Path[] {
  const found: Path[] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) found.push(...paths(v, [...prefix, i]));
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) found.push(...paths(v, [...prefix, k]));
  }
  return found;
}

function parentOf(root: unknown, path: Path): unknown {
  let current = root;
  for (const key of path.slice(0, -1)) {
    if (typeof current !== 'object' || current === null) return undefined;
    current = (current as Record<string | number, unknown>)[key];
  }
  return current;
}

const OPS = ['drop', 'replace', 'retype', 'truncate', 'empty'] as const;
type Op = (typeof OPS)[number];

function retype(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 0 ? Number.parseFloat(value) || value.length : null;
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'true' : 0;
  if (Array.isArray(value)) return { ...value };
  if (value === null || value === undefined) return {};
  return Object.values(value);
}

/** Applies one mutation at `path`, in place; a mutation of the root returns the replacement. */
function mutate(root: unknown, path: Path, op: Op, random: unknown): unknown {
  const parent = parentOf(root, path);
  const key = path[path.length - 1];
  const current = key === undefined ? root : (parent as Record<string | number, unknown> | undefined)?.[key];
  let next: unknown;
  switch (op) {
    case 'drop':
      if (key !== undefined && typeof parent === 'object' && parent !== null) {
        if (Array.isArray(parent) && typeof key === 'number') parent.splice(key, 1);
        else delete (parent as Record<string, unknown>)[key];
        return root;
      }
      return undefined;
    case 'replace':
      next = random;
      break;
    case 'retype':
      next = retype(current);
      break;
    case 'truncate':
      next =
        typeof current === 'string'
          ? current.slice(0, Math.floor(current.length / 2))
          : Array.isArray(current)
            ? current.slice(0, 1)
            : current;
      break;
    case 'empty':
      next = Array.isArray(current)
        ? []
        : typeof current === 'string'
          ? ''
          : typeof current === 'object'
            ? {}
            : 0;
      break;
  }
  if (key === undefined) return next;
  if (typeof parent === 'object' && parent !== null) (parent as Record<string | number, unknown>)[key] = next;
  return root;
}

const mutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom(...OPS),
  value: fc.oneof(
    fc.jsonValue({ maxDepth: 3 }),
    fc.constantFrom(undefined, Number.NaN, Number.POSITIVE_INFINITY, -1, 1e308, '', ' ', '[SAMPLE]'),
  ),
});

const mutatedEvent = fc
  .record({
    name: fc.constantFrom(...FIXTURE_NAMES),
    mutations: fc.array(mutation, { minLength: 1, maxLength: 6 }),
  })
  .map(({ name, mutations }) => {
    let event = fixture(name);
    for (const m of mutations) {
      const all = paths(event);
      const path = all[m.at % all.length] ?? [];
      event = mutate(event, path, m.op, m.value);
    }
    return event;
  });

const context: fc.Arbitrary<PolicyContext> = fc.record(
  {
    tags: fc.dictionary(
      fc.constantFrom('cordon:protected', 'env', 'Name'),
      fc.constantFrom('true', 'false', 'sandbox'),
    ),
    automaticContainmentsLast60Minutes: fc.oneof(fc.nat({ max: 20 }), fc.double()),
    runtime: fc.constantFrom('local' as const, 'aws' as const),
  },
  { requiredKeys: ['automaticContainmentsLast60Minutes', 'runtime'] },
);

function checkResult(result: NormalizeResult): Finding[] {
  if (result.kind === 'rejected') {
    expect(typeof result.reason).toBe('string');
    expect(result.reason.trim()).not.toBe('');
    return [];
  }
  expect(result.kind).toBe('findings');
  expect(result.findings.length).toBeGreaterThan(0);
  for (const finding of result.findings) {
    const parsed = z.safeParse(FindingSchema, finding);
    expect(parsed.success, JSON.stringify(parsed.error?.issues)).toBe(true);
  }
  for (const rejection of result.rejections) expect(rejection.reason.trim()).not.toBe('');
  return result.findings;
}

function checkDecision(finding: Finding, ctx: PolicyContext, with_: Settings): void {
  const decision = decide(finding, ctx, with_);
  expect(MODES).toContain(decision.mode);
  expect(decision.reasons.length).toBeGreaterThan(0);
  if (finding.sample === true && ctx.runtime === 'aws') expect(['none', 'dry-run']).toContain(decision.mode);
  if (ctx.automaticContainmentsLast60Minutes >= with_.maxAutomaticContainmentsPerHour) {
    expect(decision.mode).not.toBe('automatic');
  }
  if (!(ctx.automaticContainmentsLast60Minutes >= 0)) expect(decision.mode).not.toBe('automatic');
  // One resource is chosen with the playbook, among the finding's own: nothing else is acted on.
  expect(decision.resource === null).toBe(decision.playbook === null);
  if (decision.resource !== null) expect(finding.resources).toContainEqual(decision.resource);
}

describe('normalization and policy under mutated real events', () => {
  it('mutates enough to reject some events and little enough to keep others readable', () => {
    const results = fc
      .sample(mutatedEvent, { numRuns: 1000, seed: 42 })
      .map((e) => normalizeEvent(e, settings).kind);
    const read = results.filter((kind) => kind === 'findings').length;
    expect(read).toBeGreaterThan(200);
    expect(read).toBeLessThan(900);
  });

  it('never throws on mutated events, and gives valid findings or a reasoned rejection', () => {
    fc.assert(
      fc.property(mutatedEvent, (event) => {
        checkResult(normalizeEvent(event, settings));
      }),
      { numRuns: 4000 },
    );
  });

  it('never throws on truncated event text, parsed where it still parses', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...FIXTURE_NAMES),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (name, cut) => {
          const text = fixtureText(name);
          const truncated = text.slice(0, Math.floor(text.length * cut));
          let input: unknown = truncated;
          try {
            input = JSON.parse(truncated);
          } catch {
            // Not JSON any more: the router is given the text itself.
          }
          checkResult(normalizeEvent(input, settings));
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('never throws on arbitrary values', () => {
    fc.assert(
      fc.property(fc.anything({ maxDepth: 4 }), (value) => {
        checkResult(normalizeEvent(value, settings));
        checkResult(
          normalizeEvent({ 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', detail: value }),
        );
        checkResult(
          normalizeEvent({
            'detail-type': 'Security Hub Findings - Imported',
            source: 'aws.securityhub',
            detail: { findings: [value] },
          }),
        );
      }),
      { numRuns: 1000 },
    );
  });

  it('decides every finding of a mutated event without throwing, and never contains a deployed sample', () => {
    fc.assert(
      fc.property(mutatedEvent, context, (event, ctx) => {
        for (const finding of checkResult(normalizeEvent(event, settings)))
          checkDecision(finding, ctx, settings);
      }),
      { numRuns: 3000 },
    );
  });

  it('decides without throwing whatever the settings, the context or the finding', () => {
    const finding = normalizeEvent(fixture('guardduty/ec2-canary-stateless.detail.json'));
    if (finding.kind !== 'findings' || finding.findings[0] === undefined)
      throw new Error('fixture did not normalize');
    const base = finding.findings[0];
    fc.assert(
      fc.property(
        fc.anything({ maxDepth: 3 }),
        fc.anything({ maxDepth: 2 }),
        fc.anything({ maxDepth: 2 }),
        (s, c, f) => {
          for (const [findingArg, contextArg, settingsArg] of [
            [base, c, s],
            [f, { automaticContainmentsLast60Minutes: 0, runtime: 'aws' }, settings],
          ] as const) {
            const decision = decide(
              findingArg as Finding,
              contextArg as PolicyContext,
              settingsArg as Settings,
            );
            expect(MODES).toContain(decision.mode);
            expect(decision.mode).not.toBe('automatic');
          }
        },
      ),
      { numRuns: 1000 },
    );
  });
});
