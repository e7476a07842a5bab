/**
 * The responders: which clients an action gets for a place and incident, and how the member's responder
 * role is assumed (once per account and incident, again near expiry), with a hand-written STS sender that
 * answers `AssumeRole` as AWS does.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import {
  type AssumeRoleCommand,
  type AssumeRoleCommandOutput,
  STSServiceException,
} from '@aws-sdk/client-sts';
import { describe, expect, it } from 'vitest';
import { makeClients } from '#shared/define-function';
import { OrganizationNotConfiguredError, ResponderUnavailableError } from '#shared/errors';
import {
  BoundedCache,
  RESPONDER_CALLS,
  RESPONDER_SESSION_SECONDS,
  Responders,
  type StsSender,
  sessionName,
} from '#shared/responder';

const HUB = '123456789012';
const MEMBER = '883606788610';
const OTHER = '210987654321';
const T0 = Date.UTC(2026, 0, 1);

const ENV = {
  CORDON_ACCOUNT: HUB,
  AWS_REGION: 'us-east-1',
  CORDON_RESPONDER_ROLE: 'cordon-responder',
  CORDON_EXTERNAL_ID: 'cordon-external-id-1',
};

/** Answers AssumeRole like STS: fresh credentials for `DurationSeconds`, or AccessDenied for the roles named. */
class FakeSts implements StsSender {
  readonly calls: NonNullable<AssumeRoleCommand['input']>[] = [];
  constructor(
    private readonly now: () => number,
    private readonly denied: ReadonlySet<string> = new Set(),
  ) {}

