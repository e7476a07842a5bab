import { describe, expect, it } from 'vitest';
import type { Finding } from '#shared/domain';
import { type NormalizeResult, normalizeEvent } from '../../../functions/router/normalize.ts';
import { SEVERITY_BY_LABEL } from '../../../functions/router/securityhub.ts';
import { FIXTURE_NAMES, fixture, testSettings } from '../../support/fixtures.ts';

const settings = testSettings();

function findings(result: NormalizeResult): Finding[] {
  if (result.kind !== 'findings') throw new Error(`expected findings, got a rejection: ${result.reason}`);
  return result.findings;
}

function only(result: NormalizeResult): Finding {
  const all = findings(result);
  expect(all).toHaveLength(1);
  const [first] = all;
  if (first === undefined) throw new Error('no finding');
  return first;
}

function reason(result: NormalizeResult): string {
  if (result.kind !== 'rejected') throw new Error('expected a rejection');
  return result.reason;
}

/** A fixture as a mutable object, for variations built from a real event. */
function record(name: string): Record<string, unknown> {
  const value = fixture(name);
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new Error(`${name} is not an object`);
  return value as Record<string, unknown>;
}

function detailOf(event: Record<string, unknown>): Record<string, unknown> {
  return event.detail as Record<string, unknown>;
}

interface Expected {
  id: string;
  source: Finding['source'];
  type: string;
  account: string;
  region: string;
  severity: number;
  resources: { type: string; id: string }[];
  sample?: boolean;
  firstSeen: string;
  lastSeen: string;
}

