/**
 * The releases against a forger with the table: a record rewritten to replay an `Allow *:*` policy, a
 * role or an instance profile of the forger's choosing. The forger writes the table directly with the
 * document client and recomputes the unkeyed chain and the head, as the red team did; the release must
 * refuse and change nothing. And even an authentic record is never replayed: a policy document found
 * there is not put back.
 */

import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccountSeed } from '#local/sandbox/index';
import type { AuditRecorder } from '#shared/audit';
import { keys } from '#shared/audit-table';
import { RecordTamperedError } from '#shared/errors';
import { stepHash } from '#shared/hash-chain';
import { isolateInstance } from '../../../functions/actions/ec2-isolate/core.ts';
import { releaseInstance } from '../../../functions/actions/ec2-release/core.ts';
import { ReleaseRefusedError } from '../../../functions/actions/ec2-release/errors.ts';
import { revokeSessions } from '../../../functions/actions/ec2-revoke-sessions/core.ts';
import { containUserKey } from '../../../functions/actions/iam-contain-user-key/core.ts';
import { release } from '../../../functions/actions/iam-release/core.ts';
import { createTestTable, type TestTable } from '../../support/store.ts';
import { errorOf, mutationsSince, PROTECTED_TAG, seed, setup, WEB } from '../actions/ec2/helpers.ts';
import { audited, BOB_KEY, KEY_2, now, SEED, setupIam } from '../actions/iam/helpers.ts';

type Item = Record<string, unknown>;

const ALLOW_ALL = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }],
});

/** The access key of the IAM tests, as a GuardDuty finding names it: its owner is alice. */
const ALICE_KEY = { type: 'access-key' as const, id: KEY_2, details: { userName: 'alice' } };

let table: TestTable;
let recorder: AuditRecorder;
beforeAll(async () => {
  table = await createTestTable('tamper-releases');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

async function incident(resource: {
  type: 'instance' | 'access-key';
  id: string;
  details?: Record<string, unknown>;
}): Promise<string> {
  const opened = await recorder.openIncident({
    title: `compromise of ${resource.id}`,
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '123456789012',
    region: 'us-east-1',
    resources: [resource],
    firstSeen: '2025-01-01T00:00:00.000Z',
    lastSeen: '2025-01-01T00:00:00.000Z',
  });
  return opened.id;
}

/**
 * What the red team did: rewrite one step's content, recompute the unkeyed chain from there and move the
 * head, so that a chain without a key or an anchor would still verify.
 */
async function rewrite(incidentId: string, which: (item: Item) => boolean, edit: (item: Item) => void) {
  const items = await recorder.storedSteps(incidentId);
  const from = items.findIndex(which);
  expect(from).toBeGreaterThanOrEqual(0);
  const opening = (
    await table.doc.send(new GetCommand({ TableName: table.tableName, Key: keys.incident(incidentId) }))
  ).Item?.openingHash;
  let prevHash = from === 0 ? String(opening) : String(items[from - 1]?.hash);
  for (const item of items.slice(from)) {
    if (item === items[from]) edit(item);
    item.prevHash = prevHash;
    item.hash = stepHash(item);
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: item }));
    prevHash = String(item.hash);
  }
  await table.doc.send(
    new UpdateCommand({
      TableName: table.tableName,
      Key: keys.incident(incidentId),
      UpdateExpression: 'SET lastSeq = :s, lastHash = :h',
      ExpressionAttributeValues: { ':s': items.length, ':h': prevHash },
    }),
  );
}

/** What ec2-release runs with in these tests: the account's clients, the record, and whether roles may be passed. */
function releaseDeps(env: ReturnType<typeof setup>, passable: boolean) {
  return {
    ec2: env.ec2,
    iam: env.iam,
    autoScaling: env.asg,
    elbv2: env.elbv2,
    elb: env.elb,
    recorder,
    roles: { untouchable: () => undefined, passable: () => passable },
  };
}

/** The account of the EC2 tests, with an administrator role and profile a forger would like given back. */
function adminSeed(): AccountSeed {
  const s = seed();
  s.iam?.roles?.push({ name: 'admin-role' });
  s.iam?.instanceProfiles?.push({ name: 'admin-profile', roles: ['admin-role'] });
  return s;
}

