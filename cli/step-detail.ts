/**
 * What a step did, in one line a responder can read: the groups per interface, the key, the snapshot ids,
 * the recovery point, read from what the step recorded (its `before`, `changes`, `output`, `evidence`).
 * One describer per action kind (functions/actions/* and the steps the router, the approval gate and the
 * playbook's end write); an action without one falls back to its calls, its evidence and its note. A dry
 * run's line lists the calls it would have made.
 */
import type { Step } from '#shared/domain';

type Fields = Record<string, unknown>;

function rec(value: unknown): Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {};
}

function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function strs(value: unknown): string[] {
  return arr(value).filter((v): v is string => typeof v === 'string' && v !== '');
}

function list(values: readonly string[], none = 'none'): string {
  return values.length === 0 ? none : values.join(',');
}

/** What a describer reads of a step. */
interface Recorded {
  readonly step: Step;
  readonly before: Fields;
  readonly changes: Fields;
  readonly output: Fields;
  readonly input: Fields;
  readonly dryRun: boolean;
}

/** A describer: the facts of what the step changed (or, in a dry run, would change). */
type Describer = (r: Recorded) => string[];

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

const isolate: Describer = ({ before, changes, output, dryRun }) => {
  const parts: string[] = [];
  const stage = str(changes.stage);
  if (stage) parts.push(`${stage} stage`);
  const interfaces = arr(changes.interfaces).map(rec);
  if (interfaces.length > 0) {
    parts.push(
      `groups ${interfaces
        .map((i) => {
          const to = strs(i.to);
          return `${str(i.networkInterfaceId) ?? '?'}: ${list(strs(i.from))} → ${
            to.length > 0 ? list(to) : dryRun ? 'the isolation group' : 'none'
          }`;
        })
        .join('; ')}`,
    );
  } else if (arr(before.interfaces).length > 0) {
    parts.push(
      `groups unchanged: ${arr(before.interfaces)
        .map(rec)
        .map((i) => `${str(i.networkInterfaceId) ?? '?'}: ${list(strs(i.groups))}`)
        .join('; ')}`,
    );
  }
  const created = strs(changes.createdGroups);
  if (created.length > 0) parts.push(`${dryRun ? 'would create' : 'created'} ${created.join(', ')}`);
  const tracking = rec(changes.connectionTracking);
  const tracked = arr(tracking.interfaces)
    .map(rec)
    .map((i) => str(i.networkInterfaceId))
    .filter((i): i is string => i !== undefined);
  if (tracked.length > 0) parts.push(`connection tracking timeouts shortened on ${tracked.join(', ')}`);
  const acls = arr(changes.networkAcls).map(rec);
  if (acls.length > 0) {
    parts.push(
      `network ACL ${acls
        .map((a) => `${str(a.subnetId) ?? '?'}: ${str(a.from) ?? '?'} → ${str(a.to) ?? 'quarantine ACL'}`)
        .join('; ')}`,
    );
  }
  if (output.isolated === true) parts.push('isolated');
  return parts;
};

const protectEvidence: Describer = ({ before, changes }) => {
  const after = rec(changes.after);
  const parts: string[] = [];
  const flag = (key: string, name: string) => {
    if (key in after && before[key] !== after[key])
      parts.push(`${name} ${after[key] === true ? 'on' : 'off'}`);
  };
  flag('disableApiTermination', 'termination protection');
  flag('disableApiStop', 'stop protection');
  if (str(after.shutdownBehavior) && before.shutdownBehavior !== after.shutdownBehavior) {
    parts.push(
      `shutdown behaviour ${str(before.shutdownBehavior) ?? '?'} → ${str(after.shutdownBehavior) ?? '?'}`,
    );
  }
  const was = new Map(
    arr(before.volumes)
      .map(rec)
      .map((v) => [str(v.volumeId), v.deleteOnTermination] as const),
  );
  const kept = arr(after.volumes)
    .map(rec)
    .filter((v) => was.get(str(v.volumeId)) !== v.deleteOnTermination && v.deleteOnTermination === false)
    .map((v) => `${str(v.volumeId) ?? '?'}${str(v.deviceName) ? ` (${str(v.deviceName)})` : ''}`);
  if (kept.length > 0) parts.push(`DeleteOnTermination off for ${kept.join(', ')}`);
  return parts;
};

const detach: Describer = ({ before, changes, dryRun }) => {
  if (strs(changes.calls).length === 0) return [];
  const parts: string[] = [];
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const group = str(rec(before.autoScalingGroup).name);
  if (group) {
    parts.push(
      `${verb('detached from', 'would detach from')} Auto Scaling group ${group}${
        changes.desiredCapacityKept === true ? ' (desired capacity kept)' : ''
      }`,
    );
  }
  const targets = arr(before.targetGroups)
    .map(rec)
    .map((t) => `${str(t.targetGroupArn) ?? '?'}${typeof t.port === 'number' ? ` port ${t.port}` : ''}`);
  if (targets.length > 0)
    parts.push(`${verb('deregistered from', 'would deregister from')} target groups ${targets.join(', ')}`);
  const balancers = strs(before.loadBalancers);
  if (balancers.length > 0)
    parts.push(
      `${verb('deregistered from', 'would deregister from')} load balancers ${balancers.join(', ')}`,
    );
  return parts;
};

