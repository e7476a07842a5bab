/**
 * The local organization: the hub (the security account Cordon runs in) and member accounts, each with one
 * or more regions, each region a {@link Sandbox} of its own; and accounts outside the organization. IAM and
 * STS are global: an account's calls to them go to its first region's sandbox.
 *
 * It is the hub's sandboxes' role directory: `AssumeRole` of another account's role is decided here, as AWS
 * decides it (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html):
 * the role must exist in that account, its trust policy must allow the caller (the principal, `sts:ExternalId`,
 * `aws:PrincipalOrgID` of the caller's account), and the role's account must be in the organization (what
 * the hub's grant requires with `aws:ResourceOrgID`). Any refusal is AWS's one `AccessDenied`. Issued
 * credentials are remembered as (account, role, session): {@link LocalOrganization.route} sends a call made
 * with them to that account, in the client's region.
 */
import { randomBytes } from 'node:crypto';
import type { AssumeRoleRequest, Caller, IssuedSession, RoleDirectory } from './context.ts';
import { SandboxSeedError, type ServiceName } from './errors.ts';
import { Sandbox } from './index.ts';
import type { SandboxOptions } from './options.ts';
import {
  expiredCredentials,
  OrganizationPlaceError,
  regionNotEnabled,
  unknownCredentials,
} from './organization/errors.ts';
import { responderTrustPolicy, trustAllows } from './organization/trust-policy.ts';
import type {
  MemberSeed,
  OrganizationAccountState,
  OrganizationSeed,
  OrganizationState,
} from './organization/types.ts';
import type { AccountSeed } from './seed.ts';

export { OrganizationPlaceError } from './organization/errors.ts';
export { SandboxPolicyError } from './organization/trust-policy.ts';
export type * from './organization/types.ts';

/** The organization's id, external id and responder role name when neither the seed nor the options name them. */
export const DEFAULT_ORGANIZATION = {
  id: 'o-cordonlocal1',
  externalId: 'cordon-local-external-id',
  responderRoleName: 'cordon-responder',
  hub: { account: '123456789012', region: 'us-east-1' },
} as const;

/** An account and a region. */
export interface OrganizationPlace {
  readonly account: string;
  readonly region: string;
}

export interface OrganizationOptions {
  /** The hub's account and home region. Default `123456789012`, `us-east-1`. */
  readonly hub?: OrganizationPlace;
  /** The organization's id when the seed names none. */
  readonly id?: string;
  /** The external id when the seed names none. */
  readonly externalId?: string;
  /** The responder roles' name when a member's seed names none. Default `cordon-responder`. */
  readonly responderRoleName?: string;
  /** Whom responder roles trust when a member's seed names none (the hub's action roles). Default nobody. */
  readonly trustedPrincipals?: readonly string[];
  /** What every region's sandbox is made with (its clock, task tokens, outbox, page cap). */
  readonly sandbox?: Omit<SandboxOptions, 'accountId' | 'region' | 'roles' | 'persist'>;
}

/** A session `AssumeRole` issued through the organization. */
export interface OrganizationSession {
  readonly accessKeyId: string;
  readonly account: string;
  readonly roleName: string;
  readonly roleArn: string;
  readonly roleId: string;
  readonly session: string;
  /** Epoch milliseconds of the hub's clock. */
  readonly expiration: number;
}

/** What one account of the organization is. */
export interface OrganizationAccount {
  readonly account: string;
  readonly inOrganization: boolean;
  readonly hub: boolean;
  readonly organizationalUnit: string | undefined;
  /** In order: the first is the account's global part. */
  readonly regions: readonly string[];
  /** The responder role's ARN, when the account has one. */
  readonly responderRoleArn: string | undefined;
}

interface Entry {
  readonly inOrganization: boolean;
  readonly organizationalUnit: string | undefined;
  readonly responderRoleName: string | undefined;
  readonly regions: Map<string, Sandbox>;
}