// Values read in the files themselves.
const EXPECTED: Record<string, Expected | { rejected: RegExp }> = {
  'cloudwatch/alarm-configuration-change-composite-create.json': {
    rejected: /configuration change \(create\)/,
  },
  'cloudwatch/alarm-state-change-composite-with-suppressor.json': {
    id: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServiceAggregatedAlarm@2022-07-22T15:57:45.394Z',
    source: 'cloudwatch',
    type: 'CloudWatch:Alarm/ServiceAggregatedAlarm',
    account: '123456789012',
    region: 'us-east-1',
    severity: 8,
    resources: [{ type: 'instance', id: 'i-0aggregated00000001' }],
    firstSeen: '2022-07-22T15:57:45.394Z',
    lastSeen: '2022-07-22T15:57:45.394Z',
  },
  'cloudwatch/alarm-state-change-metric-math.json': {
    id: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:TotalNetworkTrafficTooHigh@2019-10-02T17:20:48.554Z',
    source: 'cloudwatch',
    type: 'CloudWatch:Alarm/TotalNetworkTrafficTooHigh',
    account: '123456789012',
    region: 'us-east-1',
    severity: 6,
    resources: [{ type: 'instance', id: 'i-12345678901234567' }],
    firstSeen: '2019-10-02T17:20:48.554Z',
    lastSeen: '2019-10-02T17:20:48.554Z',
  },
  'cloudwatch/alarm-state-change-single-metric.json': {
    id: 'arn:aws:cloudwatch:us-east-1:123456789012:alarm:ServerCpuTooHigh@2019-10-02T17:04:40.989Z',
    source: 'cloudwatch',
    type: 'CloudWatch:Alarm/ServerCpuTooHigh',
    account: '123456789012',
    region: 'us-east-1',
    severity: 7,
    resources: [{ type: 'instance', id: 'i-12345678901234567' }],
    firstSeen: '2019-10-02T17:04:40.989Z',
    lastSeen: '2019-10-02T17:04:40.989Z',
  },
  'guardduty/ec2-backdoor-c2-dns.eventbridge.json': {
    id: 'b4b01b60fc24a199139f8f5f490edd81',
    source: 'guardduty',
    type: 'Backdoor:EC2/C&CActivity.B!DNS',
    // detail.accountId (the resource's account), not the envelope's 101010101111 (where it was delivered).
    account: '883606788610',
    region: 'us-east-1',
    severity: 5,
    resources: [{ type: 'instance', id: 'i-99999999' }],
    sample: true,
    firstSeen: '2017-12-08T15:32:49.000Z',
    lastSeen: '2017-12-08T15:32:49.000Z',
  },
  'guardduty/ec2-canary-stateless.detail.json': {
    id: '16afba5c5c43e07c9e3e5e2e544e95df',
    source: 'guardduty',
    type: 'Canary:EC2/Stateless.IntegTest',
    account: '123456789012',
    region: 'us-east-1',
    severity: 5,
    resources: [{ type: 'instance', id: 'i-05746eb48123455e0' }],
    sample: false,
    firstSeen: '2017-10-31T23:16:23.000Z',
    lastSeen: '2017-10-31T23:16:23.000Z',
  },
  'guardduty/iam-recon-malicious-ip-custom.detail.json': {
    id: '30bf285e52a1e405084ff6ec28e06e17',
    source: 'guardduty',
    type: 'Recon:IAMUser/MaliciousIPCaller.Custom',
    account: '123456789012',
    region: 'us-east-1',
    severity: 5,
    // The finding also carries instanceDetails: the key is the resource.
    resources: [{ type: 'access-key', id: 'GeneratedFindingAccessKeyId' }],
    sample: true,
    firstSeen: '2022-01-13T00:00:47.000Z',
    lastSeen: '2022-01-13T00:00:47.000Z',
  },
  'guardduty/iam-tor-ip-caller.eventbridge.json': {
    id: '36b01b60fc22bb4edb19d62d9899e953',
    source: 'guardduty',
    type: 'UnauthorizedAccess:IAMUser/TorIPCaller',
    account: '883606788610',
    region: 'us-east-1',
    severity: 5,
    resources: [{ type: 'access-key', id: 'GeneratedFindingAccessKeyId' }],
    sample: true,
    firstSeen: '2017-12-08T15:32:49.000Z',
    lastSeen: '2017-12-08T15:32:49.000Z',
  },
  'guardduty/s3-pentest-parrot.detail.json': {
    id: '2cbf285e52a6e74ff96f4cb3cf93296d',
    source: 'guardduty',
    type: 'PenTest:S3/ParrotLinux',
    account: '123456789012',
    region: 'us-east-1',
    severity: 5,
    resources: [{ type: 's3-bucket', id: 'bucketName' }],
    sample: true,
    firstSeen: '2022-01-13T00:00:47.000Z',
    lastSeen: '2022-01-13T00:00:47.000Z',
  },
  'securityhub/custom-action-guardduty-iam-console-login.json': {
    // The GuardDuty finding id (last segment of the ASFF Id), so it dedupes with the direct delivery.
    id: '4cb5a629e9757b650d102f683cdbcd7b',
    source: 'guardduty',
    type: 'Unusual Behaviors/User/UnauthorizedAccess:IAMUser-ConsoleLogin',
    account: '644160558196',
    region: 'us-east-1',
    // No Severity.Label: ProductFields "aws/securityhub/SeverityLabel" is MEDIUM (and Normalized 50 agrees).
    severity: 5,
    // A console login names no key (Id "AWS::IAM::AccessKey:null"): the user is the resource.
    resources: [{ type: 'iam-user', id: 'kapil' }],
    sample: false,
    firstSeen: '2019-06-12T15:11:20.000Z',
    lastSeen: '2019-06-12T15:12:40.000Z',
  },
  'securityhub/imported-afsbp-ec2.7.json': {
    id: 'arn:aws:securityhub:us-east-1:111111111111:subscription/aws-foundational-security-best-practices/v/1.0.0/EC2.7/finding/0003b335-cf3f-4f93-a025-6b1a7baced06',
    source: 'securityhub',
    type: 'Software and Configuration Checks/Industry and Regulatory Standards/AWS-Foundational-Security-Best-Practices',
    account: '111111111111',
    region: 'us-east-1',
    severity: 0,
    resources: [{ type: 'other', id: 'AWS::::Account:111111111111' }],
    sample: false,
    firstSeen: '2021-02-17T14:56:09.063Z',
    lastSeen: '2021-02-17T14:56:11.440Z',
  },
};

