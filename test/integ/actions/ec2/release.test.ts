import {
  CreateNetworkAclCommand,
  ModifyNetworkInterfaceAttributeCommand,
  ReplaceNetworkAclAssociationCommand,
  TerminateInstancesCommand,
} from '@aws-sdk/client-ec2';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import type { AccountState } from '#local/sandbox/index';
import type { ActionResult } from '#shared/action';
import { AccessDeniedError, ThrottlingError } from '#shared/errors';
import { detachInstance } from '../../../../functions/actions/ec2-detach/core.ts';
import { isolateInstance, type Strategy } from '../../../../functions/actions/ec2-isolate/core.ts';
import { protectEvidence } from '../../../../functions/actions/ec2-protect-evidence/core.ts';
import {
  type ReleaseDeps,
  releaseInstance,
  type StepSource,
} from '../../../../functions/actions/ec2-release/core.ts';
import { ReleaseRefusedError } from '../../../../functions/actions/ec2-release/errors.ts';
import { revokeSessions } from '../../../../functions/actions/ec2-revoke-sessions/core.ts';
import { snapshotInstance } from '../../../../functions/actions/ec2-snapshot/core.ts';
import { tagInstance } from '../../../../functions/actions/ec2-tag/core.ts';
import { revokePolicyDocument } from '../../../../functions/actions/iam-common/iam.ts';
import { deniesSessionIssuedAt } from '../iam/helpers.ts';
import {
  comparable,
  errorOf,
  mutationsSince,
  PEER,
  PROTECTED_TAG,
  SOLO,
  seed,
  setup,
  T0,
  VPC,
  WEB,
  WEB_ENI_0,
  WEB_ENI_1,
} from './helpers.ts';

type Step = Awaited<ReturnType<StepSource['verified']>>['steps'][number];

/**
 * Audit records in memory, by incident, taken as verified: what the release reads, stored as JSON as the
 * table stores it, each step recorded at the sandbox's time. (The release's refusal of a record that does
 * not verify is tested on the real record, in test/integ/tamper/releases.test.ts.)
 */
function memoryRecord(clock: () => Date) {
  const incidents = new Map<string, Step[]>();
  const stepsOf = (incidentId: string) => {
    const steps = incidents.get(incidentId) ?? [];
    incidents.set(incidentId, steps);
    return steps;
  };
  return {
    add(action: string, result: ActionResult, incidentId = 'inc-1') {
      const steps = stepsOf(incidentId);
      steps.push({
        seq: steps.length + 1,
        action,
        status: result.status,
        before: JSON.parse(JSON.stringify(result.before ?? null)),
        changes: JSON.parse(JSON.stringify(result.changes ?? null)),
        recordedAt: clock().toISOString(),
        ...(result.dryRun ? { dryRun: true } : {}),
      });
    },
    /** The steps of an incident, to change what a record says (as a record that verifies might). */
    steps: stepsOf,
    verified: async (incidentId: string) => ({ steps: stepsOf(incidentId) }),
  };
}

/** The role rules the release runs with: the profile's role may be given back; no role is untouchable. */
const ROLES: ReleaseDeps['roles'] = { untouchable: () => undefined, passable: () => true };

function world(accountSeed = seed()) {
  const env = setup(accountSeed);
  const record = memoryRecord(env.now);
  const base = { incidentId: 'inc-1' };
  const common = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
  const contain = async (instanceId: string, strategy: Strategy = 'two-step', incidentId = 'inc-1') => {
    const event = { incidentId, instanceId };
    const add = (action: string, result: ActionResult) => record.add(action, result, incidentId);
    if (strategy === 'two-step') {
      add('ec2-isolate', await isolateInstance(common, { ...event, strategy, stage: 'swap' }));
      env.sandbox.advance(5_000);
      add('ec2-isolate', await isolateInstance(common, { ...event, strategy, stage: 'isolate' }));
    } else {
      add('ec2-isolate', await isolateInstance(common, { ...event, strategy }));
    }
    add('ec2-protect-evidence', await protectEvidence(common, event));
    add(
      'ec2-detach',
      await detachInstance({ ...common, autoScaling: env.asg, elbv2: env.elbv2, elb: env.elb }, event),
    );
    add('ec2-revoke-sessions', await revokeSessions({ ...common, iam: env.iam }, event));
    add('ec2-tag', await tagInstance(common, event));
  };
  const deps = {
    ec2: env.ec2,
    iam: env.iam,
    autoScaling: env.asg,
    elbv2: env.elbv2,
    elb: env.elb,
    recorder: record,
    roles: ROLES,
  };
  const release = (instanceId: string, extra: Record<string, unknown> = {}) =>
    releaseInstance(deps, { ...base, instanceId, ...extra });
  return { ...env, record, contain, release, deps };
}

