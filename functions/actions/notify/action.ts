/** `notify`: emails the approvers a playbook's failure, or a step a person must take by hand. */
import { SESv2Client } from '@aws-sdk/client-sesv2';
import { defineAction } from '#shared/define-action';
import { notify } from './core.ts';

export const action = defineAction({
  name: 'notify',
  phase: 'lessons-learned',
  description: 'Emails the approvers a failure or a step to take by hand',
  clients: { ses: SESv2Client },
  // From the settings' sender identity only.
  calls: { ses: ['SendEmail'] },
  // The emails go from the hub's SES identity, whatever account the incident is in.
  inHub: true,
  deps: ({ clients, settings }) => ({
    ses: clients.ses,
    sender: settings.sender,
    approvers: settings.approvers,
  }),
  core: notify,
});
