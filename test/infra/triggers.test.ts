import { App, Duration, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Settings, SettingsInput } from '#shared/settings';
import { Triggers, type TriggersProps } from '../../infra/constructs/triggers.ts';
import { matchesEventPattern } from '../support/event-pattern.ts';
import { FIXTURE_NAMES, fixture, testSettings } from '../support/fixtures.ts';

type Json = Record<string, unknown>;

function build(
  settings: Settings,
  extra: Partial<TriggersProps> = {},
): { triggers: Triggers; stack: Stack; template: Template } {
  const stack = new Stack(new App(), 'Test', { env: { account: '123456789012', region: 'us-east-1' } });
  const router = new lambda.Function(stack, 'Router', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('export const handler = async () => {};'),
  });
  const triggers = new Triggers(stack, 'Triggers', { settings, target: router, ...extra });
  return { triggers, stack, template: Template.fromStack(stack) };
}

/** Each rule's EventPattern from the template, by the construct id of its rule. */
function patterns(built: ReturnType<typeof build>): Map<string, unknown> {
  const resources = built.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const byId = new Map<string, unknown>();
  for (const rule of built.triggers.rules) {
    const logicalId = built.stack.getLogicalId(rule.node.defaultChild as never);
    byId.set(rule.node.id, resources[logicalId]?.Properties.EventPattern);
  }
  return byId;
}

/** A whole EventBridge event: the `.detail.json` fixtures wrapped in the envelope GuardDuty sends them in. */
function asEvent(name: string): Json {
  const value = fixture(name) as Json;
  if (!name.endsWith('.detail.json')) return value;
  return {
    version: '0',
    id: 'c8d3a9b2-0f6e-4d0a-9b3e-5f2f4f0c7e11',
    'detail-type': 'GuardDuty Finding',
    source: 'aws.guardduty',
    account: value.accountId,
    time: value.updatedAt,
    region: value.region,
    resources: [],
    detail: value,
  };
}

function matchingRules(rules: Map<string, unknown>, event: Json): string[] {
  return [...rules].filter(([, pattern]) => matchesEventPattern(pattern, event)).map(([id]) => id);
}

const alarmsMapped: Partial<SettingsInput> = {
  alarms: [
    { name: 'ServerCpuTooHigh', playbook: 'ec2-compromise' },
    { prefix: 'TotalNetwork', playbook: 'ec2-compromise' },
  ],
  securityHubProducts: ['aws/guardduty'],
};

describe('the trigger rules, against every real event', () => {
  const rules = patterns(build(testSettings(alarmsMapped)));

  const EXPECTED: Record<string, string[]> = {
    'cloudwatch/alarm-configuration-change-composite-create.json': [],
    'cloudwatch/alarm-state-change-composite-with-suppressor.json': [],
    'cloudwatch/alarm-state-change-metric-math.json': ['AlarmStateChange'],
    'cloudwatch/alarm-state-change-single-metric.json': ['AlarmStateChange'],
    'guardduty/ec2-backdoor-c2-dns.eventbridge.json': ['GuardDutyFinding'],
    'guardduty/ec2-canary-stateless.detail.json': ['GuardDutyFinding'],
    'guardduty/iam-recon-malicious-ip-custom.detail.json': ['GuardDutyFinding'],
    'guardduty/iam-tor-ip-caller.eventbridge.json': ['GuardDutyFinding'],
    'guardduty/s3-pentest-parrot.detail.json': ['GuardDutyFinding'],
    'securityhub/custom-action-guardduty-iam-console-login.json': ['SecurityHubCustomAction'],
    // AFSBP's INFORMATIONAL control finding from aws/securityhub: not a configured product.
    'securityhub/imported-afsbp-ec2.7.json': [],
  };

  it('has an expectation for every fixture', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...FIXTURE_NAMES].sort());
  });

  for (const name of FIXTURE_NAMES) {
    const expected = EXPECTED[name] ?? [];
    it(`${name} matches ${expected.length === 0 ? 'no rule' : expected.join(', ')}`, () => {
      expect(matchingRules(rules, asEvent(name))).toEqual(expected);
    });
  }

  it('does not match the configuration-change event with any rule, whatever the mapping', () => {
    const everything = patterns(
      build(
        testSettings({ alarms: [{ prefix: 'S', playbook: 'x' }], securityHubProducts: ['aws/securityhub'] }),
      ),
    );
    expect(
      matchingRules(everything, asEvent('cloudwatch/alarm-configuration-change-composite-create.json')),
    ).toEqual([]);
  });
});

