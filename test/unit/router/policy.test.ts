import { describe, expect, it } from 'vitest';
import type { Finding, Resource } from '#shared/domain';
import type { Settings } from '#shared/settings';
import { normalizeEvent } from '../../../functions/router/normalize.ts';
import { type Decision, decide, type PolicyContext } from '../../../functions/router/policy.ts';
import { fixture, testSettings } from '../../support/fixtures.ts';

const settings = testSettings();
const deployed: PolicyContext = { automaticContainmentsLastHour: 0, runtime: 'aws' };

function instanceFinding(overrides: Partial<Finding> = {}, details: Record<string, unknown> = {}): Finding {
  return {
    id: 'f-instance',
    source: 'guardduty',
    type: 'Backdoor:EC2/C&CActivity.B',
    severity: 8,
    resources: [
      { type: 'instance', id: 'i-0abc', details: { resourceRole: 'ACTOR', archived: false, ...details } },
    ],
    account: '123456789012',
    region: 'us-east-1',
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-01T00:00:00.000Z',
    sample: false,
    ...overrides,
  };
}

function keyFinding(details: Record<string, unknown>): Finding {
  return instanceFinding({
    type: 'UnauthorizedAccess:IAMUser/TorIPCaller',
    resources: [{ type: 'access-key', id: 'AKIAEXAMPLE', details: { archived: false, ...details } }],
  });
}

function fromFixture(name: string): Finding {
  const result = normalizeEvent(fixture(name), settings);
  if (result.kind !== 'findings' || result.findings[0] === undefined)
    throw new Error(`${name} did not normalize`);
  return result.findings[0];
}

function expectMode(decision: Decision, mode: Decision['mode'], reason?: RegExp): void {
  expect(decision.mode).toBe(mode);
  if (reason !== undefined)
    expect(
      decision.reasons.some((r) => reason.test(r)),
      decision.reasons.join(' | '),
    ).toBe(true);
}

