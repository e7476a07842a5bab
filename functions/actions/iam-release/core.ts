/**
 * The core of `iam-release` (recovery, after approval): undoes what the IAM containment of an incident
 * did, from the state its steps recorded before changing anything. The record is read verified (chain,
 * key and anchor); on a break the release refuses (`RecordTamperedError`). It undoes only what Cordon did,
 * and replays no document from the record: it reactivates the keys containment deactivated (unless
 * eradication deleted them, and only keys the user still has), takes off the `cordon-revoke-sessions`
 * deny it put on users and roles when that policy is still exactly Cordon's, and where a Cordon deny with
 * an earlier cut-off was there before, puts that one back as the code builds it. Anything else (the policy
 * changed since, a policy of that name that was not Cordon's before, a role Cordon must not touch) is
 * refused with a reason, before anything is changed. It reports a console password that
 * containment deleted: IAM cannot restore a deleted password
 * (https://docs.aws.amazon.com/IAM/latest/APIReference/API_DeleteLoginProfile.html), and inventing one
 * would be worse, so the user must get a new one from an administrator. Every change is decided by
 * comparing the recorded state with the current one, so a second run changes nothing.
 */
import {
  DeleteRolePolicyCommand,
  DeleteUserPolicyCommand,
  GetLoginProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserPolicyCommand,
  ListAccessKeysCommand,
  PutRolePolicyCommand,
  PutUserPolicyCommand,
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { parseOrThrow, type Step } from '#shared/domain';
import { ReleaseRefusedError } from '../ec2-release/errors.ts';
import {
  decodePolicy,
  type IamSender,
  iamCall,
  iamFind,
  REVOKE_POLICY_NAME,
  type RecordedRole,
  RecordedRoleSchema,
  type RecordedUser,
  RecordedUserSchema,
  RoleChangesSchema,
  revokedBefore,
  revokePolicyDocument,
  UserChangesSchema,
} from '../iam-common/iam.ts';
import type { RoleFacts } from '../iam-common/untouchable.ts';
import { CONTAIN_USER_KEY_ACTION } from '../iam-contain-user-key/core.ts';
import { REVOKE_ROLE_SESSIONS_ACTION } from '../iam-revoke-role-sessions/core.ts';

/** The action's name in the record. */
export const RELEASE_ACTION = 'iam-release';

export const ReleaseInputSchema = z.extend(ActionEventSchema, {});
export type ReleaseInput = z.infer<typeof ReleaseInputSchema>;

export interface ReleaseDeps {
  readonly iam: IamSender;
  /** The incident's record, verified: the containment steps and the state they recorded before. */
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  /** Why Cordon must never touch a role (service-linked, bootstrap, its own, break-glass, protected). */
  readonly untouchable: (role: RoleFacts) => string | undefined;
}

/** What containment did to one user, gathered over the incident's steps. */
interface UserUndo {
  /** The earliest state recorded: a retry records the half-contained state, so the first one is the truth. */
  before: RecordedUser;
  deactivatedKeys: Set<string>;
  putPolicy: boolean;
  deletedLoginProfile: boolean;
}

/** What containment did to one role. */
interface RoleUndo {
  before: RecordedRole;
  putPolicy: boolean;
}

/** Steps that changed something for real: finished, or noted half-way before a failure; never dry runs. */
function changedSomething(step: Step, action: string): boolean {
  return (
    step.action === action &&
    step.phase === 'containment' &&
    (step.status === 'succeeded' || step.status === 'noted') &&
    step.dryRun !== true
  );
}

/** Gathers, per user and per role, the state before containment and what containment changed. */
export function undoPlan(steps: readonly Step[]): {
  users: Map<string, UserUndo>;
  roles: Map<string, RoleUndo>;
} {
  const users = new Map<string, UserUndo>();
  const roles = new Map<string, RoleUndo>();
  for (const step of steps) {
    if (changedSomething(step, CONTAIN_USER_KEY_ACTION)) {
      const before = z.safeParse(RecordedUserSchema, step.before);
      const changes = z.safeParse(UserChangesSchema, step.changes);
      if (!before.success || !changes.success) continue;
      const undo = users.get(before.data.userName) ?? {
        before: before.data,
        deactivatedKeys: new Set<string>(),
        putPolicy: false,
        deletedLoginProfile: false,
      };
      for (const key of changes.data.deactivatedKeys) undo.deactivatedKeys.add(key);
      undo.putPolicy ||= changes.data.revokePolicy !== null;
      undo.deletedLoginProfile ||= changes.data.deletedLoginProfile;
      users.set(before.data.userName, undo);
    } else if (changedSomething(step, REVOKE_ROLE_SESSIONS_ACTION)) {
      const before = z.safeParse(RecordedRoleSchema, step.before);
      const changes = z.safeParse(RoleChangesSchema, step.changes);
      if (!before.success || !changes.success) continue;
      const undo = roles.get(before.data.roleName) ?? { before: before.data, putPolicy: false };
      undo.putPolicy ||= changes.data.revokePolicy !== null;
      roles.set(before.data.roleName, undo);
    }
  }
  return { users, roles };
}

/**
 * The document the revoke policy should have after the release, given what it was before containment:
 * none, or Cordon's own deny rebuilt from its cut-off. A policy of that name that was not Cordon's deny
 * cannot be put back without replaying it: refused.
 */
function targetPolicy(who: string, before: string | null, seq: string): string | null {
  if (before === null) return null;
  const earlier = revokedBefore(before);
  if (earlier === undefined) {
    throw new ReleaseRefusedError(
      `before containment ${who} had a policy named ${REVOKE_POLICY_NAME} that was not Cordon's deny, and containment replaced it; Cordon never replays a policy document: put it back by hand (its document is in the record, ${seq}), then release again`,
    );
  }
  return revokePolicyDocument(earlier);
}

/** Refuses a revoke policy that is no longer the deny Cordon put. */
function assertOurs(who: string, current: string | null, target: string | null): void {
  if (current === null || current === target || revokedBefore(current) !== undefined) return;
  throw new ReleaseRefusedError(
    `the ${REVOKE_POLICY_NAME} policy on ${who} is no longer a deny Cordon put there: someone changed it; review it and remove it by hand`,
  );
}

/**
 * What the release does about one revoke policy (`user/<name>` or `role/<name>`): remove it when there was
 * none before, put back the deny the code rebuilt from the earlier cut-off, or nothing when it is already so.
 */
function planRevokePolicy(
  ref: string,
  current: string | null,
  target: string | null,
  report: ReleaseReport,
  mutations: Mutation[],
  calls: { remove: () => Promise<unknown>; put: (document: string) => Promise<unknown> },
): void {
  if (target === null && current !== null) {
    report.removedRevokePolicies.push(ref);
    mutations.push(calls.remove);
  } else if (target !== null && current !== target) {
    report.restoredRevokePolicies.push(ref);
    mutations.push(() => calls.put(target));
  }
}

/** The release's own record of what it found and did. */
interface ReleaseReport {
  before: {
    users: {
      userName: string;
      keys: Record<string, string>;
      revokePolicy: string | null;
      loginProfile: boolean | null;
    }[];
    roles: { roleName: string; revokePolicy: string | null }[];
  };
  reactivatedKeys: string[];
  deletedKeys: string[];
  removedRevokePolicies: string[];
  restoredRevokePolicies: string[];
  needsPasswordReset: string[];
}

/** A mutation decided by comparing states, run unless this is a dry run. */
type Mutation = () => Promise<unknown>;

async function planUser(
  iam: IamSender,
  undo: UserUndo,
  report: ReleaseReport,
  mutations: Mutation[],
): Promise<void> {
  const { userName } = undo.before;
  const user = `IAM user ${userName}`;
  const [keys, policy, login] = await Promise.all([
    undo.deactivatedKeys.size > 0
      ? iamCall(`iam:ListAccessKeys ${userName}`, user, () =>
          iam.send(new ListAccessKeysCommand({ UserName: userName })),
        )
      : Promise.resolve(undefined),
    undo.putPolicy
      ? iamFind(`iam:GetUserPolicy ${userName} ${REVOKE_POLICY_NAME}`, () =>
          iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: REVOKE_POLICY_NAME })),
        )
      : Promise.resolve(undefined),
    undo.deletedLoginProfile
      ? iamFind(`iam:GetLoginProfile ${userName}`, () =>
          iam.send(new GetLoginProfileCommand({ UserName: userName })),
        )
      : Promise.resolve(undefined),
  ]);
  const current = new Map((keys?.AccessKeyMetadata ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']));
  const currentPolicy = policy ? decodePolicy(policy.PolicyDocument) : null;
  report.before.users.push({
    userName,
    keys: Object.fromEntries([...undo.deactivatedKeys].map((id) => [id, current.get(id) ?? 'deleted'])),
    revokePolicy: currentPolicy,
    loginProfile: undo.deletedLoginProfile ? login !== undefined : null,
  });

  for (const id of undo.deactivatedKeys) {
    const wasActive = undo.before.accessKeys.some((k) => k.accessKeyId === id && k.status === 'Active');
    const status = current.get(id);
    if (!wasActive) continue;
    if (status === undefined) {
      report.deletedKeys.push(id);
    } else if (status !== 'Active') {
      report.reactivatedKeys.push(id);
      mutations.push(() =>
        iamCall(`iam:UpdateAccessKey ${userName} ${id}`, `access key ${id} of ${user}`, () =>
          iam.send(new UpdateAccessKeyCommand({ UserName: userName, AccessKeyId: id, Status: 'Active' })),
        ),
      );
    }
  }

  if (undo.putPolicy) {
    const who = `user ${userName}`;
    const target = targetPolicy(
      who,
      undo.before.revokePolicy,
      `the ${CONTAIN_USER_KEY_ACTION} step's before`,
    );
    assertOurs(who, currentPolicy, target);
    planRevokePolicy(`user/${userName}`, currentPolicy, target, report, mutations, {
      remove: () =>
        iamFind(`iam:DeleteUserPolicy ${userName} ${REVOKE_POLICY_NAME}`, () =>
          iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: REVOKE_POLICY_NAME })),
        ),
      put: (document) =>
        iamCall(`iam:PutUserPolicy ${userName} ${REVOKE_POLICY_NAME}`, user, () =>
          iam.send(
            new PutUserPolicyCommand({
              UserName: userName,
              PolicyName: REVOKE_POLICY_NAME,
              PolicyDocument: document,
            }),
          ),
        ),
    });
  }

  if (undo.deletedLoginProfile && undo.before.loginProfile.exists && login === undefined) {
    report.needsPasswordReset.push(userName);
  }
}

