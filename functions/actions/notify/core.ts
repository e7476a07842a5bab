/**
 * The core of `notify`: emails the approvers what a playbook could not do, so that a failure or a step
 * that needs a person is never silent. Kinds: `failure` (a state failed past its retries: what failed and
 * what state the resource was left in), `manual` (what to do by hand, e.g. root credentials).
 */
import type { SESv2Client } from '@aws-sdk/client-sesv2';
import { SendEmailCommand } from '@aws-sdk/client-sesv2';
import * as z from 'zod/mini';
import type { ActionResult } from '#shared/action';
import { parseOrThrow } from '#shared/domain';
import { lazySchema } from '#shared/lazy-schema';
import { describeError } from '#shared/log';

export const NotifyInputSchema = lazySchema(() =>
  z.looseObject({
    incidentId: z.string().check(z.minLength(1, 'must not be empty')),
    kind: z.enum(['failure', 'manual']),
    playbook: z.string(),
    executionArn: z.optional(z.string()),
    /** A Catch's `{ Error, Cause }`. */
    failure: z.optional(z.looseObject({ Error: z.optional(z.string()), Cause: z.optional(z.string()) })),
    /** For `manual`: the steps to take, each a line. */
    instructions: z.optional(z.array(z.unknown())),
    resource: z.optional(z.looseObject({ type: z.string(), id: z.string() })),
    /** Where the incident is: the finding's account and region (every playbook task sends them). */
    account: z.optional(z.string()),
    region: z.optional(z.string()),
  }),
);
export type NotifyInput = z.infer<typeof NotifyInputSchema>;

export interface NotifyDeps {
  readonly ses: Pick<SESv2Client, 'send'>;
  readonly sender: string;
  readonly approvers: readonly string[];
}

/** The cause of a Lambda failure as Step Functions gives it: JSON with `errorMessage`, or text. */
function causeText(cause: string | undefined): string {
  if (!cause) return '';
  try {
    const parsed = JSON.parse(cause) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch {
    // Plain text.
  }
  return cause;
}

function instructionLine(item: unknown): string {
  if (typeof item === 'string') return item;
  if (item !== null && typeof item === 'object' && 'step' in item) {
    const { step, doc } = item as { step: unknown; doc?: unknown };
    return `${String(step)}${typeof doc === 'string' ? ` (${doc})` : ''}`;
  }
  return JSON.stringify(item);
}

/** Where the incident is, as the payload names it: `account 123456789012, us-east-1`, or empty. */
function placeText(input: NotifyInput): string {
  const parts = [
    ...(input.account ? [`account ${input.account}`] : []),
    ...(input.region ? [input.region] : []),
  ];
  return parts.join(', ');
}

/** Builds the message: subject and text body; both name the resource and where it is. */
export function notifyMessage(input: NotifyInput): { subject: string; text: string } {
  const where = placeText(input);
  const on = `${input.resource ? ` on ${input.resource.type} ${input.resource.id}` : ''}${where ? ` in ${where}` : ''}`;
  if (input.kind === 'failure') {
    const error = input.failure?.Error ?? 'unknown error';
    const cause = causeText(input.failure?.Cause);
    return {
      subject: `[Cordon] ${input.playbook} FAILED${on} (incident ${input.incidentId})`,
      text: [
        `Cordon's ${input.playbook} playbook stopped${on}: ${error}${cause ? `: ${cause}` : ''}.`,
        '',
        'Nothing after the failed step ran. The steps before it, and the state each changed, are in the',
        `incident's record: cordon incidents show ${input.incidentId}`,
        input.executionArn ? `Execution: ${input.executionArn}` : '',
        '',
        'A person must decide what to do next.',
      ].join('\n'),
    };
  }
  return {
    subject: `[Cordon] Manual action required${on} (incident ${input.incidentId})`,
    text: [
      `Cordon cannot contain this${on} by automation. Please act by hand:`,
      '',
      ...(input.instructions ?? []).map((item, i) => `${i + 1}. ${instructionLine(item)}`),
      '',
      `Record: cordon incidents show ${input.incidentId}`,
    ].join('\n'),
  };
}

/** Emails every approver; the result lists who was told and any address that could not be. */
export async function notify(deps: NotifyDeps, input: unknown): Promise<ActionResult> {
  const parsed = parseOrThrow(NotifyInputSchema, input, 'notify input');
  const message = notifyMessage(parsed);
  const sent: string[] = [];
  const failed: { to: string; error: string }[] = [];
  for (const to of deps.approvers) {
    try {
      await deps.ses.send(
        new SendEmailCommand({
          FromEmailAddress: deps.sender,
          Destination: { ToAddresses: [to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: { Text: { Data: message.text, Charset: 'UTF-8' } },
            },
          },
        }),
      );
      sent.push(to);
    } catch (error) {
      const { name, message: text } = describeError(error);
      failed.push({ to, error: `${name}: ${text}` });
    }
  }
  if (sent.length === 0) {
    throw new Error(`could not email any approver: ${failed.map((f) => `${f.to}: ${f.error}`).join('; ')}`);
  }
  return {
    status: 'succeeded',
    changes: { emailed: sent, notEmailed: failed, subject: message.subject },
    note: `${parsed.kind === 'failure' ? 'failure' : 'manual action'} emailed to ${sent.join(', ')}${
      failed.length ? `; NOT to ${failed.map((f) => f.to).join(', ')}` : ''
    }`,
  };
}
