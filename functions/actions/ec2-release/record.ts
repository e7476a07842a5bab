/**
 * What `ec2-release` reads of the incident's verified record: for each containment action, the first step
 * that succeeded (not a dry run) holds the state before the incident, and its `changes` must record the
 * change being undone (the network ACL replaced, the memberships removed, the incident's deny put), or the
 * release refuses. {@link readPlan} turns the steps into what to put back.
 */
import * as z from 'zod/mini';
import type { Step } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import {
  type DetachBefore,
  DetachBeforeSchema,
  IsolateAclChangesSchema,
  type IsolateBefore,
  IsolateBeforeSchema,
  type ProtectBefore,
  ProtectBeforeSchema,
  type RevokeBefore,
  RevokeBeforeSchema,
  type TagBefore,
  TagBeforeSchema,
} from '../ec2-common/records.ts';
import { detachCalls } from '../ec2-detach/memberships.ts';
import { ReleaseRefusedError } from './errors.ts';

/** What the release reads of the audit record: the steps, verified (an `AuditRecorder` has it). */
export interface StepSource {
  verified(incidentId: string): Promise<{
    readonly steps: readonly Pick<
      Step,
      'seq' | 'action' | 'status' | 'before' | 'changes' | 'dryRun' | 'recordedAt'
    >[];
  }>;
}

type Steps = Awaited<ReturnType<StepSource['verified']>>['steps'];
type RecordedStep = Steps[number];

/** Steps of one action for the instance, each with its `before` read. */
type Recorded<T> = { step: RecordedStep; before: T }[];

/** Every succeeded step of `action` for the instance (not a dry run), with its `before` read; oldest first. */
function recorded<T extends { instanceId: string }>(
  steps: Steps,
  action: string,
  schema: z.ZodMiniType<T>,
  instanceId: string,
): Recorded<T> {
  const found: Recorded<T> = [];
  for (const step of steps) {
    if (step.action !== action || step.status !== 'succeeded' || step.dryRun === true) continue;
    const parsed = z.safeParse(schema, step.before);
    if (!parsed.success) {
      throw new ReleaseRefusedError(`step ${step.seq} (${action}) has a before the release cannot read`);
    }
    if (parsed.data.instanceId === instanceId) found.push({ step, before: parsed.data });
  }
  return found;
}

/** A subnet's network ACL as the incident changed it: the one it had, and the quarantine put instead. */
export interface AclUndo {
  subnetId: string;
  networkAclId: string;
  quarantineAclId: string;
  seq: number;
}

/** The deny this incident put on a role: the last document its steps recorded putting there. */
export interface DenyUndo {
  roleName: string;
  put: { document: string; seq: number; recordedAt: string };
}

/** What the record says to put back, action by action. */
export interface ReleasePlan {
  isolate?: IsolateBefore;
  acls: AclUndo[];
  protect?: ProtectBefore;
  detach?: DetachBefore;
  revoke?: RevokeBefore;
  denies: DenyUndo[];
  tags?: TagBefore;
}

const RevokeChangesSchema = lazySchema(() =>
  z.looseObject({
    revokePolicy: z.optional(
      z.looseObject({
        policyName: z.optional(z.string()),
        roleName: z.string(),
        document: z.optional(z.string()),
      }),
    ),
  }),
);

const CallsSchema = lazySchema(() => z.looseObject({ calls: z.array(z.string()) }));

/**
 * The subnets whose network ACL the incident replaced: each taken from a step that records both the ACL
 * the subnet had (its `before`) and the replacement, from that ACL to the quarantine (its `changes`).
 */
