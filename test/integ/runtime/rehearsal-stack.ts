/** A small stack for testing the runtime itself, with handlers from ./fixtures. */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';

/** A synthesized state machine with a Choice, a Retry, a Catch and a wait-for-token task. */
export function rehearsalStack(): Stack {
  const stack = new Stack(new App(), 'Rehearsal');
  const fn = (id: string, entry: string) => {
    const f = new lambda.Function(stack, id, {
      runtime: lambda.Runtime.NODEJS_22_X,
      handler: 'index.handler',
      code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    });
    (f.node.defaultChild as lambda.CfnFunction).addMetadata('cordon:entry', entry);
    return f;
  };
  const tag = new tasks.LambdaInvoke(stack, 'TagInstance', {
    lambdaFunction: fn('Tag', 'test/integ/runtime/fixtures/tag-instance.ts'),
    payloadResponseOnly: true,
    resultPath: '$.tag',
    taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
  });
  tag.addRetry({
    errors: ['ThrottlingError'],
    interval: Duration.seconds(2),
    maxAttempts: 3,
    backoffRate: 2,
  });
  const missing = new sfn.Pass(stack, 'InstanceMissing', {
    result: sfn.Result.fromString('missing'),
    resultPath: '$.outcome',
  });
  tag.addCatch(missing, { errors: ['ResourceNotFoundError'], resultPath: '$.error' });
  const decide = new tasks.LambdaInvoke(stack, 'AwaitDecision', {
    lambdaFunction: fn('Await', 'test/integ/runtime/fixtures/await-decision.ts'),
    integrationPattern: sfn.IntegrationPattern.WAIT_FOR_TASK_TOKEN,
    payload: sfn.TaskInput.fromObject({ token: sfn.JsonPath.taskToken }),
    resultPath: '$.decision',
    taskTimeout: sfn.Timeout.duration(Duration.seconds(600)),
  });
  const done = new sfn.Succeed(stack, 'Done');
  const choice = new sfn.Choice(stack, 'Mode')
    .when(sfn.Condition.stringEquals('$.mode', 'rehearse'), tag.next(decide).next(done))
    .otherwise(new sfn.Pass(stack, 'Skip').next(new sfn.Succeed(stack, 'Skipped')));
  missing.next(new sfn.Succeed(stack, 'Stopped'));
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(choice),
  });
  (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata('cordon:playbook', 'rehearsal');
  return stack;
}
