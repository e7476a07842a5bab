/**
 * Stand-in playbooks for exercising the router on the local runtime (tests, the router benchmark): state
 * machines named and tagged as Cordon's, whose only state waits an hour, so that an execution shows it
 * was started and acts on nothing.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';

export function stubPlaybooksStack(
  ids: readonly string[] = ['ec2-compromise', 'iam-credential-compromise'],
): Stack {
  const stack = new Stack(new App(), 'Stubs');
  for (const id of ids) {
    const machine = new sfn.StateMachine(stack, id, {
      stateMachineName: `cordon-${id}`,
      definitionBody: sfn.DefinitionBody.fromChainable(
        new sfn.Wait(stack, `${id}-hold`, { time: sfn.WaitTime.duration(Duration.hours(1)) }),
      ),
    });
    (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata('cordon:playbook', id);
  }
  return stack;
}
