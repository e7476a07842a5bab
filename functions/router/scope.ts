/**
 * Where Cordon acts: the finding's place (its account and region) against the settings' `organization`
 * and the hub (the account and region Cordon is deployed in). Pure, like the policy: the router asks it of
 * every finding before anything starts, and the tests and the console may ask it too.
 *
 * In scope, in the order the rules are checked:
 * - the region is the hub's or one of `organization.regions`, else "region R is not covered";
 * - the account is not one of `organization.excludedAccounts`;
 * - the account is the hub's, one of `organization.accounts`, or an account of one of
 *   `organization.organizationalUnits` (as `organization.unitAccounts` lists them; a unit not deployed
 *   to, not in `organizationalUnits`, puts nothing in scope: its accounts have no responder role).
 * Out of scope, the router records the finding with the reason and starts nothing: a person responds.
 *
 * Without a hub (the tests' router, `cordon run` and the demo, which rehearse on the local runtime and may
 * name any account) the place is not checked: every account and region is taken for the hub's, as before
 * organizations. The excluded accounts still are: a team that excluded an account never sees Cordon act
 * in it, wherever Cordon runs. The deployed router always has its hub.
 *
 * It also says what holds in an in-scope account ({@link accountRules}): its blast-radius limit and the
 * playbook modes that replace `playbookModes` there, which the policy applies.
 */
import type { Place } from '#shared/audit-table';
import type { PlaybookMode, Settings } from '#shared/settings';
import { errorMessage } from './read.ts';

/** What the scope needs of the settings. */
export type ScopeSettings = Pick<Settings, 'maxAutomaticContainmentsPerHour' | 'organization'>;

/** What holds in one account. */
export interface AccountRules {
  /** At most this many automatic containments in the account in any 60 minutes. */
  readonly limit: number;
  /** The setting the limit is from, for the reasons that name it. */
  readonly limitFrom: string;
  /** The modes that replace `playbookModes`' in this account (`organization.perAccount[account].playbookModes`). */
  readonly playbookModes: Readonly<Record<string, PlaybookMode>>;
}

/** Whether a finding is in scope: with what holds in its account, or why not. */
export type Scope =
  | (AccountRules & {
      readonly inScope: true;
      /** At most this many automatic containments in the whole organization in any 60 minutes. */
      readonly organizationLimit: number;
    })
  | { readonly inScope: false; readonly reason: string };

const RESPOND = 'nothing starts, a person must respond';

/** The limit and the mode overrides of an account: its `organization.perAccount` entry over the defaults. */
export function accountRules(settings: ScopeSettings, account: string): AccountRules {
  const perAccount = settings.organization.perAccount;
  const own = Object.hasOwn(perAccount, account) ? perAccount[account] : undefined;
  const ownLimit = own?.maxAutomaticContainmentsPerHour;
  return {
    limit: ownLimit ?? settings.maxAutomaticContainmentsPerHour,
    limitFrom:
      ownLimit === undefined
        ? 'maxAutomaticContainmentsPerHour'
        : `organization.perAccount.${account}.maxAutomaticContainmentsPerHour`,
    playbookModes: own?.playbookModes ?? {},
  };
}

/** Whether Cordon acts on a finding in `finding`'s place; never throws (a broken setting is out of scope). */
export function scopeOf(finding: Place, settings: ScopeSettings, home: Place | undefined): Scope {
  try {
    const reason = outOfScope(finding, settings, home);
    if (reason !== undefined) return { inScope: false, reason: `${reason}: ${RESPOND}` };
    return {
      inScope: true,
      ...accountRules(settings, finding.account),
      organizationLimit: settings.organization.maxAutomaticContainmentsPerHour,
    };
  } catch (error) {
    return {
      inScope: false,
      reason: `the organization's scope could not be read (${errorMessage(error)}): ${RESPOND}`,
    };
  }
}

function outOfScope(finding: Place, settings: ScopeSettings, home: Place | undefined): string | undefined {
  const organization = settings.organization;
  const { account, region } = finding;
  if (home !== undefined && region !== home.region && !organization.regions.includes(region)) {
    const covered = [home.region, ...organization.regions].join(', ');
    return `region ${region} is not covered (organization.regions): Cordon acts in ${covered}`;
  }
  if (organization.excludedAccounts.includes(account)) {
    return `account ${account} is excluded (organization.excludedAccounts)`;
  }
  if (home === undefined || account === home.account || organization.accounts.includes(account))
    return undefined;
  const units = organization.organizationalUnits.filter((unit) =>
    (Object.hasOwn(organization.unitAccounts, unit) ? organization.unitAccounts[unit] : undefined)?.includes(
      account,
    ),
  );
  if (units.length > 0) return undefined;
  return `account ${account} is not in scope: not the hub ${home.account}, not in organization.accounts, nor an account of organization.organizationalUnits`;
}
