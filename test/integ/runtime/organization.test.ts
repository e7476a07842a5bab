/**
 * The local runtime holds an organization: STS `AssumeRole` from the hub into a member's responder role is
 * decided as AWS decides it (the role, the trusted principal, the external id, the organization), each
 * refusal AWS's one `AccessDenied`; the credentials it issues reach that member's sandbox, in the client's
 * region, and nothing else; a client without credentials is the hub's.
 */
import { CreateTagsCommand, DescribeInstancesCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetUserCommand, IAMClient } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { AwsCredentialIdentity } from '@smithy/types';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient } from '#shared/clients';
import { runAsFunction } from '../../../local/engine/index.ts';
import { LOCAL_ACCOUNT, LOCAL_EXTERNAL_ID, LOCAL_ORGANIZATION_ID } from '../../../local/runtime.ts';
import type { OrganizationSeed } from '../../../local/sandbox/organization.ts';
import { member, organizationRuntime, type TestRuntime } from '../../support/runtime.ts';

const A = '111111111111';
const B = '222222222222';
const NO_ROLE = '333333333333';
const OUTSIDER = '444444444444';
const role = (account: string) => `arn:aws:iam::${account}:role/cordon-responder`;

const seed: OrganizationSeed = {
  hub: { instances: [{ id: 'i-0hub00000000000001' }] },
  hubRegions: { 'eu-west-1': { instances: [{ id: 'i-0hubeu000000000001' }] } },
  members: {
    [A]: member({ instances: [{ id: 'i-0shared0000000001', tags: { Name: 'a' } }] }),
    [B]: {
      regions: {
        'us-east-1': { iam: { users: [{ name: 'bob' }] } },
        'eu-west-1': { instances: [{ id: 'i-0shared0000000001', tags: { Name: 'b' } }] },
      },
    },
    [NO_ROLE]: member({}, { responder: false }),
  },
  // Its responder role trusts the hub's action roles with the organization's id: the hub is in the
  // organization, the role's account is not.
  outsiders: { [OUTSIDER]: member({ instances: [{ id: 'i-0outside000000001' }] }) },
};

let t: TestRuntime;
let action: string;
beforeAll(async () => {
  t = await organizationRuntime(seed);
  action =
    t.runtime.engine.functions().find((fn) => fn.entry?.startsWith('functions/actions/ec2-isolate/'))
      ?.logicalId ?? '';
  expect(action).not.toBe('');
}, 120_000);
afterAll(async () => {
  await t?.close();
});

const sts = () => makeClient(STSClient, { service: 'STS' });

/**
 * AssumeRole from the hub, as the action function (its own role) or, with `as` null, as the hub's seeded
 * caller; `externalId` null sends none.
 */
async function assume(
  roleArn: string,
  externalId: string | null = LOCAL_EXTERNAL_ID,
  as: string | null = action,
): Promise<AwsCredentialIdentity> {
  const call = () =>
    sts().send(
      new AssumeRoleCommand({
        RoleArn: roleArn,
        RoleSessionName: 'incident-01',
        ...(externalId === null ? {} : { ExternalId: externalId }),
      }),
    );
  const out = await (as === null ? call() : runAsFunction(as, call));
  const c = out.Credentials;
  return {
    accessKeyId: c?.AccessKeyId ?? '',
    secretAccessKey: c?.SecretAccessKey ?? '',
    sessionToken: c?.SessionToken ?? '',
    ...(c?.Expiration ? { expiration: c.Expiration } : {}),
  };
}

/** The action function's own caller ARN in the hub. */
const actionCaller = async () =>
  (await runAsFunction(action, () => sts().send(new GetCallerIdentityCommand({})))).Arn ?? '';

