/**
 * The Identification phase's triggers: EventBridge rules on the default bus that send GuardDuty findings,
 * CloudWatch alarm state changes and Security Hub findings to the router, with a retry policy and an
 * encrypted SQS dead-letter queue, so that an event the router could not take is kept, whole.
 *
 * Patterns use EventBridge content filtering
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html): numeric
 * matching for GuardDuty's severity, `prefix` for alarm names, `suffix` for Security Hub product ARNs.
 *
 * A GuardDuty finding also imported into Security Hub is deliberately NOT excluded from the Security Hub
 * rule when `aws/guardduty` is configured: the router gives it its GuardDuty finding id, so the two
 * deliveries deduplicate into one incident, and whichever arrives first is not lost if the other is late.
 */
import { Duration } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { SEVERITY_BY_LABEL } from '#functions/router/securityhub';
import type { Settings } from '#shared/settings';
import { acknowledge } from '../nag.ts';

export interface TriggersProps {
  /** Cordon's validated settings: severity threshold, alarms, Security Hub products. */
  readonly settings: Settings;
  /** The router function every rule targets. */
  readonly target: lambda.IFunction;
  /** How long EventBridge keeps retrying an event the router did not take. Default 6 hours (at most 24). */
  readonly maxEventAge?: Duration;
  /** How many times EventBridge retries delivery before the dead-letter queue. Default 20 (at most 185). */
  readonly retryAttempts?: number;
}

const PRODUCT = /^[A-Za-z0-9][A-Za-z0-9._-]*\/[A-Za-z0-9][A-Za-z0-9._-]*$/;

/**
 * `GuardDuty Finding` events at or above the severity threshold. GuardDuty's severity is a number
 * (https://docs.aws.amazon.com/guardduty/latest/ug/guardduty_findings-severity.html).
 */
export function guardDutyPattern(settings: Pick<Settings, 'severityThreshold'>): events.EventPattern {
  return {
    source: ['aws.guardduty'],
    detailType: ['GuardDuty Finding'],
    detail: { severity: events.Match.greaterThanOrEqual(settings.severityThreshold) },
  };
}

/**
 * `CloudWatch Alarm State Change` events into `ALARM` for the alarms the settings map, by exact name or
 * prefix; undefined when no alarm is mapped. Throws for an entry with neither a name nor a prefix.
 */
export function alarmPattern(settings: Pick<Settings, 'alarms'>): events.EventPattern | undefined {
  if (settings.alarms.length === 0) return undefined;
  const names: unknown[] = settings.alarms.map((alarm, index) => {
    if (alarm.name !== undefined && alarm.name !== '') return alarm.name;
    if (alarm.prefix !== undefined && alarm.prefix !== '') return { prefix: alarm.prefix };
    throw new Error(
      `settings.alarms[${index}] must give a name or a prefix, got ${JSON.stringify({ name: alarm.name, prefix: alarm.prefix })}`,
    );
  });
  return {
    source: ['aws.cloudwatch'],
    detailType: ['CloudWatch Alarm State Change'],
    detail: { state: { value: ['ALARM'] }, alarmName: names as string[] },
  };
}

/**
 * `Security Hub Findings - Imported` events with a finding from a configured product (its `ProductArn`
 * ends `:product/<company>/<product>`) at or above the threshold by its severity label; undefined when no
 * product is configured. Throws for a product not written `company/product`.
 */
export function securityHubImportedPattern(
  settings: Pick<Settings, 'securityHubProducts' | 'severityThreshold'>,
): events.EventPattern | undefined {
  if (settings.securityHubProducts.length === 0) return undefined;
  const suffixes = settings.securityHubProducts.map((product) => {
    if (!PRODUCT.test(product)) {
      throw new Error(`settings.securityHubProducts must list "company/product" names, got "${product}"`);
    }
    return { suffix: `:product/${product}` };
  });
  // The labels the router maps to a severity at or above the threshold; with a threshold above every
  // label (10), CRITICAL still reaches the router, whose policy then starts nothing and says why.
  const labels = Object.entries(SEVERITY_BY_LABEL)
    .filter(([, severity]) => severity >= settings.severityThreshold)
    .map(([label]) => label);
  return {
    source: ['aws.securityhub'],
    detailType: ['Security Hub Findings - Imported'],
    detail: {
      // One finding must match both (EventBridge matches fields of one array element together).
      findings: {
        ProductArn: suffixes as unknown as string[],
        Severity: { Label: labels.length > 0 ? labels : ['CRITICAL'] },
      },
    },
  };
}

