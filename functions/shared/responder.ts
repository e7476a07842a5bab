/**
 * Where an action acts: the clients of an action for the place of its incident. In the hub (the security
 * account Cordon is deployed in, in its own region) an action uses the clients its function made at cold
 * start, with the function's own role. In a member account it assumes the member's responder role
 * (`arn:<partition>:iam::<member>:role/<CORDON_RESPONDER_ROLE>`, with `CORDON_EXTERNAL_ID`), with the
 * incident id as the session name, so that the member's CloudTrail says which incident did what, and makes
 * its clients in the finding's region.
 *
 * Credentials are cached per (account, incident) and reused until five minutes before they expire, never
 * fetched per call; clients per (account, region, incident). Both caches are bounded (64 entries by default,
 * the least recently used evicted), so that a warm function handling many incidents holds no more than
 * that. Nothing is made at import; the STS client is made on the first member place.
 *
 * The environment: `CORDON_ACCOUNT` (the hub's account), `AWS_REGION` (the hub's region),
 * `CORDON_RESPONDER_ROLE` (the role's name), `CORDON_EXTERNAL_ID`, `CORDON_PARTITION` (default `aws`).
 */
import { AssumeRoleCommand, type AssumeRoleCommandOutput, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity, AwsCredentialIdentityProvider } from '@smithy/types';
import type { Place } from './audit-table.ts';
import { makeClient } from './clients.ts';
import { type ClientClasses, type ClientsOf, makeClients } from './define-function.ts';
import { OrganizationNotConfiguredError, ResponderUnavailableError, translateAwsError } from './errors.ts';

/** The AWS calls a function makes to act in a member account, by client: what the stack grants its role. */
export const RESPONDER_CALLS = { sts: ['AssumeRole'] } as const;

/**
 * How long assumed credentials last: 900 s, the shortest AWS allows. No action invocation runs near that
 * long (the playbooks' tasks time out in minutes), so credentials cached until 5 minutes before their end
 * still serve a whole invocation; a warm function takes new ones for an incident every 10 minutes at most;
 * and credentials that leaked from a function's memory would work for a quarter of an hour, no more.
 */
export const RESPONDER_SESSION_SECONDS = 900;

/** Credentials are taken again this long before they expire. */
export const REFRESH_BEFORE_EXPIRY_MS = 5 * 60_000;

/** Entries each cache holds by default. */
export const DEFAULT_CACHE_ENTRIES = 64;

/** What the STS client is used for: sending `AssumeRole`. */
export interface StsSender {
  send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput>;
}

export interface RespondersOptions {
  /** Environment to read; default `process.env`. */
  readonly env?: NodeJS.ProcessEnv;
  /**
   * The hub's account when `CORDON_ACCOUNT` is not set, e.g. the account of the function's own ARN (the
   * Lambda context's `invokedFunctionArn`): where the function runs is the hub.
   */
  readonly hubAccount?: string;
  /** Makes the STS client, on the first member place; default `makeClient(STSClient, { service: 'STS' })`. */
  readonly sts?: () => StsSender;
  /** Milliseconds since the epoch; default `Date.now`. */
  readonly now?: () => number;
  /** Entries each cache holds; default 64. */
  readonly maxEntries?: number;
}

/** A map that holds at most `max` entries, the least recently used evicted first. */
export class BoundedCache<V> {
  readonly #entries = new Map<string, V>();
  constructor(readonly max: number = DEFAULT_CACHE_ENTRIES) {
    if (!Number.isInteger(max) || max < 1) throw new TypeError(`max must be a whole number >= 1, got ${max}`);
  }

  get size(): number {
    return this.#entries.size;
  }

  get(key: string): V | undefined {
    const value = this.#entries.get(key);
    if (value !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, value);
    }
    return value;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.max) {
      const oldest = this.#entries.keys().next().value;
      if (oldest === undefined) break;
      this.#entries.delete(oldest);
    }
  }

  delete(key: string): void {
    this.#entries.delete(key);
  }

  has(key: string): boolean {
    return this.#entries.has(key);
  }
}

