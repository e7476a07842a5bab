/** What the IAM containment, deletion and release steps changed (or would change). */
import { type Describer, str, strs } from './fields.ts';

export const containUserKey: Describer = ({ changes, output, dryRun }) => {
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

export const deleteKey: Describer = ({ before, changes, output, dryRun }) => {
  const keys = strs(changes.deletedKeys);
  const key = keys.length > 0 ? keys.join(', ') : str(output.accessKeyId);
  if (!key) return [];
  const user = str(before.userName) ?? str(output.userName) ?? '?';
  return [`${dryRun ? 'would delete' : 'deleted'} key ${key} of ${user}; cannot be undone`];
};

export const revokeRoleSessions: Describer = ({ changes, output, dryRun }) => {
  const role = str(output.roleName) ?? '?';
  if (typeof changes.revokePolicy !== 'string') return [];
  return [`${dryRun ? 'would put' : 'put'} deny policy ${str(changes.policyName) ?? '?'} on role ${role}`];
};

export const iamRelease: Describer = ({ changes, output, dryRun }) => {
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
