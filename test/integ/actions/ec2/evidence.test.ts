import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ResourceNotFoundError, ThrottlingError } from '#shared/errors';
import { checkSnapshots } from '../../../../functions/actions/ec2-check-snapshots/core.ts';
import { eradicateInstance } from '../../../../functions/actions/ec2-eradicate/core.ts';
import { EvidenceIncompleteError } from '../../../../functions/actions/ec2-eradicate/errors.ts';
import { protectEvidence } from '../../../../functions/actions/ec2-protect-evidence/core.ts';
import { CONSOLE_OUTPUT_LIMIT, snapshotInstance } from '../../../../functions/actions/ec2-snapshot/core.ts';
import { errorOf, mutationsSince, PROTECTED_TAG, setup, WEB } from './helpers.ts';

function world(seedOverride?: Parameters<typeof setup>[0]) {
  const env = setup(seedOverride);
  const event = { incidentId: 'inc-1', instanceId: WEB };
  return {
    ...env,
    snapshot: (extra: Record<string, unknown> = {}) =>
      snapshotInstance({ ec2: env.ec2 }, { ...event, findingId: 'gd-1', ...extra }),
    check: (extra: Record<string, unknown> = {}) => checkSnapshots({ ec2: env.ec2 }, { ...event, ...extra }),
    eradicate: (extra: Record<string, unknown>) =>
      eradicateInstance({ ec2: env.ec2 }, { ...event, ...extra }),
  };
}