describe('normalizing the real events', () => {
  it('has an expectation for every fixture file', () => {
    expect(Object.keys(EXPECTED).sort()).toEqual([...FIXTURE_NAMES].sort());
  });

  for (const name of FIXTURE_NAMES) {
    const expected = EXPECTED[name];
    if (expected === undefined) continue;
    if ('rejected' in expected) {
      it(`refuses ${name} with a reason`, () => {
        expect(reason(normalizeEvent(fixture(name), settings))).toMatch(expected.rejected);
      });
      continue;
    }
    it(`reads ${name} into its resource, account, region and severity`, () => {
      const finding = only(normalizeEvent(fixture(name), settings));
      expect({
        id: finding.id,
        source: finding.source,
        type: finding.type,
        account: finding.account,
        region: finding.region,
        severity: finding.severity,
        resources: finding.resources.map((r) => ({ type: r.type, id: r.id })),
        firstSeen: finding.firstSeen,
        lastSeen: finding.lastSeen,
        ...(expected.sample === undefined ? {} : { sample: finding.sample }),
      }).toEqual(expected);
      expect(finding.raw).toEqual(fixture(name));
    });
  }
});

describe('normalizing GuardDuty findings', () => {
  it('keeps the instance network interfaces, tags, resource role, archived flag and remote address', () => {
    const finding = only(normalizeEvent(fixture('guardduty/ec2-canary-stateless.detail.json')));
    expect(finding.count).toBe(1);
    expect(finding.resources[0]?.details).toMatchObject({
      tags: { Name: 'ssh-22-open' },
      securityGroupIds: ['sg-9918a123'],
      subnetIds: ['subnet-d58b7123'],
      vpcIds: ['vpc-34865123'],
      resourceRole: 'TARGET',
      archived: false,
      actionType: 'NETWORK_CONNECTION',
      remoteIp: '0.0.0.0',
    });
  });

  it('lists the network interface ids of the instance', () => {
    const detail = fixture('guardduty/iam-recon-malicious-ip-custom.detail.json') as Record<string, unknown>;
    const resource = detail.resource as Record<string, unknown>;
    detail.resource = { resourceType: 'Instance', instanceDetails: resource.instanceDetails };
    const finding = only(normalizeEvent(detail));
    expect(finding.resources).toHaveLength(1);
    expect(finding.resources[0]).toMatchObject({
      type: 'instance',
      id: 'i-99999999',
      details: { networkInterfaceIds: ['eni-bfcffe88'], securityGroupIds: ['GeneratedFindingSecurityId'] },
    });
    expect(finding.resources[0]?.details?.tags).toMatchObject({
      GeneratedFindingInstaceTag1: 'GeneratedFindingInstaceValue1',
    });
  });

  it('keeps the key owner and archived flag of an IAM user key', () => {
    const finding = only(normalizeEvent(fixture('guardduty/iam-recon-malicious-ip-custom.detail.json')));
    expect(finding.resources[0]?.details).toMatchObject({
      userType: 'IAMUser',
      userName: 'GeneratedFindingUserName',
      principalId: 'GeneratedFindingPrincipalId',
      temporary: false,
      sourceInstanceId: 'i-99999999',
      archived: true,
      remoteIp: '198.51.100.0',
    });
  });

  it('keeps the API called and the count, for the approval page', () => {
    const finding = only(normalizeEvent(fixture('guardduty/iam-tor-ip-caller.eventbridge.json')));
    expect(finding.resources[0]?.details).toMatchObject({
      actionType: 'AWS_API_CALL',
      api: 'GeneratedFindingAPIServiceName GeneratedFindingAPIName',
    });
    expect(finding.resources[0]?.details?.count).toBe(finding.count);
    expect(finding.count).toBeGreaterThanOrEqual(1);
  });

  it('names the role as well as the key for assumed-role credentials, and marks ASIA keys temporary', () => {
    const event = record('guardduty/iam-tor-ip-caller.eventbridge.json');
    const resource = detailOf(event).resource as Record<string, unknown>;
    resource.accessKeyDetails = {
      accessKeyId: 'ASIAEXAMPLE123456789',
      principalId: 'AROAEXAMPLE:session',
      userType: 'AssumedRole',
      userName: 'web-app-role',
    };
    const finding = only(normalizeEvent(event));
    expect(finding.resources.map((r) => [r.type, r.id])).toEqual([
      ['access-key', 'ASIAEXAMPLE123456789'],
      ['iam-role', 'web-app-role'],
    ]);
    expect(finding.resources[0]?.details).toMatchObject({ userType: 'AssumedRole', temporary: true });
  });

  it('flags a root key', () => {
    const event = record('guardduty/iam-tor-ip-caller.eventbridge.json');
    const resource = detailOf(event).resource as Record<string, unknown>;
    resource.accessKeyDetails = {
      accessKeyId: 'AKIAROOTEXAMPLE',
      userType: 'Root',
      principalId: '883606788610',
    };
    const finding = only(normalizeEvent(event));
    expect(finding.resources).toEqual([
      expect.objectContaining({
        type: 'access-key',
        id: 'AKIAROOTEXAMPLE',
        details: expect.objectContaining({ root: true }),
      }),
    ]);
  });

  it('reads every bucket of an S3 finding', () => {
    const detail = fixture('guardduty/s3-pentest-parrot.detail.json') as Record<string, unknown>;
    const resource = detail.resource as Record<string, unknown>;
    resource.s3BucketDetails = [
      { name: 'logs-bucket', arn: 'arn:aws:s3:::logs-bucket' },
      { arn: 'arn:aws:s3:::data-bucket' },
    ];
    expect(only(normalizeEvent(detail)).resources.map((r) => [r.type, r.id])).toEqual([
      ['s3-bucket', 'logs-bucket'],
      ['s3-bucket', 'data-bucket'],
    ]);
  });

  it.each([
    ['EKSCluster', { eksClusterDetails: { name: 'prod-eks' } }, 'eks-cluster', 'prod-eks'],
    ['ECSCluster', { ecsClusterDetails: { name: 'prod-ecs' } }, 'ecs-cluster', 'prod-ecs'],
    ['Container', { containerDetails: { id: 'abc123', name: 'web' } }, 'container', 'abc123'],
    [
      'RDSDBInstance',
      { rdsDbInstanceDetails: { dbInstanceIdentifier: 'orders-db' } },
      'rds-instance',
      'orders-db',
    ],
    [
      'RDSLimitlessDB',
      { rdsLimitlessDbDetails: { dbShardGroupIdentifier: 'shards' } },
      'rds-instance',
      'shards',
    ],
    ['Lambda', { lambdaDetails: { functionName: 'ingest' } }, 'lambda-function', 'ingest'],
    ['SomethingNew', {}, 'other', 'SomethingNew'],
  ])('normalizes a %s finding, which has no playbook', (resourceType, details, type, id) => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    detail.resource = { resourceType, ...details };
    const finding = only(normalizeEvent(detail));
    expect(finding.resources.map((r) => [r.type, r.id])).toEqual([[type, id]]);
  });

  it('takes a [SAMPLE] title as a sample finding', () => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    detail.title = '[SAMPLE] Canary finding';
    expect(only(normalizeEvent(detail)).sample).toBe(true);
  });

  it('falls back to createdAt and updatedAt when the service dates are missing', () => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    const service = detail.service as Record<string, unknown>;
    delete service.eventFirstSeen;
    delete service.eventLastSeen;
    detail.updatedAt = '2017-11-01T01:00:00.000Z';
    const finding = only(normalizeEvent(detail));
    expect([finding.firstSeen, finding.lastSeen]).toEqual([
      '2017-10-31T23:16:23.824Z',
      '2017-11-01T01:00:00.000Z',
    ]);
  });

  it('keeps the higher count and later last-seen time of a repeat delivery', () => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    const service = detail.service as Record<string, unknown>;
    service.count = 42;
    service.eventLastSeen = '2017-11-01T05:00:00Z';
    const finding = only(normalizeEvent(detail));
    expect([finding.id, finding.count, finding.lastSeen]).toEqual([
      '16afba5c5c43e07c9e3e5e2e544e95df',
      42,
      '2017-11-01T05:00:00.000Z',
    ]);
  });

  it('refuses an instance finding that names no instance', () => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    detail.resource = { resourceType: 'Instance', instanceDetails: {} };
    expect(reason(normalizeEvent(detail))).toMatch(/Instance finding names no Instance id/);
  });

  it('refuses a severity outside 0-10 with the schema message', () => {
    const detail = fixture('guardduty/ec2-canary-stateless.detail.json') as Record<string, unknown>;
    detail.severity = 11;
    expect(reason(normalizeEvent(detail))).toMatch(/severity: must be at most 10/);
  });

  it('refuses an event claiming to be GuardDuty from another source', () => {
    const event = record('guardduty/ec2-backdoor-c2-dns.eventbridge.json');
    event.source = 'my.app';
    expect(reason(normalizeEvent(event))).toMatch(/must come from aws\.guardduty, got my\.app/);
  });
});