async function planRole(
  iam: IamSender,
  undo: RoleUndo,
  untouchable: ReleaseDeps['untouchable'],
  report: ReleaseReport,
  mutations: Mutation[],
): Promise<void> {
  const { roleName } = undo.before;
  if (!undo.putPolicy) return;
  // GetRolePolicy answers NoSuchEntity for a missing role too; the mutation below then names the role.
  const [policy, role] = await Promise.all([
    iamFind(`iam:GetRolePolicy ${roleName} ${REVOKE_POLICY_NAME}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME })),
    ),
    iamFind(`iam:GetRole ${roleName}`, () => iam.send(new GetRoleCommand({ RoleName: roleName }))),
  ]);
  const currentPolicy = policy ? decodePolicy(policy.PolicyDocument) : null;
  report.before.roles.push({ roleName, revokePolicy: currentPolicy });
  const who = `role ${roleName}`;
  const target = targetPolicy(
    who,
    undo.before.revokePolicy,
    `the ${REVOKE_ROLE_SESSIONS_ACTION} step's before`,
  );
  assertOurs(who, currentPolicy, target);
  if (currentPolicy === target) return;
  const why = role?.Role ? untouchable({ roleName, path: role.Role.Path, tags: role.Role.Tags }) : undefined;
  if (why) throw new ReleaseRefusedError(`${why}: change its ${REVOKE_POLICY_NAME} policy by hand`);
  planRevokePolicy(`role/${roleName}`, currentPolicy, target, report, mutations, {
    remove: () =>
      iamFind(`iam:DeleteRolePolicy ${roleName} ${REVOKE_POLICY_NAME}`, () =>
        iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: REVOKE_POLICY_NAME })),
      ),
    put: (document) =>
      iamCall(`iam:PutRolePolicy ${roleName} ${REVOKE_POLICY_NAME}`, `IAM role ${roleName}`, () =>
        iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: REVOKE_POLICY_NAME,
            PolicyDocument: document,
          }),
        ),
      ),
  });
}

