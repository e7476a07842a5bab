import { ModifyNetworkInterfaceAttributeCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
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
import {
  comparable,
  errorOf,
  mutationsSince,
  PROTECTED_TAG,
  SOLO,
  seed,
  setup,
  WEB,
  WEB_ENI_0,
  WEB_ENI_1,
} from './helpers.ts';

type Step = Awaited<ReturnType<StepSource['verified']>>['steps'][number];

/**
 * An audit record in memory, taken as verified: what the release reads, stored as JSON as the table
 * stores it. (The release's refusal of a record that does not verify is tested on the real record, in
 * test/integ/tamper/actions.test.ts.)
 */
function memoryRecord() {
  const steps: Step[] = [];
  return {
    add(action: string, result: ActionResult) {
      steps.push({
        seq: steps.length + 1,
        action,
        status: result.status,
        before: JSON.parse(JSON.stringify(result.before ?? null)),
        changes: JSON.parse(JSON.stringify(result.changes ?? null)),
        ...(result.dryRun ? { dryRun: true } : {}),
      });
    },
    verified: async () => ({ steps }),
  };
}

/** The role rules the release runs with: the profile's role may be given back; no role is untouchable. */
const ROLES: ReleaseDeps['roles'] = { untouchable: () => undefined, passable: () => true };

function world(accountSeed = seed()) {
  const env = setup(accountSeed);
  const record = memoryRecord();
  const base = { incidentId: 'inc-1' };
  const common = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
  const contain = async (instanceId: string, strategy: Strategy = 'two-step') => {
    const event = { ...base, instanceId };
    if (strategy === 'two-step') {
      record.add('ec2-isolate', await isolateInstance(common, { ...event, strategy, stage: 'swap' }));
      env.sandbox.advance(5_000);
      record.add('ec2-isolate', await isolateInstance(common, { ...event, strategy, stage: 'isolate' }));
    } else {
      record.add('ec2-isolate', await isolateInstance(common, { ...event, strategy }));
    }
    record.add('ec2-protect-evidence', await protectEvidence(common, event));
    record.add(
      'ec2-detach',
      await detachInstance({ ...common, autoScaling: env.asg, elbv2: env.elbv2, elb: env.elb }, event),
    );
    record.add('ec2-revoke-sessions', await revokeSessions({ ...common, iam: env.iam }, event));
    record.add('ec2-tag', await tagInstance(common, event));
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
      'iam:DeleteRolePolicy web-role cordon-revoke-sessions',
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

  it('refuses when the record holds no containment of the instance', async () => {
    const { release } = world();
    expect(await errorOf(release(WEB))).toBeInstanceOf(ReleaseRefusedError);
  });
});
