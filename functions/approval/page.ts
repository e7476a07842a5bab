/**
 * The decision page and the pages that answer a decision. Plain HTML: a `<form method="post">` with two
 * buttons and a reason field, no script (the CSP forbids any), one inline style allowed by its hash.
 *
 * Made for the person deciding, often on a phone: one column that wraps every long id and ARN
 * (`overflow-wrap:anywhere`), rows whose value goes under its label when there is no room beside it, no
 * fixed widths; what the action does and
 * whether it can be undone (functions/approval/actions.ts), the evidence, the resource's tags, the deadline
 * in UTC and as time left, and a banner on a rehearsal or a sample finding. A rejection needs a reason: the
 * field is required for Reject (the browser checks it with no script; Approve skips the check with
 * `formnovalidate`) and the server refuses a rejection without one.
 */
import { createHash } from 'node:crypto';
import { actionEffect } from './actions.ts';
import {
  actionRows,
  defaultWord,
  evidenceRows,
  type Row,
  rehearsalBanner,
  resourceRows,
  summaryRows,
  timeLeft,
  utc,
} from './facts.ts';
import { escapeHtml } from './html.ts';
import type { ApprovalRequest } from './model.ts';

const STYLE =
  '*{box-sizing:border-box}html{-webkit-text-size-adjust:100%;text-size-adjust:100%}' +
  'body{font-family:system-ui,sans-serif;line-height:1.45;max-width:46rem;margin:0 auto;padding:1rem;color:#1b1b1b;background:#fff;overflow-wrap:anywhere}' +
  'h1{font-size:1.45rem;line-height:1.25;margin:.5rem 0 1rem}h2{font-size:1.1rem;margin:1.5rem 0 .4rem}' +
  // Rows stack with no media query: a value that cannot have 16rem beside its 12rem label goes under it.
  'table,tbody{display:block;width:100%}tr{display:flex;flex-wrap:wrap;border-top:1px solid #e4e4e4;padding:.3rem 0}' +
  'th{flex:0 0 12rem;text-align:left;padding:0 1rem 0 0;font-weight:600}td{flex:1 1 16rem;min-width:0;padding:0}' +
  '.banner{background:#fff4ce;border-left:.4rem solid #bf8700;padding:.6rem .8rem;font-weight:600}' +
  '.error{background:#ffebe9;border-left:.4rem solid #cf222e;padding:.6rem .8rem;font-weight:600}' +
  '.deadline{font-size:1.1rem}.undo-no{color:#a40e26;font-weight:700}.undo-yes{color:#116329;font-weight:700}' +
  'label{font-weight:600}textarea{display:block;width:100%;min-height:5rem;font:inherit;padding:.5rem;margin-top:.3rem}' +
  '.buttons{display:flex;flex-wrap:wrap;gap:.75rem;margin-top:.9rem}' +
  'button{font:inherit;font-size:1.1rem;padding:.7rem 1.5rem;border:0;border-radius:.3rem}' +
  '.approve{background:#1a7f37;color:#fff}.reject{background:#cf222e;color:#fff}' +
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

function table(rows: readonly Row[], id?: string): string {
  const cells = rows.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td>${escapeHtml(v)}</td></tr>`).join('');
  return `<table${id ? ` id="${id}"` : ''}>${cells}</table>`;
}

function summaryTable(request: ApprovalRequest): string {
  return table([...summaryRows(request), ...resourceRows(request)], 'summary');
}

function banner(request: ApprovalRequest): string {
  const text = rehearsalBanner(request.finding.rehearsal);
  return text ? `<p class="banner" id="rehearsal">${escapeHtml(text)}</p>` : '';
}

/** Options of the decision page. */
export interface DecisionPageOptions {
  /** Now, for the time left; default the system clock. */
  readonly now?: string;
  /** Why the last POST was refused (a rejection without a reason): shown above the form. */
  readonly error?: string;
}

/** The page a link shows while the request waits: what is asked, what it does, the evidence, and the form. */
export function decisionPage(
  request: ApprovalRequest,
  approver: string,
  options: DecisionPageOptions = {},
): string {
  const now = options.now ?? new Date().toISOString();
  const effect = actionEffect(request.action);
  const undoClass = effect.undoable === 'no' ? 'undo-no' : effect.undoable === 'yes' ? 'undo-yes' : '';
  const [does, undo, ifRejected] = actionRows(request);
  const evidence = evidenceRows(request);
  return layout(
    `Approve ${request.action} on ${request.resource.id}?`,
    [
      banner(request),
      `<h1>Approve ${escapeHtml(request.action)} on ${escapeHtml(request.resource.id)}?</h1>`,
      `<p class="deadline" id="deadline">Decide by <time datetime="${escapeHtml(request.expiresAt)}">${escapeHtml(utc(request.expiresAt))}</time> (${escapeHtml(timeLeft(request.expiresAt, now))}). If nobody decides by then, the request is ${defaultWord(request)}.</p>`,
      '<h2>What it does</h2>',
      `<table id="action"><tr><th>${escapeHtml(does?.[0] ?? '')}</th><td>${escapeHtml(does?.[1] ?? '')}</td></tr>`,
      `<tr><th>${escapeHtml(undo?.[0] ?? '')}</th><td><span class="${undoClass}">${escapeHtml(undo?.[1] ?? '')}</span></td></tr>`,
      `<tr><th>${escapeHtml(ifRejected?.[0] ?? '')}</th><td>${escapeHtml(ifRejected?.[1] ?? '')}</td></tr></table>`,
      '<h2>The request</h2>',
      summaryTable(request),
      evidence.length > 0 ? `<h2>Evidence</h2>\n${table(evidence, 'evidence')}` : '',
      options.error ? `<p class="error" id="error">${escapeHtml(options.error)}</p>` : '',
      '<form method="post">',
      '<label for="reason">Reason (needed to reject; recorded with your decision)</label>',
      '<textarea id="reason" name="reason" maxlength="1000" required></textarea>',
      '<div class="buttons">',
      '<button class="approve" type="submit" name="decision" value="approve" formnovalidate>Approve</button>',
      '<button class="reject" type="submit" name="decision" value="reject">Reject</button>',
      '</div>',
      '</form>',
      `<p class="note">You decide as ${escapeHtml(approver)}. This link is yours alone and works once, until ${escapeHtml(request.expiresAt)}.</p>`,
    ]
      .filter((part) => part !== '')
      .join('\n'),
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
