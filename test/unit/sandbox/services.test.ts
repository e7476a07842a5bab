import {
  AttachInstancesCommand,
  DescribeAutoScalingGroupsCommand,
  DescribeAutoScalingInstancesCommand,
  DetachInstancesCommand,
} from '@aws-sdk/client-auto-scaling';
import {
  DescribeRecoveryPointCommand,
  DescribeRestoreJobCommand,
  GetRecoveryPointRestoreMetadataCommand,
  ListRecoveryPointsByResourceCommand,
  ResourceNotFoundException,
  StartRestoreJobCommand,
} from '@aws-sdk/client-backup';
import {
  DeregisterInstancesFromLoadBalancerCommand,
  DescribeLoadBalancersCommand,
  RegisterInstancesWithLoadBalancerCommand,
} from '@aws-sdk/client-elastic-load-balancing';
import {
  DeregisterTargetsCommand,
  DescribeTargetGroupsCommand,
  DescribeTargetHealthCommand,
  RegisterTargetsCommand,
  TargetGroupNotFoundException,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import {
  InvalidToken,
  SendTaskFailureCommand,
  SendTaskHeartbeatCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { describe, expect, it } from 'vitest';
import type { AccountSeed } from '#local/sandbox/index';
import { errorOf, setup } from './helpers.ts';

const TG = 'arn:aws:elasticloadbalancing:us-east-1:123456789012:targetgroup/web/abc';
const seed: AccountSeed = {
  instances: [{ id: 'i-a' }, { id: 'i-b' }, { id: 'i-c' }],
  targetGroups: [{ name: 'web', arn: TG, targets: ['i-a', 'i-b'] }],
  loadBalancers: [{ name: 'classic', instances: ['i-a', 'i-b'] }],
  autoScalingGroups: [
    {
      name: 'web-asg',
      instances: ['i-a', 'i-b'],
      min: 1,
      max: 3,
      targetGroups: ['web'],
      loadBalancers: ['classic'],
    },
  ],
  backup: {
    recoveryPoints: [
      { arn: 'arn:aws:ec2:us-east-1::image/ami-good', resource: 'i-a', created: '2024-12-31T00:00:00Z' },
      {
        arn: 'arn:aws:ec2:us-east-1::image/ami-bad',
        resource: 'i-b',
        restoreFailure: 'Insufficient capacity',
      },
    ],
  },
};

describe('Auto Scaling', () => {
  it('describes groups and their instances', async () => {
    const { asg } = setup(seed);
    const groups = await asg.send(
      new DescribeAutoScalingGroupsCommand({ AutoScalingGroupNames: ['web-asg'] }),
    );
    expect(groups.AutoScalingGroups?.[0]).toMatchObject({
      DesiredCapacity: 2,
      MinSize: 1,
      MaxSize: 3,
      TargetGroupARNs: [TG],
    });
    const instances = await asg.send(
      new DescribeAutoScalingInstancesCommand({ InstanceIds: ['i-a', 'i-c'] }),
    );
    expect(instances.AutoScalingInstances?.map((i) => [i.InstanceId, i.AutoScalingGroupName])).toEqual([
      ['i-a', 'web-asg'],
    ]);
  });

  it('keeps desired capacity when detaching with ShouldDecrementDesiredCapacity false', async () => {
    const { asg, sandbox } = setup(seed);
    const out = await asg.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'web-asg',
        InstanceIds: ['i-a'],
        ShouldDecrementDesiredCapacity: false,
      }),
    );
    expect(out.Activities?.[0]?.Description).toBe('Detaching EC2 instance: i-a');
    const group = sandbox.state().autoScaling.groups['web-asg'];
    expect(group?.desiredCapacity).toBe(2);
    expect(group?.instances.map((i) => i.instanceId)).toEqual(['i-b']);
    expect(sandbox.state().elb.loadBalancers.classic?.instances).toEqual(['i-b']);
  });

  it('decrements desired capacity when asked, and refuses to go below the minimum', async () => {
    const { asg, sandbox } = setup(seed);
    await asg.send(
      new DetachInstancesCommand({
        AutoScalingGroupName: 'web-asg',
        InstanceIds: ['i-a'],
        ShouldDecrementDesiredCapacity: true,
      }),
    );
    expect(sandbox.state().autoScaling.groups['web-asg']?.desiredCapacity).toBe(1);
    const error = await errorOf(
      asg.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: ['i-b'],
          ShouldDecrementDesiredCapacity: true,
        }),
      ),
    );
    expect(error.name).toBe('ValidationError');
  });

  it('refuses to detach an instance that is not a member', async () => {
    const { asg } = setup(seed);
    const error = await errorOf(
      asg.send(
        new DetachInstancesCommand({
          AutoScalingGroupName: 'web-asg',
          InstanceIds: ['i-c'],
          ShouldDecrementDesiredCapacity: false,
        }),
      ),
    );
    expect(error.name).toBe('ValidationError');
  });

  it('attaches an instance back, raising desired capacity', async () => {
    const { asg, sandbox } = setup(seed);
    await asg.send(new AttachInstancesCommand({ AutoScalingGroupName: 'web-asg', InstanceIds: ['i-c'] }));
    expect(sandbox.state().autoScaling.groups['web-asg']?.desiredCapacity).toBe(3);
  });
});

