import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ThrottlingError } from '#shared/errors';
import { tagInstance } from '../../../../functions/actions/ec2-tag/core.ts';
import { errorOf, mutationsSince, PROTECTED_TAG, setup, WEB } from './helpers.ts';

function world() {
  const env = setup();
  const run = (extra: Record<string, unknown> = {}) =>
    tagInstance(
      { ec2: env.ec2, protectedTag: PROTECTED_TAG },
      { incidentId: 'inc-1', instanceId: WEB, ...extra },
    );
  return { ...env, run };
}

describe('ec2-tag', () => {
  it('tags the incident and status and records the previous values', async () => {
    const { sandbox, run } = world();
    const result = await run();
    expect(sandbox.state().ec2.tags[WEB]).toEqual({
      Name: 'web',
      'cordon:incident': 'inc-1',
      'cordon:status': 'contained',
    });
    expect(result.before).toEqual({
      instanceId: WEB,
      tags: { 'cordon:incident': null, 'cordon:status': 'healthy' },
    });
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, run } = world();
    await run();
    const mark = sandbox.calls.length;
    expect((await run()).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('changes nothing in a dry run and checks the call with DryRun', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    await run({ dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(sandbox.calls.find((c) => c.command === 'CreateTags')).toMatchObject({
      input: { DryRun: true },
      error: { name: 'DryRunOperation' },
    });
  });

  it('turns throttling and access denied into named errors', async () => {
    const { sandbox, run } = world();
    sandbox.failNext('CreateTags', 1, { code: 'RequestLimitExceeded' });
    expect(await errorOf(run())).toBeInstanceOf(ThrottlingError);
    sandbox.failNext('CreateTags', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(run())).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state().ec2.tags[WEB]).toEqual({ Name: 'web', 'cordon:status': 'healthy' });
  });
});
