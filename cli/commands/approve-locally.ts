/**
 * Answering approval requests during a local run: either by the link in the email, as the approver's
 * browser does (the demo plays the approver and says so), or as the local operator (`cordon run
 * --decision`), recorded as the sandbox caller's principal, never as an approver who did not decide.
 */
import type { LocalRuntime } from '../../local/runtime.ts';

/** Waits for the next approval email of an incident after `seen` emails, and returns its link. */
export async function nextApprovalLink(
  runtime: LocalRuntime,
  incidentId: string,
  seen: number,
  timeoutMs = 30_000,
): Promise<{ link: string; index: number } | undefined> {
  const outbox = runtime.outbox;
  if (!outbox) return undefined;
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const emails = outbox.emails;
    for (let i = seen; i < emails.length; i++) {
      const email = emails[i];
      const link = email?.links.find((l) => l.includes('/approvals/'));
      if (email && link && (email.text ?? '').includes(incidentId)) return { link, index: i };
    }
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return undefined;
}

/** Posts the decision page's form, as the approver's browser does. Returns the HTTP status. */
export async function decideByLink(
  link: string,
  decision: 'approve' | 'reject',
  reason: string,
): Promise<number> {
  const response = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'cordon-local' },
    body: new URLSearchParams({ decision, reason }).toString(),
  });
  await response.text();
  return response.status;
}