describe('normalizing CloudWatch alarms', () => {
  function alarm(name: string): Record<string, unknown> {
    return record(`cloudwatch/${name}.json`);
  }

  it('refuses a change to OK', () => {
    const event = alarm('alarm-state-change-single-metric');
    const detail = detailOf(event);
    detail.state = { value: 'OK', timestamp: '2019-10-02T18:00:00.000+0000' };
    detail.previousState = { value: 'ALARM' };
    expect(reason(normalizeEvent(event, settings))).toMatch(/changed to OK, not into ALARM/);
  });

  it('refuses an alarm that was already in ALARM', () => {
    const event = alarm('alarm-state-change-single-metric');
    detailOf(event).previousState = { value: 'ALARM' };
    expect(reason(normalizeEvent(event, settings))).toMatch(/already in ALARM/);
  });

  it('refuses an alarm the settings do not map', () => {
    expect(reason(normalizeEvent(alarm('alarm-state-change-single-metric')))).toMatch(
      /alarm ServerCpuTooHigh is not mapped to a playbook in settings\.alarms/,
    );
  });

  it('refuses a composite alarm whose mapping gives no resource', () => {
    const unmapped = testSettings({
      alarms: [{ name: 'ServiceAggregatedAlarm', playbook: 'ec2-compromise' }],
    });
    expect(reason(normalizeEvent(alarm('alarm-state-change-composite-with-suppressor'), unmapped))).toMatch(
      /composite alarm ServiceAggregatedAlarm names no resource/,
    );
  });

  it('prefers an exact name to a prefix, and the longest prefix', () => {
    const mapped = testSettings({
      alarms: [
        { prefix: 'Server', playbook: 'short', severity: 3 },
        { prefix: 'ServerCpu', playbook: 'long', severity: 4 },
      ],
    });
    expect(only(normalizeEvent(alarm('alarm-state-change-single-metric'), mapped)).severity).toBe(4);
    const exact = testSettings({
      alarms: [
        { prefix: 'ServerCpu', playbook: 'prefix', severity: 4 },
        { name: 'ServerCpuTooHigh', playbook: 'exact', severity: 9 },
      ],
    });
    expect(only(normalizeEvent(alarm('alarm-state-change-single-metric'), exact)).severity).toBe(9);
  });

  it('keeps the alarm name with the resource for the policy', () => {
    const finding = only(normalizeEvent(alarm('alarm-state-change-metric-math'), settings));
    expect(finding.resources[0]?.details).toMatchObject({
      alarmName: 'TotalNetworkTrafficTooHigh',
      dimension: 'InstanceId',
    });
  });
});

