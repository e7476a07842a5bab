import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { parseSettings, type Settings, type SettingsInput } from '#shared/settings';
import { accountRules, type Scope, scopeOf } from '../../../functions/router/scope.ts';
import { testSettings } from '../../support/fixtures.ts';

const HUB = { account: '123456789012', region: 'us-east-1' };
const MEMBER = '210987654321';
const UNIT = 'ou-ab12-cdef3456';
const TRUST = { id: 'o-a1b2c3d4e5', externalId: 'cordon-external-id' };

function organization(section: NonNullable<SettingsInput['organization']>): Settings {
  return testSettings({ organization: { ...TRUST, ...section } });
}

function reasonOf(scope: Scope): string {
  if (scope.inScope) throw new Error('in scope');
  return scope.reason;
}

describe('the scope of a finding', () => {
  it('takes the hub account and region only, by default', () => {
    const settings = testSettings();
    expect(scopeOf(HUB, settings, HUB)).toEqual({
      inScope: true,
      limit: 5,
      limitFrom: 'maxAutomaticContainmentsPerHour',
      playbookModes: {},
      organizationLimit: 20,
    });
    expect(reasonOf(scopeOf({ account: MEMBER, region: 'us-east-1' }, settings, HUB))).toBe(
      `account ${MEMBER} is not in scope: not the hub 123456789012, not in organization.accounts, nor an account of organization.organizationalUnits: nothing starts, a person must respond`,
    );
    expect(reasonOf(scopeOf({ account: HUB.account, region: 'eu-west-1' }, settings, HUB))).toBe(
      'region eu-west-1 is not covered (organization.regions): Cordon acts in us-east-1: nothing starts, a person must respond',
    );
  });

  it('takes the members named and the accounts of the units deployed to, in the regions covered', () => {
    const settings = organization({
      accounts: [MEMBER],
      organizationalUnits: [UNIT],
      unitAccounts: { [UNIT]: ['333333333333'], 'ou-zz99-notdeployed': ['444444444444'] },
      regions: ['eu-west-1'],
    });
    for (const account of [HUB.account, MEMBER, '333333333333'])
      for (const region of ['us-east-1', 'eu-west-1'])
        expect(scopeOf({ account, region }, settings, HUB).inScope, `${account} ${region}`).toBe(true);
    // A unit not deployed to (not in organizationalUnits) has no responder role: its accounts are out.
    expect(reasonOf(scopeOf({ account: '444444444444', region: 'us-east-1' }, settings, HUB))).toMatch(
      /^account 444444444444 is not in scope/,
    );
    expect(reasonOf(scopeOf({ account: MEMBER, region: 'ap-south-1' }, settings, HUB))).toMatch(
      /^region ap-south-1 is not covered \(organization\.regions\): Cordon acts in us-east-1, eu-west-1/,
    );
  });

  it('never takes an excluded account, even when named, in a unit, or the router has no hub', () => {
    const settings = organization({
      accounts: [MEMBER],
      organizationalUnits: [UNIT],
      unitAccounts: { [UNIT]: ['333333333333'] },
      excludedAccounts: [MEMBER, '333333333333'],
    });
    for (const account of [MEMBER, '333333333333']) {
      for (const home of [HUB, undefined]) {
        expect(reasonOf(scopeOf({ account, region: 'us-east-1' }, settings, home))).toBe(
          `account ${account} is excluded (organization.excludedAccounts): nothing starts, a person must respond`,
        );
      }
    }
  });

  it('checks no place without a hub (the tests and the local runtime), but the excluded accounts', () => {
    const settings = testSettings();
    expect(scopeOf({ account: MEMBER, region: 'ap-south-1' }, settings, undefined).inScope).toBe(true);
  });

  it("gives an account's own limit and modes, saying where the limit is from", () => {
    const settings = organization({
      accounts: [MEMBER],
      perAccount: {
        [MEMBER]: { maxAutomaticContainmentsPerHour: 2, playbookModes: { 'ec2-compromise': 'dry-run' } },
      },
      maxAutomaticContainmentsPerHour: 9,
    });
    expect(scopeOf({ account: MEMBER, region: 'us-east-1' }, settings, HUB)).toEqual({
      inScope: true,
      limit: 2,
      limitFrom: `organization.perAccount.${MEMBER}.maxAutomaticContainmentsPerHour`,
      playbookModes: { 'ec2-compromise': 'dry-run' },
      organizationLimit: 9,
    });
    expect(accountRules(settings, HUB.account)).toEqual({
      limit: 5,
      limitFrom: 'maxAutomaticContainmentsPerHour',
      playbookModes: {},
    });
  });

  it('is out of scope, never throwing, when the organization cannot be read', () => {
    const broken = { ...testSettings(), organization: null } as unknown as Settings;
    expect(reasonOf(scopeOf(HUB, broken, HUB))).toMatch(
      /^the organization's scope could not be read \(TypeError: .*\): nothing starts, a person must respond$/,
    );
  });
});

describe('the organization settings', () => {
  const base = { approvers: ['oncall@example.com'], sender: 'cordon@example.com' };

  it('default to the hub alone', () => {
    expect(parseSettings(base).organization).toEqual({
      responderRoleName: 'cordon-responder',
      organizationalUnits: [],
      unitAccounts: {},
      accounts: [],
      excludedAccounts: [],
      regions: [],
      maxAutomaticContainmentsPerHour: 20,
      perAccount: {},
    });
  });

  it('require the organization id and the external id once a member is in scope', () => {
    for (const organization of [{ accounts: [MEMBER] }, { organizationalUnits: [UNIT] }]) {
      const parse = () => parseSettings({ ...base, organization });
      expect(parse).toThrow(ValidationError);
      expect(parse).toThrow(/organization\.id: is required when a member account is in scope/);
      expect(parse).toThrow(/organization\.externalId: is required when a member account is in scope/);
      expect(
        parseSettings({ ...base, organization: { ...organization, ...TRUST } }).organization,
      ).toMatchObject(organization);
    }
  });

  it('refuse ids that are not accounts, units, regions or an organization', () => {
    const parse = (organization: Record<string, unknown>) => () => parseSettings({ ...base, organization });
    expect(parse({ ...TRUST, accounts: ['12345'] })).toThrow(/organization\.accounts\.0: must be a 12-digit/);
    expect(parse({ organizationalUnits: ['unit-1'], ...TRUST })).toThrow(/organizationalUnits\.0/);
    expect(parse({ regions: ['Europe'] })).toThrow(/organization\.regions\.0: must be an AWS region/);
    expect(parse({ id: 'org-1' })).toThrow(/organization\.id: must be an organization id/);
    expect(parse({ perAccount: { abc: {} } })).toThrow(/organization\.perAccount/);
    expect(parse({ maxAutomaticContainmentsPerHour: -1 })).toThrow(/maxAutomaticContainmentsPerHour/);
  });
});
