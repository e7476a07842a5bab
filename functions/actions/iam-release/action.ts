/** `iam-release`: after approval, restores the IAM state that the incident's containment recorded. */
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { type RoleFacts, untouchableReason, untouchableRules } from '../iam-common/untouchable.ts';
import { RELEASE_ACTION, release } from './core.ts';

export const action = defineAction({
  name: RELEASE_ACTION,
  phase: 'recovery',
  description: 'Restores IAM to its recorded state before containment',
  clients: { iam: IAMClient },
  // No PutUserPolicy or PutRolePolicy: a release only deletes its own incident's deny, never puts one.
  calls: {
    iam: [
      'ListAccessKeys',
      'UpdateAccessKey',
      'GetUserPolicy',
      'DeleteUserPolicy',
      'GetLoginProfile',
      'GetRole',
      'GetRolePolicy',
      'DeleteRolePolicy',
    ],
  },
  deps: ({ clients, recorder, settings }) => {
    const rules = untouchableRules(settings);
    return { iam: clients.iam, recorder, untouchable: (role: RoleFacts) => untouchableReason(role, rules) };
  },
  core: release,
});