describe('normalizing Security Hub findings', () => {
  function imported(): Record<string, unknown> {
    return record('securityhub/imported-afsbp-ec2.7.json');
  }
  function asff(event: Record<string, unknown>): Record<string, unknown>[] {
    return detailOf(event).findings as Record<string, unknown>[];
  }

  it.each(Object.entries(SEVERITY_BY_LABEL))('maps the label %s to severity %d', (label, severity) => {
    const event = imported();
    const [first] = asff(event);
    if (first === undefined) throw new Error('no finding');
    first.Severity = { Label: label };
    expect(only(normalizeEvent(event)).severity).toBe(severity);
  });

  it.each([
    [0, 0],
    [1, 2],
    [39, 2],
    [40, 5],
    [69, 5],
    [70, 8],
    [89, 8],
    [90, 9.5],
    [100, 9.5],
  ])('derives the label from Normalized %d when there is none (severity %d)', (normalized, severity) => {
    const event = imported();
    const [first] = asff(event);
    if (first === undefined) throw new Error('no finding');
    first.Severity = { Normalized: normalized };
    expect(only(normalizeEvent(event)).severity).toBe(severity);
  });

  it('keeps the workflow status and record state', () => {
    const finding = only(normalizeEvent(imported()));
    expect(finding.resources[0]?.details).toMatchObject({
      workflowStatus: 'NEW',
      recordState: 'ACTIVE',
      archived: false,
    });
  });

  it('reads every finding of an event, and reports the ones it refuses', () => {
    const event = imported();
    const [first] = asff(event);
    if (first === undefined) throw new Error('no finding');
    const second = structuredClone(first);
    second.Id = 'second-finding';
    second.Resources = [
      { Type: 'AwsEc2Instance', Id: 'arn:aws:ec2:us-east-1:111111111111:instance/i-0abc1234def567890' },
    ];
    const broken = structuredClone(first);
    delete broken.Severity;
    detailOf(event).findings = [first, second, broken];
    const result = normalizeEvent(event);
    expect(findings(result).map((f) => [f.id, f.resources[0]?.type, f.resources[0]?.id])).toEqual([
      [first.Id, 'other', 'AWS::::Account:111111111111'],
      ['second-finding', 'instance', 'i-0abc1234def567890'],
    ]);
    expect(result.kind === 'findings' && result.rejections).toEqual([
      { index: 2, reason: 'Security Hub finding has no Severity.Label nor Severity.Normalized' },
    ]);
  });

  it('gives an imported GuardDuty finding the id of the direct delivery, so the two dedupe', () => {
    const direct = only(normalizeEvent(fixture('guardduty/ec2-canary-stateless.detail.json')));
    const event = imported();
    const [first] = asff(event);
    if (first === undefined) throw new Error('no finding');
    first.ProductArn = 'arn:aws:securityhub:us-east-1::product/aws/guardduty';
    first.Id = `arn:aws:guardduty:us-east-1:123456789012:detector/3caf4e0aaa46ce4ccbcef949a8785353/finding/${direct.id}`;
    const viaHub = only(normalizeEvent(event));
    expect([viaHub.id, viaHub.source]).toEqual([direct.id, direct.source]);
    expect(viaHub.resources[0]?.details).toMatchObject({ deliveredBy: 'securityhub' });
  });

  it('names the custom action a person chose', () => {
    const finding = only(
      normalizeEvent(fixture('securityhub/custom-action-guardduty-iam-console-login.json')),
    );
    expect(finding.resources[0]?.details).toMatchObject({ customAction: 'Ec2 aws', resourceRole: 'TARGET' });
  });

  it('refuses an event with no findings', () => {
    const event = imported();
    detailOf(event).findings = [];
    expect(reason(normalizeEvent(event))).toMatch(/carries no detail\.findings/);
  });
});

describe('refusing what is not an event', () => {
  it.each([
    ['null', null],
    ['a string', 'GuardDuty Finding'],
    ['an array', [1, 2]],
    ['a number', 7],
    ['an empty object', {}],
  ])('refuses %s with a reason', (_what, input) => {
    expect(reason(normalizeEvent(input))).not.toBe('');
  });

  it('refuses a detail-type it does not handle', () => {
    expect(
      reason(normalizeEvent({ 'detail-type': 'EC2 Instance State-change Notification', source: 'aws.ec2' })),
    ).toMatch(/not one the router handles/);
  });

  it('refuses, not throws, when reading the event throws', () => {
    const hostile = new Proxy(
      {},
      {
        get() {
          throw new Error('boom');
        },
        has() {
          return true;
        },
      },
    );
    expect(reason(normalizeEvent(hostile))).toMatch(/could not read the event: Error: boom/);
  });
});