const revokeSessions: Describer = ({ before, changes, dryRun }) => {
  const parts: string[] = [];
  const gone = rec(changes.disassociated);
  const profile = rec(before.association);
  if (str(gone.associationId)) {
    parts.push(
      `${dryRun ? 'would disassociate' : 'disassociated'} instance profile ${
        str(profile.profileName) ?? str(gone.profileArn) ?? '?'
      } (${str(gone.associationId)})`,
    );
  }
  const policy = rec(changes.revokePolicy);
  const role = str(policy.roleName);
  if (role && str(policy.skipped)) parts.push(`sessions of role ${role} not revoked: ${str(policy.skipped)}`);
  else if (role)
    parts.push(
      `${dryRun ? 'would put' : 'put'} deny policy ${str(policy.policyName) ?? '?'} on role ${role} (sessions issued before now)`,
    );
  return parts;
};

const tag: Describer = ({ changes }) => {
  const tags = Object.entries(rec(changes.tags));
  return tags.length > 0 ? [`tags ${tags.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`] : [];
};

const snapshot: Describer = ({ step, changes, output }) => {
  const parts: string[] = [];
  // Each made snapshot as `volume → snapshot`; a record that names only the snapshot ids lists those.
  const made = arr(changes.snapshots).map((s) =>
    typeof s === 'string' ? s : `${str(rec(s).volumeId) ?? '?'} → ${str(rec(s).snapshotId) ?? '?'}`,
  );
  if (made.length > 0) {
    parts.push(`snapshots ${made.join(', ')}`);
  } else if (strs(output.snapshotIds).length > 0 && step.status === 'already-done') {
    parts.push(`snapshots already taken: ${strs(output.snapshotIds).join(', ')}`);
  }
  const console = changes.consoleOutput;
  if (typeof console === 'string') {
    parts.push(
      `console output kept (${console.length} characters${changes.consoleOutputTruncated === true ? ', truncated' : ''})`,
    );
  }
  return parts;
};

const checkSnapshots: Describer = ({ output }) => {
  const ids = strs(output.snapshotIds);
  if (ids.length === 0) return [];
  const progress = rec(output.progress);
  const completed = typeof output.completed === 'number' ? output.completed : undefined;
  const failed = strs(output.failed);
  const parts = [
    output.allCompleted === true
      ? `${ids.length} of ${ids.length} snapshots completed: ${ids.join(', ')}`
      : `${completed ?? '?'} of ${ids.length} snapshots completed: ${ids
          .map((id) => `${id} ${typeof progress[id] === 'string' ? progress[id] : '?'}`)
          .join(', ')}`,
  ];
  if (failed.length > 0) parts.push(`failed: ${failed.join(', ')}`);
  return parts;
};

const eradicate: Describer = ({ step, before, changes, dryRun }) => {
  const mode = str(changes.mode);
  if (!mode) return [];
  const id = str(before.instanceId) ?? str(rec(step.input).instanceId) ?? 'the instance';
  const parts: string[] = [];
  if (changes.disableApiStop === false) parts.push(`${dryRun ? 'would lift' : 'lifted'} stop protection`);
  if (changes.disableApiTermination === false)
    parts.push(`${dryRun ? 'would lift' : 'lifted'} termination protection`);
  const done = mode === 'terminate' ? 'terminated' : 'stopped';
  parts.push(
    `${dryRun ? `would ${mode}` : done} ${id}${str(before.state) ? ` (was ${str(before.state)})` : ''}${
      mode === 'terminate' ? '; cannot be undone' : ''
    }`,
  );
  if (step.evidence?.length) parts.push(`snapshots kept: ${step.evidence.join(', ')}`);
  return parts;
};

const ec2Release: Describer = ({ changes, dryRun }) => {
  const calls = strs(changes.calls);
  return calls.length > 0 && !dryRun ? [`restored with ${calls.join('; ')}`] : [];
};

const containUserKey: Describer = ({ changes, output, dryRun }) => {
  const user = str(output.userName) ?? '?';
  const parts: string[] = [];
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const keys = strs(changes.deactivatedKeys);
  const planned =
    dryRun && keys.length === 0 && str(output.accessKeyId) ? [str(output.accessKeyId) ?? ''] : keys;
  if (planned.length > 0)
    parts.push(`${verb('deactivated', 'would deactivate')} key ${planned.join(', ')} of ${user}`);
  else if (str(output.accessKeyId)) parts.push(`key ${str(output.accessKeyId)} of ${user}`);
  if (typeof changes.revokePolicy === 'string')
    parts.push(`${verb('put', 'would put')} deny policy ${str(changes.policyName) ?? '?'} on user ${user}`);
  if (changes.deletedLoginProfile === true)
    parts.push(`${verb('deleted', 'would delete')} the console login profile`);
  const left = strs(output.keysLeftActive);
  if (left.length > 0) parts.push(`left active: ${left.join(', ')}`);
  return parts;
};

