import { type EC2Client, ModifyNetworkInterfaceAttributeCommand } from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import {
  AccessDeniedError,
  ProtectedResourceError,
  ResourceNotFoundError,
  ThrottlingError,
} from '#shared/errors';
import { isolateInstance, type Strategy } from '../../../../functions/actions/ec2-isolate/core.ts';
import {
  callsSince,
  errorOf,
  GUARDED,
  groupsOf,
  mutationsSince,
  PROTECTED_TAG,
  SOLO,
  setup,
  VPC,
  WEB,
  WEB_ENI_0,
  WEB_ENI_1,
} from './helpers.ts';

function world() {
  const env = setup();
  const deps = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
  const run = (instanceId: string, strategy: Strategy, extra: Record<string, unknown> = {}) =>
    isolateInstance(deps, { incidentId: 'inc-1', instanceId, strategy, ...extra });
  return { ...env, deps, run };
}

const isolationGroup = (state: ReturnType<ReturnType<typeof setup>['sandbox']['state']>) =>
  Object.values(state.ec2.securityGroups).find((g) => g.groupName === `cordon-isolation-${VPC}`);

describe('ec2-isolate', () => {
  it('puts only the isolation group on both interfaces and records their groups before', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB, 'direct');
    const state = sandbox.state();
    const group = isolationGroup(state);
    expect(group).toBeDefined();
    expect(group?.rules).toEqual([]);
    expect(state.ec2.tags[group?.groupId ?? '']).toMatchObject({ 'cordon:isolation': 'true' });
    expect(groupsOf(state, WEB_ENI_0)).toEqual([group?.groupId]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([group?.groupId]);
    expect(result.status).toBe('succeeded');
    expect(result.before).toEqual({
      instanceId: WEB,
      vpcId: VPC,
      interfaces: [
        {
          networkInterfaceId: WEB_ENI_0,
          subnetId: 'subnet-app',
          vpcId: VPC,
          groups: ['sg-web', 'sg-admin'],
          connectionTracking: null,
        },
        {
          networkInterfaceId: WEB_ENI_1,
          subnetId: 'subnet-app',
          vpcId: VPC,
          groups: ['sg-web'],
          connectionTracking: null,
        },
      ],
      networkAcls: [],
    });
    expect(result.output).toMatchObject({
      isolationGroupId: group?.groupId,
      isolated: true,
      containedAt: new Date(sandbox.now()).toISOString(),
    });
  });

  it('isolates a two-interface instance in 3 + 2 per interface calls the first time, and 2 + 1 per interface after', async () => {
    const { sandbox, run } = world();
    await run(WEB, 'direct');
    // Then, after isolating, the instance is read again to find any interface attached meanwhile.
    expect(callsSince(sandbox)).toEqual([
      'EC2:DescribeInstances',
      'EC2:DescribeSecurityGroups',
      'EC2:CreateSecurityGroup',
      'EC2:RevokeSecurityGroupEgress',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:DescribeInstances',
    ]);
    expect(sandbox.calls.some((c) => c.command === 'ModifyInstanceAttribute')).toBe(false);
    const mark = sandbox.calls.length;
    await run(SOLO, 'direct');
    expect(callsSince(sandbox, mark)).toEqual([
      'EC2:DescribeInstances',
      'EC2:DescribeSecurityGroups',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:DescribeInstances',
    ]);
  });

  it('reuses the isolation group of the VPC instead of creating another', async () => {
    const { sandbox, run } = world();
    await run(WEB, 'direct');
    await run(SOLO, 'direct');
    const groups = Object.values(sandbox.state().ec2.securityGroups).filter((g) =>
      g.groupName.startsWith('cordon-'),
    );
    expect(groups.map((g) => g.groupName)).toEqual([`cordon-isolation-${VPC}`]);
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, run } = world();
    await run(WEB, 'direct');
    const state = sandbox.state();
    const mark = sandbox.calls.length;
    const again = await run(WEB, 'direct');
    expect(again.status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
    expect(sandbox.state()).toEqual(state);
  });

  it('opens the two-step window with an allow-all group, then closes it with the isolation group', async () => {
    const { sandbox, run } = world();
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    let state = sandbox.state();
    const untrack = Object.values(state.ec2.securityGroups).find(
      (g) => g.groupName === `cordon-untrack-${VPC}`,
    );
    expect(untrack?.rules.map((r) => [r.egress, r.ipProtocol, r.cidrIpv4 ?? r.cidrIpv6]).sort()).toEqual(
      [
        [false, '-1', '0.0.0.0/0'],
        [false, '-1', '::/0'],
        [true, '-1', '0.0.0.0/0'],
        [true, '-1', '::/0'],
      ].sort(),
    );
    expect(groupsOf(state, WEB_ENI_0)).toEqual([untrack?.groupId]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([untrack?.groupId]);
    expect(swap.output).toMatchObject({ stage: 'swap', isolated: false, untrackGroupId: untrack?.groupId });
    expect(swap.output?.swappedAt).toEqual(expect.any(String));
    // The isolation group is made during the swap, so that closing the window makes no group.
    expect(isolationGroup(state)).toBeDefined();

    const mark = sandbox.calls.length;
    sandbox.advance(5_000);
    // Without the swap stage's handover, the isolate stage reads the instance and the groups itself.
    const close = await run(WEB, 'two-step', { stage: 'isolate' });
    state = sandbox.state();
    const isolation = isolationGroup(state);
    expect(groupsOf(state, WEB_ENI_0)).toEqual([isolation?.groupId]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([isolation?.groupId]);
    expect(callsSince(sandbox, mark)).toEqual([
      'EC2:DescribeInstances',
      'EC2:DescribeSecurityGroups',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:DescribeInstances',
    ]);
    expect(close.output).toMatchObject({ containedAt: '2025-01-01T00:00:05.000Z', isolated: true });
  });

  it('never reopens the window on an instance that is already isolated', async () => {
    const { sandbox, run } = world();
    await run(WEB, 'direct');
    const mark = sandbox.calls.length;
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    expect(swap.status).toBe('already-done');
    expect(swap.note).toMatch(/not reopened/);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('lowers every interface connection-tracking timeouts to the minimums before isolating', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB, 'conntrack');
    const state = sandbox.state();
    for (const eni of [WEB_ENI_0, WEB_ENI_1]) {
      expect(state.ec2.networkInterfaces[eni]?.connectionTracking).toEqual({
        tcpEstablishedTimeout: 60,
        udpStreamTimeout: 60,
        udpTimeout: 30,
      });
      expect(groupsOf(state, eni)).toEqual([isolationGroup(state)?.groupId]);
    }
    const modifies = sandbox.calls.filter((c) => c.command === 'ModifyNetworkInterfaceAttribute');
    expect(modifies).toHaveLength(4);
    expect(result.changes).toMatchObject({ connectionTracking: { to: { TcpEstablishedTimeout: 60 } } });
    expect((await run(WEB, 'conntrack')).status).toBe('already-done');
  });

  it('quarantines the subnet with a deny-all network ACL when the instance is alone in it', async () => {
    const { sandbox, run } = world();
    const before = sandbox.state();
    const previousAcl = Object.values(before.ec2.networkAcls).find((a) =>
      a.associations.some((x) => x.subnetId === 'subnet-solo'),
    );
    const result = await run(SOLO, 'nacl');
    const state = sandbox.state();
    const quarantine = Object.values(state.ec2.networkAcls).find(
      (a) => state.ec2.tags[a.networkAclId]?.['cordon:quarantine'] === 'true',
    );
    expect(quarantine?.associations.map((a) => a.subnetId)).toEqual(['subnet-solo']);
    expect(quarantine?.entries.every((e) => e.ruleAction === 'deny')).toBe(true);
    expect(result.before).toMatchObject({
      networkAcls: [{ subnetId: 'subnet-solo', networkAclId: previousAcl?.networkAclId }],
    });
    expect(result.output).toMatchObject({
      strategy: 'nacl',
      quarantineNetworkAclId: quarantine?.networkAclId,
    });
    const nic = state.ec2.instances[SOLO]?.networkInterfaceIds[0] ?? '';
    expect(groupsOf(state, nic)).toEqual([isolationGroup(state)?.groupId]);
    expect((await run(SOLO, 'nacl')).status).toBe('already-done');
  });

  it('falls back to the direct swap, and says why, when the instance shares its subnet', async () => {
    const { sandbox, run } = world();
    const result = await run(WEB, 'nacl');
    expect(result.note).toMatch(/not alone in its subnet/);
    expect(result.output).toMatchObject({ strategy: 'direct', isolated: true });
    expect(sandbox.calls.some((c) => c.command === 'ReplaceNetworkAclAssociation')).toBe(false);
    expect(result.before).toMatchObject({ networkAcls: [] });
  });

  it('changes nothing in a dry run and checks each call with DryRun', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    const result = await run(WEB, 'direct', { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(result).toMatchObject({ status: 'succeeded', dryRun: true });
    expect(result.changes).toMatchObject({
      calls: [
        `ec2:CreateSecurityGroup cordon-isolation-${VPC}`,
        `ec2:RevokeSecurityGroupEgress cordon-isolation-${VPC}`,
        `ec2:ModifyNetworkInterfaceAttribute ${WEB_ENI_0} groups`,
        `ec2:ModifyNetworkInterfaceAttribute ${WEB_ENI_1} groups`,
      ],
    });
    const mutating = sandbox.calls.filter((c) => !/^Describe/.test(c.command));
    expect(mutating.map((c) => [c.command, (c.input as { DryRun?: boolean }).DryRun, c.error?.name])).toEqual(
      [
        ['CreateSecurityGroup', true, 'DryRunOperation'],
        ['ModifyNetworkInterfaceAttribute', true, 'DryRunOperation'],
        ['ModifyNetworkInterfaceAttribute', true, 'DryRunOperation'],
      ],
    );
  });

  it('turns throttling into ThrottlingError', async () => {
    const { sandbox, run } = world();
    sandbox.failNext('EC2:ModifyNetworkInterfaceAttribute', 1, { code: 'RequestLimitExceeded' });
    const error = await errorOf(run(WEB, 'direct'));
    expect(error).toBeInstanceOf(ThrottlingError);
    expect(error.message).toMatch(/ec2:ModifyNetworkInterfaceAttribute/);
    // Retried by the state machine, it finishes the job.
    expect((await run(WEB, 'direct')).status).toBe('succeeded');
  });

  it('keeps the original groups when isolation fails on the second interface', async () => {
    const { sandbox, ec2, now } = world();
    const original = sandbox.state();
    let modifies = 0;
    const send = ec2.send.bind(ec2) as (command: unknown) => Promise<unknown>;
    const flaky = {
      send: ((command: unknown) => {
        if (command instanceof ModifyNetworkInterfaceAttributeCommand && ++modifies === 2) {
          sandbox.failNext('EC2:ModifyNetworkInterfaceAttribute', 1, { code: 'UnauthorizedOperation' });
        }
        return send(command);
      }) as EC2Client['send'],
    };
    const error = await errorOf(
      isolateInstance(
        { ec2: flaky, now, protectedTag: PROTECTED_TAG },
        { incidentId: 'i', instanceId: WEB, strategy: 'direct' },
      ),
    );
    expect(error).toBeInstanceOf(AccessDeniedError);
    const state = sandbox.state();
    expect(groupsOf(state, WEB_ENI_0)).toEqual(groupsOf(original, WEB_ENI_0));
    expect(groupsOf(state, WEB_ENI_1)).toEqual(groupsOf(original, WEB_ENI_1));
  });

  it('turns UnauthorizedOperation into AccessDeniedError and leaves the interfaces as they were', async () => {
    const { sandbox, run } = world();
    const original = sandbox.state();
    sandbox.failNext('EC2:ModifyNetworkInterfaceAttribute', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(run(WEB, 'direct'))).toBeInstanceOf(AccessDeniedError);
    const state = sandbox.state();
    expect(state.ec2.networkInterfaces).toEqual(original.ec2.networkInterfaces);
  });

  it('refuses a protected instance unless approved, changing nothing', async () => {
    const { sandbox, run } = world();
    const state = sandbox.state();
    expect(await errorOf(run(GUARDED, 'direct'))).toBeInstanceOf(ProtectedResourceError);
    expect(sandbox.state()).toEqual(state);
    expect((await run(GUARDED, 'direct', { approved: true })).status).toBe('succeeded');
  });

  it('throws ResourceNotFoundError for an instance that does not exist', async () => {
    const { run } = world();
    expect(await errorOf(run('i-0fffffffffffffff0', 'direct'))).toBeInstanceOf(ResourceNotFoundError);
  });

  it('refuses a two-step run without a stage', async () => {
    const { run } = world();
    expect(await errorOf(run(WEB, 'two-step'))).toMatchObject({ name: 'ValidationError' });
  });
});
