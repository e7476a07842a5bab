import { App, Duration, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { METRICS } from '#shared/metrics';
import { Operations, type OperationsProps } from '../../infra/constructs/operations.ts';
import { buildApp } from '../../infra/cordon-app.ts';

const noBundling = { context: { 'aws:cdk:bundling-stacks': [] } };

/** Cordon's stack, with its operations construct. */
function cordonWithOperations() {
  const { app, stack } = buildApp({ nag: false, app: noBundling });
  return { app, stack, operations: stack.operations, template: Template.fromStack(stack) };
}

/** A bare stack with stand-ins, for the construct's own checks. */
function bare(overrides: Partial<OperationsProps> = {}) {
  const stack = new Stack(new App(), 'Ops');
  const machine = sfn.StateMachine.fromStateMachineName(stack, 'Machine', 'cordon-ec2-compromise');
  const router = lambda.Function.fromFunctionName(stack, 'Router', 'cordon-router');
  const queue = sqs.Queue.fromQueueArn(stack, 'Dlq', 'arn:aws:sqs:us-east-1:123456789012:dlq');
  return () =>
    new Operations(stack, 'Operations', {
      stateMachines: { 'ec2-compromise': machine },
      router,
      deadLetterQueue: queue,
      auditTableName: 'cordon-audit',
      approvers: ['oncall@example.com'],
      ...overrides,
    });
}

describe('the operations construct in Cordon stack', () => {
  const { app, stack, template } = cordonWithOperations();
  const resources = template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: Record<string, unknown> }
  >;
  const topicId = Object.keys(template.findResources('AWS::SNS::Topic'))[0] ?? '';

  it('emails each approver from a topic encrypted with a rotating key CloudWatch may use', () => {
    // The topic's own key (the stack's other key is the record's HMAC key).
    const [keyId] = Object.keys(
      template.findResources('AWS::KMS::Key', { Properties: { EnableKeyRotation: true } }),
    );
    template.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: { 'Fn::GetAtt': [keyId, 'Arn'] } });
    template.hasResourceProperties('AWS::KMS::Key', {
      EnableKeyRotation: true,
      KeyPolicy: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Principal: { Service: 'cloudwatch.amazonaws.com' },
            Action: ['kms:Decrypt', 'kms:GenerateDataKey*'],
          }),
        ]),
      },
    });
    // Only TLS to the topic.
    template.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    const subscriptions = Object.values(template.findResources('AWS::SNS::Subscription')).map(
      (s) => s.Properties as { Protocol: string; Endpoint: string; TopicArn: unknown },
    );
    expect(subscriptions.map((s) => [s.Protocol, s.Endpoint]).sort()).toEqual(
      stack.settings.approvers.map((a) => ['email', a]).sort(),
    );
    for (const s of subscriptions) expect(s.TopicArn).toEqual({ Ref: topicId });
  });

  it('alarms on any failed execution of each playbook, and notifies the topic', () => {
    const alarms = Object.values(resources).filter(
      (r) => r.Type === 'AWS::CloudWatch::Alarm' && r.Properties.MetricName === 'ExecutionsFailed',
    );
    expect(alarms).toHaveLength(stack.playbooks.size);
    for (const alarm of alarms) {
      expect(alarm.Properties).toMatchObject({
        Namespace: 'AWS/States',
        Statistic: 'Sum',
        Threshold: 0,
        ComparisonOperator: 'GreaterThanThreshold',
        EvaluationPeriods: 1,
        TreatMissingData: 'notBreaching',
        AlarmActions: [{ Ref: topicId }],
      });
    }
    const machines = alarms.map(
      (a) => (a.Properties.Dimensions as { Name: string; Value: { Ref: string } }[])[0]?.Value.Ref,
    );
    const expected = [...stack.playbooks.values()].map((p) =>
      stack.getLogicalId(p.stateMachine.node.defaultChild as never),
    );
    expect(machines.sort()).toEqual(expected.sort());
  });

  it('notifies the topic from the existing dead-letter alarm instead of making a second one', () => {
    const dlqAlarms = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::CloudWatch::Alarm' &&
        r.Properties.MetricName === 'ApproximateNumberOfMessagesVisible',
    );
    expect(dlqAlarms).toHaveLength(1);
    expect(dlqAlarms[0]?.Properties).toMatchObject({
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      AlarmActions: [{ Ref: topicId }],
    });
  });

  it('graphs incidents, time to contain, failures per playbook, pending approvals and the queue depth', () => {
    const [dashboard] = Object.values(template.findResources('AWS::CloudWatch::Dashboard'));
    const body = JSON.stringify(dashboard?.Properties.DashboardBody);
    for (const title of [
      'Incidents opened',
      'Time to contain (seconds)',
      'Playbook failures',
      'Pending approvals',
      'Dead-letter queue depth',
    ]) {
      expect(body).toContain(`\\"title\\":\\"${title}\\"`);
    }
    for (const metric of Object.values(METRICS)) expect(body).toContain(`\\"${metric}\\"`);
    for (const id of stack.playbooks.keys()) expect(body).toContain(`\\"label\\":\\"${id}\\"`);
    expect(body).toContain('ApproximateNumberOfMessagesVisible');
    expect(body).toContain(stack.audit.tableName);
  });

  it('leaves cdk-nag AwsSolutions nothing to report in the stack', () => {
    const violations = new AwsSolutionsChecks(app).validateScope(stack).violations;
    expect(
      violations.map(
        (v) => `${v.ruleName} ${v.violatingResources.map((r) => r.resourceLogicalId).join(',')}`,
      ),
    ).toEqual([]);
  });
});

describe('the operations construct on its own', () => {
  it('makes its own dead-letter alarm when none is given', () => {
    const ops = bare()();
    const template = Template.fromStack(Stack.of(ops));
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', {
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Namespace: 'AWS/SQS',
      Threshold: 1,
    });
  });

  it('refuses no playbook, no approver, a bad address, a bad dashboard name or a period in seconds', () => {
    expect(bare({ stateMachines: {} })).toThrow(
      'Operations Operations: stateMachines must name at least one playbook, got none',
    );
    expect(bare({ approvers: [] })).toThrow('approvers must be one or more email addresses, got []');
    expect(bare({ approvers: ['oncall'] })).toThrow(
      'approvers must be one or more email addresses, got ["oncall"]',
    );
    expect(bare({ dashboardName: 'Cordon ops' })).toThrow('got "Cordon ops"');
    expect(bare({ period: Duration.seconds(90) })).toThrow(
      'period must be a whole number of minutes, got 90 seconds',
    );
  });
});