const denial = (caller: string, roleArn: string) => ({
  name: 'AccessDenied',
  message: `User: ${caller} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
});

describe('the local organization', () => {
  beforeAll(() => {
    t.runtime.useOrganization(seed);
  });

  it('names the local organization and its members in the stack settings, and the responder in the actions', () => {
    expect(t.runtime.settings?.organization).toMatchObject({
      id: LOCAL_ORGANIZATION_ID,
      externalId: LOCAL_EXTERNAL_ID,
      accounts: [A, B, NO_ROLE],
      regions: ['eu-west-1'],
    });
    const env = t.runtime.engine.functions().find((fn) => fn.logicalId === action)?.environment ?? {};
    expect(env).toMatchObject({
      CORDON_RESPONDER_ROLE: 'cordon-responder',
      CORDON_EXTERNAL_ID: LOCAL_EXTERNAL_ID,
    });
    expect(t.runtime.organization.members()).toEqual([A, B, NO_ROLE]);
  });

  it("assumes a member's responder role as an action function, and its credentials say who they are", async () => {
    const hubCaller = await actionCaller();
    expect(hubCaller).toMatch(new RegExp(`^arn:aws:sts::${LOCAL_ACCOUNT}:assumed-role/[^/]+/[^/]+$`));
    const credentials = await assume(role(A));
    expect(credentials.accessKeyId).toMatch(/^ASIA[0-9A-F]{16}$/);
    const member = makeClient(STSClient, { service: 'STS', credentials: async () => credentials });
    expect(await member.send(new GetCallerIdentityCommand({}))).toMatchObject({
      Account: A,
      Arn: `arn:aws:sts::${A}:assumed-role/cordon-responder/incident-01`,
    });
    expect(t.runtime.organization.sessions().at(-1)).toMatchObject({
      account: A,
      roleName: 'cordon-responder',
      session: 'incident-01',
    });
  });

  it('refuses as AWS does: a missing role, a wrong or no external id, an untrusted caller, an account outside', async () => {
    const caller = await actionCaller();
    await expect(assume(role(NO_ROLE))).rejects.toMatchObject(denial(caller, role(NO_ROLE)));
    await expect(assume(`arn:aws:iam::${A}:role/not-there`)).rejects.toMatchObject(
      denial(caller, `arn:aws:iam::${A}:role/not-there`),
    );
    await expect(assume(role(A), 'another-external-id')).rejects.toMatchObject(denial(caller, role(A)));
    await expect(assume(role(A), null)).rejects.toMatchObject(denial(caller, role(A)));
    await expect(assume(role(OUTSIDER))).rejects.toMatchObject(denial(caller, role(OUTSIDER)));
    // Outside any function: the hub's seeded caller, whom no responder role trusts.
    const seeded = t.runtime.sandbox.caller.arn;
    await expect(assume(role(A), LOCAL_EXTERNAL_ID, null)).rejects.toMatchObject(denial(seeded, role(A)));
    // An account no one seeded has no role at all.
    await expect(assume(role('555555555555'))).rejects.toMatchObject(denial(caller, role('555555555555')));
  });

  it("reaches only that member's sandbox, in the client's region, and changes nothing elsewhere", async () => {
    const org = t.runtime.organization;
    const credentials = await assume(role(A));
    const before = org.state();
    const ec2 = makeClient(EC2Client, {
      service: 'EC2',
      region: 'us-east-1',
      credentials: async () => credentials,
    });
    const seen = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ['i-0shared0000000001'] }));
    expect(seen.Reservations?.[0]?.Instances?.[0]?.Tags).toEqual([{ Key: 'Name', Value: 'a' }]);
    await ec2.send(
      new CreateTagsCommand({
        Resources: ['i-0shared0000000001'],
        Tags: [{ Key: 'cordon:incident', Value: 'x' }],
      }),
    );
    const after = org.state();
    expect(after.accounts[A]?.regions[0]?.ec2.tags['i-0shared0000000001']).toEqual({
      Name: 'a',
      'cordon:incident': 'x',
    });
    // Every other account, the hub's both regions included, compared whole.
    for (const account of [LOCAL_ACCOUNT, B, NO_ROLE, OUTSIDER]) {
      expect(after.accounts[account]).toEqual(before.accounts[account]);
    }
    expect(org.sandbox(B, 'eu-west-1').state().ec2.tags['i-0shared0000000001']).toEqual({ Name: 'b' });
  });

  it("answers a member's other region there, and its IAM in its first region", async () => {
    const credentials = await assume(role(B));
    const eu = makeClient(EC2Client, {
      service: 'EC2',
      region: 'eu-west-1',
      credentials: async () => credentials,
    });
    const seen = await eu.send(new DescribeInstancesCommand({}));
    expect(seen.Reservations?.flatMap((r) => r.Instances ?? []).map((i) => i.InstanceId)).toEqual([
      'i-0shared0000000001',
    ]);
    const iam = makeClient(IAMClient, {
      service: 'IAM',
      region: 'eu-west-1',
      credentials: async () => credentials,
    });
    expect((await iam.send(new GetUserCommand({ UserName: 'bob' }))).User?.Arn).toBe(
      `arn:aws:iam::${B}:user/bob`,
    );
    const before = t.runtime.organization.sandbox(B, 'eu-west-1').calls.length;
    expect(t.runtime.organization.sandbox(B, 'us-east-1').calls.at(-1)?.command).toBe('GetUser');
    expect(t.runtime.organization.sandbox(B, 'eu-west-1').calls).toHaveLength(before);
  });

  it('refuses a region the member does not have, as AWS refuses a region not enabled, naming it', async () => {
    const credentials = await assume(role(A));
    const far = makeClient(EC2Client, {
      service: 'EC2',
      region: 'ap-south-1',
      credentials: async () => credentials,
    });
    await expect(far.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'AuthFailure',
      message: expect.stringContaining(`account ${A} has no region ap-south-1`),
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('sends a client without credentials to the hub, in its region', async () => {
    const ids = async (region: string) =>
      (
        await makeClient(EC2Client, { service: 'EC2', region }).send(new DescribeInstancesCommand({}))
      ).Reservations?.flatMap((r) => (r.Instances ?? []).map((i) => i.InstanceId));
    expect(await ids('us-east-1')).toEqual(['i-0hub00000000000001']);
    expect(await ids('eu-west-1')).toEqual(['i-0hubeu000000000001']);
    await expect(ids('ap-south-1')).rejects.toMatchObject({ name: 'AuthFailure' });
  });

  it('refuses credentials it never issued, and a session past its expiration', async () => {
    const forged = makeClient(EC2Client, {
      service: 'EC2',
      credentials: async () => ({ accessKeyId: 'ASIAFORGED0000000000', secretAccessKey: 'x' }),
    });
    await expect(forged.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'AuthFailure',
    });
    const credentials = await assume(role(A));
    t.runtime.organization.advance(3_600_000);
    const late = makeClient(STSClient, { service: 'STS', credentials: async () => credentials });
    // STS models AWS's ExpiredToken as ExpiredTokenException; EC2 answers ExpiredToken.
    await expect(late.send(new GetCallerIdentityCommand({}))).rejects.toMatchObject({
      name: 'ExpiredTokenException',
      message: expect.stringContaining(`${credentials.accessKeyId} expired at`),
    });
    const lateEc2 = makeClient(EC2Client, { service: 'EC2', credentials: async () => credentials });
    await expect(lateEc2.send(new DescribeInstancesCommand({}))).rejects.toMatchObject({
      name: 'ExpiredToken',
    });
  });
});
