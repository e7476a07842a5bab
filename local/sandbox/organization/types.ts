/**
 * The local organization's seed and state: a hub (the security account Cordon runs in) and member
 * accounts, each with one or more regions (one sandbox account each), each member with its responder role
 * or none; and accounts outside the organization, which tests use to show what the organization's
 * conditions refuse.
 */
import type { AccountSeed } from '../seed.ts';
import type { AccountState } from '../state.ts';

/**
 * A member's responder role: the role Cordon's actions assume in it. Every field defaults to the
 * organization's (its `responderRoleName`, `trustedPrincipals`, `externalId` and `id`).
 */
export interface ResponderSeed {
  /** Default the organization's `responderRoleName` (`cordon-responder`). */
  readonly name?: string;
  /** The principals the role trusts (role ARNs, account ids). Default the organization's `trustedPrincipals`. */
  readonly trustedPrincipals?: readonly string[];
  /** The `sts:ExternalId` the trust requires; `null`: none. Default the organization's. */
  readonly externalId?: string | null;
  /** The `aws:PrincipalOrgID` the trust requires; `null`: none. Default the organization's id. */
  readonly organizationId?: string | null;
}

/** An account of the organization (or outside it) and its regions. */
export interface MemberSeed {
  /**
   * The account's regions, each with its seed, in order: the first holds the account's global part (IAM, and
   * STS). Default one region, the hub's home region, with an empty seed.
   */
  readonly regions?: Readonly<Record<string, AccountSeed>>;
  /** The responder role; `false`: the account has none. Default the organization's responder role. */
  readonly responder?: ResponderSeed | false;
  /** The organizational unit the account is in (`ou-...`), when it matters. */
  readonly organizationalUnit?: string;
}

/** A whole simulated organization. */
export interface OrganizationSeed {
  /** `o-...`. Default {@link OrganizationOptions.id}, else `o-cordonlocal1`. */
  readonly id?: string;
  /** The external id members' responder roles require. Default {@link OrganizationOptions.externalId}. */
  readonly externalId?: string;
  /** The hub's home region (today's single sandbox account). Default an account with a default VPC. */
  readonly hub?: AccountSeed;
  /** The hub's other regions, each with its seed. */
  readonly hubRegions?: Readonly<Record<string, AccountSeed>>;
  /** Member accounts, by account id. */
  readonly members?: Readonly<Record<string, MemberSeed>>;
  /** Accounts outside the organization, by account id: they may hold a responder role, never pass its org condition. */
  readonly outsiders?: Readonly<Record<string, MemberSeed>>;
}

/** One account's saved state: every region's sandbox, the first the global one. */
export interface OrganizationAccountState {
  readonly inOrganization: boolean;
  readonly organizationalUnit?: string;
  /** The responder role's name, when the account has one (what `responderRoleArn` names). */
  readonly responderRoleName?: string;
  /** Each region's account state, the first holding IAM and STS. */
  readonly regions: AccountState[];
}

/** A whole organization's state, as {@link LocalOrganization.state} gives it and the account file keeps it. */
export interface OrganizationState {
  readonly id: string;
  readonly externalId: string;
  readonly hub: { readonly account: string; readonly region: string };
  /** Every account, the hub's included, by account id. */
  readonly accounts: Record<string, OrganizationAccountState>;
}
