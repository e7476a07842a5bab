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
  alarms: [],
  securityHubProducts: ['aws/guardduty'],
  // Roles a release or a restore may give back to an instance (iam:PassRole to EC2 on these only).
  instanceRoles: [],
  // Break-glass roles, never changed by automation.
  breakGlassRoles: [],
  // consolePrincipals: who may decide from the console (`cordon approvals approve|reject`), as IAM ARN
  // patterns of people's roles, e.g. an IAM Identity Center permission set's sessions; none: links only.
  approval: { timeoutMinutes: 60, consolePrincipals: [] },
});