/** A session name AWS accepts (`[\w+=,.@-]{2,64}`) from an incident id: other characters become `-`. */
export function sessionName(incidentId: string): string {
  const name = incidentId.replace(/[^\w+=,.@-]/g, '-').slice(0, 64);
  return name.length >= 2 ? name : name.padEnd(2, '-');
}

/** The account of an ARN (`arn:<partition>:<service>:<region>:<account>:...`), or undefined. */
export function accountOfArn(arn: string | undefined): string | undefined {
  const account = arn?.split(':')[4];
  return account !== undefined && /^\d{12}$/.test(account) ? account : undefined;
}

/** What the hub is, as far as the environment (and the function's own ARN) tell. */
export function hubOf(env: NodeJS.ProcessEnv = process.env, hubAccount?: string): Partial<Place> {
  const account = nonEmpty(env.CORDON_ACCOUNT) ?? hubAccount;
  const region = nonEmpty(env.AWS_REGION) ?? nonEmpty(env.AWS_DEFAULT_REGION);
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === '' ? undefined : value;
}

/** An event's place, with the hub's for what it does not name. */
export function placeOfEvent(
  event: { readonly account?: string; readonly region?: string },
  hub: Partial<Place>,
): Partial<Place> {
  const account = event.account ?? hub.account;
  const region = event.region ?? hub.region;
  return { ...(account ? { account } : {}), ...(region ? { region } : {}) };
}

interface CachedCredentials {
  readonly identity: Promise<AwsCredentialIdentity & { expiration: Date }>;
  /** Resolved: when the identity must be taken again. */
  refreshAt?: number;
}

/** The clients of one action's classes for each place and incident it acts in. */
export class Responders<C extends ClientClasses> {
  readonly #classes: C;
  readonly #own: ClientsOf<C>;
  readonly #env: NodeJS.ProcessEnv;
  readonly #hubAccount: string | undefined;
  readonly #makeSts: () => StsSender;
  readonly #now: () => number;
  readonly #credentials: BoundedCache<CachedCredentials>;
  readonly #clients: BoundedCache<ClientsOf<C>>;
  #sts: StsSender | undefined;

  /**
   * @param classes the action's client classes, by service key
   * @param own the clients its function made at cold start, with its own role, in the hub's region
   */
  constructor(classes: C, own: ClientsOf<C>, options: RespondersOptions = {}) {
    this.#classes = classes;
    this.#own = own;
    this.#env = options.env ?? process.env;
    this.#hubAccount = options.hubAccount;
    this.#makeSts = options.sts ?? (() => makeClient(STSClient, { service: 'STS', env: this.#env }));
    this.#now = options.now ?? Date.now;
    this.#credentials = new BoundedCache(options.maxEntries ?? DEFAULT_CACHE_ENTRIES);
    this.#clients = new BoundedCache(options.maxEntries ?? DEFAULT_CACHE_ENTRIES);
  }

