/**
 * The core of `iam-release` (recovery, after approval): undoes what the IAM containment of an incident
 * did, from the state its steps recorded before changing anything. The record is read verified (chain,
 * key and anchor); on a break the release refuses (`RecordTamperedError`). It undoes only what its own
 * incident did, and replays no document from the record:
 * - it reactivates the keys that the incident's containment steps recorded deactivating, only of a user
 *   the incident is about (named in its opening's resources), only keys that were active before and that
 *   the user still has (eradication may have deleted them);
 * - it deletes the incident's own deny (`cordon-revoke-sessions-<incident>`, see `revokePolicyName`) from
 *   the users and roles its steps recorded putting it on, only while the live document is exactly the one
 *   the last of those steps put. Another incident's deny on the same user or role has another name and
 *   stays, so releasing one incident never lifts another's revocation; the release never puts a policy.
 * Anything else (the deny changed since, a recorded deny that is not the code's or is cut off after its
 * step was recorded, a user the incident is not about, a role Cordon must not touch) is refused with a
 * reason and what to do by hand, before anything is changed. It reports a console password that
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
  UpdateAccessKeyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { type Incident, parseOrThrow, type Step } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { ReleaseRefusedError } from '../ec2-release/errors.ts';
import {
  decodePolicy,
  type IamSender,
  iamCall,
  iamFind,
  type RecordedRole,
  RecordedRoleSchema,
  type RecordedUser,
  RecordedUserSchema,
  RoleChangesSchema,
  releaseRevokePolicy,
  revokePolicyName,
  UserChangesSchema,
} from '../iam-common/iam.ts';
import { userAccessKeys } from '../iam-common/lists.ts';
import type { RoleFacts } from '../iam-common/untouchable.ts';
import { CONTAIN_USER_KEY_ACTION } from '../iam-contain-user-key/core.ts';
import { REVOKE_ROLE_SESSIONS_ACTION } from '../iam-revoke-role-sessions/core.ts';

/** The action's name in the record. */
export const RELEASE_ACTION = 'iam-release';

export const ReleaseInputSchema = lazySchema(() => z.extend(ActionEventSchema, {}));
export type ReleaseInput = z.infer<typeof ReleaseInputSchema>;

export interface ReleaseDeps {
  readonly iam: IamSender;
  /** The incident's record, verified: its opening, the containment steps and the state they recorded before. */
  readonly recorder: Pick<AuditRecorder, 'verified'>;
  /** Why Cordon must never touch a role (service-linked, bootstrap, its own, break-glass, protected). */
  readonly untouchable: (role: RoleFacts) => string | undefined;
}

/** The last revoke policy an incident's steps recorded putting on one user or role. */
interface PutPolicy {
  document: string;
  seq: number;
  recordedAt: string;
}

/** What containment did to one user, gathered over the incident's steps. */
interface UserUndo {
  /** The earliest state recorded: a retry records the half-contained state, so the first one is the truth. */
  before: RecordedUser;
  deactivatedKeys: Set<string>;
  put?: PutPolicy;
  deletedLoginProfile: boolean;
}

