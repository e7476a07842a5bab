/**
 * The core of `ec2-revoke-sessions`: cuts the instance off from its role.
 * 1. Puts the incident's own inline policy on the profile's role ({@link revokePolicyName}:
 *    `cordon-revoke-sessions-<incident>`) that denies everything to sessions issued before now
 *    (`DateLessThan` on `aws:TokenIssueTime`), the document the IAM console's "Revoke active sessions"
 *    writes (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_revoke-sessions.html).
 *    Credentials already handed to the instance (and copied off it) stop working; sessions issued later
 *    are not affected. It applies to every session of the role, on every instance that uses it: that is
 *    how AWS revokes, and the `note` says so. Another incident's deny on the same role (another instance
 *    with the same profile) is not relied on: its cut-off is older, so sessions issued since would
 *    survive, and its release would take it away; this incident adds its own, which only its own release
 *    removes. A role that must never be touched ({@link untouchableReason}: service-linked, whose sessions
 *    cannot be revoked (same page), AWS-reserved, CDK bootstrap, Cordon's own, break-glass, or carrying
 *    the protected tag, approved or not) gets no policy: the skip and its reason are recorded, and a
 *    person acts.
 * 2. Disassociates the instance profile, so that the instance gets no new credentials
 *    (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DisassociateIamInstanceProfile.html). That
 *    changes the instance, not the role: it is done for an untouchable role too.
 * The policy goes first: it is what ends the credentials already out.
 *
 * The role's path and tags come from GetRole (GetInstanceProfile's roles carry no tags), read together with
 * its revoke policy, so the check adds no call in sequence.
 *
 * Neither IAM nor DisassociateIamInstanceProfile has a DryRun parameter: a dry run reads and reports.
 *
 * AWS calls: DescribeInstances, DescribeIamInstanceProfileAssociations, GetInstanceProfile, GetRole and
 * GetRolePolicy (in parallel), PutRolePolicy, DisassociateIamInstanceProfile.
 */