describe('the GuardDuty rule', () => {
  function severity(value: number): Json {
    const event = asEvent('guardduty/ec2-canary-stateless.detail.json');
    (event.detail as Json).severity = value;
    return event;
  }

  it('matches by numeric severity at or above the threshold', () => {
    const rules = patterns(build(testSettings({ severityThreshold: 4 })));
    expect(rules.get('GuardDutyFinding')).toMatchObject({ detail: { severity: [{ numeric: ['>=', 4] }] } });
    expect(matchingRules(rules, severity(3.9))).toEqual([]);
    expect(matchingRules(rules, severity(4))).toEqual(['GuardDutyFinding']);
    expect(matchingRules(rules, severity(8.9))).toEqual(['GuardDutyFinding']);
  });

  it('does not match the real findings under a higher threshold', () => {
    const rules = patterns(build(testSettings({ severityThreshold: 7 })));
    for (const name of FIXTURE_NAMES.filter((n) => n.startsWith('guardduty/'))) {
      expect(matchingRules(rules, asEvent(name)), name).toEqual([]);
    }
  });

  it('does not match a GuardDuty-looking event from another source', () => {
    const rules = patterns(build(testSettings()));
    expect(
      matchingRules(rules, { ...asEvent('guardduty/iam-tor-ip-caller.eventbridge.json'), source: 'my.app' }),
    ).toEqual([]);
  });
});

describe('the CloudWatch alarm rule', () => {
  it('is not made when no alarm is mapped, so no alarm event matches', () => {
    const built = build(testSettings({ alarms: [] }));
    expect(built.triggers.alarmRule).toBeUndefined();
    const rules = patterns(built);
    for (const name of FIXTURE_NAMES.filter((n) => n.startsWith('cloudwatch/'))) {
      expect(matchingRules(rules, asEvent(name)), name).toEqual([]);
    }
  });

  it('matches only the mapped alarms, by exact name and by prefix', () => {
    const exactOnly = patterns(
      build(testSettings({ alarms: [{ name: 'ServerCpuTooHigh', playbook: 'p' }] })),
    );
    expect(matchingRules(exactOnly, asEvent('cloudwatch/alarm-state-change-single-metric.json'))).toEqual([
      'AlarmStateChange',
    ]);
    expect(matchingRules(exactOnly, asEvent('cloudwatch/alarm-state-change-metric-math.json'))).toEqual([]);
    const prefix = patterns(build(testSettings({ alarms: [{ prefix: 'Total', playbook: 'p' }] })));
    expect(prefix.get('AlarmStateChange')).toMatchObject({ detail: { alarmName: [{ prefix: 'Total' }] } });
    expect(matchingRules(prefix, asEvent('cloudwatch/alarm-state-change-metric-math.json'))).toEqual([
      'AlarmStateChange',
    ]);
  });

  it('matches the composite alarm when it is mapped', () => {
    const rules = patterns(
      build(
        testSettings({ alarms: [{ name: 'ServiceAggregatedAlarm', playbook: 'p', resourceId: 'i-0123' }] }),
      ),
    );
    expect(
      matchingRules(rules, asEvent('cloudwatch/alarm-state-change-composite-with-suppressor.json')),
    ).toEqual(['AlarmStateChange']);
  });

  it('does not match a mapped alarm changing to OK', () => {
    const rules = patterns(build(testSettings(alarmsMapped)));
    const event = asEvent('cloudwatch/alarm-state-change-single-metric.json');
    (event.detail as Json).state = { value: 'OK', timestamp: '2019-10-02T18:00:00.000+0000' };
    expect(matchingRules(rules, event)).toEqual([]);
  });

  it('refuses, at synth, an alarm entry with neither a name nor a prefix', () => {
    expect(() => build(testSettings({ alarms: [{ playbook: 'p' }] }))).toThrow(
      /settings\.alarms\[0\] must give a name or a prefix/,
    );
  });
});

