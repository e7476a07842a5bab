/**
 * The core of `iam-root-manual`: a root credential finding cannot be contained by automation. No policy
 * can restrict the root user, nor the sessions it minted with GetSessionToken
 * (https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_temp_control-access_disable-perms.html),
 * and only the root user can manage its own access keys. So this action changes nothing: it records
 * "manual action required" and returns the steps a person must take, for the approval email.
 */
import * as z from 'zod/mini';
import { ActionEventSchema, type ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { AccessKeyIdSchema } from '../iam-common/iam.ts';

/** The action's name in the record. */
export const ROOT_MANUAL_ACTION = 'iam-root-manual';

export const RootManualInputSchema = lazySchema(() =>
  z.extend(ActionEventSchema, {
    /** The root access key the finding names, when it names one (a console session names none). */
    accessKeyId: z.optional(AccessKeyIdSchema),
    /** The account whose root user is compromised. */
    account: z.string().check(z.regex(/^\d{12}$/, 'must be a 12-digit AWS account id')),
  }),
);
export type RootManualInput = z.infer<typeof RootManualInputSchema>;

/** The action needs nothing: it makes no call. */
export type RootManualDeps = Record<string, never>;

/** One step a person takes by hand, with the page that explains it. */
export interface ManualStep {
  readonly step: string;
  readonly doc: string;
}

/** The by-hand steps for a root credential finding, in order. */
export function rootInstructions(input: Pick<RootManualInput, 'accessKeyId' | 'account'>): ManualStep[] {
  const key = input.accessKeyId;
  return [
    {
      step: `Sign in to the AWS Management Console as the root user of account ${input.account} (root email, password and MFA device).`,
      doc: 'https://docs.aws.amazon.com/signin/latest/userguide/introduction-to-root-user-sign-in-tutorial.html',
    },
    {
      step: key
        ? `In Security credentials, deactivate, then delete the root access key ${key}; delete every other root access key too (the root user should have none).`
        : 'In Security credentials, delete every root access key (the root user should have none).',
      doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_root-user_manage_delete-key.html',
    },
    {
      step: 'Change the root password, and check that the root email address and contact details are still yours.',
      doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/id_credentials_passwords_change-root.html',
    },
    {
      step: 'Enable MFA on the root user, or if it is enabled, check that the device is yours; remove any device you do not know.',
      doc: 'https://docs.aws.amazon.com/IAM/latest/UserGuide/enable-mfa-for-root.html',
    },
    {
      step: 'Sessions the root user minted with GetSessionToken stay valid until they expire (at most 1 hour for root) and no policy can deny them: watch for root activity for that hour.',
      doc: 'https://docs.aws.amazon.com/STS/latest/APIReference/API_GetSessionToken.html',
    },
    {
      step: `Review CloudTrail event history for calls by the root user (userIdentity.type Root${key ? `, accessKeyId ${key}` : ''}) since the finding's first-seen time: new IAM users, access keys, roles, policies, trust changes, and resources you did not create; undo them.`,
      doc: 'https://docs.aws.amazon.com/awscloudtrail/latest/userguide/view-cloudtrail-events.html',
    },
    {
      step: 'Record what was done as a note on this incident.',
      doc: 'https://docs.aws.amazon.com/guardduty/latest/ug/compromised-creds.html',
    },
  ];
}

/** Records that a root finding needs a person, and what that person must do. Makes no AWS call. */
export async function rootManual(_deps: RootManualDeps, event: unknown): Promise<ActionResult> {
  const input = parseOrThrow(RootManualInputSchema, event, `${ROOT_MANUAL_ACTION} input`);
  const instructions = rootInstructions(input);
  return {
    status: 'skipped',
    note: `manual action required: root credentials of account ${input.account} cannot be contained by automation`,
    dryRun: input.dryRun === true,
    output: {
      account: input.account,
      ...(input.accessKeyId ? { accessKeyId: input.accessKeyId } : {}),
      manualActionRequired: true,
      instructions,
    },
  };
}
