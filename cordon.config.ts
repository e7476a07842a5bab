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
});
