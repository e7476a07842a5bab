/**
 * The approval emails (text and HTML, one per approver, each with the approver's own link), the
 * timeout notice, and sending with retries through SES v2.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { describeError } from '#shared/log';
import { actionEffect } from './actions.ts';
import {
  actionRows,
  defaultWord,
  evidenceRows,
  type Row,
  rehearsalBanner,
  resourceRows,
  summaryRows,
  utc,
} from './facts.ts';
import { escapeHtml } from './html.ts';
import type { ApprovalRequest } from './model.ts';

/** What the email code needs of an SES v2 client. */
export type EmailSender = Pick<SESv2Client, 'send'>;

/** One email, ready to send. */
export interface EmailMessage {
  readonly to: string;
  readonly subject: string;
  readonly text: string;
  readonly html: string;
}

/** How sending retries. Default 3 attempts, 200 ms then 400 ms between them. */
export interface RetryOptions {
  readonly attempts?: number;
  readonly baseDelayMs?: number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What every email of a request lists: what it does and whether it can be undone, the finding, the resource, the evidence. */
function facts(request: ApprovalRequest): Row[] {
  return [
    ...actionRows(request),
    ...summaryRows(request),
    ...resourceRows(request),
    ...evidenceRows(request),
  ];
}

function rowsHtml(rows: readonly Row[]): string[] {
  return [
    '<table cellpadding="4">',
    ...rows.map(
      ([k, v]) => `<tr><th align="left" valign="top">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`,
    ),
    '</table>',
  ];
}

/** Where the resource is, as the incident's verified record says: `account 123456789012, us-east-1`. */
function placeText(request: ApprovalRequest): string {
  return `account ${request.finding.account}, ${request.finding.region}`;
}

/** The subject line of a request's emails: what, on which resource, where. */
export function requestSubject(request: ApprovalRequest): string {
  return `[Cordon] Approval needed: ${request.action} on ${request.resource.id} in ${placeText(request)} (${request.finding.findingType})`;
}

/** The email asking one approver to decide, with that approver's link. */
export function requestEmail(request: ApprovalRequest, to: string, link: string): EmailMessage {
  const rows = facts(request);
  const ifNobody = defaultWord(request);
  const banner = rehearsalBanner(request.finding.rehearsal);
  const deadline = `Decide by ${utc(request.expiresAt)}.`;
  const text = [
    ...(banner ? [banner, ''] : []),
    `Cordon asks you to approve or reject: ${request.action} on ${request.resource.type} ${request.resource.id} in ${placeText(request)}. ${deadline}`,
    '',
    ...rows.map(([k, v]) => `${k}: ${v}`),
    '',
    `Open this link to decide (it is yours alone, works once, and until ${request.expiresAt}):`,
    link,
    '',
    `Opening the link changes nothing: you decide on the page. If nobody decides by ${request.expiresAt}, the request is ${ifNobody}.`,
  ].join('\n');
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif">',
    ...(banner
      ? [`<p style="background:#fff4ce;padding:8px"><strong>${escapeHtml(banner)}</strong></p>`]
      : []),
    `<p>Cordon asks you to approve or reject: <strong>${escapeHtml(request.action)}</strong> on ${escapeHtml(request.resource.type)} <strong>${escapeHtml(request.resource.id)}</strong> in ${escapeHtml(placeText(request))}. ${escapeHtml(deadline)}</p>`,
    ...rowsHtml(rows),
    `<p><a href="${escapeHtml(link)}">Open the decision page</a> (yours alone; works once, until ${escapeHtml(request.expiresAt)}).</p>`,
    `<p>Opening the link changes nothing: you decide on the page. If nobody decides by ${escapeHtml(request.expiresAt)}, the request is ${ifNobody}.</p>`,
    '</body></html>',
  ].join('\n');
  return { to, subject: requestSubject(request), text, html };
}

/**
 * The notice that nobody's decision reached the playbook in time and the default was applied, as a
 * sentence: who did not decide on what, by when, what Cordon applied, and what that means for the resource.
 */
