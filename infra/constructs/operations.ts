/**
 * Operating Cordon: what an operator watches and what wakes the approvers.
 *
 * - an SNS topic, encrypted with a customer managed KMS key (CloudWatch alarms cannot publish to a topic
 *   encrypted with the AWS managed `alias/aws/sns` key:
 *   https://repost.aws/knowledge-center/cloudwatch-receive-sns-for-alarm-trigger), with an email
 *   subscription per approver (each confirms it once, from the email SNS sends);
 * - an alarm per playbook on `ExecutionsFailed` > 0, and one on a non-empty dead-letter queue, each
 *   notifying the topic when it goes into alarm (and EventBridge rules may publish to it: the record's
 *   alerts);
 * - a dashboard: incidents opened (and events rejected), time to contain, playbook failures per state
 *   machine, pending approvals, the dead-letter queue's depth, the router's errors and the audit table's
 *   throttling.
 *
 * The incident, time-to-contain and approval figures are Cordon's own metrics, written by the functions in
 * CloudWatch's embedded metric format (`functions/shared/metrics.ts`), without dimensions.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as actions from 'aws-cdk-lib/aws-cloudwatch-actions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sns from 'aws-cdk-lib/aws-sns';
import * as subscriptions from 'aws-cdk-lib/aws-sns-subscriptions';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { METRIC_NAMESPACE, METRICS } from '#shared/metrics';

export interface OperationsProps {
  /** The playbooks' state machines, by playbook id. At least one. */
  readonly stateMachines: Readonly<Record<string, sfn.IStateMachine>>;
  /** The router function (its errors and throttles are graphed). */
  readonly router: lambda.IFunction;
  /** The trigger rules' dead-letter queue (`Triggers.deadLetterQueue`). */
  readonly deadLetterQueue: sqs.IQueue;
  /**
   * An alarm that already watches the dead-letter queue (`Triggers.deadLetterAlarm`): it gets the topic as
   * its action instead of a second alarm being made. Default: this construct makes one.
   */
  readonly deadLetterAlarm?: cloudwatch.Alarm;
  /** The audit table's name (its throttling is graphed). */
  readonly auditTableName: string;
  /** Who is emailed when an alarm goes off: the approvers. At least one. */
  readonly approvers: readonly string[];
  /** The dashboard's name. Default `Cordon`. */
  readonly dashboardName?: string;
  /** The period of the dashboard's and the alarms' figures. Default 5 minutes. */
  readonly period?: Duration;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const DASHBOARD_NAME = /^[A-Za-z0-9_-]{1,255}$/;

export class Operations extends Construct {
  /** Alarms notify here; each approver has an email subscription. */
  readonly topic: sns.Topic;
  /** The topic's key. */
  readonly key: kms.Key;
  readonly dashboard: cloudwatch.Dashboard;
  /** One alarm per playbook on failed executions, by playbook id. */
  readonly playbookAlarms: ReadonlyMap<string, cloudwatch.Alarm>;
  /** In alarm while one event waits in the dead-letter queue. */
  readonly deadLetterAlarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    const playbooks = Object.entries(props.stateMachines);
    if (playbooks.length === 0) {
      throw new Error(`Operations ${id}: stateMachines must name at least one playbook, got none`);
    }
    if (props.approvers.length === 0 || props.approvers.some((a) => !EMAIL.test(a))) {
      throw new Error(
        `Operations ${id}: approvers must be one or more email addresses, got ${JSON.stringify(props.approvers)}`,
      );
    }
    const dashboardName = props.dashboardName ?? 'Cordon';
    if (!DASHBOARD_NAME.test(dashboardName)) {
      throw new Error(
        `Operations ${id}: dashboardName must be 1-255 of A-Z a-z 0-9 _ -, got "${dashboardName}"`,
      );
    }
    const period = props.period ?? Duration.minutes(5);
    const periodSeconds = period.toSeconds();
    if (periodSeconds < 60 || periodSeconds % 60 !== 0) {
      throw new Error(
        `Operations ${id}: period must be a whole number of minutes, got ${periodSeconds} seconds`,
      );
    }

    this.key = new kms.Key(this, 'TopicKey', {
      description: 'Encrypts the Cordon alarm topic',
      enableKeyRotation: true,
    });
    // CloudWatch publishes alarm notifications to the encrypted topic: the statement AWS documents in
    // https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/AlarmThatSendsEmail.html.
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    // EventBridge rules publish here too (the record's alerts: AuditTable.alertOnChanges), which needs the
    // same (https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html#compatibility-with-aws-services).
    this.key.addToResourcePolicy(
      new iam.PolicyStatement({
        principals: [new iam.ServicePrincipal('events.amazonaws.com')],
        actions: ['kms:Decrypt', 'kms:GenerateDataKey*'],
        resources: ['*'],
      }),
    );
    this.topic = new sns.Topic(this, 'Topic', {
      displayName: 'Cordon alarms',
      masterKey: this.key,
      enforceSSL: true,
    });
    for (const approver of props.approvers) {
      this.topic.addSubscription(new subscriptions.EmailSubscription(approver));
    }
    const notify = new actions.SnsAction(this.topic);