describe('ec2-snapshot', () => {
  it('snapshots every volume at once, tagged with the incident, instance, finding and volume, and keeps the console', async () => {
    const { sandbox, snapshot } = world();
    const result = await snapshot();
    const state = sandbox.state();
    const snapshots = Object.values(state.ec2.snapshots);
    expect(snapshots.map((s) => s.volumeId).sort()).toEqual([
      'vol-0a000000000000001',
      'vol-0a000000000000002',
    ]);
    for (const s of snapshots) {
      expect(state.ec2.tags[s.snapshotId]).toMatchObject({
        'cordon:incident': 'inc-1',
        'cordon:instance': WEB,
        'cordon:finding': 'gd-1',
        'cordon:volume': s.volumeId,
      });
    }
    // CopyTagsFromSource: the data volume's own tag is on its snapshot.
    const data = snapshots.find((s) => s.volumeId === 'vol-0a000000000000002');
    expect(state.ec2.tags[data?.snapshotId ?? '']).toMatchObject({ data: 'yes' });
    expect(result.evidence?.sort()).toEqual(snapshots.map((s) => s.snapshotId).sort());
    expect(result.changes).toMatchObject({
      consoleOutput: expect.stringContaining('suspicious: curl'),
      consoleOutputTruncated: false,
    });
    expect(mutationsSince(sandbox)).toEqual(['EC2:CreateSnapshots', 'EC2:CreateTags', 'EC2:CreateTags']);
  });

  it('finds the incident snapshots the second time and takes no new one', async () => {
    const { sandbox, snapshot } = world();
    const first = await snapshot();
    const mark = sandbox.calls.length;
    const again = await snapshot();
    expect(again.status).toBe('already-done');
    expect(again.evidence?.sort()).toEqual(first.evidence?.sort());
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('keeps the last 32 KB of a long console output', async () => {
    const long = `${'x'.repeat(50_000)}THE END`;
    const { snapshot } = world({ instances: [{ id: WEB, consoleOutput: long }] });
    const result = await snapshot();
    const changes = result.changes as { consoleOutput: string; consoleOutputTruncated: boolean };
    expect(changes.consoleOutputTruncated).toBe(true);
    expect(Buffer.byteLength(changes.consoleOutput)).toBe(CONSOLE_OUTPUT_LIMIT);
    expect(changes.consoleOutput.endsWith('THE END')).toBe(true);
  });

  it('changes nothing in a dry run and checks CreateSnapshots with DryRun', async () => {
    const { sandbox, snapshot } = world();
    const result = await snapshot({ dryRun: true });
    expect(sandbox.state().ec2.snapshots).toEqual({});
    expect(sandbox.calls.find((c) => c.command === 'CreateSnapshots')).toMatchObject({
      input: { DryRun: true },
      error: { name: 'DryRunOperation' },
    });
    expect(result.changes).toMatchObject({
      calls: expect.arrayContaining([`ec2:CreateSnapshots ${WEB}`, `ec2:GetConsoleOutput ${WEB}`]),
    });
  });

  it('turns throttling and access denied into named errors', async () => {
    const { sandbox, snapshot } = world();
    sandbox.failNext('CreateSnapshots', 1, { code: 'RequestLimitExceeded' });
    expect(await errorOf(snapshot())).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('CreateSnapshots', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(snapshot())).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state().ec2.snapshots).toEqual({});
  });
});

describe('ec2-check-snapshots', () => {
  it('reports pending snapshots, then all completed once the sandbox clock passes their duration', async () => {
    const { sandbox, snapshot, check } = world();
    await snapshot();
    expect((await check()).output).toMatchObject({
      allCompleted: false,
      pending: 2,
      failed: [],
      completed: 0,
    });
    sandbox.advance(60_000);
    expect((await check()).output).toMatchObject({
      allCompleted: true,
      pending: 0,
      failed: [],
      completed: 2,
    });
  });

  it('never reports complete when there is no snapshot', async () => {
    const { check } = world();
    expect(await check()).toMatchObject({
      output: { allCompleted: false, pending: 0 },
      note: expect.stringMatching(/no snapshot/),
    });
  });
});

describe('ec2-eradicate', () => {
  it('refuses while a snapshot is pending, and changes nothing', async () => {
    const { sandbox, snapshot, eradicate } = world();
    const { evidence } = await snapshot();
    const mark = sandbox.calls.length;
    const error = await errorOf(eradicate({ mode: 'terminate', snapshotIds: evidence }));
    expect(error).toBeInstanceOf(EvidenceIncompleteError);
    expect(error.name).toBe('EvidenceIncompleteError');
    expect(error.message).toMatch(/pending/);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('turns stop protection off, records it, and stops the instance once the snapshots are complete', async () => {
    const { sandbox, ec2, snapshot, eradicate } = world();
    await protectEvidence({ ec2, protectedTag: PROTECTED_TAG }, { incidentId: 'inc-1', instanceId: WEB });
    const { evidence } = await snapshot();
    sandbox.advance(60_000);
    const result = await eradicate({ mode: 'stop', snapshotIds: evidence });
    expect(result.before).toEqual({ instanceId: WEB, state: 'running', disableApiStop: true });
    expect(sandbox.state().ec2.instances[WEB]).toMatchObject({
      state: 'stopped',
      disableApiStop: false,
      disableApiTermination: true,
    });
    const mark = sandbox.calls.length;
    expect((await eradicate({ mode: 'stop', snapshotIds: evidence })).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('turns termination protection off and terminates, keeping the volumes', async () => {
    const { sandbox, ec2, snapshot, eradicate } = world();
    await protectEvidence({ ec2, protectedTag: PROTECTED_TAG }, { incidentId: 'inc-1', instanceId: WEB });
    const { evidence } = await snapshot();
    sandbox.advance(60_000);
    const result = await eradicate({ mode: 'terminate', snapshotIds: evidence });
    expect(result.changes).toMatchObject({ disableApiTermination: false, mode: 'terminate' });
    const state = sandbox.state();
    expect(state.ec2.instances[WEB]?.state).toBe('terminated');
    expect(state.ec2.volumes['vol-0a000000000000001']?.state).toBe('available');
  });

  it('changes nothing in a dry run', async () => {
    const { sandbox, snapshot, eradicate } = world();
    const { evidence } = await snapshot();
    sandbox.advance(60_000);
    const state = sandbox.state();
    const result = await eradicate({ mode: 'stop', snapshotIds: evidence, dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(sandbox.calls.find((c) => c.command === 'StopInstances')).toMatchObject({
      input: { DryRun: true },
    });
    expect(result.dryRun).toBe(true);
  });

  it('throws ResourceNotFoundError when the instance is gone', async () => {
    const { sandbox, snapshot, eradicate } = world();
    const { evidence } = await snapshot();
    sandbox.advance(60_000);
    const error = await errorOf(eradicate({ instanceId: 'i-0fffffffffffffff0', snapshotIds: evidence }));
    expect(error).toBeInstanceOf(ResourceNotFoundError);
  });
});
