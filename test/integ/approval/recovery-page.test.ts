/**
 * A restore's approval names its recovery point: the recover playbook of Cordon's own stack, on the local
 * engine and sandbox, chooses the point (a read) before it asks, and the real decision page over HTTP
 * shows that point; what is restored after approval is that point. With no point, the question is the
 * fallback's (volumes from snapshots), and a rejection creates nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { utc } from '../../../functions/approval/facts.ts';
import type { AccountSeed } from '../../../local/sandbox/index.ts';
import { approvalLink, decide, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { FIRST_SEEN, NO_BACKUP, POINT, RECOVERY_GROUP, seed, T0, WEB } from '../actions/recover/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({
    approvals: {},
    waitScale: 0.001,
    stack: {
      settings: {
        approvers: ['security-oncall@example.com'],
        sender: 'cordon@example.com',
        recovery: {
          subnetId: 'subnet-0eec',
          securityGroupIds: [RECOVERY_GROUP],
          instanceProfileName: 'recovery-profile',
          restoreCheckSeconds: 60,
          restoreMaxChecks: 4,
        },
      },
    },
  });
}, 240_000);
afterAll(async () => {
  await t?.close();
});

/** The recover helpers' account, with the restore role the stack names. */
function account(): AccountSeed {
  const base = seed();
  return {
    ...base,
    iam: {
      ...base.iam,
      roles: [...(base.iam?.roles ?? []), { name: 'cordon-restore-us-east-1', trustPolicy: {} }],
    },
  };
}

async function page(link: string): Promise<string> {
  const response = await fetch(link);
  expect(response.status).toBe(200);
  return response.text();
}

describe('the approval of a restore', () => {
  it('shows the recovery point it would restore, and restores that one once approved', async () => {
    const sandbox = t.runtime.useAccount(account());
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'recover', { type: 'instance', id: WEB }, 'automatic', {
      firstSeen: FIRST_SEEN,
    });
    const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);
    const html = await page(link);
    expect(html).toContain(`<tr><th>Recovery point</th><td>${POINT.oneDay}</td></tr>`);
    // The seed creates that point a day before T0.
    const createdAt = new Date(T0 - 24 * 3600_000).toISOString();
    expect(html).toContain(`<tr><th>Recovery point created</th><td>${utc(createdAt)}</td></tr>`);
    expect(html).toContain('Restores a new instance from the recovery point');
    // Nothing is restored before a person approves.
    expect(Object.values(sandbox.state().backup.restoreJobs)).toHaveLength(0);
    expect(await decide(link, 'approve')).toBe(200);
    expect((await run.execution.done).status).toBe('SUCCEEDED');
    const jobs = Object.values(sandbox.state().backup.restoreJobs);
    expect(jobs.map((j) => j.recoveryPointArn)).toEqual([POINT.oneDay]);
  });

  it('asks about volumes from snapshots when there is no recovery point, and a rejection creates none', async () => {
    const sandbox = t.runtime.useAccount(account());
    const volumesBefore = Object.keys(sandbox.state().ec2.volumes).length;
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'recover', { type: 'instance', id: NO_BACKUP }, 'automatic', {
      firstSeen: FIRST_SEEN,
    });
    const link = await approvalLink(t.runtime, run.incidentId, emailsBefore);
    const html = await page(link);
    expect(html).toContain('Approve volumes-from-snapshots on');
    expect(html).toContain('Creates a new EBS volume from each of the instance');
    expect(html).not.toContain('<th>Recovery point</th>');
    expect(await decide(link, 'reject', 'the team rebuilds it from its image')).toBe(200);
    const result = await run.execution.done;
    expect(result.status).toBe('SUCCEEDED');
    expect(result.history.some((e) => e.stateName === 'Not recovered')).toBe(true);
    expect(result.history.some((e) => e.stateName === 'Volumes from snapshots')).toBe(false);
    expect(Object.keys(sandbox.state().ec2.volumes)).toHaveLength(volumesBefore);
  });
});
