/** `iam-delete-key`: after approval, deletes the compromised access key. */
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { DELETE_KEY_ACTION, deleteKey } from './core.ts';

export const action = defineAction({
  name: DELETE_KEY_ACTION,
  phase: 'eradication',
  description: 'Deletes a compromised access key',
  clients: { iam: IAMClient },
  calls: { iam: ['ListAccessKeys', 'GetAccessKeyLastUsed', 'DeleteAccessKey'] },
  // Destructured, the settings are read and validated at cold start, as every IAM action's are, though
  // the deletion needs none of them.
  deps: ({ clients, recorder, settings: _read }) => ({ iam: clients.iam, recorder }),
  core: deleteKey,
});
