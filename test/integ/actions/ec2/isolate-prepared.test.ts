/**
 * `ec2-isolate` with the groups prepared before the incident (`cordon prepare`): the EC2 calls until
 * isolated, the swap stage's handover to the isolate stage, and the check after isolating of what was
 * taken on trust (a prepared group tampered with or deleted, an interface attached between the stages, a
 * forged handover).
 */
import {
  AuthorizeSecurityGroupIngressCommand,
  DeleteSecurityGroupCommand,
  EC2Client,
  RevokeSecurityGroupIngressCommand,
} from '@aws-sdk/client-ec2';
import { describe, expect, it } from 'vitest';
import { Sandbox } from '#local/sandbox/index';
import { isolateInstance, type Strategy } from '../../../../functions/actions/ec2-isolate/core.ts';
import { prepareIsolationGroups } from '../../../../functions/actions/ec2-isolate/groups.ts';
import {
  errorOf,
  groupsOf,
  mutationsSince,
  PEER,
  PROTECTED_TAG,
  SOLO,
  setup,
  T0,
  VPC,
  WEB,
  WEB_ENI_0,
  WEB_ENI_1,
} from './helpers.ts';

type Env = ReturnType<typeof setup>;

/** A sandbox whose VPC is prepared, and a run of the core with those groups in the settings. */
async function prepared(env: Env = setup()) {
  const groups = await prepareIsolationGroups(env.ec2, [VPC]);
  const group = groups[VPC];
  if (!group) throw new Error('no prepared groups');
  const runWith =
    (ec2: Pick<EC2Client, 'send'>) =>
    (instanceId: string, strategy: Strategy, extra: Record<string, unknown> = {}) =>
      isolateInstance(
        { ec2, now: env.now, protectedTag: PROTECTED_TAG, isolationGroups: groups },
        { incidentId: 'inc-1', instanceId, strategy, ...extra },
      );
  return {
    ...env,
    groups,
    isolation: group.isolation,
    untrack: group.untrack,
    run: runWith(env.ec2),
    runWith,
  };
}

/**
 * The calls since `from`, split where the instance is isolated: up to the last
 * ModifyNetworkInterfaceAttribute that put the isolation group, and the rest.
 */
function splitAtIsolated(sandbox: Sandbox, from: number, isolation: string) {
  const calls = sandbox.calls.slice(from);
  const last = calls.findLastIndex(
    (c) =>
      c.command === 'ModifyNetworkInterfaceAttribute' &&
      JSON.stringify((c.input as { Groups?: string[] }).Groups) === JSON.stringify([isolation]),
  );
  const name = (c: (typeof calls)[number]) => `${c.service}:${c.command}`;
  return { until: calls.slice(0, last + 1).map(name), after: calls.slice(last + 1).map(name) };
}

/** A sandbox that continues from this one's state changed by `change` (what no EC2 call of the sandbox does). */
function continued(sandbox: Sandbox, change: (state: ReturnType<Sandbox['state']>) => void) {
  const state = sandbox.state();
  change(state);
  const next = Sandbox.restore(state, { now: () => T0 + (sandbox.now() - T0) });
  const ec2 = next.attach(
    new EC2Client({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }),
  );
  return { sandbox: next, ec2 };
}