function describe(report: ReleaseReport, dryRun: boolean): string {
  const would = (done: string, planned: string) => (dryRun ? planned : done);
  const parts: string[] = [];
  if (report.reactivatedKeys.length > 0) {
    parts.push(`${would('reactivated', 'would reactivate')} ${report.reactivatedKeys.join(', ')}`);
  }
  if (report.removedRevokePolicies.length > 0) {
    parts.push(
      `${would('removed', 'would remove')} ${REVOKE_POLICY_NAME} from ${report.removedRevokePolicies.join(', ')}`,
    );
  }
  if (report.restoredRevokePolicies.length > 0) {
    parts.push(
      `${would('restored', 'would restore')} the earlier ${REVOKE_POLICY_NAME} of ${report.restoredRevokePolicies.join(', ')}`,
    );
  }
  if (report.deletedKeys.length > 0) {
    parts.push(`not reactivated, deleted since containment: ${report.deletedKeys.join(', ')}`);
  }
  if (report.needsPasswordReset.length > 0) {
    parts.push(
      `console password deleted at containment cannot be restored: an administrator must set a new one for ${report.needsPasswordReset.join(', ')} (CreateLoginProfile with PasswordResetRequired)`,
    );
  }
  return parts.join('; ');
}

/** Restores the IAM state the incident's containment recorded before it acted. */
export async function release(deps: ReleaseDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(ReleaseInputSchema, event, `${RELEASE_ACTION} input`);
  const dryRun = input.dryRun === true;
  // The record is evidence, not instruction, until it verifies: a break throws RecordTamperedError.
  const { users, roles } = undoPlan((await deps.recorder.verified(input.incidentId)).steps);
  if (users.size === 0 && roles.size === 0) {
    return {
      status: 'skipped',
      note: 'nothing to release: no IAM containment of this incident changed anything',
      dryRun,
      output: {
        reactivatedKeys: [],
        deletedKeys: [],
        removedRevokePolicies: [],
        restoredRevokePolicies: [],
        needsPasswordReset: [],
      },
    };
  }

  const report: ReleaseReport = {
    before: { users: [], roles: [] },
    reactivatedKeys: [],
    deletedKeys: [],
    removedRevokePolicies: [],
    restoredRevokePolicies: [],
    needsPasswordReset: [],
  };
  const mutations: Mutation[] = [];
  for (const undo of users.values()) await planUser(deps.iam, undo, report, mutations);
  for (const undo of roles.values()) await planRole(deps.iam, undo, deps.untouchable, report, mutations);

  const changes = {
    reactivatedKeys: report.reactivatedKeys,
    removedRevokePolicies: report.removedRevokePolicies,
    restoredRevokePolicies: report.restoredRevokePolicies,
  };
  const output = {
    reactivatedKeys: report.reactivatedKeys,
    deletedKeys: report.deletedKeys,
    removedRevokePolicies: report.removedRevokePolicies,
    restoredRevokePolicies: report.restoredRevokePolicies,
    needsPasswordReset: report.needsPasswordReset,
  };
  if (mutations.length === 0) {
    const left = describe(report, false);
    return {
      status: 'already-done',
      before: report.before,
      changes,
      note: `already released${left === '' ? '' : `; ${left}`}`,
      dryRun,
      output,
    };
  }
  if (dryRun) {
    return {
      status: 'succeeded',
      before: report.before,
      changes,
      note: `dry run, nothing changed: ${describe(report, true)}`,
      dryRun: true,
      output,
    };
  }
  // One at a time, in order: a retry after a failure recomputes what is left from the state.
  for (const mutate of mutations) await mutate();
  return {
    status: 'succeeded',
    before: report.before,
    changes,
    note: describe(report, false),
    dryRun: false,
    output,
  };
}
