/** What the recovery steps chose, started, checked and validated. */
import { arr, type Describer, list, rec, str, strs } from './fields.ts';

export const choosePoint: Describer = ({ step, output }) => {
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

export const startRestore: Describer = ({ before, changes, output, dryRun }) => {
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

export const checkRestore: Describer = ({ changes, output }) => {
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

export const fromSnapshots: Describer = ({ changes, output, dryRun }) => {
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

export const validate: Describer = ({ before }) => {
  const id = str(before.instanceId);
  return id ? [`${id} ${str(before.state) ?? '?'}, volumes ${list(strs(before.volumes))}`] : [];
};