/** `Security Hub Findings - Custom Action` events: a person asked for a response from the console. */
export function securityHubCustomActionPattern(): events.EventPattern {
  return { source: ['aws.securityhub'], detailType: ['Security Hub Findings - Custom Action'] };
}

export class Triggers extends Construct {
  /** Events EventBridge could not deliver to the router after its retries, kept whole for 14 days. */
  readonly deadLetterQueue: sqs.Queue;
  /** In alarm as soon as one event waits in the dead-letter queue. */
  readonly deadLetterAlarm: cloudwatch.Alarm;
  readonly guardDutyRule: events.Rule;
  /** Absent when no alarm is mapped in the settings. */
  readonly alarmRule?: events.Rule;
  /** Absent when no Security Hub product is configured. */
  readonly securityHubImportedRule?: events.Rule;
  readonly securityHubCustomActionRule: events.Rule;
  /** Every rule this construct made. */
  readonly rules: readonly events.Rule[];
  readonly maxEventAge: Duration;
  readonly retryAttempts: number;

  constructor(scope: Construct, id: string, props: TriggersProps) {
    super(scope, id);
    this.maxEventAge = props.maxEventAge ?? Duration.hours(6);
    this.retryAttempts = props.retryAttempts ?? 20;
    const ageSeconds = this.maxEventAge.toSeconds();
    if (ageSeconds < 60 || ageSeconds > 86_400) {
      throw new Error(
        `Triggers ${id}: maxEventAge must be from 1 minute to 24 hours, got ${ageSeconds} seconds`,
      );
    }
    if (!Number.isInteger(this.retryAttempts) || this.retryAttempts < 0 || this.retryAttempts > 185) {
      throw new Error(
        `Triggers ${id}: retryAttempts must be an integer from 0 to 185, got ${this.retryAttempts}`,
      );
    }

    // SSE-SQS: EventBridge can write to it with no key policy to manage (an AWS managed KMS key cannot
    // be used by EventBridge). https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-rule-dlq.html
    this.deadLetterQueue = new sqs.Queue(this, 'DeadLetters', {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    acknowledge(
      this.deadLetterQueue,
      'AwsSolutions-SQS3',
      'This queue is itself the dead-letter queue of the trigger rules; a dead-letter queue of its own would only move the problem.',
    );
    this.deadLetterAlarm = new cloudwatch.Alarm(this, 'DeadLettersWaiting', {
      alarmDescription:
        'Events for the Cordon router are waiting in its dead-letter queue: nothing handled them.',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });

    const target = new targets.LambdaFunction(props.target, {
      deadLetterQueue: this.deadLetterQueue,
      maxEventAge: this.maxEventAge,
      retryAttempts: this.retryAttempts,
    });
    const rule = (ruleId: string, description: string, eventPattern: events.EventPattern): events.Rule =>
      new events.Rule(this, ruleId, { description, eventPattern, targets: [target] });

    const { settings } = props;
    const rules: events.Rule[] = [];
    this.guardDutyRule = rule(
      'GuardDutyFinding',
      `Cordon: GuardDuty findings of severity ${settings.severityThreshold} or more`,
      guardDutyPattern(settings),
    );
    rules.push(this.guardDutyRule);
    const alarms = alarmPattern(settings);
    if (alarms !== undefined) {
      this.alarmRule = rule(
        'AlarmStateChange',
        'Cordon: mapped CloudWatch alarms changing into ALARM',
        alarms,
      );
      rules.push(this.alarmRule);
    }
    const imported = securityHubImportedPattern(settings);
    if (imported !== undefined) {
      this.securityHubImportedRule = rule(
        'SecurityHubImported',
        `Cordon: Security Hub findings from ${settings.securityHubProducts.join(', ')}`.slice(0, 512),
        imported,
      );
      rules.push(this.securityHubImportedRule);
    }
    this.securityHubCustomActionRule = rule(
      'SecurityHubCustomAction',
      'Cordon: Security Hub custom actions (a person asks for a response)',
      securityHubCustomActionPattern(),
    );
    rules.push(this.securityHubCustomActionRule);
    this.rules = rules;
  }
}
