import { DescribeInstancesCommand, DescribeSecurityGroupsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { ALL_SERVICES, CallCounter, CallTally, of } from '../../../bench/counting.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';

const config = {
  region: 'us-east-1',
  credentials: { accessKeyId: 'x', secretAccessKey: 'y' },
  maxAttempts: 1,
};

/** Clients the counter sees, answered by a sandbox account that takes `ms` per call. */
function clients(counter: CallCounter, ms = 5) {
  const sandbox = Sandbox.create({});
  sandbox.addLatency('*', ms);
  return {
    ec2: sandbox.attach(counter.attach(new EC2Client(config))),
    sts: sandbox.attach(counter.attach(new STSClient(config))),
  };
}

describe('CallTally', () => {
  it('counts a round each time the calls in flight go from none to one', () => {
    const tally = new CallTally();
    const a = tally.start('DynamoDB', 'GetItem');
    const b = tally.start('DynamoDB', 'Query');
    a();
    const c = tally.start('DynamoDB', 'PutItem');
    b();
    c();
    tally.start('DynamoDB', 'UpdateItem')();
    expect(of(tally.counts(), 'DynamoDB')).toEqual({
      calls: 4,
      rounds: 2,
      commands: { GetItem: 1, Query: 1, PutItem: 1, UpdateItem: 1 },
    });
  });

  it('counts each service on its own, and all services together', () => {
    const tally = new CallTally();
    const dynamo = tally.start('DynamoDB', 'PutItem');
    tally.start('KMS', 'GenerateMac')();
    tally.start('KMS', 'GenerateMac')();
    dynamo();
    tally.start('S3', 'PutObject')();
    const counts = tally.counts();
    expect(of(counts, 'DynamoDB').rounds).toBe(1);
    expect(of(counts, 'KMS').rounds).toBe(2);
    expect(of(counts, 'S3').rounds).toBe(1);
    expect(of(counts, ALL_SERVICES)).toMatchObject({ calls: 4, rounds: 2 });
    expect(of(counts, 'SFN')).toEqual({ calls: 0, rounds: 0, commands: {} });
  });

  it('ends a call once however often its end is called', () => {
    const tally = new CallTally();
    const a = tally.start('EC2', 'DescribeInstances');
    const b = tally.start('EC2', 'DescribeInstances');
    a();
    a();
    tally.start('EC2', 'ModifyNetworkInterfaceAttribute')();
    b();
    expect(of(tally.counts(), 'EC2')).toMatchObject({ calls: 3, rounds: 1 });
  });

  it('gives counts that later calls do not change', () => {
    const tally = new CallTally();
    tally.start('SFN', 'StartExecution')();
    const before = tally.counts();
    tally.start('SFN', 'StartExecution')();
    expect(of(before, 'SFN')).toEqual({ calls: 1, rounds: 1, commands: { StartExecution: 1 } });
    expect(of(tally.counts(), 'SFN').calls).toBe(2);
  });
});

describe('CallCounter on SDK clients', () => {
  it('counts calls made one after another as one round each', async () => {
    const counter = new CallCounter();
    const { ec2 } = clients(counter);
    const { counts } = await counter.measure(async () => {
      await ec2.send(new DescribeInstancesCommand({}));
      await ec2.send(new DescribeSecurityGroupsCommand({}));
    });
    expect(of(counts, 'EC2')).toEqual({
      calls: 2,
      rounds: 2,
      commands: { DescribeInstances: 1, DescribeSecurityGroups: 1 },
    });
  });

  it('counts calls made together as one round, per service and over all services', async () => {
    const counter = new CallCounter();
    const { ec2, sts } = clients(counter);
    const { counts } = await counter.measure(async () => {
      await Promise.all([
        ec2.send(new DescribeInstancesCommand({})),
        ec2.send(new DescribeSecurityGroupsCommand({})),
        sts.send(new GetCallerIdentityCommand({})),
      ]);
      await sts.send(new GetCallerIdentityCommand({}));
    });
    expect(of(counts, 'EC2')).toMatchObject({ calls: 2, rounds: 1 });
    expect(of(counts, 'STS')).toMatchObject({ calls: 2, rounds: 2 });
    expect(of(counts, ALL_SERVICES)).toMatchObject({ calls: 4, rounds: 2 });
  });

  it('counts work measured at the same time apart', async () => {
    const counter = new CallCounter();
    const { ec2 } = clients(counter);
    const one = counter.measure(() => ec2.send(new DescribeInstancesCommand({})));
    const three = counter.measure(async () => {
      for (let i = 0; i < 3; i++) await ec2.send(new DescribeInstancesCommand({}));
    });
    const [a, b] = await Promise.all([one, three]);
    expect(of(a.counts, 'EC2')).toMatchObject({ calls: 1, rounds: 1 });
    expect(of(b.counts, 'EC2')).toMatchObject({ calls: 3, rounds: 3 });
  });

  it('counts calls outside any measure in the current tally', async () => {
    const counter = new CallCounter();
    const { ec2 } = clients(counter, 0);
    await ec2.send(new DescribeInstancesCommand({}));
    const tally = counter.begin();
    await ec2.send(new DescribeInstancesCommand({}));
    await counter.measure(() => ec2.send(new DescribeInstancesCommand({})));
    expect(of(tally.counts(), 'EC2').calls).toBe(1);
  });

  it('counts a call once when attached twice to the same client', async () => {
    const counter = new CallCounter();
    const sandbox = Sandbox.create({});
    const ec2 = sandbox.attach(counter.attach(counter.attach(new EC2Client(config))));
    const { counts } = await counter.measure(() => ec2.send(new DescribeInstancesCommand({})));
    expect(of(counts, 'EC2').calls).toBe(1);
  });

  it('counts a call that fails', async () => {
    const counter = new CallCounter();
    const { ec2 } = clients(counter, 0);
    const { value, counts } = await counter.measure(async () => {
      const failed = await ec2
        .send(new DescribeInstancesCommand({ InstanceIds: ['i-0000000000000dead'] }))
        .then(
          () => undefined,
          (error: Error) => error.name,
        );
      await ec2.send(new DescribeInstancesCommand({}));
      return failed;
    });
    expect(value).toBe('InvalidInstanceID.NotFound');
    expect(of(counts, 'EC2')).toMatchObject({ calls: 2, rounds: 2 });
  });
});
