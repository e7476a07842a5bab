import { describe, expect, it } from 'vitest';
import { AccessDeniedError, ProtectedResourceError, ThrottlingError } from '#shared/errors';
import { detachInstance } from '../../../../functions/actions/ec2-detach/core.ts';
import {
  callsSince,
  errorOf,
  GUARDED,
  mutationsSince,
  PEER,
  PROTECTED_TAG,
  SOLO,
  setup,
  WEB,
} from './helpers.ts';

function world() {
  const env = setup();
  const deps = {
    ec2: env.ec2,
    autoScaling: env.asg,
    elbv2: env.elbv2,
    elb: env.elb,
    protectedTag: PROTECTED_TAG,
  };
  const run = (instanceId: string, extra: Record<string, unknown> = {}) =>
    detachInstance(deps, { incidentId: 'inc-1', instanceId, ...extra });
  return { ...env, run };
}

const TG = (arn: string | undefined) => arn ?? '';

describe('ec2-detach', () => {
  it('leaves the Auto Scaling group without lowering its capacity and leaves every load balancer', async () => {
    const { sandbox, run } = world();
    const start = sandbox.state();
    const tgArn = TG(Object.keys(start.elbv2.targetGroups)[0]);
    const result = await run(WEB);
    const state = sandbox.state();
    const group = state.autoScaling.groups['web-asg'];
    expect(group?.instances.map((i) => i.instanceId)).toEqual([PEER]);
    expect(group?.desiredCapacity).toBe(2);
    expect(state.elbv2.targetGroups[tgArn]?.targets.find((t) => t.id === WEB)?.drainingUntil).toBeDefined();
    expect(state.elb.loadBalancers['web-clb']?.instances).toEqual([PEER]);
    expect(result.before).toEqual({
      instanceId: WEB,
      autoScalingGroup: { name: 'web-asg', protectedFromScaleIn: false },
      targetGroups: [{ targetGroupArn: tgArn, port: 80 }],
      loadBalancers: ['web-clb'],
    });
    const detach = sandbox.calls.find((c) => c.command === 'DetachInstances');
    expect(detach?.input).toMatchObject({ ShouldDecrementDesiredCapacity: false });
    expect(callsSince(sandbox)).toEqual([
      'EC2:DescribeInstances',
      'AutoScaling:DescribeAutoScalingInstances',
      'ELBv2:DescribeTargetGroups',
      'ELB:DescribeLoadBalancers',
      'ELBv2:DescribeTargetHealth',
      'AutoScaling:DetachInstances',
      'ELBv2:DeregisterTargets',
      'ELB:DeregisterInstancesFromLoadBalancer',
    ]);
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, run } = world();
    await run(WEB);
    const mark = sandbox.calls.length;
    expect((await run(WEB)).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('reports already-done for an instance that serves no traffic', async () => {
    const { run } = world();
    expect(await run(SOLO)).toMatchObject({
      status: 'already-done',
      before: { autoScalingGroup: null, targetGroups: [], loadBalancers: [] },
    });
  });

  it('changes nothing in a dry run and lists the calls it would make', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    const result = await run(WEB, { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(mutationsSince(sandbox)).toEqual([]);
    expect(result.changes).toMatchObject({
      calls: [
        `autoscaling:DetachInstances web-asg ${WEB}`,
        expect.stringMatching(/^elasticloadbalancing:DeregisterTargets /),
        `elasticloadbalancing:DeregisterInstancesFromLoadBalancer web-clb ${WEB}`,
      ],
    });
  });

  it('turns throttling into ThrottlingError and access denied into AccessDeniedError', async () => {
    const { sandbox, run } = world();
    sandbox.failNext('AutoScaling:DetachInstances', 1, { code: 'Throttling' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(ThrottlingError);
    const state = sandbox.state();
    sandbox.failNext('AutoScaling:DetachInstances', 1, { code: 'AccessDenied' });
    expect(await errorOf(run(WEB))).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state().autoScaling).toEqual(state.autoScaling);
  });

  it('refuses a protected instance unless approved, changing nothing', async () => {
    const { sandbox, run } = world();
    expect(await errorOf(run(GUARDED))).toBeInstanceOf(ProtectedResourceError);
    expect(mutationsSince(sandbox)).toEqual([]);
  });
});
