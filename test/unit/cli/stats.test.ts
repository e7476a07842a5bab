import { describe, expect, it } from 'vitest';
import type { StoredIncident } from '#shared/audit';
import type { Step } from '#shared/domain';
import { classifyActions, computeStats, percentile, statsRows } from '../../../cli/commands/stats.ts';

let seq = 0;
function step(fields: Partial<Step>): Step {
  seq++;
  return {
    incidentId: 'inc-1',
    seq,
    phase: 'containment',
    action: 'ec2-isolate',
    status: 'succeeded',
    actor: 'automation',
    startedAt: '2026-11-01T10:00:00.000Z',
    recordedAt: '2026-11-01T10:00:00.000Z',
    prevHash: '',
    hash: '',
    ...fields,
  };
}

const incident = (id: string, fields: Partial<StoredIncident> = {}): StoredIncident => ({
  id,
  status: 'contained',
  title: id,
  findingType: 'T',
  severity: 5,
  account: '123456789012',
  region: 'us-east-1',
  resources: [{ type: 'instance', id: 'i-1' }],
  playbook: 'ec2-compromise',
  firstSeen: '2026-11-01T09:59:00.000Z',
  openedAt: '2026-11-01T10:00:00.000Z',
  lastSeen: '2026-11-01T10:00:00.000Z',
  ...fields,
});

describe('percentile', () => {
  it('takes the nearest rank', () => {
    const values = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    expect(percentile(values, 50)).toBe(5);
    expect(percentile(values, 90)).toBe(9);
    expect(percentile([4], 90)).toBe(4);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('classifyActions', () => {
  it('counts an action after an approval in its phase as approved, others as automatic, and skips dry runs and started steps', () => {
    const steps = [
      step({ action: 'ec2-isolate', status: 'started' }),
      step({ action: 'ec2-isolate' }),
      step({ action: 'ec2-snapshot', phase: 'evidence', status: 'already-done' }),
      step({ action: 'ec2-tag', dryRun: true }),
      step({
        action: 'approval-decision',
        phase: 'eradication',
        actor: 'a@x',
        changes: { decision: 'approve' },
      }),
      step({ action: 'ec2-eradicate', phase: 'eradication' }),
      step({ action: 'approval-decision', phase: 'recovery', actor: 'a@x', changes: { decision: 'reject' } }),
      step({ action: 'ec2-release', phase: 'recovery', status: 'failed' }),
    ];
    expect(classifyActions(steps)).toEqual({ automatic: 2, approved: 1 });
  });
});

describe('computeStats', () => {
  it('counts by type, status and playbook and measures times and approvers', () => {
    const a = incident('a', { containedAt: '2026-11-01T10:01:00.000Z' });
    const b = incident('b', { status: 'open', findingType: 'U', playbook: undefined });
    const steps = new Map<string, Step[]>([
      [
        'a',
        [
          step({
            action: 'approval-request',
            status: 'started',
            startedAt: '2026-11-01T10:00:00.000Z',
            input: { requestId: 'r1' },
          }),
          step({
            action: 'approval-decision',
            actor: 'alice@example.com',
            startedAt: '2026-11-01T10:02:00.000Z',
            input: { requestId: 'r1', action: 'isolate-instance', resource: { id: 'i-1' } },
            changes: { decision: 'approve' },
          }),
        ],
      ],
    ]);
    const stats = computeStats('s', 'u', [a, b], steps);
    expect(stats.byType).toEqual({ T: 1, U: 1 });
    expect(stats.byStatus).toEqual({ contained: 1, open: 1 });
    expect(stats.byPlaybook).toEqual({ 'ec2-compromise': 1, none: 1 });
    expect(stats.timeToContain).toEqual({ count: 1, p50Ms: 60_000, p90Ms: 60_000 });
    expect(stats.timeToDetect.p50Ms).toBe(60_000);
    expect(stats.timeToRecover).toEqual({ count: 0 });
    expect(stats.approvers).toEqual({ 'alice@example.com': { count: 1, p50Ms: 120_000, p90Ms: 120_000 } });
  });

  it('counts by account and region, and names the account and region the figures are of', () => {
    const all = [
      incident('a'),
      incident('b', { account: '210987654321' }),
      incident('c', { account: '210987654321', region: 'eu-west-1' }),
    ];
    const stats = computeStats('s', 'u', all, new Map());
    expect(stats.byAccount).toEqual({ '123456789012': 1, '210987654321': 2 });
    expect(stats.byRegion).toEqual({ 'eu-west-1': 1, 'us-east-1': 2 });
    expect(stats).not.toHaveProperty('account');
    const rows = statsRows(stats);
    expect(rows).toContainEqual({ section: 'by account', key: '210987654321', value: '2' });
    expect(rows).toContainEqual({ section: 'by region', key: 'eu-west-1', value: '1' });
    const one = computeStats('s', 'u', all.slice(1), new Map(), { account: '210987654321' });
    expect(one).toMatchObject({ account: '210987654321', byAccount: { '210987654321': 2 } });
    expect(statsRows(one)).toContainEqual({ section: 'range', key: 'account', value: '210987654321' });
    const region = computeStats('s', 'u', all.slice(2), new Map(), { region: 'eu-west-1' });
    expect(statsRows(region)).toContainEqual({ section: 'range', key: 'region', value: 'eu-west-1' });
  });

  it('leaves rehearsals, dry runs and sample findings out of every figure unless asked, and counts them', () => {
    const real = incident('real', { containedAt: '2026-11-01T10:01:00.000Z' });
    const marked = (['sample', 'dry-run', 'rehearsal'] as const).map((kind) =>
      incident(kind, { rehearsal: kind, findingType: 'R', containedAt: '2026-11-01T11:00:00.000Z' }),
    );
    const out = computeStats('s', 'u', [real, ...marked], new Map());
    expect(out).toMatchObject({ incidents: 1, rehearsals: { count: 3, included: false }, byType: { T: 1 } });
    expect(out.timeToContain).toEqual({ count: 1, p50Ms: 60_000, p90Ms: 60_000 });
    expect(statsRows(out)).toContainEqual({
      section: 'incidents',
      key: 'rehearsals left out',
      value: '3 (rehearsals, dry runs, sample findings: --include-rehearsals counts them)',
    });
    const all = computeStats('s', 'u', [real, ...marked], new Map(), { includeRehearsals: true });
    expect(all).toMatchObject({
      incidents: 4,
      rehearsals: { count: 3, included: true },
      byType: { R: 3, T: 1 },
    });
    expect(all.timeToContain.count).toBe(4);
  });
});
