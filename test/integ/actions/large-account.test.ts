/**
 * The actions against a large account: hundreds of instances, security groups, target groups, load
 * balancers and recovery points (test/support/large-account.ts), on the sandbox that pages as AWS does.
 * Each case puts what decides the answer on a page after the first, and shows both that a caller reading
 * only the first page would have answered wrongly and that the action answers right.
 *
 * `pageCap` makes every page hold at most that many items, as AWS may: an action that reads its lists
 * whole must come to the same result with pages of one item as with AWS's page sizes.
 */
import { AutoScalingClient } from '@aws-sdk/client-auto-scaling';
import { BackupClient, ListRecoveryPointsByResourceCommand } from '@aws-sdk/client-backup';
import { EC2Client } from '@aws-sdk/client-ec2';
import {
  DescribeLoadBalancersCommand,
  ElasticLoadBalancingClient,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DescribeTargetGroupsCommand,
  ElasticLoadBalancingV2Client,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { IAMClient, ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { detachInstance } from '../../../functions/actions/ec2-detach/core.ts';
import { isolateInstance } from '../../../functions/actions/ec2-isolate/core.ts';
import { tagInstance } from '../../../functions/actions/ec2-tag/core.ts';
import { containUserKey } from '../../../functions/actions/iam-contain-user-key/core.ts';
import { choosePoint } from '../../../functions/actions/recover-choose-point/core.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';
import { largeAccount } from '../../support/large-account.ts';

const T0 = Date.UTC(2025, 0, 1);
const HOUR = 3_600_000;
const REGION = 'us-east-1';
const PROTECTED_TAG = { key: 'cordon:protected', value: 'true' };
const config = { region: REGION, credentials: { accessKeyId: 'AKIDLARGE', secretAccessKey: 'large' } };

/** One large account shared by the cases that only read its seed (building it is the slow part). */
const account = largeAccount();

function world(pageCap?: number, seed = account.seed) {
  const sandbox = Sandbox.create(seed, { now: () => T0, ...(pageCap ? { pageCap } : {}) });
  return {
    sandbox,
    ec2: sandbox.attach(new EC2Client(config)),
    iam: sandbox.attach(new IAMClient(config)),
    autoScaling: sandbox.attach(new AutoScalingClient(config)),
    elbv2: sandbox.attach(new ElasticLoadBalancingV2Client(config)),
    elb: sandbox.attach(new ElasticLoadBalancingClient(config)),
    backup: sandbox.attach(new BackupClient(config)),
    sts: sandbox.attach(new STSClient(config)),
    now: () => new Date(sandbox.now()),
  };
}

const pages = (sandbox: Sandbox, command: string) =>
  sandbox.calls.filter((c) => c.command === command).length;

describe('recover-choose-point in a large account', () => {
  // First-seen 240 and a half hours before the newest point: the one to choose is the 242nd of 250.
  const firstSeen = new Date(T0 - 240.5 * HOUR).toISOString();
  const expected = account.points[241];

  it('chooses the newest point before first-seen when it lies on the last page', async () => {
    const env = world(20);
    // What the first page alone says: every point on it was made after first-seen, so a caller that
    // ignored NextToken would have found nothing to restore.
    const first = await env.backup.send(
      new ListRecoveryPointsByResourceCommand({ ResourceArn: account.subject.arn }),
    );
    expect(first.NextToken).toBeDefined();
    const before = (first.RecoveryPoints ?? []).filter(
      (p) => (p.CreationDate?.getTime() ?? 0) < Date.parse(firstSeen),
    );
    expect(before).toEqual([]);

    const result = await choosePoint(
      { backup: env.backup, sts: env.sts, region: REGION },
      { incidentId: 'inc-large', instanceId: account.subject.instanceId, firstSeen },
    );
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({
      recoveryPointArn: expected?.arn,
      createdAt: new Date(expected?.created ?? 0).toISOString(),
    });
    // 250 points in pages of 20: the action read all 13 of them.
    expect(pages(env.sandbox, 'ListRecoveryPointsByResource')).toBe(1 + 13);
  });
});

describe('ec2-detach in a large account', () => {
  // i-00000000000000100 is registered in tg-large-0100 and tg-large-0400, and in lb-large-0100 and lb-large-0400:
  // the second of each lies on page two of a list of 450 cut at ELB's page of 400.
  const instanceId = 'i-00000000000000100';

  it('leaves the target group and the load balancer that lie on the second page, with AWS page sizes', async () => {
    const env = world();
    const firstGroups = await env.elbv2.send(new DescribeTargetGroupsCommand({}));
    expect(firstGroups.TargetGroups).toHaveLength(400);
    expect(firstGroups.TargetGroups?.map((g) => g.TargetGroupName)).not.toContain('tg-large-0400');
    const firstBalancers = await env.elb.send(new DescribeLoadBalancersCommand({}));
    expect(firstBalancers.LoadBalancerDescriptions?.map((b) => b.LoadBalancerName)).not.toContain(
      'lb-large-0400',
    );

    const result = await detachInstance(
      { ...env, protectedTag: PROTECTED_TAG },
      { incidentId: 'inc-large', instanceId },
    );
    expect(result.status).toBe('succeeded');
    const before = result.before as {
      targetGroups: { targetGroupArn: string }[];
      loadBalancers: string[];
      autoScalingGroup?: { name: string };
    };
    expect(before.targetGroups.map((g) => g.targetGroupArn.split('/')[1]).sort()).toEqual([
      'tg-large-0100',
      'tg-large-0400',
    ]);
    expect([...before.loadBalancers].sort()).toEqual(['lb-large-0100', 'lb-large-0400']);
    expect(before.autoScalingGroup?.name).toBe('asg-large-1');

    const state = env.sandbox.state();
    for (const name of ['lb-large-0100', 'lb-large-0400']) {
      expect(state.elb.loadBalancers[name]?.instances).not.toContain(instanceId);
    }
    const registered = Object.values(state.elbv2.targetGroups).filter((g) =>
      g.targets.some((t) => t.id === instanceId && t.drainingUntil === undefined),
    );
    expect(registered).toEqual([]);
    expect(state.autoScaling.groups['asg-large-1']?.instances.map((i) => i.instanceId)).not.toContain(
      instanceId,
    );
  });

  it('comes to the same result with pages of five items', async () => {
    const aws = world();
    const stingy = world(5);
    const run = (env: ReturnType<typeof world>) =>
      detachInstance({ ...env, protectedTag: PROTECTED_TAG }, { incidentId: 'inc-large', instanceId });
    const [wide, narrow] = [await run(aws), await run(stingy)];
    expect(narrow).toEqual(wide);
    expect(stingy.sandbox.state().elbv2).toEqual(aws.sandbox.state().elbv2);
    expect(stingy.sandbox.state().elb).toEqual(aws.sandbox.state().elb);
    expect(stingy.sandbox.state().autoScaling).toEqual(aws.sandbox.state().autoScaling);
    expect(pages(stingy.sandbox, 'DescribeTargetGroups')).toBe(450 / 5);
  }, 120_000);
});

describe('ec2-isolate and ec2-tag in a large account', () => {
  it('isolate and tag do the same with pages of one item as with AWS page sizes', async () => {
    const results = [];
    for (const env of [world(), world(1)]) {
      const deps = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
      const isolated = await isolateInstance(deps, {
        incidentId: 'inc-large',
        instanceId: 'i-00000000000000299',
        strategy: 'direct',
      });
      const tagged = await tagInstance(deps, { incidentId: 'inc-large', instanceId: 'i-00000000000000299' });
      results.push({ isolated, tagged, ec2: env.sandbox.state().ec2 });
    }
    const [wide, narrow] = results;
    expect(wide?.isolated.status).toBe('succeeded');
    expect(narrow).toEqual(wide);
  }, 120_000);
});

describe('iam-contain-user-key in a large account', () => {
  it('deactivates exactly the key on the second page', async () => {
    // Few inline policies: IAM's quota of 2,048 bytes for a user's inline policies leaves room for Cordon's deny.
    const env = world(1, largeAccount({ policies: 5 }).seed);
    const [first, second] = account.user.accessKeyIds;
    const page1 = await env.iam.send(new ListAccessKeysCommand({ UserName: account.user.name }));
    expect(page1.IsTruncated).toBe(true);
    expect(page1.AccessKeyMetadata?.map((k) => k.AccessKeyId)).toEqual([first]);

    const result = await containUserKey(
      {
        iam: env.iam,
        now: env.now,
        settings: { deactivateAllKeys: false, deleteLoginProfile: false },
        protectedTag: PROTECTED_TAG,
      },
      { incidentId: 'inc-large', userName: account.user.name, accessKeyId: second },
    );
    expect(result.status).toBe('succeeded');
    expect(result.output).toMatchObject({ deactivatedKeys: [second], keysLeftActive: [first] });
    const keys = env.sandbox.state().iam.accessKeys;
    expect(Object.values(keys).map((k) => [k.accessKeyId, k.status])).toEqual([
      [first, 'Active'],
      [second, 'Inactive'],
    ]);
  });
});