  /** The hub's place, as far as it is known. */
  get hub(): Partial<Place> {
    return hubOf(this.#env, this.#hubAccount);
  }

  /** True when the place is the hub's account (whatever its region): the function's own role acts there. */
  inHubAccount(place: Partial<Place>): boolean {
    return place.account === undefined || place.account === this.hub.account;
  }

  /** True when the place is the hub's account and region: the function's own clients act there. */
  isHub(place: Partial<Place>): boolean {
    const hub = this.hub;
    return this.inHubAccount(place) && (place.region === undefined || place.region === hub.region);
  }

  /** The responder role's ARN in an account. Throws when the organization is not configured. */
  roleArn(account: string): string {
    const role = nonEmpty(this.#env.CORDON_RESPONDER_ROLE);
    const missing = [
      ...(this.hub.account === undefined ? ['CORDON_ACCOUNT'] : []),
      ...(role === undefined ? ['CORDON_RESPONDER_ROLE'] : []),
      ...(nonEmpty(this.#env.CORDON_EXTERNAL_ID) === undefined ? ['CORDON_EXTERNAL_ID'] : []),
    ];
    if (missing.length > 0) {
      throw new OrganizationNotConfiguredError(
        `cannot act in account ${account}: the organization is not configured (${missing.join(', ')} not set): ` +
          'set the settings organization section and deploy again',
      );
    }
    return `arn:${nonEmpty(this.#env.CORDON_PARTITION) ?? 'aws'}:iam::${account}:role/${role}`;
  }

  /**
   * The clients for a place and incident: the function's own in the hub; in another region of the hub's
   * account, its own role's in that region; in a member, the responder role's in the place's region.
   */
  clientsFor(place: Partial<Place>, incidentId: string): ClientsOf<C> {
    if (this.isHub(place)) return this.#own;
    const member = !this.inHubAccount(place);
    const account = place.account ?? '';
    // The hub's role is the same for every incident: its clients in another region are too.
    const key = `${account}#${place.region ?? ''}#${member ? incidentId : ''}`;
    const cached = this.#clients.get(key);
    if (cached) return cached;
    const credentials = member ? this.provider(account, incidentId) : undefined;
    const clients = makeClients(this.#classes, {
      ...(place.region === undefined ? {} : { region: place.region }),
      ...(credentials === undefined ? {} : { credentials }),
      env: this.#env,
    });
    this.#clients.set(key, clients);
    return clients;
  }

  /**
   * Assumes the responder role of an account for an incident, or returns the cached credentials while they
   * have more than 5 minutes left. AccessDenied is {@link ResponderUnavailableError}.
   */
  async credentials(account: string, incidentId: string): Promise<AwsCredentialIdentity> {
    const key = `${account}#${incidentId}`;
    const cached = this.#credentials.get(key);
    if (cached && (cached.refreshAt === undefined || this.#now() < cached.refreshAt)) return cached.identity;
    const roleArn = this.roleArn(account);
    const entry: CachedCredentials = { identity: this.#assume(roleArn, account, incidentId) };
    this.#credentials.set(key, entry);
    try {
      const identity = await entry.identity;
      entry.refreshAt = identity.expiration.getTime() - REFRESH_BEFORE_EXPIRY_MS;
      return identity;
    } catch (error) {
      // A refusal is not cached: the next invocation asks again (the role may have been deployed since).
      if (this.#credentials.get(key) === entry) this.#credentials.delete(key);
      throw error;
    }
  }

  /** A credentials provider for the SDK: the cached credentials, taken again near their expiry. */
  provider(account: string, incidentId: string): AwsCredentialIdentityProvider {
    return () => this.credentials(account, incidentId);
  }

  async #assume(
    roleArn: string,
    account: string,
    incidentId: string,
  ): Promise<AwsCredentialIdentity & { expiration: Date }> {
    this.#sts ??= this.#makeSts();
    let output: AssumeRoleCommandOutput;
    try {
      output = await this.#sts.send(
        new AssumeRoleCommand({
          RoleArn: roleArn,
          RoleSessionName: sessionName(incidentId),
          ExternalId: this.#env.CORDON_EXTERNAL_ID,
          DurationSeconds: RESPONDER_SESSION_SECONDS,
        }),
      );
    } catch (error) {
      if (error instanceof Error && error.name === 'AccessDenied') {
        throw new ResponderUnavailableError(
          `cannot act in account ${account}: assuming ${roleArn} was refused: ${error.message}`,
          { roleArn, account },
          { cause: error },
        );
      }
      throw translateAwsError(error, `sts:AssumeRole ${roleArn}`);
    }
    const c = output.Credentials;
    if (!c?.AccessKeyId || !c.SecretAccessKey || !c.SessionToken || !c.Expiration) {
      throw new ResponderUnavailableError(
        `cannot act in account ${account}: assuming ${roleArn} returned no credentials`,
        { roleArn, account },
      );
    }
    return {
      accessKeyId: c.AccessKeyId,
      secretAccessKey: c.SecretAccessKey,
      sessionToken: c.SessionToken,
      expiration: new Date(c.Expiration),
    };
  }
}