describe('the releases against a rewritten record', () => {
  it('refuses to release from a rewritten record: no Allow *:* policy, no role, no instance profile of the forger', async () => {
    const env = setup(adminSeed());
    const incidentId = await incident({ type: 'instance', id: WEB });
    const common = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
    await audited(recorder, 'containment', 'ec2-isolate', (e) => isolateInstance(common, e))({
      incidentId,
      instanceId: WEB,
      strategy: 'direct',
    } as never);
    await audited(recorder, 'containment', 'ec2-revoke-sessions', (e) =>
      revokeSessions({ ...common, iam: env.iam }, e),
    )({ incidentId, instanceId: WEB } as never);
    // The forger points the revoke step at the admin role and profile, with an allow-all "previous" policy.
    await rewrite(
      incidentId,
      (item) => item.action === 'ec2-revoke-sessions' && item.status === 'succeeded',
      (item) => {
        item.before = {
          instanceId: WEB,
          association: {
            associationId: 'iip-assoc-forged',
            profileArn: 'arn:aws:iam::123456789012:instance-profile/admin-profile',
            profileName: 'admin-profile',
          },
          role: { roleName: 'admin-role', path: '/', revokePolicy: ALLOW_ALL },
        };
        item.changes = {
          calls: [],
          revokePolicy: { policyName: 'cordon-revoke-sessions', roleName: 'admin-role', document: ALLOW_ALL },
        };
      },
    );
    const mark = env.sandbox.calls.length;
    const error = await errorOf(releaseInstance(releaseDeps(env, true), { incidentId, instanceId: WEB }));
    expect(error).toBeInstanceOf(RecordTamperedError);
    expect(error.message).toMatch(/does not verify: step-edited/);
    expect(mutationsSince(env.sandbox, mark)).toEqual([]);
    expect(env.sandbox.state().iam.roles['admin-role']?.inlinePolicies).toEqual({});
  });

  it('never puts back a policy the role had before: it only removes the deny Cordon put', async () => {
    const accountSeed = seed();
    const web = accountSeed.iam?.roles?.find((r) => r.name === 'web-role');
    if (web) web.inlinePolicies = { 'cordon-revoke-sessions': JSON.parse(ALLOW_ALL) };
    const env = setup(accountSeed);
    const incidentId = await incident({ type: 'instance', id: WEB });
    const common = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
    await audited(recorder, 'containment', 'ec2-revoke-sessions', (e) =>
      revokeSessions({ ...common, iam: env.iam }, e),
    )({ incidentId, instanceId: WEB } as never);
    // An outside hand removes the policy; the authentic record still says the role had it before.
    await env.iam.send(
      new (await import('@aws-sdk/client-iam')).DeleteRolePolicyCommand({
        RoleName: 'web-role',
        PolicyName: 'cordon-revoke-sessions',
      }),
    );
    const mark = env.sandbox.calls.length;
    await releaseInstance(releaseDeps(env, true), { incidentId, instanceId: WEB });
    expect(mutationsSince(env.sandbox, mark).filter((c) => /Put(Role|User)Policy/.test(c))).toEqual([]);
    expect(env.sandbox.state().iam.roles['web-role']?.inlinePolicies).toEqual({});
  });

  it('refuses to give an instance back a profile whose role the settings do not let it pass', async () => {
    const env = setup();
    const incidentId = await incident({ type: 'instance', id: WEB });
    const common = { ec2: env.ec2, now: env.now, protectedTag: PROTECTED_TAG };
    await audited(recorder, 'containment', 'ec2-revoke-sessions', (e) =>
      revokeSessions({ ...common, iam: env.iam }, e),
    )({ incidentId, instanceId: WEB } as never);
    const mark = env.sandbox.calls.length;
    const error = await errorOf(releaseInstance(releaseDeps(env, false), { incidentId, instanceId: WEB }));
    expect(error).toBeInstanceOf(ReleaseRefusedError);
    expect(error.message).toMatch(/web-role is not in settings.instanceRoles/);
    expect(error.message).toContain(`aws ec2 associate-iam-instance-profile --instance-id ${WEB}`);
    expect(mutationsSince(env.sandbox, mark)).toEqual([]);
  });

  it('refuses to release an IAM user from a rewritten record: no PutUserPolicy of the forged document', async () => {
    const { sandbox, iam } = setupIam();
    const incidentId = await incident(ALICE_KEY);
    const settings = { deactivateAllKeys: false, deleteLoginProfile: false };
    await audited(recorder, 'containment', 'iam-contain-user-key', (e) =>
      containUserKey({ iam, now, settings, protectedTag: PROTECTED_TAG, recorder }, e),
    )({ incidentId, userName: 'alice', accessKeyId: KEY_2 } as never);
    await rewrite(
      incidentId,
      (item) => item.action === 'iam-contain-user-key' && item.status === 'succeeded',
      (item) => {
        (item.before as Item).revokePolicy = ALLOW_ALL;
      },
    );
    const mark = sandbox.calls.length;
    const error = await errorOf(release({ iam, recorder, untouchable: () => undefined }, { incidentId }));
    expect(error).toBeInstanceOf(RecordTamperedError);
    expect(sandbox.calls.slice(mark).filter((c) => /^(Put|Update|Delete)/.test(c.command))).toEqual([]);
  });

  it("leaves a policy of Cordon's old shared name that was never Cordon's deny as it is, and puts no policy", async () => {
    const accountSeed = structuredClone(SEED);
    const alice = accountSeed.iam?.users?.find((u) => u.name === 'alice');
    if (alice)
      alice.inlinePolicies = { ...alice.inlinePolicies, 'cordon-revoke-sessions': JSON.parse(ALLOW_ALL) };
    const { sandbox, iam } = setupIam(accountSeed);
    const before = sandbox.state().iam;
    const incidentId = await incident(ALICE_KEY);
    const settings = { deactivateAllKeys: false, deleteLoginProfile: false };
    await audited(recorder, 'containment', 'iam-contain-user-key', (e) =>
      containUserKey({ iam, now, settings, protectedTag: PROTECTED_TAG, recorder }, e),
    )({ incidentId, userName: 'alice', accessKeyId: KEY_2 } as never);
    const mark = sandbox.calls.length;
    await release({ iam, recorder, untouchable: () => undefined }, { incidentId });
    expect(sandbox.calls.slice(mark).filter((c) => /^Put/.test(c.command))).toEqual([]);
    expect(sandbox.state().iam).toEqual(before);
  });

  it("refuses to reactivate another user's key from a containment step the forger appended", async () => {
    const accountSeed = structuredClone(SEED);
    // bob's key was deactivated by an administrator after an earlier compromise.
    const bob = accountSeed.iam?.users?.find((u) => u.name === 'bob');
    const bobKey = bob?.accessKeys?.[0];
    if (!bobKey) throw new Error('seed changed');
    bobKey.status = 'Inactive';
    const { sandbox, iam } = setupIam(accountSeed);
    const incidentId = await incident(ALICE_KEY);
    const settings = { deactivateAllKeys: false, deleteLoginProfile: false };
    await audited(recorder, 'containment', 'iam-contain-user-key', (e) =>
      containUserKey({ iam, now, settings, protectedTag: PROTECTED_TAG, recorder }, e),
    )({ incidentId, userName: 'alice', accessKeyId: KEY_2 } as never);
    // The forger appends one step, chained and hashed, with the document client: bob's key "was active".
    const [last] = (await recorder.storedSteps(incidentId)).sort((x, y) => Number(y.seq) - Number(x.seq));
    if (!last) throw new Error('no step');
    const seq = Number(last.seq) + 1;
    const at = new Date().toISOString();
    const forged: Item = {
      ...keys.step(incidentId, seq),
      gsi3pk: 'ACTOR#automation',
      gsi3sk: `${at}#${incidentId}#${seq}`,
      incidentId,
      seq,
      phase: 'containment',
      action: 'iam-contain-user-key',
      status: 'succeeded',
      actor: 'automation',
      startedAt: at,
      recordedAt: at,
      prevHash: last.hash,
      before: {
        userName: 'bob',
        accessKeys: [{ accessKeyId: BOB_KEY, status: 'Active', createDate: null, lastUsed: null }],
        loginProfile: { exists: false },
        mfaDevices: [],
        inlinePolicies: [],
        attachedPolicies: [],
        revokePolicy: null,
      },
      changes: { deactivatedKeys: [BOB_KEY], revokePolicy: null, deletedLoginProfile: false },
    };
    forged.hash = stepHash(forged);
    await table.doc.send(new PutCommand({ TableName: table.tableName, Item: forged }));
    await table.doc.send(
      new UpdateCommand({
        TableName: table.tableName,
        Key: keys.incident(incidentId),
        UpdateExpression: 'SET lastSeq = :s, lastHash = :h',
        ExpressionAttributeValues: { ':s': seq, ':h': forged.hash },
      }),
    );
    const mark = sandbox.calls.length;
    const error = await errorOf(release({ iam, recorder, untouchable: () => undefined }, { incidentId }));
    // The record does not verify (a step with no anchor and no MAC), or the step names a user the incident
    // is not about: either way the release refuses and changes nothing.
    expect(error instanceof RecordTamperedError || error instanceof ReleaseRefusedError).toBe(true);
    expect(sandbox.calls.slice(mark).filter((c) => /^(Put|Update|Delete)/.test(c.command))).toEqual([]);
    expect(sandbox.state().iam.accessKeys[BOB_KEY]?.status).toBe('Inactive');
  });
});
