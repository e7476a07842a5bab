/** What the EC2 containment, evidence, eradication and release steps changed (or would change). */
import { arr, type Describer, list, rec, str, strs } from './fields.ts';

export const isolate: Describer = ({ before, changes, output, dryRun }) => {
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

export const protectEvidence: Describer = ({ before, changes }) => {
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

export const detach: Describer = ({ before, changes, dryRun }) => {
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

export const revokeSessions: Describer = ({ before, changes, dryRun }) => {
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

export const tag: Describer = ({ changes }) => {
  const tags = Object.entries(rec(changes.tags));
  return tags.length > 0 ? [`tags ${tags.map(([k, v]) => `${k}=${String(v)}`).join(', ')}`] : [];
};

export const snapshot: Describer = ({ step, changes, output }) => {
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

export const checkSnapshots: Describer = ({ output }) => {
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

export const eradicate: Describer = ({ step, before, changes, dryRun }) => {
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

export const ec2Release: Describer = ({ changes, dryRun }) => {
  const calls = strs(changes.calls);
  return calls.length > 0 && !dryRun ? [`restored with ${calls.join('; ')}`] : [];
};