describe('ELBv2 and classic ELB', () => {
  it('describes target groups and target health', async () => {
    const { elbv2 } = setup(seed);
    expect(
      (await elbv2.send(new DescribeTargetGroupsCommand({ Names: ['web'] }))).TargetGroups?.[0]
        ?.TargetGroupArn,
    ).toBe(TG);
    const health = await elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: TG }));
    expect(health.TargetHealthDescriptions?.map((d) => [d.Target?.Id, d.TargetHealth?.State])).toEqual([
      ['i-a', 'healthy'],
      ['i-b', 'healthy'],
    ]);
  });

  it('drains a deregistered target for the deregistration delay, then drops it', async () => {
    const { elbv2, sandbox } = setup(seed);
    await elbv2.send(new DeregisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: 'i-a' }] }));
    const draining = await elbv2.send(
      new DescribeTargetHealthCommand({ TargetGroupArn: TG, Targets: [{ Id: 'i-a' }] }),
    );
    expect(draining.TargetHealthDescriptions?.[0]?.TargetHealth?.State).toBe('draining');
    sandbox.advance(300_000);
    expect(sandbox.state().elbv2.targetGroups[TG]?.targets.map((t) => t.id)).toEqual(['i-b']);
    await elbv2.send(new RegisterTargetsCommand({ TargetGroupArn: TG, Targets: [{ Id: 'i-a' }] }));
    expect(sandbox.state().elbv2.targetGroups[TG]?.targets.map((t) => t.id)).toEqual(['i-b', 'i-a']);
  });

  it('fails for an unknown target group with TargetGroupNotFoundException', async () => {
    const { elbv2 } = setup(seed);
    const error = await errorOf(elbv2.send(new DescribeTargetHealthCommand({ TargetGroupArn: `${TG}x` })));
    expect(error).toBeInstanceOf(TargetGroupNotFoundException);
  });

  it('registers and deregisters instances with a classic load balancer', async () => {
    const { elb } = setup(seed);
    const out = await elb.send(
      new DeregisterInstancesFromLoadBalancerCommand({
        LoadBalancerName: 'classic',
        Instances: [{ InstanceId: 'i-a' }],
      }),
    );
    expect(out.Instances).toEqual([{ InstanceId: 'i-b' }]);
    await elb.send(
      new RegisterInstancesWithLoadBalancerCommand({
        LoadBalancerName: 'classic',
        Instances: [{ InstanceId: 'i-c' }],
      }),
    );
    const described = await elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['classic'] }));
    expect(described.LoadBalancerDescriptions?.[0]?.Instances).toEqual([
      { InstanceId: 'i-b' },
      { InstanceId: 'i-c' },
    ]);
    const error = await errorOf(elb.send(new DescribeLoadBalancersCommand({ LoadBalancerNames: ['nope'] })));
    expect(error.name).toBe('AccessPointNotFoundException');
  });
});

describe('AWS Backup', () => {
  it('lists, describes and reads the restore metadata of recovery points', async () => {
    const { backup } = setup(seed);
    const listed = await backup.send(
      new ListRecoveryPointsByResourceCommand({
        ResourceArn: 'arn:aws:ec2:us-east-1:123456789012:instance/i-a',
      }),
    );
    expect(listed.RecoveryPoints?.map((p) => p.RecoveryPointArn)).toEqual([
      'arn:aws:ec2:us-east-1::image/ami-good',
    ]);
    const point = await backup.send(
      new DescribeRecoveryPointCommand({
        BackupVaultName: 'Default',
        RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-good',
      }),
    );
    expect(point).toMatchObject({ Status: 'COMPLETED', ResourceType: 'EC2' });
    const metadata = await backup.send(
      new GetRecoveryPointRestoreMetadataCommand({
        BackupVaultName: 'Default',
        RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-good',
      }),
    );
    expect(metadata.RestoreMetadata).toMatchObject({ InstanceType: 't3.micro', SubnetId: 'subnet-default' });
  });

  it('runs a restore job PENDING → RUNNING → COMPLETED and creates the instance', async () => {
    const { backup, sandbox } = setup(seed);
    const start = await backup.send(
      new StartRestoreJobCommand({
        RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-good',
        Metadata: { InstanceType: 't3.large' },
        IamRoleArn: 'arn:aws:iam::123456789012:role/backup',
        IdempotencyToken: 'tok-1',
      }),
    );
    const again = await backup.send(
      new StartRestoreJobCommand({
        RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-good',
        Metadata: { InstanceType: 't3.large' },
        IdempotencyToken: 'tok-1',
      }),
    );
    expect(again.RestoreJobId).toBe(start.RestoreJobId);
    const status = async () =>
      backup.send(new DescribeRestoreJobCommand({ RestoreJobId: start.RestoreJobId }));
    expect((await status()).Status).toBe('PENDING');
    sandbox.advance(10_000);
    expect((await status()).Status).toBe('RUNNING');
    sandbox.advance(120_000);
    const done = await status();
    expect(done.Status).toBe('COMPLETED');
    const instanceId = done.CreatedResourceArn?.split('/').pop() ?? '';
    expect(sandbox.state().ec2.instances[instanceId]).toMatchObject({
      instanceType: 't3.large',
      state: 'running',
    });
  });

  it('fails a restore job as the seed says', async () => {
    const { backup, sandbox } = setup(seed);
    const start = await backup.send(
      new StartRestoreJobCommand({ RecoveryPointArn: 'arn:aws:ec2:us-east-1::image/ami-bad', Metadata: {} }),
    );
    sandbox.advance(200_000);
    const job = await backup.send(new DescribeRestoreJobCommand({ RestoreJobId: start.RestoreJobId }));
    expect(job).toMatchObject({ Status: 'FAILED', StatusMessage: 'Insufficient capacity' });
  });

  it('fails for an unknown restore job with ResourceNotFoundException', async () => {
    const { backup } = setup(seed);
    expect(
      await errorOf(backup.send(new DescribeRestoreJobCommand({ RestoreJobId: 'nope' }))),
    ).toBeInstanceOf(ResourceNotFoundException);
  });
});

