import { Duration } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerClientPlugin } from '../../../functions/shared/clients.ts';
import { LocalEngine } from '../../../local/engine/index.ts';
import { playbook, testStack } from './helpers.ts';

/** What the fake service saw: command name and input. */
const calls: { command: string; input: Record<string, unknown> }[] = [];

class ConditionalCheckFailedException extends Error {
  readonly $metadata = { httpStatusCode: 400, requestId: 'req-1' };
  constructor() {
    super('The conditional request failed');
    this.name = 'ConditionalCheckFailedException';
  }
}

let unregister: () => void = () => {};
let engine: LocalEngine;

beforeAll(() => {
  // Answers every command at the initialize step, as the sandbox account does: no network.
  unregister = registerClientPlugin({
    applyToStack(stack) {
      stack.add(
        (_next, context) => async (args) => {
          const command = String(context.commandName);
          const input = args.input as Record<string, unknown>;
          calls.push({ command, input });
          if (command === 'PutItemCommand' && JSON.stringify(input).includes('duplicate')) {
            throw new ConditionalCheckFailedException();
          }
          if (command === 'DescribeInstancesCommand') {
            return {
              output: { $metadata: {}, Reservations: [{ Instances: [{ InstanceId: 'i-1' }] }] },
              response: {},
            };
          }
          return { output: { $metadata: {} }, response: {} };
        },
        { step: 'initialize', name: 'engineTestFakeService' },
      );
    },
  });
  const stack = testStack();
  const table = new dynamodb.Table(stack, 'Audit', {
    tableName: 'audit',
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
  });
  const put = new tasks.DynamoPutItem(stack, 'RecordStep', {
    table,
    item: { pk: tasks.DynamoAttributeValue.fromString(sfn.JsonPath.stringAt('$.id')) },
    conditionExpression: 'attribute_not_exists(pk)',
    resultPath: sfn.JsonPath.DISCARD,
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  put.addCatch(new sfn.Pass(stack, 'AlreadyRecorded', { result: sfn.Result.fromString('already-done') }), {
    errors: ['DynamoDB.ConditionalCheckFailedException'],
  });
  const describe = new tasks.CallAwsService(stack, 'DescribeInstances', {
    service: 'ec2',
    action: 'describeInstances',
    parameters: { InstanceIds: sfn.JsonPath.array(sfn.JsonPath.stringAt('$.id')) },
    iamResources: ['*'],
    resultSelector: { 'id.$': '$.Reservations[0].Instances[0].InstanceId' },
  });
  playbook(stack, 'sdk', put.next(describe));
  engine = LocalEngine.fromApp(stack, {
    env: { AWS_ACCESS_KEY_ID: 'local', AWS_SECRET_ACCESS_KEY: 'local' },
  });
});

afterAll(async () => {
  unregister();
  await engine.close();
});

describe('SDK integrations', () => {
  it('runs dynamodb:putItem and aws-sdk:ec2:describeInstances through clients made by makeClient', async () => {
    const result = await engine.run('sdk', { id: 'i-1' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: { id: 'i-1' } });
    expect(calls.map((c) => c.command)).toEqual(['PutItemCommand', 'DescribeInstancesCommand']);
    expect(calls[0]?.input).toMatchObject({
      TableName: 'audit',
      Item: { pk: { S: 'i-1' } },
      ConditionExpression: 'attribute_not_exists(pk)',
    });
    expect(calls[1]?.input).toEqual({ InstanceIds: ['i-1'] });
    const scheduled = result.history.find((e) => e.type === 'TaskScheduled');
    expect(scheduled?.details).toMatchObject({ resourceType: 'dynamodb', resource: 'putItem' });
  });

  it('names SDK errors <Service>.<Error> so that a Catch matches them', async () => {
    const result = await engine.run('sdk', { id: 'duplicate' });
    expect(result).toMatchObject({ status: 'SUCCEEDED', output: 'already-done' });
    const failed = result.history.find((e) => e.type === 'TaskFailed');
    expect(failed?.details.error).toBe('DynamoDB.ConditionalCheckFailedException');
    expect(failed?.details.cause).toContain('The conditional request failed');
  });
});