import {
  DescribeIamInstanceProfileAssociationsCommand,
  DisassociateIamInstanceProfileCommand,
  type IamInstanceProfileAssociation,
} from '@aws-sdk/client-ec2';
import {
  DeleteRolePolicyCommand,
  GetInstanceProfileCommand,
  GetRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { awsCall } from '#shared/aws';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { eachPage, nextToken } from '#shared/pages';
import {
  assertNotProtected,
  describeLiveInstance,
  Ec2EventSchema,
  type Ec2Sender,
  isAwsError,
  mutation,
  newPlan,
} from '../ec2-common/instance.ts';
import type { RevokeBefore } from '../ec2-common/records.ts';
import { revokePolicyDocument, revokePolicyName } from '../iam-common/iam.ts';
import { untouchableReason } from '../iam-common/untouchable.ts';

/** The event of `ec2-revoke-sessions`. */
export const RevokeInputSchema = lazySchema(() =>
  z.extend(Ec2EventSchema, { approved: z.optional(z.boolean()) }),
);

/**
 * What the core needs: the EC2 and IAM clients, the clock (the revocation time), the protected tag (an
 * instance with it is contained only after approval; a role with it is never changed), and what else makes
 * a role untouchable.
 */
export interface RevokeDeps {
  readonly ec2: Ec2Sender;
  readonly iam: Pick<IAMClient, 'send'>;
  readonly now: () => Date;
  readonly protectedTag: { readonly key: string; readonly value: string };
  /** The settings' `breakGlassRoles`. Default none. */
  readonly breakGlassRoles?: readonly string[];
  /** Cordon's stack name, whose roles are `<stack>-*`. Default: only `cordon-*` counts as Cordon's. */
  readonly stackName?: string | undefined;
}

/** The instance's current profile association (`associating` or `associated`), if any. */
export async function currentAssociation(
  ec2: Ec2Sender,
  instanceId: string,
): Promise<IamInstanceProfileAssociation | undefined> {
  const doing = `ec2:DescribeIamInstanceProfileAssociations ${instanceId}`;
  // The first association on any page: a page may come back empty with a token for the rest.
  for await (const page of eachPage({
    doing,
    fetch: (NextToken) =>
      awsCall(doing, () =>
        ec2.send(
          new DescribeIamInstanceProfileAssociationsCommand({
            Filters: [
              { Name: 'instance-id', Values: [instanceId] },
              { Name: 'state', Values: ['associating', 'associated'] },
            ],
            NextToken,
          }),
        ),
      ),
    next: nextToken,
  })) {
    const association = page.IamInstanceProfileAssociations?.find((a) => a.InstanceId === instanceId);
    if (association) return association;
  }
  return undefined;
}

/** Reads a role's inline policy, URL-decoded, or null when the role has none of that name. */
export async function rolePolicy(
  iam: RevokeDeps['iam'],
  roleName: string,
  policyName: string,
): Promise<string | null> {
  try {
    const out = await awsCall(`iam:GetRolePolicy ${roleName} ${policyName}`, () =>
      iam.send(new GetRolePolicyCommand({ RoleName: roleName, PolicyName: policyName })),
    );
    // IAM returns policy documents URL-encoded
    // (https://docs.aws.amazon.com/IAM/latest/APIReference/API_GetRolePolicy.html).
    return out.PolicyDocument === undefined ? null : decodeURIComponent(out.PolicyDocument);
  } catch (error) {
    if (isAwsError(error, 'NoSuchEntity', 'NoSuchEntityException')) return null;
    throw error;
  }
}

/** Revokes the role's sessions and disassociates the profile. */
export async function revokeSessions(deps: RevokeDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(RevokeInputSchema, event, 'ec2-revoke-sessions input');
  const plan = newPlan(input.dryRun);
  const id = input.instanceId;
  const policyName = revokePolicyName(input.incidentId);
  const instance = await describeLiveInstance(deps.ec2, id);
  assertNotProtected(instance, deps.protectedTag, input.approved);
  const association = await currentAssociation(deps.ec2, id);
  const dryRun = plan.dryRun ? { dryRun: true } : {};
  if (!association?.AssociationId || !association.IamInstanceProfile?.Arn) {
    return {
      status: 'already-done',
      before: { instanceId: id, association: null, role: null } satisfies RevokeBefore,
      changes: { calls: [] },
      note: 'no instance profile is associated with the instance',
      ...dryRun,
    };
  }
  const associationId = association.AssociationId;
  const profileArn = association.IamInstanceProfile.Arn;
  const profileName = profileArn.split('/').pop() ?? profileArn;
  const profile = await awsCall(`iam:GetInstanceProfile ${profileName}`, () =>
    deps.iam.send(new GetInstanceProfileCommand({ InstanceProfileName: profileName })),
  );
  // An instance profile holds at most one role
  // (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_use_switch-role-ec2_instance-profiles.html).
  const role = profile.InstanceProfile?.Roles?.[0];
  const roleName = role?.RoleName;
  const rolePath = role?.Path ?? '/';
  const before: RevokeBefore = {
    instanceId: id,
    association: { associationId, profileArn, profileName },
    role: roleName ? { roleName, path: rolePath, revokePolicy: null } : null,
  };
  const notes: string[] = [];
  let policy: { roleName: string; document: string } | { roleName: string; skipped: string } | undefined;
  if (roleName && before.role) {
    const [got, existing] = await Promise.all([
      awsCall(`iam:GetRole ${roleName}`, () => deps.iam.send(new GetRoleCommand({ RoleName: roleName }))),
      rolePolicy(deps.iam, roleName, policyName),
    ]);
    // The incident's own policy, recorded as it is, skipped or not (normally none: a retry found one its
    // first attempt put but did not record).
    before.role.revokePolicy = existing;
    const reason = untouchableReason(
      { roleName, path: got.Role?.Path ?? rolePath, tags: got.Role?.Tags },
      deps,
    );
    if (reason !== undefined) {
      policy = { roleName, skipped: reason };
      notes.push(`skipped the session revocation: ${reason}; manual action required`);
    } else {
      // Always a fresh cut-off, even over the incident's own earlier deny: sessions since would survive it.
      const document = revokePolicyDocument(deps.now().toISOString());
      await mutation(plan, `iam:PutRolePolicy ${roleName} ${policyName}`, () =>
        deps.iam.send(
          new PutRolePolicyCommand({
            RoleName: roleName,
            PolicyName: policyName,
            PolicyDocument: document,
          }),
        ),
      );
      policy = { roleName, document };
      notes.push(
        `every session of role ${roleName} issued before now is denied, on every instance that uses it`,
      );
    }
  }
  try {
    await mutation(plan, `ec2:DisassociateIamInstanceProfile ${associationId}`, () =>
      deps.ec2.send(new DisassociateIamInstanceProfileCommand({ AssociationId: associationId })),
    );
  } catch (error) {
    // Keep the state before: a failed step is not undone by the release, so the deny it put goes with it.
    if (policy && 'document' in policy && !plan.dryRun && before.role?.revokePolicy === null) {
      const name = policy.roleName;
      await deps.iam
        .send(new DeleteRolePolicyCommand({ RoleName: name, PolicyName: policyName }))
        .catch((undoError: unknown) => {
          if (error instanceof Error) {
            error.message += `; could not remove ${policyName} from ${name}: ${String(undoError)}`;
          }
        });
    }
    throw error;
  }
  return {
    status: 'succeeded',
    before,
    changes: {
      calls: plan.calls,
      disassociated: { associationId, profileArn },
      ...(policy ? { revokePolicy: { policyName, ...policy } } : {}),
    },
    note: notes.join('; '),
    ...dryRun,
  };
}
