/** Builds small CDK stacks for the engine tests: functions with `cordon:entry`, playbooks with `cordon:playbook`. */
import { App, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

/** A Lambda function whose deployed handler is the fixture `test/integ/engine/fixtures/<fixture>.ts`. */
export function fixtureFunction(
  stack: Stack,
  id: string,
  fixture: string,
  environment: Record<string, string> = {},
): lambda.Function {
  const fn = new lambda.Function(stack, id, {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler=()=>{}'),
    environment,
  });
  (fn.node.defaultChild as lambda.CfnFunction).addMetadata(
    'cordon:entry',
    `test/integ/engine/fixtures/${fixture}.ts`,
  );
  return fn;
}

/** A state machine tagged as playbook `id`. */
export function playbook(
  stack: Stack,
  id: string,
  definition: sfn.IChainable,
  props: Partial<sfn.StateMachineProps> = {},
): sfn.StateMachine {
  const machine = new sfn.StateMachine(stack, `${id}Machine`, {
    definitionBody: sfn.DefinitionBody.fromChainable(definition),
    ...props,
  });
  (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata('cordon:playbook', id);
  return machine;
}

/** A fresh app and stack. */
export function testStack(): Stack {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [] } });
  return new Stack(app, 'EngineTest', { env: { account: '111111111111', region: 'eu-west-1' } });
}