describe('the Security Hub rules', () => {
  function importedFrom(productArn: string, label: string): Json {
    const event = asEvent('securityhub/imported-afsbp-ec2.7.json');
    const [finding] = (event.detail as { findings: Json[] }).findings;
    if (finding === undefined) throw new Error('no finding');
    finding.ProductArn = productArn;
    finding.Severity = { Label: label };
    return event;
  }

  it('matches imported findings of a configured product by ProductArn suffix and label', () => {
    const rules = patterns(build(testSettings({ securityHubProducts: ['aws/guardduty'] })));
    const gd = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
    expect(matchingRules(rules, importedFrom(gd, 'HIGH'))).toEqual(['SecurityHubImported']);
    expect(matchingRules(rules, importedFrom(gd, 'LOW'))).toEqual([]);
    expect(
      matchingRules(rules, importedFrom('arn:aws:securityhub:us-east-1::product/aws/inspector', 'HIGH')),
    ).toEqual([]);
    expect(
      matchingRules(rules, importedFrom('arn:aws:securityhub:us-east-1::product/evil/aws/guardduty', 'HIGH')),
    ).toEqual([]);
  });

  it('matches the real AFSBP finding when its product is configured and the threshold lets INFORMATIONAL through', () => {
    const rules = patterns(
      build(testSettings({ securityHubProducts: ['aws/securityhub'], severityThreshold: 0 })),
    );
    expect(matchingRules(rules, asEvent('securityhub/imported-afsbp-ec2.7.json'))).toEqual([
      'SecurityHubImported',
    ]);
  });

  it('is not made when no product is configured', () => {
    expect(build(testSettings({ securityHubProducts: [] })).triggers.securityHubImportedRule).toBeUndefined();
  });

  it('refuses, at synth, a product not written company/product', () => {
    expect(() => build(testSettings({ securityHubProducts: ['guardduty'] }))).toThrow(/"company\/product"/);
  });
});

describe('delivery to the router', () => {
  const built = build(testSettings(alarmsMapped));
  const json = built.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>;
  const queueId = built.stack.getLogicalId(built.triggers.deadLetterQueue.node.defaultChild as never);

  it('retries each rule target with a bounded event age and attempts, then dead-letters it', () => {
    const rules = Object.values(json).filter((r) => r.Type === 'AWS::Events::Rule');
    expect(rules).toHaveLength(4);
    for (const rule of rules) {
      const targets = rule.Properties.Targets as Json[];
      expect(targets).toHaveLength(1);
      expect(targets[0]).toMatchObject({
        RetryPolicy: { MaximumEventAgeInSeconds: 21_600, MaximumRetryAttempts: 20 },
        DeadLetterConfig: { Arn: { 'Fn::GetAtt': [queueId, 'Arn'] } },
      });
    }
  });

  it('keeps dead letters 14 days in an encrypted queue that refuses plain HTTP', () => {
    expect(json[queueId]?.Properties).toMatchObject({
      MessageRetentionPeriod: 1_209_600,
      SqsManagedSseEnabled: true,
    });
    const policy = Object.values(json).find((r) => r.Type === 'AWS::SQS::QueuePolicy');
    const statements = (policy?.Properties.PolicyDocument as { Statement: Json[] } | undefined)?.Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
    );
    expect(statements).toContainEqual(
      expect.objectContaining({
        Effect: 'Allow',
        Action: 'sqs:SendMessage',
        Principal: { Service: 'events.amazonaws.com' },
      }),
    );
  });

  it('lets EventBridge invoke the router', () => {
    const permissions = Object.values(json).filter((r) => r.Type === 'AWS::Lambda::Permission');
    expect(permissions.length).toBeGreaterThanOrEqual(1);
    for (const p of permissions) expect(p.Properties.Principal).toBe('events.amazonaws.com');
  });

  it('raises an alarm as soon as one event waits in the dead-letter queue', () => {
    const alarm = json[built.stack.getLogicalId(built.triggers.deadLetterAlarm.node.defaultChild as never)];
    expect(alarm?.Properties).toMatchObject({
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('takes a retry policy of its own, within what EventBridge allows', () => {
    const custom = build(testSettings(), { maxEventAge: Duration.hours(1), retryAttempts: 3 });
    const rule = Object.values(
      custom.template.toJSON().Resources as Record<string, { Type: string; Properties: Json }>,
    ).find((r) => r.Type === 'AWS::Events::Rule');
    expect((rule?.Properties.Targets as Json[] | undefined)?.[0]).toMatchObject({
      RetryPolicy: { MaximumEventAgeInSeconds: 3600, MaximumRetryAttempts: 3 },
    });
    expect(() => build(testSettings(), { retryAttempts: 186 })).toThrow(
      /retryAttempts must be an integer from 0 to 185, got 186/,
    );
    expect(() => build(testSettings(), { maxEventAge: Duration.hours(25) })).toThrow(/maxEventAge/);
  });
});