/** What containment did to one role. */
interface RoleUndo {
  before: RecordedRole;
  put?: PutPolicy;
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

/**
 * The deny a step records putting, which must be under the incident's own name: a document recorded under
 * any other name (a record of an earlier version of Cordon, which used one shared name) is not this
 * release's to remove.
 */
function putOf(
  step: Step,
  changes: { revokePolicy: string | null; policyName?: string | undefined },
  who: string,
  policyName: string,
): PutPolicy | undefined {
  if (changes.revokePolicy === null) return undefined;
  if (changes.policyName !== policyName) {
    throw new ReleaseRefusedError(
      `step ${step.seq} (${step.action}) records putting a revoke policy on ${who} under ${changes.policyName ?? 'no name'}, not this incident's ${policyName}: review ${who}'s inline policies and remove the deny by hand`,
    );
  }
  return { document: changes.revokePolicy, seq: step.seq, recordedAt: step.recordedAt };
}

/** Gathers, per user and per role, the state before containment and what containment changed. */
export function undoPlan(
  steps: readonly Step[],
  incidentId: string,
): {
  users: Map<string, UserUndo>;
  roles: Map<string, RoleUndo>;
} {
  const policyName = revokePolicyName(incidentId);
  const users = new Map<string, UserUndo>();
  const roles = new Map<string, RoleUndo>();
  for (const step of steps) {
    if (changedSomething(step, CONTAIN_USER_KEY_ACTION)) {
      const before = z.safeParse(RecordedUserSchema, step.before);
      const changes = z.safeParse(UserChangesSchema, step.changes);
      if (!before.success || !changes.success) continue;
      const { userName } = before.data;
      const undo = users.get(userName) ?? {
        before: before.data,
        deactivatedKeys: new Set<string>(),
        deletedLoginProfile: false,
      };
      for (const key of changes.data.deactivatedKeys) undo.deactivatedKeys.add(key);
      undo.put = putOf(step, changes.data, `user ${userName}`, policyName) ?? undo.put;
      undo.deletedLoginProfile ||= changes.data.deletedLoginProfile;
      users.set(userName, undo);
    } else if (changedSomething(step, REVOKE_ROLE_SESSIONS_ACTION)) {
      const before = z.safeParse(RecordedRoleSchema, step.before);
      const changes = z.safeParse(RoleChangesSchema, step.changes);
      if (!before.success || !changes.success) continue;
      const { roleName } = before.data;
      const undo = roles.get(roleName) ?? { before: before.data };
      undo.put = putOf(step, changes.data, `role ${roleName}`, policyName) ?? undo.put;
      roles.set(roleName, undo);
    }
  }
  return { users, roles };
}

/**
 * The IAM users an incident is about, from its opening's resources: the owner of its access key (the
 * finding's `userName`, which the playbook contains), or an IAM user it names.
 */
function usersOf(incident: Pick<Incident, 'resources'>): Set<string> {
  const names = new Set<string>();
  for (const resource of incident.resources) {
    const userName = resource.details?.userName;
    if (resource.type === 'access-key' && typeof userName === 'string') names.add(userName);
    if (resource.type === 'iam-user') names.add(resource.id);
  }
  return names;
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
  needsPasswordReset: string[];
}

/** A mutation decided by comparing states, run unless this is a dry run. */
type Mutation = () => Promise<unknown>;

async function planUser(
  iam: IamSender,
  undo: UserUndo,
  policyName: string,
  report: ReleaseReport,
  mutations: Mutation[],
): Promise<void> {
  const { userName } = undo.before;
  const user = `IAM user ${userName}`;
  const [keys, policy, login] = await Promise.all([
    undo.deactivatedKeys.size > 0 ? userAccessKeys(iam, userName) : Promise.resolve(undefined),
    undo.put
      ? iamFind(`iam:GetUserPolicy ${userName} ${policyName}`, () =>
          iam.send(new GetUserPolicyCommand({ UserName: userName, PolicyName: policyName })),
        )
      : Promise.resolve(undefined),
    undo.deletedLoginProfile
      ? iamFind(`iam:GetLoginProfile ${userName}`, () =>
          iam.send(new GetLoginProfileCommand({ UserName: userName })),
        )
      : Promise.resolve(undefined),
  ]);
  const current = new Map((keys ?? []).map((k) => [k.AccessKeyId ?? '', k.Status ?? '']));
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

  if (undo.put) {
    const manual = `aws iam delete-user-policy --user-name ${userName} --policy-name ${policyName}`;
    const decision = releaseRevokePolicy(`user ${userName}`, policyName, undo.put, currentPolicy, manual);
    if (decision.action === 'refuse') throw new ReleaseRefusedError(decision.reason);
    if (decision.action === 'delete') {
      report.removedRevokePolicies.push(`user/${userName}`);
      mutations.push(() =>
        iamFind(`iam:DeleteUserPolicy ${userName} ${policyName}`, () =>
          iam.send(new DeleteUserPolicyCommand({ UserName: userName, PolicyName: policyName })),
        ),
      );
    }
  }

  if (undo.deletedLoginProfile && undo.before.loginProfile.exists && login === undefined) {
    report.needsPasswordReset.push(userName);
  }
}

async function planRole(
  iam: IamSender,
  undo: RoleUndo,
  policyName: string,
  untouchable: ReleaseDeps['untouchable'],
  report: ReleaseReport,
  mutations: Mutation[],
): Promise<void> {
  const { roleName } = undo.before;
  const { put } = undo;
  if (!put) return;
  // GetRolePolicy answers NoSuchEntity for a missing role too; the mutation below then names the role.
  const [policy, role] = await Promise.all([
    iamFind(`iam:GetRolePolicy ${roleName} ${policyName}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    ),
    iamFind(`iam:GetRole ${roleName}`, () => iam.send(new GetRoleCommand({ RoleName: roleName }))),
  ]);
  const currentPolicy = policy ? decodePolicy(policy.PolicyDocument) : null;
  report.before.roles.push({ roleName, revokePolicy: currentPolicy });
  const manual = `aws iam delete-role-policy --role-name ${roleName} --policy-name ${policyName}`;
  const decision = releaseRevokePolicy(`role ${roleName}`, policyName, put, currentPolicy, manual);
  if (decision.action === 'refuse') throw new ReleaseRefusedError(decision.reason);
  if (decision.action === 'none') return;
  const why = role?.Role ? untouchable({ roleName, path: role.Role.Path, tags: role.Role.Tags }) : undefined;
  if (why) throw new ReleaseRefusedError(`${why}: remove its ${policyName} policy by hand (${manual})`);
  report.removedRevokePolicies.push(`role/${roleName}`);
  mutations.push(() =>
    iamFind(`iam:DeleteRolePolicy ${roleName} ${policyName}`, () =>
      iam.send(new DeleteRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    ),
  );
}

function describe(report: ReleaseReport, policyName: string, dryRun: boolean): string {
  const would = (done: string, planned: string) => (dryRun ? planned : done);
  const parts: string[] = [];
  if (report.reactivatedKeys.length > 0) {
    parts.push(`${would('reactivated', 'would reactivate')} ${report.reactivatedKeys.join(', ')}`);
  }
  if (report.removedRevokePolicies.length > 0) {
    parts.push(
      `${would('removed', 'would remove')} ${policyName} from ${report.removedRevokePolicies.join(', ')}`,
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
  const { incident, steps } = await deps.recorder.verified(input.incidentId);
  const { users, roles } = undoPlan(steps, input.incidentId);
  const policyName = revokePolicyName(input.incidentId);
  // Keys and denies of a user the incident is not about are not its own to give back, whatever a step says.
  const ours = usersOf(incident);
  const strangers = [...users.keys()].filter((name) => !ours.has(name));
  if (strangers.length > 0) {
    throw new ReleaseRefusedError(
      `the containment steps of incident ${input.incidentId} name IAM users it is not about (${strangers.join(', ')}; it is about ${[...ours].join(', ') || 'no IAM user'}): nothing was changed; review them by hand`,
    );
  }
  if (users.size === 0 && roles.size === 0) {
    return {
      status: 'skipped',
      note: 'nothing to release: no IAM containment of this incident changed anything',
      dryRun,
      output: {
        reactivatedKeys: [],
        deletedKeys: [],
        removedRevokePolicies: [],
        needsPasswordReset: [],
      },
    };
  }

  const report: ReleaseReport = {
    before: { users: [], roles: [] },
    reactivatedKeys: [],
    deletedKeys: [],
    removedRevokePolicies: [],
    needsPasswordReset: [],
  };
  const mutations: Mutation[] = [];
  for (const undo of users.values()) await planUser(deps.iam, undo, policyName, report, mutations);
  for (const undo of roles.values())
    await planRole(deps.iam, undo, policyName, deps.untouchable, report, mutations);

  const changes = {
    reactivatedKeys: report.reactivatedKeys,
    removedRevokePolicies: report.removedRevokePolicies,
  };
  const output = {
    reactivatedKeys: report.reactivatedKeys,
    deletedKeys: report.deletedKeys,
    removedRevokePolicies: report.removedRevokePolicies,
    needsPasswordReset: report.needsPasswordReset,
  };
  if (mutations.length === 0) {
    const left = describe(report, policyName, false);
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
      note: `dry run, nothing changed: ${describe(report, policyName, true)}`,
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
    note: describe(report, policyName, false),
    dryRun: false,
    output,
  };
}
