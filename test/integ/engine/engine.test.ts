import { Duration } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalEngine } from '../../../local/engine/index.ts';
import { fixtureFunction, playbook, testStack } from './helpers.ts';

const waits: number[] = [];
let engine: LocalEngine;

beforeAll(() => {
  const stack = testStack();
  const echo = fixtureFunction(stack, 'Echo', 'echo', { GREETING: 'hello', TABLE_NAME: 'from-template' });
  const flaky = fixtureFunction(stack, 'Flaky', 'flaky');
  const guard = fixtureFunction(stack, 'Guard', 'guard');
  const double = fixtureFunction(stack, 'Double', 'double');

  // Choice over the input, each branch a Pass.
  playbook(
    stack,
    'choice',
    new sfn.Choice(stack, 'IsHigh')
      .when(
        sfn.Condition.stringEquals('$.severity', 'HIGH'),
        new sfn.Pass(stack, 'Contain', { result: sfn.Result.fromString('contain') }),
      )
      .otherwise(new sfn.Pass(stack, 'Observe', { result: sfn.Result.fromString('observe') })),
  );

  // Retry on ThrottlingException; the fixture throws it twice.
  const retried = new tasks.LambdaInvoke(stack, 'CallFlaky', {
    lambdaFunction: flaky,
    payloadResponseOnly: true,
    retryOnServiceExceptions: false,
  });
  retried.addRetry({
    errors: ['ThrottlingException'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });
  playbook(stack, 'retry', retried);

  // Catch a named error to a recovery state.
  const contain = new tasks.LambdaInvoke(stack, 'ContainInstance', {
    lambdaFunction: guard,
    payloadResponseOnly: true,
    resultPath: '$.result',
  });
  contain.addCatch(new sfn.Pass(stack, 'RecordProtected', { parameters: { 'skipped.$': '$.error.Error' } }), {
    errors: ['ProtectedResourceError'],
    resultPath: '$.error',
  });
  playbook(stack, 'catch', contain);

  // Parallel of two functions, then a Map over items.
  const parallel = new sfn.Parallel(stack, 'Both', { resultPath: '$.both' })
    .branch(
      new tasks.LambdaInvoke(stack, 'DoubleA', {
        lambdaFunction: double,
        payloadResponseOnly: true,
        payload: sfn.TaskInput.fromObject({ 'value.$': '$.a' }),
      }),
    )
    .branch(
      new tasks.LambdaInvoke(stack, 'DoubleB', {
        lambdaFunction: double,
        payloadResponseOnly: true,
        payload: sfn.TaskInput.fromObject({ 'value.$': '$.b' }),
      }),
    );
  const map = new sfn.Map(stack, 'EachItem', { itemsPath: '$.items', resultPath: '$.doubled' });
  map.itemProcessor(
    new tasks.LambdaInvoke(stack, 'DoubleItem', {
      lambdaFunction: double,
      payloadResponseOnly: true,
      payload: sfn.TaskInput.fromObject({ 'value.$': '$' }),
    }),
  );
  playbook(stack, 'fan-out', parallel.next(map));

  // Wait one hour (nominal), then a SecondsPath wait.
  playbook(
    stack,
    'wait',
    new sfn.Wait(stack, 'WaitAnHour', { time: sfn.WaitTime.duration(Duration.hours(1)) }).next(
      new sfn.Wait(stack, 'WaitDelay', { time: sfn.WaitTime.secondsPath('$.delay') }),
    ),
  );

  // Execution timeout shorter than its wait.
  playbook(
    stack,
    'slow',
    new sfn.Wait(stack, 'WaitTwoHours', { time: sfn.WaitTime.duration(Duration.hours(2)) }),
    {
      timeout: Duration.hours(1),
    },
  );

  // lambda:invoke without payloadResponseOnly (full response), then with it; $$ context in the payload.
  const full = new tasks.LambdaInvoke(stack, 'InvokeFull', {
    lambdaFunction: echo,
    payload: sfn.TaskInput.fromObject({
      'executionId.$': '$$.Execution.Id',
      'stateName.$': '$$.State.Name',
      'input.$': '$',
    }),
    resultSelector: { 'payload.$': '$.Payload', 'statusCode.$': '$.StatusCode' },
    resultPath: '$.full',
  });
  const direct = new tasks.LambdaInvoke(stack, 'InvokeDirect', {
    lambdaFunction: echo,
    payloadResponseOnly: true,
    payload: sfn.TaskInput.fromObject({ 'name.$': '$$.Execution.Name' }),
    resultPath: '$.direct',
  });
  playbook(stack, 'invoke', full.next(direct));

  engine = LocalEngine.fromApp(stack, {
    waitScale: 0.0001,
    env: { TABLE_NAME: 'local-table' },
    onWait: (seconds) => {
      waits.push(seconds);
    },
  });
});

afterAll(async () => {
  await engine.close();
});

describe('LocalEngine', () => {
  it('lists the playbooks of the template with local ARNs', () => {
    const ids = engine.playbooks().map((p) => p.id);
    expect(ids).toEqual(['choice', 'retry', 'catch', 'fan-out', 'wait', 'slow', 'invoke']);
    expect(engine.playbooks()[0]?.arn).toMatch(
      /^arn:aws:states:eu-west-1:111111111111:stateMachine:choiceMachine/,
    );
  });

  it('follows a Choice to the branch the input selects', async () => {
    const high = await engine.run('choice', { severity: 'HIGH' });
    const low = await engine.run('choice', { severity: 'LOW' });
    expect(high).toMatchObject({ status: 'SUCCEEDED', output: 'contain' });
    expect(low).toMatchObject({ status: 'SUCCEEDED', output: 'observe' });
  });

  it('retries a handler that throws ThrottlingException twice and then succeeds', async () => {
    const started = Date.now();
    const result = await engine.run('retry', { key: 'retry-1' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { attempts: 3 } });
    // Retry intervals are scaled too: 2 s and 4 s nominal take milliseconds.
    expect(Date.now() - started).toBeLessThan(2000);
    const types = result.history.map((e) => e.type);
    expect(types.filter((t) => t === 'LambdaFunctionFailed')).toHaveLength(2);
    expect(types.filter((t) => t === 'LambdaFunctionSucceeded')).toHaveLength(1);
    const failed = result.history.find((e) => e.type === 'LambdaFunctionFailed');
    expect(failed?.details.error).toBe('ThrottlingException');
    expect(JSON.parse(failed?.details.cause ?? '{}')).toMatchObject({
      errorType: 'ThrottlingException',
      errorMessage: 'Rate exceeded (attempt 1)',
    });
  });

  it('fails the execution when retries are exhausted', async () => {
    const result = await engine.run('retry', { key: 'retry-2', failures: 10 });
    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('ThrottlingException');
    expect(result.history.at(-1)?.type).toBe('ExecutionFailed');
  });

  it('catches a named error and moves to the recovery state', async () => {
    const caught = await engine.run('catch', { resourceId: 'i-1', protected: true });
    expect(caught).toMatchObject({ status: 'SUCCEEDED', output: { skipped: 'ProtectedResourceError' } });
    const ok = await engine.run('catch', { resourceId: 'i-2' });
    expect(ok).toMatchObject({
      status: 'SUCCEEDED',
      output: { resourceId: 'i-2', result: { contained: 'i-2' } },
    });
  });

  it('runs Parallel branches and Map iterations through their handlers', async () => {
    const result = await engine.run('fan-out', { a: 1, b: 2, items: [3, 4, 5] });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { both: [2, 4], doubled: [6, 8, 10] } });
    const types = result.history.map((e) => e.type);
    expect(types).toContain('ParallelStateStarted');
    expect(types).toContain('ParallelStateSucceeded');
    expect(types.filter((t) => t === 'MapIterationStarted')).toHaveLength(3);
    expect(types.indexOf('ParallelStateExited')).toBeLessThan(types.indexOf('MapStateEntered'));
  });

  it('shortens Wait states and reports their nominal seconds to onWait', async () => {
    waits.length = 0;
    const started = Date.now();
    const result = await engine.run('wait', { delay: 600 });
    expect(result.status).toBe('SUCCEEDED');
    expect(waits).toEqual([3600, 600]);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(result.history.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'WaitStateEntered',
      'WaitStateExited',
      'WaitStateEntered',
      'WaitStateExited',
      'ExecutionSucceeded',
    ]);
  });

  it('times an execution out after its scaled TimeoutSeconds', async () => {
    const result = await engine.run('slow', {});
    expect(result).toMatchObject({ status: 'TIMED_OUT', error: 'States.Timeout' });
    expect(result.history.at(-1)?.type).toBe('ExecutionTimedOut');
  });

  it('returns the full Lambda response for lambda:invoke and the payload alone with payloadResponseOnly', async () => {
    const result = await engine.run('invoke', { finding: 'f-1' }, { name: 'invoke-1' });
    expect(result.status).toBe('SUCCEEDED');
    const output = result.output as {
      full: { statusCode: number; payload: Record<string, unknown> };
      direct: Record<string, unknown>;
    };
    expect(output.full.statusCode).toBe(200);
    expect(output.full.payload.event).toEqual({
      executionId: result.executionArn,
      stateName: 'InvokeFull',
      input: { finding: 'f-1' },
    });
    expect(result.executionArn).toMatch(
      /^arn:aws:states:eu-west-1:111111111111:execution:invokeMachine[^:]*:invoke-1$/,
    );
    expect(output.direct.event).toEqual({ name: 'invoke-1' });
    expect(output.direct.functionName).toMatch(/^Echo/);
    expect(output.direct.invokedFunctionArn).toMatch(/^arn:aws:lambda:eu-west-1:111111111111:function:Echo/);
    expect(output.direct.hasRequestId).toBe(true);
    expect(output.direct.remainingMs).toBeGreaterThan(0);
  });

  it('sets the function environment (template values, caller overrides, region) before importing the handler', async () => {
    const result = await engine.run('invoke', {});
    const direct = (result.output as { direct: Record<string, unknown> }).direct;
    expect(direct).toMatchObject({
      greeting: 'hello',
      tableAtLoad: 'local-table',
      regionAtLoad: 'eu-west-1',
    });
  });

  it('records AWS-like history events in order with increasing ids', async () => {
    const result = await engine.run('catch', { resourceId: 'i-3', protected: true });
    expect(result.history.map((e) => e.type)).toEqual([
      'ExecutionStarted',
      'TaskStateEntered',
      'LambdaFunctionScheduled',
      'LambdaFunctionStarted',
      'LambdaFunctionFailed',
      'TaskStateExited',
      'PassStateEntered',
      'PassStateExited',
      'ExecutionSucceeded',
    ]);
    expect(result.history.map((e) => e.id)).toEqual(result.history.map((_, i) => i + 1));
    expect(result.history.every((e) => e.timestamp instanceof Date)).toBe(true);
  });

  it('streams events to listeners as they happen', async () => {
    const seen: string[] = [];
    const off = engine.onEvent((event) => {
      if (event.executionArn.endsWith(':live-1')) seen.push(event.type);
    });
    const result = await engine.run('choice', { severity: 'LOW' }, { name: 'live-1' });
    off();
    expect(seen).toEqual(result.history.map((e) => e.type));
  });

  it('treats StartExecution with a running name and the same input as idempotent, and refuses a reused name', async () => {
    const first = engine.start('wait', { delay: 1 }, { name: 'same-name' });
    const again = engine.start('wait', { delay: 1 }, { name: 'same-name' });
    expect(again).toBe(first);
    expect(() => engine.start('wait', { delay: 2 }, { name: 'same-name' })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    await first.done;
    expect(() => engine.start('wait', { delay: 1 }, { name: 'same-name' })).toThrow(
      expect.objectContaining({ name: 'ExecutionAlreadyExists' }),
    );
    expect(() => engine.start('wait', {}, { name: 'bad name' })).toThrow(
      expect.objectContaining({ name: 'InvalidName' }),
    );
  });

  it('stops an execution on request with status ABORTED', async () => {
    const execution = engine.start('slow', {}, { name: 'to-stop' });
    execution.stop('Operator.Stopped', 'stopped by test');
    const result = await execution.done;
    expect(result).toMatchObject({ status: 'ABORTED', error: 'Operator.Stopped', cause: 'stopped by test' });
    expect(result.history.at(-1)?.type).toBe('ExecutionAborted');
  });

  it('names an unknown playbook in its error', () => {
    expect(() => engine.start('nope', {})).toThrow(
      expect.objectContaining({ name: 'PlaybookNotFoundError' }),
    );
  });
});
