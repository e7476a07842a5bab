/** `iam-contain-user-key`: deactivates an IAM user's compromised access key and revokes its sessions. */
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { CONTAIN_USER_KEY_ACTION, containUserKey } from './core.ts';

export const action = defineAction({
  name: CONTAIN_USER_KEY_ACTION,
  phase: 'containment',
  description: 'Deactivates exactly the compromised key and voids its sessions',
  clients: { iam: IAMClient },
  calls: {
    iam: [
      'GetUser',
      'ListAccessKeys',
      'GetAccessKeyLastUsed',
      'GetLoginProfile',
      'ListMFADevices',
      'ListUserPolicies',
      'ListAttachedUserPolicies',
      'GetUserPolicy',
      'UpdateAccessKey',
      'PutUserPolicy',
      'DeleteLoginProfile',
    ],
  },
  deps: ({ clients, settings, recorder }) => ({
    iam: clients.iam,
    now: () => new Date(),
    settings: settings.iam,
    protectedTag: settings.protectedTag,
    recorder,
  }),
  core: containUserKey,
});
