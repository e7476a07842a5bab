/**
 * What a step did, in one line a responder can read: the groups per interface, the key, the snapshot ids,
 * the recovery point, read from what the step recorded (its `before`, `changes`, `output`, `evidence`).
 * One describer per action kind (functions/actions/* and the steps the router, the approval gate and the
 * playbook's end write); an action without one falls back to its calls, its evidence and its note. A dry
 * run's line lists the calls it would have made.
 *
 * The describers are by service: `step-detail/ec2.ts`, `step-detail/iam.ts`, `step-detail/recovery.ts`.
 */
import type { Step } from '#shared/domain';
import {
  checkSnapshots,
  detach,
  ec2Release,
  eradicate,
  isolate,
  protectEvidence,
  revokeSessions,
  snapshot,
  tag,
} from './step-detail/ec2.ts';
import { arr, type Describer, type Recorded, rec, str, strs } from './step-detail/fields.ts';
import { containUserKey, deleteKey, iamRelease, revokeRoleSessions } from './step-detail/iam.ts';
import { checkRestore, choosePoint, fromSnapshots, startRestore, validate } from './step-detail/recovery.ts';

/** Describers whose facts already say what the step's note says, when the step succeeded. */
const NOTE_REPEATS = new Set([
  'iam-contain-user-key',
  'iam-delete-key',
  'iam-revoke-role-sessions',
  'iam-release',
  'recover-from-snapshots',
  'recover-choose-point',
  'mark-incident',
  'notify',
]);

const markIncident: Describer = ({ before, changes }) => {
  const parts: string[] = [];
  const to = str(changes.status);
  if (to) parts.push(`status ${str(before.status) ?? '?'} → ${to}`);
  for (const key of ['containedAt', 'recoveredAt', 'closedAt']) {
    const at = str(changes[key]);
    if (at) parts.push(`${key.replace('At', '')} at ${at}`);
  }
  const released = arr(changes.releasedOpenMarkers);
  if (released.length > 0) parts.push(`released ${released.length} open marker(s)`);
  return parts;
};

const notify: Describer = ({ changes }) => {
  const parts: string[] = [];
  const sent = strs(changes.emailed);
  if (sent.length > 0)
    parts.push(`emailed ${sent.join(', ')}${str(changes.subject) ? `: "${str(changes.subject)}"` : ''}`);
  const failed = arr(changes.notEmailed).map((f) => (typeof f === 'string' ? f : (str(rec(f).to) ?? '?')));
  if (failed.length > 0) parts.push(`NOT emailed: ${failed.join(', ')}`);
  return parts;
};

const playbookEnded: Describer = ({ changes }) => {
  const released = arr(changes.releasedOpenMarkers);
  return released.length > 0 ? [`released ${released.length} open marker(s)`] : [];
};

/** The describer of each action kind; an action not named here is described by {@link fallback}. */
export const DESCRIBERS: Readonly<Record<string, Describer>> = {
  'ec2-isolate': isolate,
  'ec2-protect-evidence': protectEvidence,
  'ec2-detach': detach,
  'ec2-revoke-sessions': revokeSessions,
  'ec2-tag': tag,
  'ec2-snapshot': snapshot,
  'ec2-check-snapshots': checkSnapshots,
  'ec2-eradicate': eradicate,
  'ec2-release': ec2Release,
  'iam-contain-user-key': containUserKey,
  'iam-delete-key': deleteKey,
  'iam-revoke-role-sessions': revokeRoleSessions,
  'iam-release': iamRelease,
  'mark-incident': markIncident,
  notify,
  'recover-choose-point': choosePoint,
  'recover-start-restore': startRestore,
  'recover-check-restore': checkRestore,
  'recover-from-snapshots': fromSnapshots,
  'recover-validate': validate,
  'playbook-ended': playbookEnded,
};

/** An action without a describer: the calls it made, then its evidence. */
const fallback: Describer = ({ step, changes, dryRun }) => {
  const calls = strs(changes.calls);
  return [
    ...(calls.length > 0 && !dryRun ? [`calls ${calls.join('; ')}`] : []),
    ...(step.evidence?.length ? [`evidence ${step.evidence.join(', ')}`] : []),
  ];
};

/**
 * The AWS calls a dry run would have made: the EC2 actions record them (`changes.calls`); the IAM actions
 * record what they would change, from which the calls follow.
 */
export function plannedCalls(step: Step): string[] {
  const changes = rec(step.changes);
  const output = rec(step.output);
  const calls = strs(changes.calls);
  if (calls.length > 0) return calls;
  const user = str(output.userName) ?? '?';
  switch (step.action) {
    case 'iam-contain-user-key': {
      const keys = strs(changes.deactivatedKeys);
      const key = str(output.accessKeyId);
      return [
        ...(keys.length > 0 ? keys : key ? [key] : []).map((k) => `iam:UpdateAccessKey ${k} Inactive`),
        ...(typeof changes.revokePolicy === 'string'
          ? [`iam:PutUserPolicy ${user} ${str(changes.policyName) ?? '?'}`]
          : []),
        ...(changes.deletedLoginProfile === true ? [`iam:DeleteLoginProfile ${user}`] : []),
      ];
    }
    case 'iam-delete-key':
      return strs(changes.deletedKeys).map((k) => `iam:DeleteAccessKey ${k}`);
    case 'iam-revoke-role-sessions':
      return typeof changes.revokePolicy === 'string'
        ? [`iam:PutRolePolicy ${str(output.roleName) ?? '?'} ${str(changes.policyName) ?? '?'}`]
        : [];
    case 'iam-release':
      return [
        ...strs(changes.reactivatedKeys).map((k) => `iam:UpdateAccessKey ${k} Active`),
        ...strs(changes.removedRevokePolicies).map((who) =>
          who.startsWith('role/')
            ? `iam:DeleteRolePolicy ${who.slice(5)}`
            : `iam:DeleteUserPolicy ${who.replace(/^user\//, '')}`,
        ),
      ];
    default:
      return [];
  }
}

/** The facts of what a step changed (or would change), without its note and error. */
export function stepChanges(step: Step): string[] {
  const recorded: Recorded = {
    step,
    before: rec(step.before),
    changes: rec(step.changes),
    output: rec(step.output),
    input: rec(step.input),
    dryRun: step.dryRun === true,
  };
  return (DESCRIBERS[step.action] ?? fallback)(recorded);
}

/**
 * One line: what the step changed (or, in a dry run, the calls it would have made and what they would
 * change), then its note, or its error for a failed step.
 */
export function describeStep(step: Step): string {
  if (step.status === 'started') return step.note ?? '';
  const parts: string[] = [];
  const dryRun = step.dryRun === true && step.status !== 'failed';
  if (step.error) parts.push(`${step.error.name}: ${step.error.message}`);
  if (dryRun) parts.push('dry run');
  parts.push(...stepChanges(step));
  const repeats = NOTE_REPEATS.has(step.action) && step.status === 'succeeded';
  if (step.note && !repeats && !parts.includes(step.note)) parts.push(step.note);
  if (dryRun) {
    const calls = plannedCalls(step);
    parts.push(calls.length > 0 ? `would call: ${calls.join(', ')}` : 'no AWS call needed');
  }
  if (parts.length === 0 && step.evidence?.length) parts.push(`evidence ${step.evidence.join(', ')}`);
  return parts.join('; ');
}