describe('SES', () => {
  it('keeps a simple email in sentEmails and the state', async () => {
    const { ses, sandbox } = setup(seed);
    const out = await ses.send(
      new SendEmailCommand({
        FromEmailAddress: 'cordon@example.com',
        Destination: { ToAddresses: ['approver@example.com'] },
        Content: { Simple: { Subject: { Data: 'Approve?' }, Body: { Text: { Data: 'https://x/approve' } } } },
      }),
    );
    expect(out.MessageId).toBeTruthy();
    expect(sandbox.sentEmails).toEqual([
      expect.objectContaining({
        from: 'cordon@example.com',
        to: ['approver@example.com'],
        subject: 'Approve?',
        text: 'https://x/approve',
      }),
    ]);
    expect(sandbox.state().ses.sent).toHaveLength(1);
  });

  it('keeps a raw email with its subject', async () => {
    const { ses, sandbox } = setup(seed);
    const raw = 'From: cordon@example.com\r\nTo: a@example.com\r\nSubject: Raw one\r\n\r\nbody';
    await ses.send(new SendEmailCommand({ Content: { Raw: { Data: new TextEncoder().encode(raw) } } }));
    expect(sandbox.sentEmails[0]).toMatchObject({
      from: 'cordon@example.com',
      to: ['a@example.com'],
      subject: 'Raw one',
      raw,
    });
  });

  it('rejects an unverified sender when identities are configured', async () => {
    const { ses } = setup({ sesVerifiedIdentities: ['example.com'] });
    const error = await errorOf(
      ses.send(
        new SendEmailCommand({
          FromEmailAddress: 'x@evil.test',
          Destination: { ToAddresses: ['a@example.com'] },
          Content: { Simple: { Subject: { Data: 's' }, Body: { Text: { Data: 'b' } } } },
        }),
      ),
    );
    expect(error.name).toBe('MessageRejected');
  });
});

describe('Step Functions task tokens', () => {
  it('forwards success, failure and heartbeat to the sink', async () => {
    const received: string[] = [];
    const { sfn } = setup(seed, {
      taskTokens: {
        success: (token, output) => {
          received.push(`success ${token} ${output}`);
        },
        failure: (token, error, cause) => {
          received.push(`failure ${token} ${error} ${cause}`);
        },
        heartbeat: (token) => {
          received.push(`heartbeat ${token}`);
        },
      },
    });
    await sfn.send(new SendTaskSuccessCommand({ taskToken: 't1', output: '{"ok":true}' }));
    await sfn.send(new SendTaskFailureCommand({ taskToken: 't2', error: 'Rejected', cause: 'no' }));
    await sfn.send(new SendTaskHeartbeatCommand({ taskToken: 't3' }));
    expect(received).toEqual(['success t1 {"ok":true}', 'failure t2 Rejected no', 'heartbeat t3']);
  });

  it('turns the sink’s TaskTimedOut and InvalidToken into the SDK exceptions', async () => {
    const named = (name: string) => Object.assign(new Error(name), { name });
    const { sfn } = setup(seed, {
      taskTokens: {
        success: () => {
          throw named('TaskTimedOut');
        },
        failure: () => {
          throw named('InvalidToken');
        },
      },
    });
    expect(
      await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }))),
    ).toBeInstanceOf(TaskTimedOut);
    expect(await errorOf(sfn.send(new SendTaskFailureCommand({ taskToken: 't' })))).toBeInstanceOf(
      InvalidToken,
    );
  });

  it('fails with TaskDoesNotExist without a sink', async () => {
    const { sfn } = setup(seed);
    expect(
      await errorOf(sfn.send(new SendTaskSuccessCommand({ taskToken: 't', output: '{}' }))),
    ).toBeInstanceOf(TaskDoesNotExist);
  });
});
