/**
 * Cordon's settings (the Preparation phase): who approves, from which address, what starts a playbook
 * and how. Validated at synth (`npx cdk synth`); see functions/shared/settings.ts for every field.
 */
import { defineSettings } from './functions/shared/settings.ts';

export default defineSettings({
  approvers: ['security-oncall@example.com'],
  sender: 'cordon@example.com',
  severityThreshold: 4,
  protectedTag: { key: 'cordon:protected', value: 'true' },
  maxAutomaticContainmentsPerHour: 5,
  playbookModes: {
    'ec2-compromise': 'automatic',
    'iam-credential-compromise': 'automatic',
  },
  suppressions: [],
  // CloudWatch alarms that start a playbook: none until you map some. An alarm is matched by its exact
  // `name` or by a name `prefix`; only a change into ALARM starts anything. The instance comes from the
  // alarm's InstanceId dimension; a composite alarm has none, so give it a `resourceId`. `severity` (0 to
  // 10, default 7) meets severityThreshold as a finding's does. For example (uncomment to use):
  alarms: [
    // { name: 'ServerCpuTooHigh', playbook: 'ec2-compromise', severity: 7 },
    // { prefix: 'TotalNetwork', playbook: 'ec2-compromise', severity: 6 },
    // {
    //   name: 'ServiceAggregatedAlarm',
    //   playbook: 'ec2-compromise',
    //   resourceType: 'instance',
    //   resourceId: 'i-0aggregated00000001',
    //   severity: 8,
    // },
  ],
  securityHubProducts: ['aws/guardduty'],
  // Roles a release or a restore may give back to an instance (iam:PassRole to EC2 on these only).
  instanceRoles: [],
  // Break-glass roles, never changed by automation.
  breakGlassRoles: [],
  // consolePrincipals: who may decide from the console (`cordon approvals approve|reject`), as IAM ARN
  // patterns of people's roles, e.g. an IAM Identity Center permission set's sessions; none: links only.
  approval: { timeoutMinutes: 60, consolePrincipals: [] },
  // The organization Cordon responds in from this (the security) account. Without it, only this account
  // and its region are acted in; a finding from anywhere else is recorded, and a person responds. To act in
  // member accounts (uncomment and fill in; `cordon prepare` writes `unitAccounts` from Organizations):
  // organization: {
  //   id: 'o-exampleorgid',                     // the responder role trusts only this organization
  //   externalId: 'a-secret-only-cordon-gives',  // and only callers that give this external id
  //   responderRoleName: 'cordon-responder',     // the role deployed to each member (a StackSet)
  //   organizationalUnits: ['ou-ab12-cdef3456'], // where the role is deployed; their accounts are in scope
  //   accounts: ['210987654321'],                // members in scope besides the units' accounts
  //   excludedAccounts: ['111122223333'],        // never acted in, even in a unit
  //   regions: ['eu-west-1'],                    // regions covered besides this one
  //   maxAutomaticContainmentsPerHour: 20,       // the whole organization's limit, besides each account's
  //   perAccount: {
  //     '210987654321': { playbookModes: { 'ec2-compromise': 'approval-first' }, maxAutomaticContainmentsPerHour: 2 },
  //   },
  // },
});