function aclUndos(isolations: Recorded<IsolateBefore>): AclUndo[] {
  const acls = new Map<string, AclUndo>();
  for (const { step, before } of isolations) {
    const changes = z.safeParse(IsolateAclChangesSchema, step.changes);
    for (const acl of before.networkAcls) {
      if (acls.has(acl.subnetId)) continue;
      const change = changes.success
        ? changes.data.networkAcls?.find((c) => c.subnetId === acl.subnetId && c.from === acl.networkAclId)
        : undefined;
      if (!change) {
        throw new ReleaseRefusedError(
          `step ${step.seq} (ec2-isolate) records the network ACL of ${acl.subnetId} before containment but not that it replaced it`,
        );
      }
      acls.set(acl.subnetId, {
        subnetId: acl.subnetId,
        networkAclId: acl.networkAclId,
        quarantineAclId: change.to,
        seq: step.seq,
      });
    }
  }
  return [...acls.values()];
}

/**
 * The memberships the incident took away: the first detach step's `before`, every membership of which
 * its `changes.calls` must record removing, of this instance. Anything else is refused, not given back.
 */
function detachUndo(detaches: Recorded<DetachBefore>, instanceId: string): DetachBefore | undefined {
  const first = detaches[0];
  if (!first) return undefined;
  const { step, before } = first;
  const changes = z.safeParse(CallsSchema, step.changes);
  const calls = changes.success ? changes.data.calls : [];
  const unrecorded = [
    ...(before.autoScalingGroup
      ? [detachCalls.autoScalingGroup(before.autoScalingGroup.name, instanceId)]
      : []),
    ...before.targetGroups.map((t) => detachCalls.targetGroup(t.targetGroupArn, instanceId)),
    ...before.loadBalancers.map((name) => detachCalls.loadBalancer(name, instanceId)),
  ].filter((call) => !calls.includes(call));
  if (unrecorded.length > 0) {
    throw new ReleaseRefusedError(
      `step ${step.seq} (ec2-detach) records memberships of ${instanceId} that it does not record removing (${unrecorded.join(', ')}): the release gives back only what containment took away; restore them by hand if they are right`,
    );
  }
  return before;
}

/**
 * The denies the incident put, by role: from each revoke step's own `changes`, which must name the
 * incident's policy ({@link revokePolicyName}) and the role of its own `before`; the last one per role is
 * what the role should carry now.
 */
function denyUndos(revokes: Recorded<RevokeBefore>, policyName: string): DenyUndo[] {
  const denies = new Map<string, DenyUndo>();
  for (const { step, before } of revokes) {
    const changes = z.safeParse(RevokeChangesSchema, step.changes);
    const put = changes.success ? changes.data.revokePolicy : undefined;
    if (put?.document === undefined) continue;
    if (put.policyName !== policyName || put.roleName !== before.role?.roleName) {
      throw new ReleaseRefusedError(
        `step ${step.seq} (ec2-revoke-sessions) records putting ${put.policyName ?? 'a policy'} on role ${put.roleName}, not this incident's ${policyName} on the role of its instance profile (${before.role?.roleName ?? 'none'}): review the role's policies and remove the deny by hand`,
      );
    }
    denies.set(put.roleName, {
      roleName: put.roleName,
      put: { document: put.document, seq: step.seq, recordedAt: step.recordedAt },
    });
  }
  return [...denies.values()];
}

/** What the record says to put back for the instance; `policyName` is the incident's own deny. */
export function readPlan(steps: Steps, instanceId: string, policyName: string): ReleasePlan {
  const isolations = recorded(steps, 'ec2-isolate', IsolateBeforeSchema, instanceId);
  const revokes = recorded(steps, 'ec2-revoke-sessions', RevokeBeforeSchema, instanceId);
  return {
    isolate: isolations[0]?.before,
    acls: aclUndos(isolations),
    protect: recorded(steps, 'ec2-protect-evidence', ProtectBeforeSchema, instanceId)[0]?.before,
    detach: detachUndo(recorded(steps, 'ec2-detach', DetachBeforeSchema, instanceId), instanceId),
    revoke: revokes.find((r) => r.before.association !== null)?.before,
    denies: denyUndos(revokes, policyName),
    tags: recorded(steps, 'ec2-tag', TagBeforeSchema, instanceId)[0]?.before,
  };
}