/** Which sandbox answers a call, and as whom (undefined: the caller the runtime names, or the sandbox's own). */
export interface Routed {
  readonly sandbox: Sandbox;
  readonly caller: Caller | undefined;
}

/** A simulated organization: sandboxes by account and region, and the sessions issued into them. */
export class LocalOrganization implements RoleDirectory {
  readonly id: string;
  readonly externalId: string;
  readonly hub: OrganizationPlace;
  readonly #accounts = new Map<string, Entry>();
  readonly #sessions = new Map<string, OrganizationSession>();

  private constructor(id: string, externalId: string, hub: OrganizationPlace) {
    for (const [what, value, pattern] of [
      ['id', id, /^o-[a-z0-9]{10,32}$/],
      ['externalId', externalId, /^[\w+=,.@:/-]{2,1224}$/],
      ['hub account', hub.account, /^\d{12}$/],
    ] as const) {
      if (!pattern.test(value))
        throw new SandboxSeedError(`the organization's ${what} ${value} must match ${pattern}`);
    }
    this.id = id;
    this.externalId = externalId;
    this.hub = { account: hub.account, region: hub.region };
  }

  /** Makes an organization from a seed (default: the hub alone, with a default VPC). */
  static create(seed: OrganizationSeed = {}, options: OrganizationOptions = {}): LocalOrganization {
    const hub = options.hub ?? DEFAULT_ORGANIZATION.hub;
    const org = new LocalOrganization(
      seed.id ?? options.id ?? DEFAULT_ORGANIZATION.id,
      seed.externalId ?? options.externalId ?? DEFAULT_ORGANIZATION.externalId,
      hub,
    );
    if (seed.hubRegions && Object.hasOwn(seed.hubRegions, hub.region)) {
      throw new SandboxSeedError(`hubRegions: ${hub.region} is the hub's home region: seed it as hub`);
    }
    org.#add(
      hub.account,
      { regions: { [hub.region]: seed.hub ?? {}, ...seed.hubRegions }, responder: false },
      true,
      options,
    );
    for (const [kind, members, inOrganization] of [
      ['members', seed.members, true],
      ['outsiders', seed.outsiders, false],
    ] as const) {
      for (const [account, member] of Object.entries(members ?? {})) {
        if (org.#accounts.has(account)) {
          throw new SandboxSeedError(`${kind}: ${account} is the hub or named twice`);
        }
        org.#add(account, member, inOrganization, options);
      }
    }
    return org;
  }

  /** Makes an organization that continues from a state {@link LocalOrganization.state} returned. */
  static restore(state: OrganizationState, options: OrganizationOptions = {}): LocalOrganization {
    if (
      options.hub &&
      (options.hub.account !== state.hub.account || options.hub.region !== state.hub.region)
    ) {
      throw new SandboxSeedError(
        `the saved organization's hub is ${state.hub.account}/${state.hub.region}, expected ${options.hub.account}/${options.hub.region}`,
      );
    }
    const org = new LocalOrganization(state.id, state.externalId, state.hub);
    for (const [account, saved] of Object.entries(state.accounts)) {
      const regions = new Map<string, Sandbox>();
      for (const regionState of saved.regions) {
        regions.set(
          regionState.region,
          Sandbox.restore(regionState, { ...options.sandbox, accountId: account, roles: org }),
        );
      }
      org.#accounts.set(account, {
        inOrganization: saved.inOrganization,
        organizationalUnit: saved.organizationalUnit,
        responderRoleName: saved.responderRoleName,
        regions,
      });
    }
    if (!org.#accounts.get(state.hub.account)?.regions.has(state.hub.region)) {
      throw new SandboxSeedError(
        `the saved organization has no sandbox for its hub ${state.hub.account}/${state.hub.region}`,
      );
    }
    return org;
  }

  #add(account: string, member: MemberSeed, inOrganization: boolean, options: OrganizationOptions): void {
    if (!/^\d{12}$/.test(account))
      throw new SandboxSeedError(`account ${account} must be a 12-digit account id`);
    const seeds = Object.entries(member.regions ?? { [this.hub.region]: {} });
    if (seeds.length === 0) throw new SandboxSeedError(`account ${account} has no region`);
    const responder =
      member.responder === false
        ? undefined
        : {
            name:
              member.responder?.name ?? options.responderRoleName ?? DEFAULT_ORGANIZATION.responderRoleName,
            principals: member.responder?.trustedPrincipals ?? options.trustedPrincipals ?? [],
            externalId:
              member.responder?.externalId === null
                ? undefined
                : (member.responder?.externalId ?? this.externalId),
            organizationId:
              member.responder?.organizationId === null
                ? undefined
                : (member.responder?.organizationId ?? this.id),
          };
    const regions = new Map<string, Sandbox>();
    for (const [index, [region, regionSeed]] of seeds.entries()) {
      for (const [field, want] of [
        ['accountId', account],
        ['region', region],
      ] as const) {
        const given = regionSeed[field];
        if (given !== undefined && given !== want) {
          throw new SandboxSeedError(`account ${account}, region ${region}: the seed's ${field} is ${given}`);
        }
      }
      let seed: AccountSeed = regionSeed;
      const roles = seed.iam?.roles ?? [];
      // The responder role is IAM's, so global: in the first region, unless the seed makes its own.
      if (index === 0 && responder && !roles.some((role) => role.name === responder.name)) {
        const trustPolicy = responderTrustPolicy(
          responder.principals,
          responder.externalId,
          responder.organizationId,
        );
        seed = { ...seed, iam: { ...seed.iam, roles: [...roles, { name: responder.name, trustPolicy }] } };
      }
      regions.set(
        region,
        Sandbox.create(seed, { ...options.sandbox, accountId: account, region, roles: this }),
      );
    }
    this.#accounts.set(account, {
      inOrganization,
      organizationalUnit: member.organizationalUnit,
      responderRoleName: responder?.name,
      regions,
    });
  }

  #entry(account: string): Entry {
    const entry = this.#accounts.get(account);
    if (!entry) {
      throw new OrganizationPlaceError(
        `the organization has no account ${account}; it has ${[...this.#accounts.keys()].join(', ')}`,
      );
    }
    return entry;
  }

  /** The sandbox of an account in a region (default its first region, which holds IAM and STS). */
  sandbox(account: string, region?: string): Sandbox {
    const entry = this.#entry(account);
    const sandbox = region === undefined ? entry.regions.values().next().value : entry.regions.get(region);
    if (!sandbox) {
      throw new OrganizationPlaceError(
        `account ${account} has no region ${region ?? '(none)'}; it has ${[...entry.regions.keys()].join(', ')}`,
      );
    }
    return sandbox;
  }

  /** The hub's home sandbox: what a single-account runtime had. */
  get hubSandbox(): Sandbox {
    return this.sandbox(this.hub.account, this.hub.region);
  }

  /** Every account, the hub first. */
  accounts(): OrganizationAccount[] {
    return [...this.#accounts].map(([account, entry]) => ({
      account,
      inOrganization: entry.inOrganization,
      hub: account === this.hub.account,
      organizationalUnit: entry.organizationalUnit,
      regions: [...entry.regions.keys()],
      responderRoleArn:
        entry.responderRoleName === undefined
          ? undefined
          : this.sandbox(account).state().iam.roles[entry.responderRoleName]?.arn,
    }));
  }

  /** The member accounts: those of the organization other than the hub. */
  members(): string[] {
    return [...this.#accounts]
      .filter(([account, entry]) => entry.inOrganization && account !== this.hub.account)
      .map(([account]) => account);
  }

  /** Every place (account and region) of every account, the hub's first. */
  places(): OrganizationPlace[] {
    return [...this.#accounts].flatMap(([account, entry]) =>
      [...entry.regions.keys()].map((region) => ({ account, region })),
    );
  }

  /** The sessions issued so far, oldest first. */
  sessions(): readonly OrganizationSession[] {
    return [...this.#sessions.values()];
  }

  /** The whole organization's state: every account's every region, for assertions and the account file. */
  state(): OrganizationState {
    const accounts: Record<string, OrganizationAccountState> = {};
    for (const [account, entry] of this.#accounts) {
      accounts[account] = {
        inOrganization: entry.inOrganization,
        ...(entry.organizationalUnit === undefined ? {} : { organizationalUnit: entry.organizationalUnit }),
        ...(entry.responderRoleName === undefined ? {} : { responderRoleName: entry.responderRoleName }),
        regions: [...entry.regions.values()].map((sandbox) => sandbox.state()),
      };
    }
    return { id: this.id, externalId: this.externalId, hub: { ...this.hub }, accounts };
  }

  /** Moves every sandbox's clock forward. */
  advance(ms: number): void {
    for (const entry of this.#accounts.values())
      for (const sandbox of entry.regions.values()) sandbox.advance(ms);
  }

  /** Decides `AssumeRole` of a role of another account ({@link RoleDirectory}). */
  assumeRole(request: AssumeRoleRequest): IssuedSession | 'denied' | undefined {
    const entry = this.#accounts.get(request.account);
    if (!entry) return undefined;
    const role = this.sandbox(request.account).state().iam.roles[request.roleName];
    if (!role || role.arn !== request.roleArn.replace(/^arn:aws[a-z-]*:/, 'arn:aws:')) return 'denied';
    const callerInOrganization = this.#accounts.get(request.caller.account)?.inOrganization === true;
    const trusted = trustAllows(role.assumeRolePolicyDocument, {
      principalArn: request.caller.principalArn,
      callerArn: request.caller.arn,
      principalAccount: request.caller.account,
      principalOrgId: callerInOrganization ? this.id : undefined,
      externalId: request.externalId,
    });
    if (!trusted || !entry.inOrganization) return 'denied';
    const accessKeyId = `ASIA${randomBytes(8).toString('hex').toUpperCase()}`;
    const session: OrganizationSession = {
      accessKeyId,
      account: request.account,
      roleName: role.roleName,
      roleArn: role.arn,
      roleId: role.roleId,
      session: request.session,
      expiration: request.now + request.durationSeconds * 1000,
    };
    this.#sessions.set(accessKeyId, session);
    return {
      accessKeyId,
      secretAccessKey: randomBytes(20).toString('base64'),
      sessionToken: `sandbox-session-${randomBytes(16).toString('hex')}`,
      expiration: session.expiration,
      roleId: role.roleId,
    };
  }

  /**
   * The sandbox that answers a call: with credentials, the account they were issued for, as that session, in
   * the client's region (IAM and STS: the account's first region); without, the hub's, in the client's region.
   * Throws the service's AWS error for credentials it never issued, expired ones, or a region the account
   * does not have ({@link regionNotEnabled}).
   */
  route(call: {
    readonly service: ServiceName;
    readonly region: string | undefined;
    readonly accessKeyId: string | undefined;
  }): Routed {
    const session = call.accessKeyId === undefined ? undefined : this.#sessions.get(call.accessKeyId);
    if (call.accessKeyId !== undefined && !session) throw unknownCredentials(call.service, call.accessKeyId);
    if (session && this.hubSandbox.now() >= session.expiration) {
      throw expiredCredentials(call.service, session.accessKeyId, session.expiration);
    }
    const account = session?.account ?? this.hub.account;
    const entry = this.#entry(account);
    const global = call.service === 'IAM' || call.service === 'STS';
    const region = global ? undefined : (call.region ?? (session ? undefined : this.hub.region));
    const sandbox = region === undefined ? this.sandbox(account) : entry.regions.get(region);
    if (!sandbox) throw regionNotEnabled(call.service, account, region ?? '', [...entry.regions.keys()]);
    const caller: Caller | undefined = session && {
      arn: `arn:aws:sts::${session.account}:assumed-role/${session.roleName}/${session.session}`,
      userId: `${session.roleId}:${session.session}`,
      account: session.account,
      principalArn: session.roleArn,
    };
    return { sandbox, caller };
  }
}