const deleteKey: Describer = ({ before, changes, output, dryRun }) => {
  const keys = strs(changes.deletedKeys);
  const key = keys.length > 0 ? keys.join(', ') : str(output.accessKeyId);
  if (!key) return [];
  const user = str(before.userName) ?? str(output.userName) ?? '?';
  return [`${dryRun ? 'would delete' : 'deleted'} key ${key} of ${user}; cannot be undone`];
};

const revokeRoleSessions: Describer = ({ changes, output, dryRun }) => {
  const role = str(output.roleName) ?? '?';
  if (typeof changes.revokePolicy !== 'string') return [];
  return [`${dryRun ? 'would put' : 'put'} deny policy ${str(changes.policyName) ?? '?'} on role ${role}`];
};

const iamRelease: Describer = ({ changes, output, dryRun }) => {
  const parts: string[] = [];
  const verb = (done: string, would: string) => (dryRun ? would : done);
  const keys = strs(changes.reactivatedKeys);
  if (keys.length > 0) parts.push(`${verb('reactivated', 'would reactivate')} key ${keys.join(', ')}`);
  const policies = strs(changes.removedRevokePolicies);
  if (policies.length > 0)
    parts.push(`${verb('removed', 'would remove')} deny policy from ${policies.join(', ')}`);
  const deleted = strs(output.deletedKeys);
  if (deleted.length > 0) parts.push(`not reactivated, deleted since: ${deleted.join(', ')}`);
  const reset = strs(output.needsPasswordReset);
  if (reset.length > 0) parts.push(`console password to set again by hand for ${reset.join(', ')}`);
  return parts;
};

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

const choosePoint: Describer = ({ step, output }) => {
  const point = str(output.recoveryPointArn);
  const passed = arr(output.passedOver).length;
  if (!point) return step.note ? [step.note] : ['no recovery point: recovery falls back to snapshots'];
  return [
    `recovery point ${point}${str(output.createdAt) ? ` (created ${str(output.createdAt)}` : ' ('}${
      str(output.vaultName) ? `, vault ${str(output.vaultName)}` : ''
    })`,
    ...(passed > 0 ? [`passed over ${passed}`] : []),
  ];
};

const startRestore: Describer = ({ before, changes, output, dryRun }) => {
  const parts: string[] = [];
  const point = str(before.recoveryPointArn) ?? '?';
  const job = str(output.restoreJobId);
  parts.push(dryRun || !job ? `would start a restore job from ${point}` : `restore job ${job} from ${point}`);
  const overridden = Object.keys(rec(changes.overridden));
  if (overridden.length > 0) parts.push(`metadata overridden: ${overridden.join(', ')}`);
  const removed = strs(changes.removed);
  if (removed.length > 0) parts.push(`metadata removed: ${removed.join(', ')}`);
  const dropped = arr(changes.droppedGroups).map((g) =>
    typeof g === 'string' ? g : (str(rec(g).groupId) ?? '?'),
  );
  if (dropped.length > 0) parts.push(`groups dropped: ${dropped.join(', ')}`);
  return parts;
};

const checkRestore: Describer = ({ changes, output }) => {
  const job = str(output.restoreJobId);
  if (!job) return [];
  const parts = [
    `restore job ${job} ${str(output.status) ?? '?'}${str(output.percentDone) ? ` (${str(output.percentDone)})` : ''}`,
  ];
  if (str(output.createdResourceArn)) parts.push(`created ${str(output.createdResourceArn)}`);
  const tags = Object.keys(rec(changes.tags));
  if (tags.length > 0) parts.push(`tagged ${tags.join(', ')}`);
  return parts;
};

const fromSnapshots: Describer = ({ changes, output, dryRun }) => {
  const parts: string[] = [];
  const created = arr(changes.created).map(rec);
  if (created.length > 0) {
    parts.push(
      `volumes ${created
        .map(
          (v) =>
            `${str(v.volumeId) ?? (dryRun ? '(new)' : '?')} from ${str(v.fromSnapshot) ?? '?'} (of ${str(v.sourceVolume) ?? '?'}${
              str(v.deviceName) ? ` at ${str(v.deviceName)}` : ''
            })`,
        )
        .join(', ')}, left unattached`,
    );
  } else parts.push('no volume created');
  const missing = strs(output.missing);
  if (missing.length > 0) parts.push(`no snapshot before first-seen for ${missing.join(', ')}`);
  if (output.partial === true) parts.push('partial recovery: an operator must finish it');
  return parts;
};

const validate: Describer = ({ before }) => {
  const id = str(before.instanceId);
  return id ? [`${id} ${str(before.state) ?? '?'}, volumes ${list(strs(before.volumes))}`] : [];
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
