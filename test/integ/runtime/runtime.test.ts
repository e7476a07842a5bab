import { SendTaskSuccessCommand, SFNClient } from '@aws-sdk/client-sfn';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient } from '#shared/clients';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { rehearsalStack } from './rehearsal-stack.ts';

const seed = { instances: [{ id: 'i-0abc', tags: { Name: 'web' } }] };

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ scope: rehearsalStack(), seed });
});
afterAll(async () => {
  await t.close();
});

describe('the local runtime', () => {
  it('runs a Choice, retries an injected throttle, and waits for a token completed through the engine', async () => {
    const sandbox = t.runtime.useAccount(seed);
    sandbox.failNext('CreateTags', 2, { code: 'RequestLimitExceeded' });
    const execution = t.runtime.engine.start(
      'rehearsal',
      { mode: 'rehearse', instanceId: 'i-0abc' },
      { name: 'run-1' },
    );
    const task = await t.runtime.nextTask();
    expect(task.stateName).toBe('AwaitDecision');
    await t.runtime.engine.sendTaskSuccess(task.token, JSON.stringify({ decision: 'approve' }));
    const result = await execution.done;

    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ tag: { tagged: 'i-0abc' }, decision: { decision: 'approve' } });
    expect(result.history.map((e) => `${e.type}${e.stateName ? `:${e.stateName}` : ''}`)).toEqual([
      'ExecutionStarted',
      'ChoiceStateEntered:Mode',
      'ChoiceStateExited:Mode',
      'TaskStateEntered:TagInstance',
      'LambdaFunctionScheduled:TagInstance',
      'LambdaFunctionStarted:TagInstance',
      'LambdaFunctionFailed:TagInstance',
      'LambdaFunctionScheduled:TagInstance',
      'LambdaFunctionStarted:TagInstance',
      'LambdaFunctionFailed:TagInstance',
      'LambdaFunctionScheduled:TagInstance',
      'LambdaFunctionStarted:TagInstance',
      'LambdaFunctionSucceeded:TagInstance',
      'TaskStateExited:TagInstance',
      'TaskStateEntered:AwaitDecision',
      'TaskScheduled:AwaitDecision',
      'TaskStarted:AwaitDecision',
      'TaskSubmitted:AwaitDecision',
      'TaskSucceeded:AwaitDecision',
      'TaskStateExited:AwaitDecision',
      'SucceedStateEntered:Done',
      'SucceedStateExited:Done',
      'ExecutionSucceeded',
    ]);
    const failures = result.history.filter((e) => e.type === 'LambdaFunctionFailed');
    expect(failures.map((e) => e.details.error)).toEqual(['ThrottlingError', 'ThrottlingError']);
    // Two throttled calls and one that went through, and the tag is on the instance.
    expect(sandbox.calls.filter((c) => c.command === 'CreateTags').map((c) => c.error?.name ?? 'ok')).toEqual(
      ['RequestLimitExceeded', 'RequestLimitExceeded', 'ok'],
    );
    expect(sandbox.state().ec2.tags['i-0abc']).toMatchObject({ 'cordon:rehearsal': 'yes', Name: 'web' });
  });

  it('catches a named error into its recovery state', async () => {
    const sandbox = t.runtime.useAccount(seed);
    const result = await t.runtime.run(
      'rehearsal',
      { mode: 'rehearse', instanceId: 'i-gone' },
      { name: 'run-2' },
    );
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ outcome: 'missing', error: { Error: 'ResourceNotFoundError' } });
    expect(result.history.map((e) => e.stateName).filter(Boolean)).toContain('InstanceMissing');
    expect(result.history.some((e) => e.stateName === 'AwaitDecision')).toBe(false);
    expect(sandbox.state().ec2.tags['i-0abc']).toEqual({ Name: 'web' });
  });

  it('takes the Choice default branch and touches nothing', async () => {
    const sandbox = t.runtime.useAccount(seed);
    const result = await t.runtime.run('rehearsal', { mode: 'observe' }, { name: 'run-3' });
    expect(result.status).toBe('SUCCEEDED');
    expect(result.history.some((e) => e.stateName === 'Skipped')).toBe(true);
    expect(sandbox.calls).toEqual([]);
  });

  it('completes a token sent through the SDK, as an approval callback does', async () => {
    t.runtime.useAccount(seed);
    const execution = t.runtime.engine.start(
      'rehearsal',
      { mode: 'rehearse', instanceId: 'i-0abc' },
      { name: 'run-4' },
    );
    const task = await t.runtime.nextTask();
    const sfnClient = makeClient(SFNClient, { service: 'SFN' });
    await sfnClient.send(
      new SendTaskSuccessCommand({ taskToken: task.token, output: '{"decision":"reject"}' }),
    );
    const result = await execution.done;
    expect(result.output).toMatchObject({ decision: { decision: 'reject' } });
  });
});