export function timeoutSentence(request: ApprovalRequest): string {
  const effect = actionEffect(request.action);
  const what = `${request.action} for ${request.resource.type} ${request.resource.id} in incident ${request.incidentId}`;
  const late = request.lateDecision;
  const who = late
    ? `No decision on ${what} reached the playbook by ${utc(request.expiresAt)}: ${late.decidedBy}'s ${late.decision} came at ${utc(late.decidedAt)}, too late, and is refused`
    : `No one decided on ${what} by ${utc(request.expiresAt)}`;
  const meaning =
    request.defaultDecision === 'approve' ? `Cordon goes on with it: ${effect.does}` : effect.ifRejected;
  return `${who}, so Cordon applied the default: ${request.defaultDecision} (the request is ${defaultWord(request)}). ${meaning}`;
}

/** The notice that nobody decided in time and the default decision was applied. */
export function timeoutEmail(request: ApprovalRequest, to: string, decidedAt: string): EmailMessage {
  const outcome = defaultWord(request);
  const lead = timeoutSentence(request);
  const after = `Cordon applied it at ${utc(decidedAt)}. The links sent for it no longer work.`;
  const rows = facts(request);
  const banner = rehearsalBanner(request.finding.rehearsal);
  return {
    to,
    subject: `[Cordon] Approval timed out (${outcome} by default): ${request.action} on ${request.resource.id}`,
    text: [...(banner ? [banner, ''] : []), lead, after, '', ...rows.map(([k, v]) => `${k}: ${v}`)].join(
      '\n',
    ),
    html: [
      '<!doctype html><html><body style="font-family:sans-serif">',
      ...(banner ? [`<p><strong>${escapeHtml(banner)}</strong></p>`] : []),
      `<p>${escapeHtml(lead)}</p>`,
      `<p>${escapeHtml(after)}</p>`,
      ...rowsHtml(rows),
      '</body></html>',
    ].join('\n'),
  };
}

/** The outcome of sending one email. */
export type SendResult =
  | { readonly ok: true; readonly to: string; readonly messageId: string; readonly attempts: number }
  | {
      readonly ok: false;
      readonly to: string;
      readonly error: { name: string; message: string };
      readonly attempts: number;
    };

/** Sends one email, retrying failures with backoff; never throws. */
export async function sendWithRetry(
  ses: EmailSender,
  from: string,
  message: EmailMessage,
  options: RetryOptions = {},
): Promise<SendResult> {
  const attempts = options.attempts ?? 3;
  const baseDelayMs = options.baseDelayMs ?? 200;
  const sleep = options.sleep ?? defaultSleep;
  let last: { name: string; message: string } = { name: 'Error', message: 'not sent' };
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const result = await ses.send(
        new SendEmailCommand({
          FromEmailAddress: from,
          Destination: { ToAddresses: [message.to] },
          Content: {
            Simple: {
              Subject: { Data: message.subject, Charset: 'UTF-8' },
              Body: {
                Text: { Data: message.text, Charset: 'UTF-8' },
                Html: { Data: message.html, Charset: 'UTF-8' },
              },
            },
          },
        }),
      );
      return { ok: true, to: message.to, messageId: result.MessageId ?? '', attempts: attempt };
    } catch (error) {
      last = describeError(error);
      if (attempt < attempts) await sleep(baseDelayMs * 2 ** (attempt - 1));
    }
  }
  return { ok: false, to: message.to, error: last, attempts };
}

/** The notice that a decision was refused because the incident's record does not verify. */
export function refusalEmail(
  request: Pick<ApprovalRequest, 'incidentId' | 'action' | 'resource' | 'requestId'>,
  to: string,
  why: string,
): EmailMessage {
  const lead = `Cordon refused a decision on ${request.action} on ${request.resource.type} ${request.resource.id} (request ${request.requestId}, incident ${request.incidentId}): ${why}. Someone may have changed the audit table. Run \`cordon verify ${request.incidentId}\` and look at the table's CloudTrail data events before deciding anything on this incident.`;
  return {
    to,
    subject: `[Cordon] Decision refused: the record of incident ${request.incidentId} does not verify`,
    text: lead,
    html: `<!doctype html><html><body style="font-family:sans-serif"><p>${escapeHtml(lead)}</p></body></html>`,
  };
}

/** Emails every approver a notice; a notice that cannot be sent is logged by the caller, never thrown. */
export async function emailApprovers(
  ses: EmailSender,
  sender: string,
  approvers: readonly string[],
  message: (to: string) => EmailMessage,
  options: RetryOptions = {},
): Promise<SendResult[]> {
  const results: SendResult[] = [];
  for (const to of approvers) results.push(await sendWithRetry(ses, sender, message(to), options));
  return results;
}
