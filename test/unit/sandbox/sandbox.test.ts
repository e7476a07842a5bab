import {
  DescribeInstancesCommand,
  EC2Client,
  ModifyNetworkInterfaceAttributeCommand,
  RunInstancesCommand,
  StopInstancesCommand,
} from '@aws-sdk/client-ec2';
import { ListAccessKeysCommand } from '@aws-sdk/client-iam';
import { describe, expect, it } from 'vitest';
import { Sandbox, SandboxUnsupportedCommandError } from '#local/sandbox/index';
import { makeClient, registerClientPlugin } from '#shared/clients';
import { config, errorOf, setup } from './helpers.ts';

const seed = { instances: [{ id: 'i-a', groups: ['sg-a'] }], iam: { users: [{ name: 'alice' }] } };

describe('Sandbox', () => {
  it('answers clients made by the project factory once its plugin is registered', async () => {
    const sandbox = Sandbox.create(seed);
    const unregister = registerClientPlugin(sandbox.plugin());
    try {
      const ec2 = makeClient(EC2Client, { service: 'EC2', region: 'us-east-1', env: {} });
      const out = await ec2.send(new DescribeInstancesCommand({}));
      expect(out.Reservations?.[0]?.Instances?.[0]?.InstanceId).toBe('i-a');
    } finally {
      unregister();
    }
  });

  it('fails a DryRun that would succeed with DryRunOperation and changes nothing', async () => {
    const { ec2, sandbox } = setup(seed);
    const before = sandbox.state();
    const error = await errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-a'], DryRun: true })));
    expect(error.name).toBe('DryRunOperation');
    expect(error.message).toBe('Request would have succeeded, but DryRun flag is set.');
    expect(error.$metadata?.httpStatusCode).toBe(412);
    expect(sandbox.state()).toEqual(before);
  });

  it('fails a DryRun that would fail with the real error', async () => {
    const { ec2 } = setup(seed);
    const error = await errorOf(
      ec2.send(new StopInstancesCommand({ InstanceIds: ['i-nope'], DryRun: true })),
    );
    expect(error.name).toBe('InvalidInstanceID.NotFound');
  });

  it('injects failures with failNext, by command or by service and command, then recovers', async () => {
    const { ec2, sandbox } = setup(seed);
    sandbox.failNext('EC2:DescribeInstances', 2, { code: 'InternalError', fault: 'server' });
    const first = await errorOf(ec2.send(new DescribeInstancesCommand({})));
    expect(first.name).toBe('InternalError');
    expect(first.$fault).toBe('server');
    expect(first.$metadata?.httpStatusCode).toBe(500);
    await errorOf(ec2.send(new DescribeInstancesCommand({})));
    await expect(ec2.send(new DescribeInstancesCommand({}))).resolves.toBeDefined();
  });

  it('throws the modeled SDK exception class for an injected IAM error', async () => {
    const { iam, sandbox } = setup(seed);
    sandbox.failNext('ListAccessKeys', 1, { code: 'NoSuchEntity', message: 'gone' });
    const error = await errorOf(iam.send(new ListAccessKeysCommand({ UserName: 'alice' })));
    expect(error.name).toBe('NoSuchEntityException');
    expect(error.message).toBe('gone');
  });

  it('does not let the SDK retry an injected throttle', async () => {
    const sandbox = Sandbox.create(seed);
    const ec2 = sandbox.attach(new EC2Client({ ...config, maxAttempts: 5, retryMode: 'adaptive' }));
    sandbox.failNext('DescribeInstances', 1, {
      code: 'RequestLimitExceeded',
      message: 'Request limit exceeded.',
    });
    const error = await errorOf(ec2.send(new DescribeInstancesCommand({})));
    expect(error.name).toBe('RequestLimitExceeded');
    expect(sandbox.calls).toHaveLength(1);
    expect(sandbox.calls[0]?.error).toEqual({
      name: 'RequestLimitExceeded',
      message: 'Request limit exceeded.',
    });
  });

  it('logs every call, successful and failed, with input, output and sandbox time', async () => {
    const { ec2, sandbox } = setup(seed);
    await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-a'] }));
    await errorOf(
      ec2.send(
        new ModifyNetworkInterfaceAttributeCommand({ NetworkInterfaceId: 'eni-nope', Groups: ['sg-a'] }),
      ),
    );
    expect(sandbox.calls.map((c) => [c.service, c.command, c.error?.name])).toEqual([
      ['EC2', 'DescribeInstances', undefined],
      ['EC2', 'ModifyNetworkInterfaceAttribute', 'InvalidNetworkInterfaceID.NotFound'],
    ]);
    expect(sandbox.calls[0]?.input).toEqual({ InstanceIds: ['i-a'] });
    expect(sandbox.calls[0]?.output).toBeDefined();
    expect(sandbox.calls[0]?.at).toBe(sandbox.now());
  });

  it('delays calls by the latency added', async () => {
    const { ec2, sandbox } = setup(seed);
    sandbox.addLatency('DescribeInstances', 50);
    const started = performance.now();
    await ec2.send(new DescribeInstancesCommand({}));
    expect(performance.now() - started).toBeGreaterThanOrEqual(45);
  });

  it('refuses a command it does not simulate with SandboxUnsupportedCommandError', async () => {
    const { ec2, sandbox } = setup(seed);
    const error = await errorOf(ec2.send(new RunInstancesCommand({ MinCount: 1, MaxCount: 1 })));
    expect(error).toBeInstanceOf(SandboxUnsupportedCommandError);
    expect(error.message).toContain('EC2:RunInstances');
    expect(sandbox.calls).toHaveLength(1);
  });

  it('denies the commands the seed lists with the service’s access error', async () => {
    const { ec2, iam } = setup({ ...seed, denied: ['EC2:StopInstances', 'ListAccessKeys'] });
    expect((await errorOf(ec2.send(new StopInstancesCommand({ InstanceIds: ['i-a'] })))).name).toBe(
      'UnauthorizedOperation',
    );
    expect((await errorOf(iam.send(new ListAccessKeysCommand({ UserName: 'alice' })))).name).toBe(
      'AccessDenied',
    );
  });

  it('moves its clock with advance, and returns state as JSON-serializable data', () => {
    const sandbox = Sandbox.create(seed, { now: () => 1_000 });
    sandbox.advance(500);
    expect(sandbox.now()).toBe(1_500);
    const state = sandbox.state();
    expect(JSON.parse(JSON.stringify(state))).toEqual(state);
    expect(Object.keys(state.ec2.instances)).toEqual(['i-a']);
  });

  it('refuses to attach to something that is not an SDK client', () => {
    expect(() => Sandbox.create().attach({})).toThrow(TypeError);
  });
});