describe('ec2-isolate with prepared groups', () => {
  it('isolates one interface in 1 + 1 EC2 calls, then checks the group and the instance', async () => {
    const { sandbox, run, isolation } = await prepared();
    const mark = sandbox.calls.length;
    const result = await run(SOLO, 'direct');
    const { until, after } = splitAtIsolated(sandbox, mark, isolation);
    expect(until).toEqual(['EC2:DescribeInstances', 'EC2:ModifyNetworkInterfaceAttribute']);
    expect(after.sort()).toEqual(['EC2:DescribeInstances', 'EC2:DescribeSecurityGroups']);
    expect(result.status).toBe('succeeded');
    expect(result.changes).toMatchObject({
      createdGroups: [],
      groups: { [VPC]: { isolation: { groupId: isolation, from: 'settings' } } },
      checkedAfter: { groups: [isolation], fixedGroups: [], lateInterfaces: [] },
    });
    expect(result.note).toMatch(/prepared ones of the settings, checked after isolating/);
  });

  it('isolates two interfaces in 1 + 2 EC2 calls, and records their groups before in full', async () => {
    const { sandbox, run, isolation } = await prepared();
    const mark = sandbox.calls.length;
    const result = await run(WEB, 'direct');
    expect(splitAtIsolated(sandbox, mark, isolation).until).toEqual([
      'EC2:DescribeInstances',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
    ]);
    const state = sandbox.state();
    expect(groupsOf(state, WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([isolation]);
    expect(result.before).toMatchObject({
      interfaces: [
        { networkInterfaceId: WEB_ENI_0, groups: ['sg-web', 'sg-admin'] },
        { networkInterfaceId: WEB_ENI_1, groups: ['sg-web'] },
      ],
    });
    expect(result.output).toMatchObject({ isolated: true, isolationGroupId: isolation });
    // A second run finds it done, and changes nothing.
    const again = sandbox.calls.length;
    expect((await run(WEB, 'direct')).status).toBe('already-done');
    expect(mutationsSince(sandbox, again)).toEqual([]);
  });

  it('isolates two interfaces in two steps with 1 + 2n = 5 EC2 calls: the isolate stage reads nothing before', async () => {
    const { sandbox, run, isolation, untrack } = await prepared();
    const mark = sandbox.calls.length;
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    expect(groupsOf(sandbox.state(), WEB_ENI_0)).toEqual([untrack]);
    expect(swap.note).toMatch(/the isolate stage checks them after isolating/);
    const handover = swap.output?.handover;
    expect(handover).toMatchObject({
      instanceId: WEB,
      swapped: [WEB_ENI_0, WEB_ENI_1],
      groups: { [VPC]: { isolation, untrack } },
    });
    sandbox.advance(5_000);
    const swapCalls = sandbox.calls.length;
    const close = await run(WEB, 'two-step', { stage: 'isolate', handover });
    const { until, after } = splitAtIsolated(sandbox, mark, isolation);
    expect(until).toEqual([
      'EC2:DescribeInstances',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
      'EC2:ModifyNetworkInterfaceAttribute',
    ]);
    expect(sandbox.calls[swapCalls]?.command).toBe('ModifyNetworkInterfaceAttribute');
    expect(after.sort()).toEqual(['EC2:DescribeInstances', 'EC2:DescribeSecurityGroups']);
    const state = sandbox.state();
    expect(groupsOf(state, WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([isolation]);
    expect(close.output).toMatchObject({ isolated: true, containedAt: '2025-01-01T00:00:05.000Z' });
    // Both groups are checked after isolating; the interfaces are recorded as the swap stage left them.
    expect(close.changes).toMatchObject({
      checkedAfter: { groups: expect.arrayContaining([isolation, untrack]), fixedGroups: [] },
      interfaces: [
        { networkInterfaceId: WEB_ENI_0, from: [untrack], to: [isolation] },
        { networkInterfaceId: WEB_ENI_1, from: [untrack], to: [isolation] },
      ],
    });
    expect(close.note).toMatch(/as the swap stage read them at .* not read again before isolating/);
  });

  it('fixes a prepared isolation group that someone gave a rule, after isolating, and records the fix', async () => {
    const { sandbox, ec2, run, isolation } = await prepared();
    await ec2.send(
      new AuthorizeSecurityGroupIngressCommand({
        GroupId: isolation,
        IpPermissions: [{ IpProtocol: 'tcp', FromPort: 22, ToPort: 22, IpRanges: [{ CidrIp: '0.0.0.0/0' }] }],
      }),
    );
    const mark = sandbox.calls.length;
    const result = await run(WEB, 'direct');
    const { until, after } = splitAtIsolated(sandbox, mark, isolation);
    expect(until).toHaveLength(3);
    expect(after).toContain('EC2:RevokeSecurityGroupIngress');
    expect(sandbox.state().ec2.securityGroups[isolation]?.rules).toEqual([]);
    expect(result.changes).toMatchObject({
      checkedAfter: {
        fixedGroups: [
          { groupId: isolation, kind: 'isolation', calls: [`ec2:RevokeSecurityGroupIngress ${isolation}`] },
        ],
      },
    });
    expect(result.note).toMatch(/had rules that are not its own: fixed/);
  });

  it('restores the rules of a tampered untrack group when the isolate stage checks it', async () => {
    const { ec2, run, untrack, sandbox } = await prepared();
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    await ec2.send(
      new RevokeSecurityGroupIngressCommand({
        GroupId: untrack,
        IpPermissions: [{ IpProtocol: '-1', Ipv6Ranges: [{ CidrIpv6: '::/0' }] }],
      }),
    );
    const close = await run(WEB, 'two-step', { stage: 'isolate', handover: swap.output?.handover });
    expect(close.changes).toMatchObject({
      checkedAfter: { fixedGroups: [{ groupId: untrack, kind: 'untrack' }] },
    });
    const rules = sandbox.state().ec2.securityGroups[untrack]?.rules ?? [];
    expect(
      rules
        .filter((r) => !r.egress)
        .map((r) => r.cidrIpv4 ?? r.cidrIpv6)
        .sort(),
    ).toEqual(['0.0.0.0/0', '::/0']);
  });

  it('creates the isolation group on the spot when the prepared one was deleted, and records it', async () => {
    const { sandbox, ec2, run, isolation } = await prepared();
    await ec2.send(new DeleteSecurityGroupCommand({ GroupId: isolation }));
    const result = await run(WEB, 'direct');
    const state = sandbox.state();
    const created = Object.values(state.ec2.securityGroups).find(
      (g) => g.groupName === `cordon-isolation-${VPC}`,
    );
    expect(created?.groupId).toBeDefined();
    expect(created?.groupId).not.toBe(isolation);
    expect(created?.rules).toEqual([]);
    expect(groupsOf(state, WEB_ENI_0)).toEqual([created?.groupId]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([created?.groupId]);
    expect(result.changes).toMatchObject({
      createdGroups: [created?.groupId],
      fallbacks: [{ vpcId: VPC, kind: 'isolation', was: isolation, now: created?.groupId, created: true }],
    });
    expect(result.note).toMatch(/could not be used .*InvalidGroup\.NotFound.*created .* on the spot/);
    expect(result.output).toMatchObject({ isolated: true, isolationGroupId: created?.groupId });
  });

  it('isolates an interface attached between the stages, and records it before in full', async () => {
    const first = await prepared();
    const swap = await first.run(WEB, 'two-step', { stage: 'swap' });
    // A third interface is attached to the instance during the window.
    const late = 'eni-0a000000000000009';
    const { sandbox, ec2 } = continued(first.sandbox, (state) => {
      const eni0 = state.ec2.networkInterfaces[WEB_ENI_0];
      const instance = state.ec2.instances[WEB];
      if (!eni0?.attachment || !instance) throw new Error('seed changed');
      state.ec2.networkInterfaces[late] = {
        ...eni0,
        networkInterfaceId: late,
        groups: ['sg-web'],
        attachment: { ...eni0.attachment, attachmentId: 'eni-attach-09', deviceIndex: 2 },
      };
      instance.networkInterfaceIds.push(late);
    });
    const close = await first.runWith(ec2)(WEB, 'two-step', {
      stage: 'isolate',
      handover: swap.output?.handover,
    });
    const state = sandbox.state();
    for (const eni of [WEB_ENI_0, WEB_ENI_1, late]) expect(groupsOf(state, eni)).toEqual([first.isolation]);
    expect(close.changes).toMatchObject({ checkedAfter: { lateInterfaces: [late] } });
    expect(close.before).toMatchObject({
      interfaces: [
        { networkInterfaceId: WEB_ENI_0 },
        { networkInterfaceId: WEB_ENI_1 },
        { networkInterfaceId: late, groups: ['sg-web'] },
      ],
    });
    expect(close.note).toMatch(/did not carry the isolation group after isolating .*isolated too/);
    expect(close.output).toMatchObject({ isolated: true });
  });
});

describe('ec2-isolate with a forged handover', () => {
  it('refuses a handover of another instance, changing nothing', async () => {
    const { sandbox, run } = await prepared();
    const swap = await run(PEER, 'two-step', { stage: 'swap' });
    const state = sandbox.state();
    const error = await errorOf(run(WEB, 'two-step', { stage: 'isolate', handover: swap.output?.handover }));
    expect(error).toMatchObject({ name: 'ValidationError' });
    expect(error.message).toMatch(/handover: is of instance i-0a1b2c3d4e5f60002, not i-0a1b2c3d4e5f60001/);
    expect(sandbox.state()).toEqual(state);
  });

  it('takes the isolation group from the settings, not from the handover', async () => {
    const { sandbox, run, isolation, untrack } = await prepared();
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    const handover = structuredClone(swap.output?.handover) as { groups: Record<string, unknown> };
    // The allow-all group named as the isolation group.
    handover.groups[VPC] = { isolation: untrack, untrack };
    await run(WEB, 'two-step', { stage: 'isolate', handover });
    expect(groupsOf(sandbox.state(), WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(sandbox.state(), WEB_ENI_1)).toEqual([isolation]);
  });

  it("moves the interfaces to the VPC's isolation group when a handover names another group", async () => {
    // The VPC is not prepared: the handover's group is used, then checked and found not to be Cordon's.
    const env = setup();
    const groups = await prepareIsolationGroups(env.ec2, [VPC]);
    const run = (extra: Record<string, unknown>) =>
      isolateInstance(
        { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG },
        { incidentId: 'inc-1', instanceId: WEB, strategy: 'two-step', ...extra },
      );
    const swap = await run({ stage: 'swap' });
    const handover = structuredClone(swap.output?.handover) as { groups: Record<string, unknown> };
    handover.groups[VPC] = { isolation: groups[VPC]?.untrack, untrack: groups[VPC]?.untrack };
    const close = await run({ stage: 'isolate', handover });
    const state = env.sandbox.state();
    expect(groupsOf(state, WEB_ENI_0)).toEqual([groups[VPC]?.isolation]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([groups[VPC]?.isolation]);
    expect(close.changes).toMatchObject({
      fallbacks: [{ kind: 'isolation', was: groups[VPC]?.untrack, now: groups[VPC]?.isolation }],
    });
    expect(close.note).toMatch(/is cordon-untrack-vpc-0a of vpc-0a, not cordon-isolation-vpc-0a/);
  });

  it('isolates an interface a handover leaves out', async () => {
    const { sandbox, run, isolation } = await prepared();
    const swap = await run(WEB, 'two-step', { stage: 'swap' });
    const handover = structuredClone(swap.output?.handover) as {
      interfaces: { networkInterfaceId: string }[];
    };
    handover.interfaces = handover.interfaces.filter((n) => n.networkInterfaceId !== WEB_ENI_1);
    const close = await run(WEB, 'two-step', { stage: 'isolate', handover });
    expect(groupsOf(sandbox.state(), WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(sandbox.state(), WEB_ENI_1)).toEqual([isolation]);
    expect(close.changes).toMatchObject({ checkedAfter: { lateInterfaces: [WEB_ENI_1] } });
  });
});
