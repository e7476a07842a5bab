/** `ec2-revoke-sessions`: revokes the instance role's sessions and disassociates the profile (containment). */
import { EC2Client } from '@aws-sdk/client-ec2';
import { IAMClient } from '@aws-sdk/client-iam';
import { defineAction } from '#shared/define-action';
import { untouchableRules } from '../iam-common/untouchable.ts';
import { revokeSessions } from './core.ts';

export const action = defineAction({
  name: 'ec2-revoke-sessions',
  phase: 'containment',
  description: "Removes an instance's profile and revokes its role's sessions",
  clients: { ec2: EC2Client, iam: IAMClient },
  calls: {
    ec2: ['DescribeInstances', 'DescribeIamInstanceProfileAssociations', 'DisassociateIamInstanceProfile'],
    // GetRole: the role's path and tags, to refuse the roles that must never be touched.
    iam: ['GetInstanceProfile', 'GetRole', 'GetRolePolicy', 'PutRolePolicy', 'DeleteRolePolicy'],
  },
  deps: ({ clients, settings }) => ({ ...clients, now: () => new Date(), ...untouchableRules(settings) }),
  core: revokeSessions,
});