describe('ec2-release', () => {
  it('returns the account to its exact state before containment, but for the groups that stay', async () => {
    const { sandbox, ec2, contain, release, record } = world();
    const before = sandbox.state();
    await contain(WEB);
    record.add('ec2-snapshot', await snapshotInstance({ ec2 }, { incidentId: 'inc-1', instanceId: WEB }));
    sandbox.advance(60_000);
    const contained = sandbox.state();
    expect(contained.ec2.networkInterfaces[WEB_ENI_0]?.groups).not.toEqual(
      before.ec2.networkInterfaces[WEB_ENI_0]?.groups,
    );

    const result = await release(WEB);
    expect(result.status).toBe('succeeded');
    const after = sandbox.state();
    expect(comparable(after)).toEqual(comparable(before));
    expect(after.ec2.networkInterfaces[WEB_ENI_0]?.groups).toEqual(['sg-web', 'sg-admin']);
    expect(after.ec2.networkInterfaces[WEB_ENI_1]?.groups).toEqual(['sg-web']);
    expect(after.iam.roles['web-role']?.inlinePolicies).toEqual({});
    expect(after.autoScaling.groups['web-asg']?.desiredCapacity).toBe(
      (before.autoScaling.groups['web-asg']?.desiredCapacity ?? 0) + 1,
    );
    expect(result.note).toMatch(/raised the desired capacity of web-asg by one/);
  });

  it('changes nothing the second time and reports already-done', async () => {
    const { sandbox, contain, release } = world();
    await contain(WEB);
    await release(WEB);
    const mark = sandbox.calls.length;
    expect((await release(WEB)).status).toBe('already-done');
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('puts back the network ACL of a quarantined subnet', async () => {
    const { sandbox, contain, release } = world();
    const aclOf = (state: AccountState) =>
      Object.values(state.ec2.networkAcls).find((a) =>
        a.associations.some((x) => x.subnetId === 'subnet-solo'),
      )?.networkAclId;
    const before = sandbox.state();
    await contain(SOLO, 'nacl');
    expect(aclOf(sandbox.state())).not.toBe(aclOf(before));
    await release(SOLO);
    expect(aclOf(sandbox.state())).toBe(aclOf(before));
    expect(comparable(sandbox.state())).toEqual(comparable(before));
  });

  it('changes nothing in a dry run and lists every call it would make', async () => {
    const { sandbox, contain, release } = world();
    await contain(WEB);
    const state = sandbox.state();
    const result = await release(WEB, { dryRun: true });
    expect(sandbox.state()).toEqual(state);
    expect(result.dryRun).toBe(true);
    expect((result.changes as { calls: string[] }).calls).toEqual([
      `ec2:ModifyNetworkInterfaceAttribute ${WEB_ENI_0} groups`,
      `ec2:ModifyNetworkInterfaceAttribute ${WEB_ENI_1} groups`,
      'iam:DeleteRolePolicy web-role cordon-revoke-sessions-inc-1',
      `ec2:AssociateIamInstanceProfile ${WEB} web-profile`,
      `ec2:ModifyInstanceAttribute ${WEB} disableApiTermination`,
      `ec2:ModifyInstanceAttribute ${WEB} disableApiStop`,
      `ec2:ModifyInstanceAttribute ${WEB} blockDeviceMapping`,
      `ec2:DeleteTags ${WEB}`,
      `ec2:CreateTags ${WEB}`,
      `autoscaling:AttachInstances web-asg ${WEB}`,
      expect.stringMatching(/^elasticloadbalancing:RegisterTargets /),
      `elasticloadbalancing:RegisterInstancesWithLoadBalancer web-clb ${WEB}`,
    ]);
  });

  it('refuses, changing nothing, when an interface was added since containment', async () => {
    const contained = world();
    await contained.contain(WEB, 'direct');
    // The same account, where the instance now has a third interface.
    const grown = seed();
    const web = grown.instances?.find((i) => i.id === WEB);
    web?.networkInterfaces?.push({ id: 'eni-0a000000000000009', groups: ['sg-web'] });
    const later = world(grown);
    const error = await errorOf(
      releaseInstance(
        { ...later.deps, recorder: contained.record },
        { incidentId: 'inc-1', instanceId: WEB },
      ),
    );
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/eni-0a000000000000009 added/);
    expect(mutationsSince(later.sandbox)).toEqual([]);
  });

  it('refuses when an interface was removed since containment', async () => {
    const contained = world();
    await contained.contain(WEB, 'direct');
    const shrunk = seed();
    const web = shrunk.instances?.find((i) => i.id === WEB);
    if (web?.networkInterfaces) web.networkInterfaces = web.networkInterfaces.slice(0, 1);
    const later = world(shrunk);
    const error = await errorOf(
      releaseInstance(
        { ...later.deps, recorder: contained.record },
        { incidentId: 'inc-1', instanceId: WEB },
      ),
    );
    expect(error.message).toMatch(new RegExp(`${WEB_ENI_1} removed`));
  });

  it('refuses when someone changed the groups of an interface by hand', async () => {
    const { sandbox, ec2, contain, release } = world();
    await contain(WEB, 'direct');
    await ec2.send(
      new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: WEB_ENI_1, Groups: ['sg-admin'] }),
    );
    const mark = sandbox.calls.length;
    expect(await errorOf(release(WEB))).toBeInstanceOf(ReleaseRefusedError);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('refuses a terminated instance', async () => {
    const { ec2, now, record, release } = world();
    record.add(
      'ec2-isolate',
      await isolateInstance(
        { ec2, now, protectedTag: PROTECTED_TAG },
        { incidentId: 'inc-1', instanceId: SOLO, strategy: 'direct' },
      ),
    );
    await ec2.send(new TerminateInstancesCommand({ InstanceIds: [SOLO] }));
    const error = await errorOf(release(SOLO));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/is (terminated|shutting-down)/);
  });

  it('turns a throttled restore into ThrottlingError and finishes it on the retry', async () => {
    const { sandbox, contain, release } = world();
    const before = sandbox.state();
    await contain(WEB);
    sandbox.failNext('IAM:DeleteRolePolicy', 1, { code: 'Throttling' });
    expect(await errorOf(release(WEB))).toBeInstanceOf(ThrottlingError);
    expect((await release(WEB)).status).toBe('succeeded');
    expect(comparable(sandbox.state())).toEqual(comparable(before));
  });

  it('turns a denied restore into AccessDeniedError', async () => {
    const { sandbox, contain, release } = world();
    await contain(WEB);
    sandbox.failNext('EC2:ModifyNetworkInterfaceAttribute', 1, { code: 'UnauthorizedOperation' });
    expect(await errorOf(release(WEB))).toBeInstanceOf(AccessDeniedError);
  });

  it('has nothing to release, and changes nothing, when the record holds no containment of the instance', async () => {
    const { sandbox, release } = world();
    const before = sandbox.state();
    const result = await release(WEB);
    expect(result.status).toBe('skipped');
    expect(result.note).toMatch(/^nothing to release: the record of incident .* holds no containment of /);
    expect(sandbox.state()).toEqual(before);
  });

  it("releases one incident without lifting another incident's deny on a shared role; the other's release removes it", async () => {
    const { sandbox, deps, contain, release } = world();
    const before = sandbox.state();
    const denies = () => sandbox.state().iam.roles['web-role']?.inlinePolicies;
    // Incident 1 contains WEB; an hour later incident 2 contains PEER, whose profile holds the same role.
    await contain(WEB, 'direct', 'inc-1');
    sandbox.advance(3_600_000);
    await contain(PEER, 'direct', 'inc-2');
    // PEER's credentials were issued between the two containments: stolen then, they must stay denied.
    const stolenFromPeer = new Date(T0 + 1_800_000).toISOString();
    expect(deniesSessionIssuedAt(denies(), stolenFromPeer)).toBe(true);

    expect((await release(WEB)).status).toBe('succeeded');
    expect(Object.keys(denies() ?? {})).toEqual(['cordon-revoke-sessions-inc-2']);
    expect(deniesSessionIssuedAt(denies(), stolenFromPeer)).toBe(true);

    const second = await releaseInstance(deps, { incidentId: 'inc-2', instanceId: PEER });
    expect(second.status).toBe('succeeded');
    expect(denies()).toEqual({});
    expect(comparable(sandbox.state())).toEqual(comparable(before));
  });

  it('refuses to remove its deny once someone changed it, and says how to remove it by hand', async () => {
    const { sandbox, iam, contain, release } = world();
    await contain(WEB, 'direct');
    // Still Cordon's shape, but not the document this incident put: another cut-off.
    await iam.send(
      new PutRolePolicyCommand({
        RoleName: 'web-role',
        PolicyName: 'cordon-revoke-sessions-inc-1',
        PolicyDocument: revokePolicyDocument('2030-01-01T00:00:00.000Z'),
      }),
    );
    const mark = sandbox.calls.length;
    const error = await errorOf(release(WEB));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/no longer the deny this incident put there/);
    expect(error.message).toContain(
      'aws iam delete-role-policy --role-name web-role --policy-name cordon-revoke-sessions-inc-1',
    );
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it('refuses a recorded deny cut off later than its step was recorded, changing nothing', async () => {
    const { sandbox, record, contain, release } = world();
    await contain(WEB, 'direct');
    const revoke = record.steps('inc-1').find((s) => s.action === 'ec2-revoke-sessions');
    if (!revoke) throw new Error('no revoke step');
    revoke.recordedAt = new Date(T0 - 60_000).toISOString();
    const mark = sandbox.calls.length;
    const error = await errorOf(release(WEB));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/later than the step was recorded/);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
  });

  it("refuses to change the network ACL of a subnet that is not the instance's, whatever the record says", async () => {
    const { sandbox, record, contain, release } = world();
    await contain(SOLO, 'nacl');
    const aclOf = (subnetId: string) =>
      Object.values(sandbox.state().ec2.networkAcls).find((a) =>
        a.associations.some((x) => x.subnetId === subnetId),
      )?.networkAclId ?? '';
    const quarantine = aclOf('subnet-solo');
    const appAcl = aclOf('subnet-app');
    // The record says the isolation also quarantined WEB's and PEER's subnet, and in a consistent way.
    const isolate = record.steps('inc-1').find((s) => s.action === 'ec2-isolate');
    const before = isolate?.before as { networkAcls: { subnetId: string; networkAclId: string }[] };
    const changes = isolate?.changes as { networkAcls: { subnetId: string; from: string; to: string }[] };
    before.networkAcls.push({ subnetId: 'subnet-app', networkAclId: quarantine });
    changes.networkAcls.push({ subnetId: 'subnet-app', from: quarantine, to: appAcl });
    const mark = sandbox.calls.length;
    const error = await errorOf(release(SOLO));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/subnet-app, which is not a subnet of i-\w+'s interfaces/);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
    expect(aclOf('subnet-app')).toBe(appAcl);
  });

  it('refuses to put back a network ACL that someone changed since containment', async () => {
    const { sandbox, ec2, contain, release } = world();
    await contain(SOLO, 'nacl');
    const association = () =>
      Object.values(sandbox.state().ec2.networkAcls)
        .flatMap((a) => a.associations.map((x) => ({ ...x, networkAclId: a.networkAclId })))
        .find((x) => x.subnetId === 'subnet-solo');
    const chosen = (await ec2.send(new CreateNetworkAclCommand({ VpcId: VPC }))).NetworkAcl?.NetworkAclId;
    await ec2.send(
      new ReplaceNetworkAclAssociationCommand({
        AssociationId: association()?.associationId,
        NetworkAclId: chosen,
      }),
    );
    const mark = sandbox.calls.length;
    const error = await errorOf(release(SOLO));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/network ACL of subnet-solo is now acl-\w+, neither the quarantine/);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
    expect(association()?.networkAclId).toBe(chosen);
  });

  it('gives back only the memberships that the detach step records removing, of this instance', async () => {
    const accountSeed = seed();
    accountSeed.targetGroups?.push({ name: 'admin-tg', targets: [] });
    const { sandbox, record, contain, release } = world(accountSeed);
    await contain(WEB, 'direct');
    const adminTg = Object.values(sandbox.state().elbv2.targetGroups).find((g) => g.name === 'admin-tg');
    const detach = record.steps('inc-1').find((s) => s.action === 'ec2-detach');
    const before = detach?.before as { targetGroups: { targetGroupArn: string; port: number }[] };
    before.targetGroups.push({ targetGroupArn: adminTg?.arn ?? '', port: 22 });
    const mark = sandbox.calls.length;
    const error = await errorOf(release(WEB));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/records memberships of i-\w+ that it does not record removing/);
    expect(error.message).toContain(`DeregisterTargets ${adminTg?.arn}`);
    expect(mutationsSince(sandbox, mark)).toEqual([]);
    expect(adminTg && sandbox.state().elbv2.targetGroups[adminTg.arn]?.targets).toEqual([]);
  });
});