  async send(command: AssumeRoleCommand): Promise<AssumeRoleCommandOutput> {
    const input = command.input;
    this.calls.push(input);
    const roleArn = input.RoleArn ?? '';
    if (this.denied.has(roleArn)) {
      throw new STSServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: `User: arn:aws:sts::${HUB}:assumed-role/cordon-action/x is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
      });
    }
    const n = this.calls.length;
    return {
      Credentials: {
        AccessKeyId: `ASIAFAKE${String(n).padStart(8, '0')}`,
        SecretAccessKey: `secret-${n}`,
        SessionToken: `token-${n}`,
        Expiration: new Date(this.now() + (input.DurationSeconds ?? 3600) * 1000),
      },
      $metadata: {},
    };
  }
}

function setup(options: { env?: NodeJS.ProcessEnv; denied?: string[]; maxEntries?: number } = {}) {
  let now = T0;
  const sts = new FakeSts(() => now, new Set(options.denied ?? []));
  let stsMade = 0;
  const classes = { ec2: EC2Client, iam: IAMClient };
  const env = options.env ?? ENV;
  const own = makeClients(classes, { env });
  const responders = new Responders(classes, own, {
    env,
    now: () => now,
    sts: () => {
      stsMade++;
      return sts;
    },
    ...(options.maxEntries === undefined ? {} : { maxEntries: options.maxEntries }),
  });
  return {
    sts,
    own,
    responders,
    stsMade: () => stsMade,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const roleArn = (account: string) => `arn:aws:iam::${account}:role/cordon-responder`;

describe('the responders', () => {
  it('declares the one call a function needs to act in a member', () => {
    expect(RESPONDER_CALLS).toEqual({ sts: ['AssumeRole'] });
  });

  it("gives the hub's place the function's own clients, and makes no STS client", () => {
    const { responders, own, stsMade } = setup();
    expect(responders.clientsFor({ account: HUB, region: 'us-east-1' }, 'inc-1')).toBe(own);
    expect(responders.clientsFor({}, 'inc-1')).toBe(own);
    expect(stsMade()).toBe(0);
  });

  it("acts in another region of the hub with the function's own role, in that region", async () => {
    const { responders, own, sts, stsMade } = setup();
    const clients = responders.clientsFor({ account: HUB, region: 'eu-west-1' }, 'inc-1');
    expect(clients).not.toBe(own);
    expect(await clients.ec2.config.region()).toBe('eu-west-1');
    // The SDK's default chain: the function's own role (the test's fixed local key).
    expect((await clients.ec2.config.credentials()).accessKeyId).toBe(process.env.AWS_ACCESS_KEY_ID);
    // Its role is the same for every incident: so are its clients there.
    expect(responders.clientsFor({ account: HUB, region: 'eu-west-1' }, 'inc-2')).toBe(clients);
    expect(sts.calls).toHaveLength(0);
    expect(stsMade()).toBe(0);
  });

  it('assumes the responder role once per account and incident, for every call and client', async () => {
    const { responders, sts, stsMade } = setup();
    const first = await responders.credentials(MEMBER, 'inc-1');
    await responders.credentials(MEMBER, 'inc-1');
    const west = responders.clientsFor({ account: MEMBER, region: 'eu-west-1' }, 'inc-1');
    const east = responders.clientsFor({ account: MEMBER, region: 'us-east-2' }, 'inc-1');
    expect(responders.clientsFor({ account: MEMBER, region: 'eu-west-1' }, 'inc-1')).toBe(west);
    expect(await west.ec2.config.region()).toBe('eu-west-1');
    expect(await east.iam.config.region()).toBe('us-east-2');
    for (const client of [west.ec2, west.iam, east.ec2, east.iam]) {
      expect((await client.config.credentials()).accessKeyId).toBe(first.accessKeyId);
    }
    expect(sts.calls).toHaveLength(1);
    expect(stsMade()).toBe(1);
    expect(sts.calls[0]).toEqual({
      RoleArn: roleArn(MEMBER),
      RoleSessionName: 'inc-1',
      ExternalId: 'cordon-external-id-1',
      DurationSeconds: RESPONDER_SESSION_SECONDS,
    });
    // Another incident, or another account, has credentials of its own.
    const other = await responders.credentials(MEMBER, 'inc-2');
    await responders.credentials(OTHER, 'inc-1');
    expect(other.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.calls.map((c) => [c.RoleArn, c.RoleSessionName])).toEqual([
      [roleArn(MEMBER), 'inc-1'],
      [roleArn(MEMBER), 'inc-2'],
      [roleArn(OTHER), 'inc-1'],
    ]);
  });

  it('asks for the same credentials once when calls ask at the same time', async () => {
    const { responders, sts } = setup();
    const all = await Promise.all([1, 2, 3].map(() => responders.credentials(MEMBER, 'inc-1')));
    expect(new Set(all.map((c) => c.accessKeyId)).size).toBe(1);
    expect(sts.calls).toHaveLength(1);
  });

  it('takes new credentials 5 minutes before the old ones expire, not sooner', async () => {
    const { responders, sts, advance } = setup();
    const first = await responders.credentials(MEMBER, 'inc-1');
    advance((RESPONDER_SESSION_SECONDS - 5 * 60) * 1000 - 1);
    expect((await responders.credentials(MEMBER, 'inc-1')).accessKeyId).toBe(first.accessKeyId);
    expect(sts.calls).toHaveLength(1);
    advance(1);
    const second = await responders.credentials(MEMBER, 'inc-1');
    expect(second.accessKeyId).not.toBe(first.accessKeyId);
    expect(sts.calls).toHaveLength(2);
    // The clients' provider reads the cache: a client made before gets the new ones when it asks again.
    expect((await responders.provider(MEMBER, 'inc-1')()).accessKeyId).toBe(second.accessKeyId);
    expect(sts.calls).toHaveLength(2);
  });

  it('names the session after the incident, in the characters and length AWS accepts', async () => {
    expect(sessionName('inc-01JH5Q8Z')).toBe('inc-01JH5Q8Z');
    expect(sessionName('inc/2026:01 x#y')).toBe('inc-2026-01-x-y');
    expect(sessionName('a'.repeat(80))).toBe('a'.repeat(64));
    expect(sessionName('x')).toBe('x-');
    expect(sessionName('')).toBe('--');
    for (const id of ['inc/2026:01 x#y', 'a'.repeat(80), 'x', 'ü+=,.@_-']) {
      expect(sessionName(id)).toMatch(/^[\w+=,.@-]{2,64}$/);
    }
    const { responders, sts } = setup();
    await responders.credentials(MEMBER, 'inc/2026:01 x');
    expect(sts.calls[0]?.RoleSessionName).toBe('inc-2026-01-x');
  });

  it('builds the role ARN in the partition the environment names', async () => {
    const { responders, sts } = setup({ env: { ...ENV, CORDON_PARTITION: 'aws-us-gov' } });
    await responders.credentials(MEMBER, 'inc-1');
    expect(sts.calls[0]?.RoleArn).toBe(`arn:aws-us-gov:iam::${MEMBER}:role/cordon-responder`);
  });

  it("turns AccessDenied into ResponderUnavailableError naming the role, the account and AWS's message", async () => {
    const { responders, sts } = setup({ denied: [roleArn(MEMBER)] });
    const error = await responders.credentials(MEMBER, 'inc-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ResponderUnavailableError);
    const denied = error as ResponderUnavailableError;
    expect(denied.name).toBe('ResponderUnavailableError');
    expect(denied.roleArn).toBe(roleArn(MEMBER));
    expect(denied.account).toBe(MEMBER);
    expect(denied.message).toContain(roleArn(MEMBER));
    expect(denied.message).toContain(`account ${MEMBER}`);
    expect(denied.message).toContain('is not authorized to perform: sts:AssumeRole');
    // A refusal is not cached: the role may be deployed by the next try.
    await expect(responders.credentials(MEMBER, 'inc-1')).rejects.toBeInstanceOf(ResponderUnavailableError);
    expect(sts.calls).toHaveLength(2);
  });

  it('refuses a member place when the organization is not configured, naming what is missing', async () => {
    const { responders, stsMade } = setup({
      env: { CORDON_ACCOUNT: HUB, AWS_REGION: 'us-east-1' },
    });
    const error = await responders.credentials(MEMBER, 'inc-1').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OrganizationNotConfiguredError);
    expect((error as Error).name).toBe('OrganizationNotConfiguredError');
    expect((error as Error).message).toContain('organization is not configured');
    expect((error as Error).message).toContain('CORDON_RESPONDER_ROLE, CORDON_EXTERNAL_ID');
    expect(stsMade()).toBe(0);
  });

  it('takes an account as a member when the hub account is unknown, and refuses it', async () => {
    const { responders } = setup({ env: { AWS_REGION: 'us-east-1' } });
    expect(responders.isHub({ account: HUB, region: 'us-east-1' })).toBe(false);
    await expect(responders.credentials(HUB, 'inc-1')).rejects.toThrow(/CORDON_ACCOUNT/);
  });

  it('takes the hub account from the function ARN when the environment does not name it', () => {
    const classes = { ec2: EC2Client };
    const own = makeClients(classes, { env: ENV });
    const responders = new Responders(classes, own, {
      env: { AWS_REGION: 'us-east-1' },
      hubAccount: HUB,
    });
    expect(responders.clientsFor({ account: HUB, region: 'us-east-1' }, 'inc-1')).toBe(own);
  });

  it('holds at most the bound of credentials and clients, the least recently used evicted', async () => {
    const { responders, sts } = setup({ maxEntries: 2 });
    await responders.credentials(MEMBER, 'inc-1');
    await responders.credentials(MEMBER, 'inc-2');
    await responders.credentials(MEMBER, 'inc-1'); // inc-1 used last: inc-2 goes first
    await responders.credentials(MEMBER, 'inc-3');
    expect(sts.calls).toHaveLength(3);
    await responders.credentials(MEMBER, 'inc-1');
    expect(sts.calls).toHaveLength(3);
    await responders.credentials(MEMBER, 'inc-2');
    expect(sts.calls.map((c) => c.RoleSessionName)).toEqual(['inc-1', 'inc-2', 'inc-3', 'inc-2']);

    const place = { account: MEMBER, region: 'eu-west-1' };
    const a = responders.clientsFor(place, 'inc-a');
    responders.clientsFor(place, 'inc-b');
    responders.clientsFor(place, 'inc-c');
    expect(responders.clientsFor(place, 'inc-c')).not.toBe(a);
    expect(responders.clientsFor(place, 'inc-a')).not.toBe(a);
  });
});

describe('the bounded cache', () => {
  it('evicts the oldest entry past its bound, and counts a read as a use', () => {
    const cache = new BoundedCache<number>(2);
    cache.set('a', 1);
    cache.set('b', 2);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3);
    expect([cache.has('a'), cache.has('b'), cache.has('c')]).toEqual([true, false, true]);
    expect(cache.size).toBe(2);
    expect(() => new BoundedCache(0)).toThrow(/at least|>= 1/);
  });
});
