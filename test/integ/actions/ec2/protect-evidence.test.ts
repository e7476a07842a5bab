import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ProtectedResourceError, ThrottlingError } from '#shared/errors';
import { protectEvidence } from '../../../../functions/actions/ec2-protect-evidence/core.ts';
import { errorOf, GUARDED, mutationsSince, PROTECTED_TAG, setup, WEB } from './helpers.ts';

function world() {
  const env = setup();
  const run = (instanceId: string, extra: Record<string, unknown> = {}) =>
    protectEvidence(
      { ec2: env.ec2, protectedTag: PROTECTED_TAG },
      { incidentId: 'inc-1', instanceId, ...extra },
    );
  return { ...env, run };
}

describe('ec2-protect-evidence', () => {
  it('turns on termination and stop protection, shutdown stop, and keeps every volume on termination', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB);
    const instance = sandbox.state().ec2.instances[WEB];
    expect(instance).toMatchObject({
      disableApiTermination: true,
      disableApiStop: true,
      shutdownBehavior: 'stop',
    });
    expect(instance?.blockDevices.map((b) => b.deleteOnTermination)).toEqual([false, false]);
    expect(result.before).toEqual({
      instanceId: WEB,
      disableApiTermination: false,
      disableApiStop: false,
      shutdownBehavior: 'stop',
      volumes: [
        { deviceName: '/dev/xvda', volumeId: 'vol-0a000000000000001', deleteOnTermination: true },
        { deviceName: '/dev/sdf', volumeId: 'vol-0a000000000000002', deleteOnTermination: false },
      ],
    });
    // Shutdown behaviour was already `stop`: one call per attribute that changes.
    expect(mutationsSince(sandbox)).toEqual([
      'EC2:ModifyInstanceAttribute',
      'EC2:ModifyInstanceAttribute',
      'EC2:ModifyInstanceAttribute',
    ]);
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, run } = world();
    await run(WEB);
    const mark = sandbox.calls.length;
    expect((await run(WEB)).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('changes nothing in a dry run and checks each call with DryRun', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    const result = await run(WEB, { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(result).toMatchObject({
      dryRun: true,
      changes: {
        calls: expect.arrayContaining([`ec2:ModifyInstanceAttribute ${WEB} disableApiTermination`]),
      },
    });
    const modifies = sandbox.calls.filter((c) => c.command === 'ModifyInstanceAttribute');
    expect(modifies).toHaveLength(3);
    expect(
      modifies.every(
        (c) => (c.input as { DryRun?: boolean }).DryRun === true && c.error?.name === 'DryRunOperation',
      ),
    ).toBe(true);
  });

  it('turns throttling into ThrottlingError and access denied into AccessDeniedError', async () => {
    const { sandbox, run } = world();
    sandbox.failNext('EC2:ModifyInstanceAttribute', 1, { code: 'RequestLimitExceeded' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(ThrottlingError);
    const state = sandbox.state();
    sandbox.failNext('EC2:ModifyInstanceAttribute', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state().ec2.instances[WEB]).toEqual(state.ec2.instances[WEB]);
  });

  it('refuses a protected instance, changing nothing', async () => {
    const { sandbox, run } = world();
    expect(await errorOf(run(GUARDED))).toBeInstanceOf(ProtectedResourceError);
    expect(mutationsSince(sandbox)).toEqual([]);
  });
});
