/**
 * A playbook: a Standard Step Functions workflow named `cordon-<id>` (fixed, so that the router and the
 * approval API can form its ARN without a reference), logged and traced, with the `cordon:playbook`
 * metadata the local engine finds it by. Its tasks are built by `PlaybookSteps` (playbooks/parts/steps.ts).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { PlaybookSteps } from '../../playbooks/parts/steps.ts';

/** The metadata key that names a state machine's playbook. */
export const PLAYBOOK_METADATA = 'cordon:playbook';

/** A playbook's fixed state machine name. */
export const stateMachineName = (playbook: string): string => `cordon-${playbook}`;

export interface PlaybookProps {
  /** The playbook's id, e.g. `ec2-compromise`: lower case, digits and dashes. */
  readonly id: string;
  readonly description: string;
  /** The whole run's limit. Default 1 day. */
  readonly timeout?: Duration;
  /** Builds the definition from the steps helper. */
  readonly definition: (steps: PlaybookSteps) => sfn.IChainable;
  /** The `notify` function the recorded failure calls. */
  readonly notify: lambda.IFunction;
}

export class Playbook extends Construct {
  readonly id: string;
  readonly stateMachine: sfn.StateMachine;

  constructor(scope: Construct, id: string, props: PlaybookProps) {
    super(scope, id);
    if (!/^[a-z][a-z0-9-]{1,50}$/.test(props.id)) {
      throw new Error(`Playbook ${id}: id must be lower case letters, digits and dashes, got "${props.id}"`);
    }
    this.id = props.id;
    const steps = new PlaybookSteps(this, props.id, props.notify);
    const logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    this.stateMachine = new sfn.StateMachine(this, 'StateMachine', {
      stateMachineName: stateMachineName(props.id),
      stateMachineType: sfn.StateMachineType.STANDARD,
      comment: props.description,
      definitionBody: sfn.DefinitionBody.fromChainable(props.definition(steps)),
      timeout: props.timeout ?? Duration.days(1),
      tracingEnabled: true,
      // Execution data stays out of the logs: it holds approval task tokens.
      logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
    });
    (this.stateMachine.node.defaultChild as sfn.CfnStateMachine).addMetadata(PLAYBOOK_METADATA, props.id);
  }
}
