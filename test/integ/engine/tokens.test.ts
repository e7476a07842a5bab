import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine, type PendingTask, type TaskTokenSink } from '../../../local/engine/index.ts';
import { fixtureFunction, playbook, testStack } from './helpers.ts';

let engine: LocalEngine;
const issued: PendingTask[] = [];

beforeAll(() => {
  const stack = testStack();
  const request = fixtureFunction(stack, 'RequestApproval', 'request-approval');
  const gate = new tasks.LambdaInvoke(stack, 'AwaitApproval', {
    lambdaFunction: request,
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken, 'approver.$': '$.approver' }),
    taskTimeout: sfn.Timeout.duration(Duration.hours(1)),
    resultPath: '$.decision',
  });
  gate.addCatch(new sfn.Pass(stack, 'Rejected', { parameters: { 'rejected.$': '$.error.Error' } }), {
    errors: ['Approval.Rejected'],
    resultPath: '$.error',
  });
  gate.addCatch(new sfn.Pass(stack, 'TimedOut', { result: sfn.Result.fromString('default-reject') }), {
    errors: ['States.Timeout'],
  });
  playbook(stack, 'approval', gate.next(new sfn.Pass(stack, 'Approved')));
  engine = LocalEngine.fromApp(stack, { waitScale: 0.0001, onTask: (task) => issued.push(task) });
});

afterAll(async () => {
  await engine.close();
});

describe('task tokens', () => {
  it('issues a fresh token to the handler and completes the task on sendTaskSuccess', async () => {
    const execution = engine.start('approval', { approver: 'alice@example.com' }, { name: 'approve-1' });
    const task = await engine.nextTask((t) => t.executionArn === execution.arn);
    expect(task.stateName).toBe('AwaitApproval');
    expect(task.token).toMatch(/^[A-Za-z0-9_-]{86}$/);
    expect(task.input).toEqual({
      FunctionName: expect.stringMatching(/:function:RequestApproval/),
      Payload: { token: task.token, approver: 'alice@example.com' },
    });
    expect(issued.map((t) => t.token)).toContain(task.token);
    expect(engine.pendingTasks().map((t) => t.token)).toContain(task.token);

    const sink: TaskTokenSink = engine;
    await sink.success(task.token, JSON.stringify({ approved: true, by: 'alice@example.com' }));
    const result = await execution.done;
    expect(result).toMatchObject({
      status: 'SUCCEEDED',
      output: { approver: 'alice@example.com', decision: { approved: true, by: 'alice@example.com' } },
    });
    expect(result.history.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'TaskScheduled',
      'TaskStarted',
      'TaskSubmitted',
      'TaskSucceeded',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(engine.pendingTasks().map((t) => t.token)).not.toContain(task.token);
  });

  it('fails the task with sendTaskFailure so that a Catch on the error name runs', async () => {
    const execution = engine.start('approval', { approver: 'bob@example.com' });
    const task = await engine.nextTask((t) => t.executionArn === execution.arn);
    engine.sendTaskFailure(task.token, 'Approval.Rejected', 'bob said no');
    const result = await execution.done;
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { rejected: 'Approval.Rejected' } });
    const failed = result.history.find((e) => e.type === 'TaskFailed');
    expect(failed?.details).toMatchObject({ error: 'Approval.Rejected', cause: 'bob said no' });
  });

  it('times the task out after its scaled TimeoutSeconds with States.Timeout and retires the token', async () => {
    const execution = engine.start('approval', { approver: 'carol@example.com' });
    const task = await engine.nextTask((t) => t.executionArn === execution.arn);
    const result = await execution.done;
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: 'default-reject' });
    expect(result.history.map((e) => e.type)).toContain('TaskTimedOut');
    expect(() => engine.success(task.token, '{}')).toThrow(expect.objectContaining({ name: 'TaskTimedOut' }));
  });

  it('rejects unknown, malformed and used tokens as AWS does', async () => {
    const unknown = 'A'.repeat(86);
    expect(() => engine.success(unknown, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskDoesNotExist' }),
    );
    expect(() => engine.failure('not-a-token', 'X')).toThrow(
      expect.objectContaining({ name: 'InvalidToken' }),
    );

    const execution = engine.start('approval', { approver: 'dan@example.com' });
    const task = await engine.nextTask((t) => t.executionArn === execution.arn);
    expect(() => engine.success(task.token, 'not json')).toThrow(
      expect.objectContaining({ name: 'InvalidOutput' }),
    );
    engine.success(task.token, '{"approved":true}');
    expect(() => engine.success(task.token, '{}')).toThrow(
      expect.objectContaining({ name: 'TaskDoesNotExist' }),
    );
    expect((await execution.done).status).toBe('SUCCEEDED');
  });

  it('gives every execution its own token', async () => {
    const a = engine.start('approval', { approver: 'a@example.com' });
    const b = engine.start('approval', { approver: 'b@example.com' });
    const ta = await engine.nextTask((t) => t.executionArn === a.arn);
    const tb = await engine.nextTask((t) => t.executionArn === b.arn);
    expect(ta.token).not.toBe(tb.token);
    engine.success(tb.token, '"b"');
    engine.success(ta.token, '"a"');
    expect((await a.done).output).toMatchObject({ decision: 'a' });
    expect((await b.done).output).toMatchObject({ decision: 'b' });
  });
});