    const alarms = new Map<string, cloudwatch.Alarm>();
    for (const [playbook, machine] of playbooks) {
      const alarm = new cloudwatch.Alarm(this, `${camel(playbook)}Failed`, {
        alarmDescription: `The Cordon playbook ${playbook} failed: see its execution, and the incident's record (cordon show).`,
        metric: machine.metricFailed({ period, statistic: cloudwatch.Stats.SUM }),
        threshold: 0,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
      alarm.addAlarmAction(notify);
      alarms.set(playbook, alarm);
    }
    this.playbookAlarms = alarms;

    const dlqDepth = props.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
      period,
      statistic: cloudwatch.Stats.MAXIMUM,
    });
    this.deadLetterAlarm =
      props.deadLetterAlarm ??
      new cloudwatch.Alarm(this, 'DeadLettersWaiting', {
        alarmDescription: 'Events for the Cordon router wait in its dead-letter queue: nothing handled them.',
        metric: dlqDepth,
        threshold: 1,
        comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        evaluationPeriods: 1,
        treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
      });
    this.deadLetterAlarm.addAlarmAction(notify);

    const own = (name: string, statistic: string, label: string) =>
      new cloudwatch.Metric({ namespace: METRIC_NAMESPACE, metricName: name, statistic, period, label });
    const table = (metricName: string) =>
      new cloudwatch.Metric({
        namespace: 'AWS/DynamoDB',
        metricName,
        dimensionsMap: { TableName: props.auditTableName },
        statistic: cloudwatch.Stats.SUM,
        period,
      });
    const width = 8;
    this.dashboard = new cloudwatch.Dashboard(this, 'Dashboard', {
      dashboardName,
      defaultInterval: Duration.days(7),
      widgets: [
        [
          new cloudwatch.TextWidget({
            markdown: `# Cordon\nAudit table \`${props.auditTableName}\`: read it with \`cordon list\`, \`cordon show <incident>\`, \`cordon verify <incident>\`.`,
            width: 24,
            height: 2,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Incidents opened',
            left: [own(METRICS.incidentsOpened, cloudwatch.Stats.SUM, 'incidents opened')],
            right: [own(METRICS.rejectedEvents, cloudwatch.Stats.SUM, 'events rejected')],
            width,
          }),
          new cloudwatch.GraphWidget({
            title: 'Time to contain (seconds)',
            left: [
              own(METRICS.timeToContainSeconds, cloudwatch.Stats.p(50), 'p50'),
              own(METRICS.timeToContainSeconds, cloudwatch.Stats.p(90), 'p90'),
              own(METRICS.timeToContainSeconds, cloudwatch.Stats.MAXIMUM, 'max'),
            ],
            width,
          }),
          new cloudwatch.GraphWidget({
            title: 'Playbook failures',
            left: playbooks.map(([playbook, machine]) =>
              machine.metricFailed({ period, statistic: cloudwatch.Stats.SUM, label: playbook }),
            ),
            width,
          }),
        ],
        [
          new cloudwatch.GraphWidget({
            title: 'Pending approvals',
            left: [own(METRICS.pendingApprovals, cloudwatch.Stats.MAXIMUM, 'pending approvals')],
            width,
          }),
          new cloudwatch.GraphWidget({
            title: 'Dead-letter queue depth',
            left: [dlqDepth.with({ label: 'events waiting' })],
            leftAnnotations: [{ value: 1, label: 'alarm', color: cloudwatch.Color.RED }],
            width,
          }),
          new cloudwatch.GraphWidget({
            title: 'Router and audit table',
            left: [
              props.router.metricErrors({ period, label: 'router errors' }),
              props.router.metricThrottles({ period, label: 'router throttles' }),
            ],
            right: [table('WriteThrottleEvents'), table('ReadThrottleEvents')],
            width,
          }),
        ],
        [
          new cloudwatch.AlarmStatusWidget({
            title: 'Alarms',
            alarms: [...alarms.values(), this.deadLetterAlarm],
            width: 24,
          }),
        ],
      ],
    });
  }
}

/** `ec2-compromise` → `Ec2Compromise`. */
function camel(id: string): string {
  return id.replace(/(^|[^A-Za-z0-9])([A-Za-z0-9])/g, (_, __, c: string) => c.toUpperCase());
}