describe('the policy', () => {
  it('runs an actor instance automatically when its playbook is automatic', () => {
    const decision = decide(instanceFinding(), deployed, settings);
    expect(decision).toEqual({
      playbook: 'ec2-compromise',
      mode: 'automatic',
      reasons: ['playbook ec2-compromise for instance i-0abc; settings.playbookModes says automatic'],
    });
  });

  it('starts nothing below the severity threshold', () => {
    const decision = decide(instanceFinding({ severity: 3.9 }), deployed, settings);
    expect(decision).toEqual({
      playbook: null,
      mode: 'none',
      reasons: ['severity 3.9 is below the threshold 4'],
    });
  });

  it('starts a finding exactly at the threshold', () => {
    expect(decide(instanceFinding({ severity: 4 }), deployed, settings).mode).toBe('automatic');
  });

  it('starts nothing for a suppressed finding, and says why', () => {
    const suppressed = testSettings({
      suppressions: [
        { findingType: 'Backdoor:EC2/*', account: '123456789012', reason: 'the red team is testing' },
      ],
    });
    expectMode(
      decide(instanceFinding(), deployed, suppressed),
      'none',
      /^suppressed: the red team is testing$/,
    );
  });

  it('suppresses by resource tag, from the looked-up tags or the finding', () => {
    const suppressed = testSettings({
      suppressions: [{ resourceTag: 'env=sandbox', reason: 'sandbox accounts' }],
    });
    expectMode(
      decide(instanceFinding(), { ...deployed, tags: { env: 'sandbox' } }, suppressed),
      'none',
      /sandbox/,
    );
    expectMode(
      decide(instanceFinding({}, { tags: { env: 'sandbox' } }), deployed, suppressed),
      'none',
      /sandbox/,
    );
    expect(decide(instanceFinding({}, { tags: { env: 'prod' } }), deployed, suppressed).mode).toBe(
      'automatic',
    );
  });

  it('does not suppress when only some of the fields match', () => {
    const partial = testSettings({
      suppressions: [
        { findingType: 'Backdoor:EC2/C&CActivity.B', account: '999999999999', reason: 'other account' },
      ],
    });
    expect(decide(instanceFinding(), deployed, partial).mode).toBe('automatic');
  });

  it('ignores a suppression with no criteria rather than suppressing everything', () => {
    const empty = testSettings({ suppressions: [{ reason: 'oops' }] });
    expect(decide(instanceFinding(), deployed, empty).mode).toBe('automatic');
  });

  it('has no playbook for a bucket', () => {
    expect(decide(fromFixture('guardduty/s3-pentest-parrot.detail.json'), deployed, settings)).toMatchObject({
      playbook: null,
      mode: 'none',
    });
    const bucket = instanceFinding({ resources: [{ type: 's3-bucket', id: 'b' }] });
    expectMode(decide(bucket, deployed, settings), 'none', /^no playbook for s3-bucket$/);
  });

  it('starts nothing for an archived finding', () => {
    expectMode(decide(instanceFinding({}, { archived: true }), deployed, settings), 'none', /archived/);
  });

  it('starts nothing for a finding already resolved in Security Hub', () => {
    expectMode(
      decide(instanceFinding({}, { workflowStatus: 'RESOLVED' }), deployed, settings),
      'none',
      /RESOLVED/,
    );
  });

  it('sends a root key to a person', () => {
    const decision = decide(keyFinding({ userType: 'Root', root: true }), deployed, settings);
    expect(decision.playbook).toBe('iam-credential-compromise');
    expectMode(decision, 'approval-first', /root credentials cannot be contained by automation/);
  });

  it.each(['IAMUser', 'AssumedRole', 'FederatedUser'])('contains a %s key automatically', (userType) => {
    expect(decide(keyFinding({ userType }), deployed, settings).mode).toBe('automatic');
  });

  it.each([['AWSService'], [undefined]])('sends a key of user type %s to a person', (userType) => {
    const details = userType === undefined ? {} : { userType };
    expectMode(
      decide(keyFinding(details), deployed, settings),
      'approval-first',
      /user type .*a person decides/,
    );
  });

  it('sends an instance that is only the target to a person, naming the remote address', () => {
    const decision = decide(
      instanceFinding({}, { resourceRole: 'TARGET', remoteIp: '198.51.100.7' }),
      deployed,
      settings,
    );
    expectMode(decision, 'approval-first', /only the target .*blocking 198\.51\.100\.7/);
  });

  it('does not hold a key finding just because its role is TARGET', () => {
    expect(decide(keyFinding({ userType: 'IAMUser', resourceRole: 'TARGET' }), deployed, settings).mode).toBe(
      'automatic',
    );
  });

  it('sends a protected resource to a person, from the looked-up tags or the finding', () => {
    const tag = { 'cordon:protected': 'true' };
    expectMode(
      decide(instanceFinding(), { ...deployed, tags: tag }, settings),
      'approval-first',
      /is protected/,
    );
    expectMode(
      decide(instanceFinding({}, { tags: tag }), deployed, settings),
      'approval-first',
      /is protected/,
    );
    expect(
      decide(instanceFinding({}, { tags: { 'cordon:protected': 'false' } }), deployed, settings).mode,
    ).toBe('automatic');
  });

  it('sends containment to a person once the blast-radius limit is reached', () => {
    expect(decide(instanceFinding(), { ...deployed, automaticContainmentsLastHour: 4 }, settings).mode).toBe(
      'automatic',
    );
    expectMode(
      decide(instanceFinding(), { ...deployed, automaticContainmentsLastHour: 5 }, settings),
      'approval-first',
      /blast radius: 5 automatic containments in account 123456789012 in the last hour reached the limit of 5/,
    );
  });

  it('never contains automatically with a limit of zero', () => {
    const none = testSettings({ maxAutomaticContainmentsPerHour: 0 });
    expect(decide(instanceFinding(), deployed, none).mode).toBe('approval-first');
  });

  it('does not mention the blast radius when the playbook waits for approval anyway', () => {
    const decision = decide(
      keyFinding({ userType: 'Root' }),
      { ...deployed, automaticContainmentsLastHour: 99 },
      settings,
    );
    expect(decision.reasons.some((r) => r.includes('blast radius'))).toBe(false);
  });

  it('uses approval-first for a playbook that settings do not list', () => {
    const unlisted = testSettings({ playbookModes: {} });
    expectMode(
      decide(instanceFinding(), deployed, unlisted),
      'approval-first',
      /not in settings\.playbookModes/,
    );
  });

  it('honours a dry-run playbook mode', () => {
    const dry = testSettings({ playbookModes: { 'ec2-compromise': 'dry-run' } });
    expect(decide(instanceFinding(), deployed, dry).mode).toBe('dry-run');
  });

  it('dry-runs a sample finding when deployed', () => {
    const sample = fromFixture('guardduty/iam-tor-ip-caller.eventbridge.json');
    expectMode(decide(sample, deployed, settings), 'dry-run', /sample finding.*changes nothing/);
  });

  it('lets the local runtime rehearse a sample finding in the playbook mode', () => {
    const sample = instanceFinding({ sample: true });
    expectMode(
      decide(sample, { ...deployed, runtime: 'local' }, settings),
      'automatic',
      /local runtime rehearses/,
    );
  });

  it('dry-runs the sample C&C finding on a target instance when deployed, with every reason', () => {
    const decision = decide(
      fromFixture('guardduty/ec2-backdoor-c2-dns.eventbridge.json'),
      deployed,
      settings,
    );
    expect(decision.playbook).toBe('ec2-compromise');
    expect(decision.mode).toBe('dry-run');
    expect(decision.reasons).toHaveLength(3);
  });

  it('takes the playbook of a CloudWatch alarm from its mapping', () => {
    const mapped = testSettings({
      alarms: [{ name: 'ServerCpuTooHigh', playbook: 'cpu-runaway', severity: 7 }],
    });
    const alarm = normalizeEvent(fixture('cloudwatch/alarm-state-change-single-metric.json'), mapped);
    if (alarm.kind !== 'findings' || alarm.findings[0] === undefined)
      throw new Error('alarm did not normalize');
    expect(decide(alarm.findings[0], deployed, mapped)).toMatchObject({
      playbook: 'cpu-runaway',
      mode: 'approval-first',
    });
  });

  it('handles a Security Hub custom action as an approval-first start, whatever its severity', () => {
    const requested = instanceFinding({ severity: 1 }, { customAction: 'Contain instance' });
    const decision = decide(requested, deployed, settings);
    expect(decision.playbook).toBe('ec2-compromise');
    expectMode(decision, 'approval-first', /custom action "Contain instance"/);
  });

  it('records every rule that fired', () => {
    const decision = decide(
      instanceFinding({ sample: true }, { resourceRole: 'TARGET', tags: { 'cordon:protected': 'true' } }),
      deployed,
      settings,
    );
    expect(decision.mode).toBe('dry-run');
    expect(decision.reasons).toEqual([
      expect.stringMatching(/^playbook ec2-compromise/),
      expect.stringMatching(/only the target/),
      expect.stringMatching(/is protected/),
      expect.stringMatching(/sample finding/),
    ]);
  });
});

