/**
 * The approval emails (text and HTML, one per approver, each with the approver's own link), the
 * timeout notice, and sending with retries through SES v2.
 */
import { type SESv2Client, SendEmailCommand } from '@aws-sdk/client-sesv2';
import { describeError } from '#shared/log';
import { escapeHtml, severityLabel } from './html.ts';
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

function facts(request: ApprovalRequest): [string, string][] {
  const { finding, resource } = request;
  return [
    ['Finding', `${finding.title} (${finding.findingType})`],
    ['Severity', `${finding.severity} (${severityLabel(finding.severity)})`],
    ['Resource', `${resource.type} ${resource.id}`],
    ['Account', finding.account],
    ['Region', finding.region],
    ['Incident', request.incidentId],
    ['What happened', request.summary.happened],
    ['What Cordon already did', request.summary.done],
    ['What Cordon asks to do next', request.summary.asks],
    ...(request.reasons?.length
      ? ([['Why a person decides', request.reasons.join('; ')]] as [string, string][])
      : []),
  ];
}

/** The subject line of a request's emails. */
export function requestSubject(request: ApprovalRequest): string {
  return `[Cordon] Approval needed: ${request.action} on ${request.resource.id} (${request.finding.findingType})`;
}

/** The email asking one approver to decide, with that approver's link. */
export function requestEmail(request: ApprovalRequest, to: string, link: string): EmailMessage {
  const rows = facts(request);
  const ifNobody = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  const text = [
    `Cordon asks you to approve or reject: ${request.action} on ${request.resource.type} ${request.resource.id}.`,
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
    `<p>Cordon asks you to approve or reject: <strong>${escapeHtml(request.action)}</strong> on ${escapeHtml(request.resource.type)} <strong>${escapeHtml(request.resource.id)}</strong>.</p>`,
    '<table cellpadding="4">',
    ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
    '</table>',
    `<p><a href="${escapeHtml(link)}">Open the decision page</a> (yours alone; works once, until ${escapeHtml(request.expiresAt)}).</p>`,
    `<p>Opening the link changes nothing: you decide on the page. If nobody decides by ${escapeHtml(request.expiresAt)}, the request is ${ifNobody}.</p>`,
    '</body></html>',
  ].join('\n');
  return { to, subject: requestSubject(request), text, html };
}

/** The notice that nobody decided in time and the default decision was applied. */
export function timeoutEmail(request: ApprovalRequest, to: string, decidedAt: string): EmailMessage {
  const outcome = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  const rows = facts(request);
  const late = request.lateDecision;
  const who = late
    ? `No decision reached the playbook by its deadline, ${request.expiresAt}: ${late.decidedBy}'s ${late.decision} came at ${late.decidedAt}, too late, and is refused.`
    : `Nobody decided on ${request.action} on ${request.resource.type} ${request.resource.id} by ${request.expiresAt}.`;
  const lead = `${who} At ${decidedAt} Cordon applied the playbook's default: the request is ${outcome}. The links sent for it no longer work.`;
  return {
    to,
    subject: `[Cordon] Approval timed out (${outcome} by default): ${request.action} on ${request.resource.id}`,
    text: [lead, '', ...rows.map(([k, v]) => `${k}: ${v}`)].join('\n'),
    html: [
      '<!doctype html><html><body style="font-family:sans-serif">',
      `<p>${escapeHtml(lead)}</p>`,
      '<table cellpadding="4">',
      ...rows.map(([k, v]) => `<tr><th align="left">${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`),
      '</table></body></html>',
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
