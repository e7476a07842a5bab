import { describe, expect, it } from 'vitest';
import type { Finding, Resource } from '#shared/domain';
import type { Settings } from '#shared/settings';
import { normalizeEvent } from '../../../functions/router/normalize.ts';
import {
  blastRadiusReason,
  type Decision,
  decide,
  type PolicyContext,
  resourceForPlaybook,
} from '../../../functions/router/policy.ts';
import { fixture, testSettings } from '../../support/fixtures.ts';

const settings = testSettings();
const deployed: PolicyContext = { automaticContainmentsLast60Minutes: 0, runtime: 'aws' };

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
      resource: instanceFinding().resources[0],
      mode: 'automatic',
      reasons: ['playbook ec2-compromise for instance i-0abc; settings.playbookModes says automatic'],
    });
  });

  it('starts nothing below the severity threshold', () => {
    const decision = decide(instanceFinding({ severity: 3.9 }), deployed, settings);
    expect(decision).toEqual({
      playbook: null,
      resource: null,
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

  it('returns the resource it chose: the instance of an ASFF finding that lists a bucket first', () => {
    const bucket: Resource = { type: 's3-bucket', id: 'logs-bucket', details: { resourceRole: 'ACTOR' } };
    const instance: Resource = { type: 'instance', id: 'i-0second', details: { resourceRole: 'ACTOR' } };
    const decision = decide(
      instanceFinding({ source: 'securityhub', resources: [bucket, instance] }),
      deployed,
      settings,
    );
    expect(decision).toMatchObject({ playbook: 'ec2-compromise', resource: instance, mode: 'automatic' });
    expect(decision.reasons[0]).toMatch(/for instance i-0second/);
  });

  it('returns the first resource of a CloudWatch alarm mapped to a playbook', () => {
    const alarm = normalizeEvent(fixture('cloudwatch/alarm-state-change-single-metric.json'), settings);
    if (alarm.kind !== 'findings' || alarm.findings[0] === undefined)
      throw new Error('alarm did not normalize');
    const decision = decide(alarm.findings[0], deployed, settings);
    expect(decision.playbook).toBe('ec2-compromise');
    expect(decision.resource).toEqual(alarm.findings[0].resources[0]);
  });

  it('returns no resource when it starts nothing', () => {
    const bucket = instanceFinding({ resources: [{ type: 's3-bucket', id: 'b' }] });
    expect(decide(bucket, deployed, settings)).toMatchObject({ playbook: null, resource: null });
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

  it('sends containment to a person once the blast-radius limit is reached in the last 60 minutes', () => {
    expect(
      decide(instanceFinding(), { ...deployed, automaticContainmentsLast60Minutes: 4 }, settings).mode,
    ).toBe('automatic');
    expectMode(
      decide(instanceFinding(), { ...deployed, automaticContainmentsLast60Minutes: 5 }, settings),
      'approval-first',
      /^blast-radius limit reached: 5 automatic containments in 123456789012 in the last 60 minutes: sent to a person$/,
    );
  });

  it('names the containments that used the blast-radius limit, oldest first', () => {
    const automaticContainments = [1, 2, 3, 4, 5].map((n) => ({
      slot: n - 1,
      incidentId: `inc${n}`,
      resourceId: `i-${n}`,
      takenAt: `2026-01-01T10:0${n}:00.000Z`,
    }));
    const decision = decide(
      instanceFinding(),
      { ...deployed, automaticContainmentsLast60Minutes: 5, automaticContainments },
      settings,
    );
    expectMode(
      decision,
      'approval-first',
      /^blast-radius limit reached: 5 automatic containments in 123456789012 in the last 60 minutes \(inc1 on i-1 at 2026-01-01T10:01:00\.000Z, inc2 on i-2 at .*, inc5 on i-5 at 2026-01-01T10:05:00\.000Z\): sent to a person$/,
    );
  });

  it('names at most ten containments, and counts the rest', () => {
    const many = Array.from({ length: 12 }, (_, n) => ({
      slot: n,
      incidentId: `inc${n}`,
      resourceId: `i-${n}`,
      takenAt: '2026-01-01T10:00:00.000Z',
    }));
    expect(blastRadiusReason('123456789012', 5, 12, many)).toMatch(
      /\(inc0 on i-0 at .*, inc9 on i-9 at 2026-01-01T10:00:00\.000Z, 2 more\), the limit is 5: sent to a person$/,
    );
  });

  it('never contains automatically with a limit of zero', () => {
    const none = testSettings({ maxAutomaticContainmentsPerHour: 0 });
    expect(decide(instanceFinding(), deployed, none).mode).toBe('approval-first');
  });

  it('does not mention the blast radius when the playbook waits for approval anyway', () => {
    const decision = decide(
      keyFinding({ userType: 'Root' }),
      { ...deployed, automaticContainmentsLast60Minutes: 99 },
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

describe('the policy in an organization', () => {
  const MEMBER = '210987654321';
  const member = (overrides: Partial<Finding> = {}) => instanceFinding({ account: MEMBER, ...overrides });
  const organized = (organization: NonNullable<Parameters<typeof testSettings>[0]>['organization']) =>
    testSettings({
      organization: {
        id: 'o-a1b2c3d4e5',
        externalId: 'cordon-external-id',
        accounts: [MEMBER],
        ...organization,
      },
    });
  const holders = (count: number, account = MEMBER) =>
    Array.from({ length: count }, (_, n) => ({
      slot: n,
      incidentId: `inc${n}`,
      resourceId: `i-${n}`,
      account,
      takenAt: `2026-01-01T10:0${n}:00.000Z`,
    }));

  it("runs a playbook in its account's own mode, and says the account's mode replaced the general one", () => {
    const settings = organized({
      perAccount: { [MEMBER]: { playbookModes: { 'ec2-compromise': 'dry-run' } } },
    });
    expect(decide(member(), deployed, settings)).toMatchObject({
      mode: 'dry-run',
      reasons: [
        `playbook ec2-compromise for instance i-0abc; organization.perAccount.${MEMBER}.playbookModes says dry-run, in place of settings.playbookModes (automatic)`,
      ],
    });
    // Another account keeps the general mode.
    expect(decide(instanceFinding(), deployed, settings).mode).toBe('automatic');
  });

  it('holds an account to its own limit, naming the setting it is from', () => {
    const settings = organized({ perAccount: { [MEMBER]: { maxAutomaticContainmentsPerHour: 2 } } });
    expect(decide(member(), { ...deployed, automaticContainmentsLast60Minutes: 1 }, settings).mode).toBe(
      'automatic',
    );
    expectMode(
      decide(
        member(),
        { ...deployed, automaticContainmentsLast60Minutes: 2, automaticContainments: holders(2) },
        settings,
      ),
      'approval-first',
      new RegExp(
        `^blast-radius limit reached: 2 automatic containments in ${MEMBER} in the last 60 minutes \\(inc0 on i-0 at .*\\), the limit is 2 \\(organization\\.perAccount\\.${MEMBER}\\.maxAutomaticContainmentsPerHour\\): sent to a person$`,
      ),
    );
    // The hub keeps the general limit of 5.
    expect(
      decide(instanceFinding(), { ...deployed, automaticContainmentsLast60Minutes: 4 }, settings).mode,
    ).toBe('automatic');
  });

  it("sends containment to a person once the organization's limit is reached, naming who used it and where", () => {
    const settings = organized({ maxAutomaticContainmentsPerHour: 3 });
    const context = { ...deployed, organizationContainmentsLast60Minutes: 2 };
    expect(decide(member(), context, settings).mode).toBe('automatic');
    const decision = decide(
      member(),
      {
        ...deployed,
        organizationContainmentsLast60Minutes: 3,
        organizationContainments: holders(3, '333333333333'),
      },
      settings,
    );
    expectMode(
      decision,
      'approval-first',
      /^organization blast-radius limit reached: 3 automatic containments across the organization in the last 60 minutes \(inc0 on i-0 in 333333333333 at 2026-01-01T10:00:00\.000Z, .*, inc2 on i-2 in 333333333333 at .*\), the limit is 3 \(organization\.maxAutomaticContainmentsPerHour\): sent to a person$/,
    );
    // The account's own limit was not reached: only the organization's reason is given.
    expect(decision.reasons.some((r) => r.startsWith('blast-radius limit reached'))).toBe(false);
  });

  it("gives both reasons when the account's limit and the organization's are both reached", () => {
    const settings = organized({ maxAutomaticContainmentsPerHour: 5 });
    const decision = decide(
      member(),
      { ...deployed, automaticContainmentsLast60Minutes: 5, organizationContainmentsLast60Minutes: 5 },
      settings,
    );
    expectMode(decision, 'approval-first', /^blast-radius limit reached: 5/);
    expectMode(decision, 'approval-first', /^organization blast-radius limit reached: 5/);
  });

  it("fails closed when the organization's count is not a count", () => {
    expectMode(
      decide(member(), { ...deployed, organizationContainmentsLast60Minutes: Number.NaN }, organized({})),
      'approval-first',
      /in the organization in the last 60 minutes is unknown: a person decides/,
    );
  });
});

describe('the policy fails closed', () => {
  it('sends the finding to a person, with the error, when the settings are broken', () => {
    const broken = { ...settings, suppressions: null } as unknown as Settings;
    const decision = decide(instanceFinding(), deployed, broken);
    expect(decision.playbook).toBe('ec2-compromise');
    expectMode(decision, 'approval-first', /^policy error, sent to a person: TypeError/);
  });

  it('keeps the resource it clearly chose when the policy fails', () => {
    const broken = { ...settings, suppressions: null } as unknown as Settings;
    const bucket: Resource = { type: 's3-bucket', id: 'logs-bucket' };
    const instance: Resource = { type: 'instance', id: 'i-0second' };
    const decision = decide(instanceFinding({ resources: [bucket, instance] }), deployed, broken);
    expect(decision).toMatchObject({
      playbook: 'ec2-compromise',
      resource: instance,
      mode: 'approval-first',
    });
  });

  it('chooses no resource, and no playbook, when the policy fails on a resource that is not valid', () => {
    const invalid = instanceFinding({
      resources: [
        { type: 's3-bucket', id: 'logs-bucket' },
        { type: 'instance', id: '' },
        { type: 'instance', id: 'i-0third' },
      ],
    });
    const decision = decide(invalid, deployed, settings);
    expect(decision).toMatchObject({ playbook: null, resource: null, mode: 'approval-first' });
    expect(decision.reasons).toEqual([
      expect.stringMatching(/^policy error, sent to a person: ValidationError: finding is invalid/),
      'no valid resource to act on: nothing starts, a person must respond',
    ]);
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
    const context = { ...deployed, automaticContainmentsLast60Minutes: Number.NaN };
    expectMode(
      decide(instanceFinding(), context, settings),
      'approval-first',
      /containments in the last 60 minutes is unknown/,
    );
  });

  it('never throws, even for a finding that is not one', () => {
    const garbage = { resources: 'nope' } as unknown as Finding;
    const decision = decide(garbage, deployed, settings);
    expect(decision.mode).toBe('approval-first');
    expect(decision.playbook).toBeNull();
    expect(decision.resource).toBeNull();
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

describe('resourceForPlaybook', () => {
  it("picks the first resource of the playbook's type, not the first listed", () => {
    const bucket: Resource = { type: 's3-bucket', id: 'logs-bucket' };
    const key: Resource = { type: 'access-key', id: 'AKIAEXAMPLE' };
    const instance: Resource = { type: 'instance', id: 'i-0second' };
    const finding = instanceFinding({ resources: [bucket, key, instance] });
    expect(resourceForPlaybook(finding, 'ec2-compromise')).toBe(instance);
    expect(resourceForPlaybook(finding, 'iam-credential-compromise')).toBe(key);
  });

  it('falls back to the first resource for a playbook no resource type maps to', () => {
    const finding = instanceFinding({ resources: [{ type: 'instance', id: 'i-1' }] });
    expect(resourceForPlaybook(finding, 'cpu-runaway')).toEqual({ type: 'instance', id: 'i-1' });
  });

  it('throws a ValidationError for a finding with no resource', () => {
    expect(() => resourceForPlaybook(instanceFinding({ resources: [] }), 'ec2-compromise')).toThrow(
      /resources: names no resource/,
    );
  });
});
