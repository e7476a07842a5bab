import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError } from '#shared/errors';
import { recoverFromSnapshots } from '../../../../functions/actions/recover-from-snapshots/core.ts';
import {
  errorOf,
  FIRST_SEEN,
  inputsOf,
  mutationsSince,
  NO_BACKUP,
  NO_BACKUP_DATA,
  NO_BACKUP_ROOT,
  seed,
  setup,
} from './helpers.ts';

function world(accountSeed = seed()) {
  const env = setup(accountSeed);
  const run = (extra: Record<string, unknown> = {}) =>
    recoverFromSnapshots(
      { ec2: env.ec2 },
      { incidentId: 'inc-1', instanceId: NO_BACKUP, firstSeen: FIRST_SEEN, ...extra },
    );
  return { ...env, run };
}

describe('recover-from-snapshots', () => {
  it("creates a volume from each volume's newest snapshot before first-seen, in the instance's zone, tagged", async () => {
    const { run, sandbox } = world();
    const result = await run();
    expect(result.status).toBe('succeeded');
    const volumes = result.output?.volumes as { volumeId: string }[];
    expect(result.output).toEqual({
      partial: true,
      volumes: [
        {
          volumeId: expect.stringMatching(/^vol-/),
          fromSnapshot: 'snap-0c0000000000000a2',
          sourceVolume: NO_BACKUP_ROOT,
          availabilityZone: 'us-east-1b',
          deviceName: '/dev/xvda',
        },
      ],
      // Its only snapshot is the incident's own, after first-seen.
      missing: [NO_BACKUP_DATA],
    });
    expect(result.note).toMatch(/^partial recovery: .*an operator must attach them/);
    const id = volumes[0]?.volumeId ?? '';
    const state = sandbox.state();
    expect(state.ec2.volumes[id]).toMatchObject({
      availabilityZone: 'us-east-1b',
      snapshotId: 'snap-0c0000000000000a2',
      size: 8,
    });
    expect(state.ec2.volumes[id]?.attachment).toBeUndefined();
    expect(state.ec2.tags[id]).toEqual({
      'cordon:incident': 'inc-1',
      'cordon:source-volume': NO_BACKUP_ROOT,
      'cordon:source-snapshot': 'snap-0c0000000000000a2',
    });
    expect(inputsOf(sandbox, 'DescribeSnapshots')[0]).toMatchObject({
      OwnerIds: ['self'],
      Filters: [
        { Name: 'volume-id', Values: [NO_BACKUP_ROOT] },
        { Name: 'status', Values: ['completed'] },
      ],
    });
    expect(result.changes).toMatchObject({ passedOver: { [NO_BACKUP_ROOT]: 1, [NO_BACKUP_DATA]: 1 } });
  });

  it('creates nothing on a second run and reports the volumes it made', async () => {
    const { run, sandbox } = world();
    const first = await run();
    const from = sandbox.calls.length;
    const second = await run();
    expect(second.status).toBe('already-done');
    expect(second.output).toEqual(first.output);
    expect(mutationsSince(sandbox, from)).toEqual([]);
    const tags = sandbox.state().ec2.tags;
    expect(Object.keys(tags).filter((id) => tags[id]?.['cordon:incident'] === 'inc-1')).toHaveLength(1);
  });

  it('reports every volume missing when no snapshot predates first-seen', async () => {
    const { run, sandbox } = world();
    const result = await run({ firstSeen: '2024-12-01T00:00:00Z' });
    expect(result.output).toMatchObject({ volumes: [], missing: [NO_BACKUP_ROOT, NO_BACKUP_DATA] });
    expect(mutationsSince(sandbox)).toEqual([]);
  });

  it('with dryRun checks CreateVolume with DryRun and changes nothing', async () => {
    const { run, sandbox } = world();
    const before = sandbox.state();
    const result = await run({ dryRun: true });
    expect(result).toMatchObject({
      dryRun: true,
      changes: { calls: ['ec2:CreateVolume from snap-0c0000000000000a2 in us-east-1b'] },
      output: { volumes: [{ volumeId: null, fromSnapshot: 'snap-0c0000000000000a2' }] },
    });
    expect(inputsOf(sandbox, 'CreateVolume')).toEqual([expect.objectContaining({ DryRun: true })]);
    expect(sandbox.state()).toEqual(before);
  });

  it('turns throttling into ThrottlingError and a refusal into AccessDeniedError, even in a dry run', async () => {
    const { run, sandbox } = world({ ...seed(), denied: ['EC2:CreateVolume'] });
    expect(await errorOf(run({ dryRun: true }))).toBeInstanceOf(AccessDeniedError);
    sandbox.failNext('EC2:DescribeSnapshots', 1, { code: 'RequestLimitExceeded' });
    expect(await errorOf(run())).toBeInstanceOf(ThrottlingError);
  });
});
