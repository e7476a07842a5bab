/** `iam-revoke-role-sessions`: voids every session of a role issued before the time of containment. */
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { untouchableRules } from '../iam-common/untouchable.ts';
import { REVOKE_ROLE_SESSIONS_ACTION, revokeRoleSessions } from './core.ts';

export const action = defineAction({
  name: REVOKE_ROLE_SESSIONS_ACTION,
  phase: 'containment',
  description: "Revokes a role's sessions issued before containment",
  clients: { iam: IAMClient },
  calls: { iam: ['GetRole', 'GetRolePolicy', 'PutRolePolicy'] },
  deps: ({ clients, settings }) => ({
    iam: clients.iam,
    now: () => new Date(),
    ...untouchableRules(settings),
  }),
  core: revokeRoleSessions,
});
