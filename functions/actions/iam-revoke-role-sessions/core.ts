/**
 * The core of `iam-revoke-role-sessions`: voids every session of a role issued before the time of
 * containment (an assumed-role finding, or instance credentials used outside AWS), with the inline deny
 * that the console's "Revoke active sessions" puts
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html). The cut-off is now,
 * not the finding's last-seen time: a session issued between the two would survive. The role's trust
 * policy is recorded for review, since whoever it trusts can still assume the role and get fresh sessions.
 *
 * A role that must never be touched ({@link untouchableReason}: service-linked, AWS-reserved, CDK
 * bootstrap, Cordon's own, break-glass, or carrying the protected tag, approved or not) is skipped with
 * "manual action required" and the reason; PutRolePolicy is never called on it. The grants deny the change
 * on those roles too.
 */
import { GetRoleCommand, GetRolePolicyCommand, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  decodePolicy,
  IamNameSchema,
  type IamSender,
  IsoTimeSchema,
  iamCall,
  iamFind,
  type ProtectedTag,
  parseJsonOrText,
  type RecordedRole,
  type RoleChanges,
  revokedBefore,
  revokePolicyDocument,
  revokePolicyName,
  revokesSince,
} from '../iam-common/iam.ts';
import { untouchableReason } from '../iam-common/untouchable.ts';

/** The action's name in the record. */
export const REVOKE_ROLE_SESSIONS_ACTION = 'iam-revoke-role-sessions';

export const RevokeRoleSessionsInputSchema = lazySchema(() =>
  z.extend(ActionEventSchema, {
    /** The role whose sessions are revoked: the assumed role of the finding, or the instance profile's role. */
    roleName: IamNameSchema,
    /**
     * The finding's last-seen time. The incident's own revoke policy, already in place with a cut-off at or
     * after it, is left as it is (`already-done`); without it, any intact one counts.
     */
    findingTime: z.optional(IsoTimeSchema),
    /**
     * Set by the playbook after an approval. It changes nothing for a role: one with the protected tag is
     * never changed by automation, approved or not.
     */
    approved: z.optional(z.boolean()),
  }),
);
export type RevokeRoleSessionsInput = z.infer<typeof RevokeRoleSessionsInputSchema>;

export interface RevokeRoleSessionsDeps {
  readonly iam: IamSender;
  readonly now: () => Date;
  /** The settings' `protectedTag`: a role carrying it is never changed by automation. */
  readonly protectedTag: ProtectedTag;
  /** The settings' `breakGlassRoles`. Default none. */
  readonly breakGlassRoles?: readonly string[];
  /** Cordon's stack name, whose roles are `<stack>-*`. Default: only `cordon-*` counts as Cordon's. */
  readonly stackName?: string | undefined;
}

/**
 * Service-linked roles live under `/aws-service-role/` and only their service may change them; their
 * sessions cannot be revoked (https://docs.aws.amazon.com/IAM/latest/UserGuide/using-service-linked-roles.html).
 */
function isServiceLinked(path: string): boolean {
  return path.startsWith('/aws-service-role/');
}

const TRUST_REVIEW =
  'review its trust policy (in before): whoever it trusts can still assume the role and get fresh sessions';

/** Puts the session-revoking deny on a role, or reports why it cannot. */
export async function revokeRoleSessions(
  deps: RevokeRoleSessionsDeps,
  event: unknown,
): Promise<ActionResult> {
  const input = parseOrThrow(RevokeRoleSessionsInputSchema, event, `${REVOKE_ROLE_SESSIONS_ACTION} input`);
  const { iam } = deps;
  const { roleName } = input;
  const dryRun = input.dryRun === true;
  const policyName = revokePolicyName(input.incidentId);

  const [got, existing] = await Promise.all([
    iamCall(`iam:GetRole ${roleName}`, `IAM role ${roleName}`, () =>
      iam.send(new GetRoleCommand({ RoleName: roleName })),
    ),
    iamFind(`iam:GetRolePolicy ${roleName} ${policyName}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    ),
  ]);
  const role = got.Role;
  const path = role?.Path ?? '/';
  const before: RecordedRole = {
    roleName,
    arn: role?.Arn ?? '',
    path,
    serviceLinked: isServiceLinked(path),
    maxSessionDuration: role?.MaxSessionDuration ?? null,
    trustPolicy: parseJsonOrText(decodePolicy(role?.AssumeRolePolicyDocument)),
    revokePolicy: existing ? decodePolicy(existing.PolicyDocument) : null,
  };
  const none: RoleChanges = { revokePolicy: null };
  const skipped = (reason: string): ActionResult => ({
    status: 'skipped',
    before,
    changes: none,
    note: `manual action required: ${reason}; its sessions stay valid until they expire; ${TRUST_REVIEW}`,
    dryRun,
    output: { roleName, serviceLinked: before.serviceLinked, manualActionRequired: true },
  });

  const untouchable = untouchableReason(
    { roleName: role?.RoleName ?? roleName, path, tags: role?.Tags },
    deps,
  );
  if (untouchable !== undefined) return skipped(untouchable);
  if (revokesSince(before.revokePolicy, input.findingTime, deps.now())) {
    const containedAt = revokedBefore(before.revokePolicy ?? '') ?? '';
    return {
      status: 'already-done',
      before,
      changes: none,
      note: `${policyName} on ${roleName} already denies sessions issued before ${containedAt}`,
      dryRun,
      output: { roleName, containedAt, serviceLinked: false, manualActionRequired: false },
    };
  }

  const containedAt = deps.now().toISOString();
  const document = revokePolicyDocument(containedAt);
  if (dryRun) {
    return {
      status: 'succeeded',
      before,
      changes: { revokePolicy: document, policyName } satisfies RoleChanges,
      note: `dry run, nothing changed: would put ${policyName} on ${roleName}, denying sessions issued before ${containedAt}`,
      dryRun: true,
      output: { roleName, containedAt, serviceLinked: false, manualActionRequired: false },
    };
  }

  try {
    await iamCall(`iam:PutRolePolicy ${roleName} ${policyName}`, `IAM role ${roleName}`, () =>
      iam.send(
        new PutRolePolicyCommand({
          RoleName: roleName,
          PolicyName: policyName,
          PolicyDocument: document,
        }),
      ),
    );
  } catch (error) {
    // A protected role under another path answers UnmodifiableEntity
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_PutRolePolicy.html).
    if (error instanceof Error && error.name === 'UnmodifiableEntityException') {
      return skipped(`IAM refused to change ${roleName} (UnmodifiableEntity: ${error.message})`);
    }
    throw error;
  }
  return {
    status: 'succeeded',
    before,
    changes: { revokePolicy: document, policyName } satisfies RoleChanges,
    note: `put ${policyName} on ${roleName}, denying sessions issued before ${containedAt}; ${TRUST_REVIEW}`,
    dryRun: false,
    output: { roleName, containedAt, serviceLinked: false, manualActionRequired: false },
  };
}
