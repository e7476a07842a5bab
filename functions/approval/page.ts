/**
 * The decision page and the pages that answer a decision. Plain HTML: a `<form method="post">` with two
 * buttons and a reason field, no script (the CSP forbids any), one inline style allowed by its hash.
 */
import { createHash } from 'node:crypto';
import { escapeHtml, severityLabel } from './html.ts';
import type { ApprovalRequest } from './model.ts';

const STYLE =
  'body{font-family:system-ui,sans-serif;max-width:46rem;margin:2rem auto;padding:0 1rem;color:#1b1b1b}' +
  'th{text-align:left;vertical-align:top;padding:.3rem 1rem .3rem 0;white-space:nowrap}td{padding:.3rem 0}' +
  'textarea{width:100%;min-height:4rem}button{font-size:1.1rem;padding:.6rem 1.4rem;margin:1rem 1rem 0 0}' +
  '.approve{background:#1a7f37;color:#fff;border:0}.reject{background:#cf222e;color:#fff;border:0}' +
  '.note{color:#555}';

const STYLE_HASH = createHash('sha256').update(STYLE, 'utf8').digest('base64');

/** Headers on every page: no script, no framing, no caching, no referrer (the URL is a secret). */
export const PAGE_HEADERS: Readonly<Record<string, string>> = {
  'content-type': 'text/html; charset=utf-8',
  'content-security-policy': `default-src 'none'; style-src 'sha256-${STYLE_HASH}'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'`,
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
};

function layout(title: string, body: string): string {
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    '<meta name="robots" content="noindex, nofollow">',
    `<title>${escapeHtml(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    body,
    '</body></html>',
  ].join('\n');
}

function summaryTable(request: ApprovalRequest): string {
  const { finding, resource, summary } = request;
  const rows: [string, string][] = [
    ['Finding', `${finding.title} (${finding.findingType})`],
    ['Severity', `${finding.severity} (${severityLabel(finding.severity)})`],
    ['Resource', `${resource.type} ${resource.id}`],
    ['Account', finding.account],
    ['Region', finding.region],
    ['Incident', request.incidentId],
    ['What happened', summary.happened],
    ['What Cordon already did', summary.done],
    ['What Cordon asks to do next', summary.asks],
    ...(request.reasons?.length
      ? ([['Why a person decides', request.reasons.join('; ')]] as [string, string][])
      : []),
  ];
  return `<table id="summary">${rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('')}</table>`;
}

/** The page a link shows while the request waits: the summary and the form. */
export function decisionPage(request: ApprovalRequest, approver: string): string {
  const ifNobody = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  return layout(
    `Approve ${request.action} on ${request.resource.id}?`,
    [
      `<h1>Approve ${escapeHtml(request.action)} on ${escapeHtml(request.resource.id)}?</h1>`,
      summaryTable(request),
      '<form method="post">',
      '<p><label for="reason">Reason (recorded with your decision)</label></p>',
      '<textarea id="reason" name="reason" maxlength="1000"></textarea>',
      '<button class="approve" type="submit" name="decision" value="approve">Approve</button>',
      '<button class="reject" type="submit" name="decision" value="reject">Reject</button>',
      '</form>',
      `<p class="note">You decide as ${escapeHtml(approver)}. This link works once, until ${escapeHtml(request.expiresAt)}; if nobody decides by then the request is ${ifNobody}.</p>`,
    ].join('\n'),
  );
}

/** The page after a decision was recorded. */
export function decidedPage(request: ApprovalRequest, note?: string): string {
  const word = request.decision === 'approve' ? 'approved' : 'rejected';
  return layout(
    'Decision recorded',
    [
      `<h1>You ${word} ${escapeHtml(request.action)} on ${escapeHtml(request.resource.id)}</h1>`,
      `<p>Recorded at ${escapeHtml(request.decidedAt ?? '')} as ${escapeHtml(request.decidedBy ?? '')}.</p>`,
      note ? `<p class="note">${escapeHtml(note)}</p>` : '',
      summaryTable(request),
    ].join('\n'),
  );
}

/** The page for a decision Step Functions no longer took: it came after the deadline, and the default applies. */
export function latePage(request: ApprovalRequest): string {
  const outcome = request.defaultDecision === 'approve' ? 'approved' : 'rejected';
  return layout(
    'Too late',
    [
      '<h1>Your decision came after the deadline</h1>',
      `<p>The playbook stopped waiting at ${escapeHtml(request.expiresAt)}. Your decision is refused; the default decision applies: the request is ${outcome}. The record says so.</p>`,
      summaryTable(request),
    ].join('\n'),
  );
}

/**
 * The page for a request that is no longer open: decided by someone, timed out, or failed. Who decided is
 * what the request says of it (the record's decision steps), never a guess.
 */
export function closedPage(request: ApprovalRequest): string {
  let line: string;
  if (request.status === 'expired') {
    line = `This request timed out at ${request.decidedAt ?? request.expiresAt}; the playbook's default (${request.decision ?? request.defaultDecision}) was applied.`;
  } else if (request.status === 'failed') {
    line = 'This request was withdrawn: its emails could not all be sent.';
  } else if (request.decision === undefined) {
    line = `This request is closed (${request.status}), but its record holds no decision on it.`;
  } else {
    const word = request.decision === 'approve' ? 'approved' : 'rejected';
    line = `This request was already decided: ${word} by ${request.decidedBy ?? 'unknown'} at ${request.decidedAt ?? 'unknown'}.`;
  }
  return layout(
    'Already decided',
    `<h1>Nothing to decide</h1>\n<p>${escapeHtml(line)}</p>\n${summaryTable(request)}`,
  );
}

/** The page for a link past its expiry. */
export function expiredPage(request: ApprovalRequest): string {
  return layout(
    'Link expired',
    `<h1>This link has expired</h1>\n<p>It worked until ${escapeHtml(request.expiresAt)}. Nothing was changed.</p>`,
  );
}

/** The page for a decision Cordon refuses to take, with the reason (the record does not verify, a link not of its request). */
export function refusedPage(reason: string): string {
  return layout('Refused', `<h1>Nothing was decided</h1>\n<p>${escapeHtml(reason)}</p>`);
}

/** The page for an unknown, malformed or tampered link: says nothing about why. */
export function notFoundPage(): string {
  return layout('Not found', '<h1>Not found</h1>');
}

/** The page for a POST without a valid decision. */
export function badRequestPage(): string {
  return layout('Bad request', '<h1>Bad request</h1><p>Choose Approve or Reject on the decision page.</p>');
}

/** The page when something failed on Cordon's side. */
export function errorPage(): string {
  return layout('Error', '<h1>Something went wrong</h1><p>Nothing was decided. Try again in a minute.</p>');
}