describe('the policy fails closed', () => {
  it('sends the finding to a person, with the error, when the settings are broken', () => {
    const broken = { ...settings, suppressions: null } as unknown as Settings;
    const decision = decide(instanceFinding(), deployed, broken);
    expect(decision.playbook).toBe('ec2-compromise');
    expectMode(decision, 'approval-first', /^policy error, sent to a person: TypeError/);
  });

  it('sends the finding to a person when the threshold is not a number', () => {
    const broken = { ...settings, severityThreshold: 'high' } as unknown as Settings;
    expectMode(
      decide(instanceFinding(), deployed, broken),
      'approval-first',
      /severityThreshold is not a number/,
    );
  });

  it('sends the finding to a person when the containment count is unknown', () => {
    const context = { ...deployed, automaticContainmentsLastHour: Number.NaN };
    expectMode(
      decide(instanceFinding(), context, settings),
      'approval-first',
      /containments in the last hour is unknown/,
    );
  });

  it('never throws, even for a finding that is not one', () => {
    const garbage = { resources: 'nope' } as unknown as Finding;
    const decision = decide(garbage, deployed, settings);
    expect(decision.mode).toBe('approval-first');
    expect(decision.playbook).toBeNull();
    expect(decision.reasons).toEqual([
      expect.stringMatching(/^policy error, sent to a person: ValidationError: finding is invalid/),
    ]);
  });

  it('never throws for settings that are not settings at all', () => {
    expect(decide(instanceFinding(), deployed, null as unknown as Settings).mode).toBe('approval-first');
  });

  it('reads tags of an unexpected shape as no tags', () => {
    const weird: Resource = { type: 'instance', id: 'i-1', details: { tags: 'not-a-map' } };
    expect(decide(instanceFinding({ resources: [weird] }), deployed, settings).mode).toBe('automatic');
  });
});
