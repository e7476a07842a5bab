/**
 * Running a real playbook of Cordon's stack on the local runtime: opens the incident as the router does,
 * starts the execution, and answers approval emails through the local decision server, as a person does.
 */
import type { Finding, Resource } from '#shared/domain';
import { incidentFrom } from '#shared/incident-from';
import { playbookInput } from '#shared/playbook-input';
import type { PlaybookMode } from '#shared/settings';
import { resourceForPlaybook } from '../../functions/router/policy.ts';
import type { LocalRuntime } from '../../local/runtime.ts';

let runs = 0;

export interface StartedRun {
  readonly incidentId: string;
  readonly execution: ReturnType<LocalRuntime['engine']['start']>;
}

/** A finding for a resource, with the fields a playbook reads. */
export function findingFor(
  resource: Resource,
  type = 'Backdoor:EC2/C&CActivity.B!DNS',
  firstSeen = '2026-11-28T10:00:00.000Z',
): Finding {
  return {
    id: `finding-${++runs}-${Date.now()}`,
    source: 'guardduty',
    type,
    title: `${type} on ${resource.id}`,
    severity: 8,
    resources: [resource],
    account: '123456789012',
    region: 'us-east-1',
    firstSeen,
    lastSeen: new Date(Date.parse(firstSeen) + 5 * 60_000).toISOString(),
    raw: {},
  };
}

/** Opens an incident for the resource and starts the playbook on it. */
export async function startPlaybook(
  runtime: LocalRuntime,
  playbook: string,
  resource: Resource,
  mode: PlaybookMode = 'automatic',
  options: { incidentId?: string; name?: string; type?: string; firstSeen?: string } = {},
): Promise<StartedRun> {
  const finding = findingFor(resource, options.type, options.firstSeen);
  let incidentId = options.incidentId;
  if (!incidentId) {
    const incident = await runtime.recorder.openIncident(
      incidentFrom(finding, playbook, resourceForPlaybook(finding, playbook)),
    );
    incidentId = incident.id;
  }
  const input = playbookInput(incidentId, finding, resource, mode, ['test']);
  const execution = runtime.engine.start(playbook, input, { name: options.name ?? `${playbook}-${++runs}` });
  return { incidentId, execution };
}

/** Waits for the approval email of an incident and returns its link (the first approver's). */
export async function approvalLink(runtime: LocalRuntime, incidentId: string, after = 0): Promise<string> {
  const outbox = runtime.outbox;
  if (!outbox) throw new Error('the runtime serves no approvals');
  for (let i = 0; i < 500; i++) {
    const email = outbox.emails
      .slice(after)
      .find((e) => (e.text ?? '').includes(incidentId) && e.links.some((l) => l.includes('/approvals/')));
    const link = email?.links.find((l) => l.includes('/approvals/'));
    if (link) return link;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(`no approval email for ${incidentId}`);
}

/** Decides an approval from its link, as the approver's browser posts the page's form. */
export async function decide(link: string, decision: 'approve' | 'reject', reason = 'test'): Promise<number> {
  const response = await fetch(link, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'cordon-test' },
    body: new URLSearchParams({ decision, reason }).toString(),
  });
  await response.text();
  return response.status;
}

/**
 * Answers an incident's approval emails as they arrive, in order, with `decisions` (an approver posting
 * the page's form). Returns a function that stops waiting for more.
 */
export function answerApprovals(
  runtime: LocalRuntime,
  incidentId: string,
  decisions: readonly ('approve' | 'reject')[],
  emailsBefore = runtime.outbox?.emails.length ?? 0,
): () => void {
  let stopped = false;
  let seen = emailsBefore;
  void (async () => {
    for (const decision of decisions) {
      let link: string | undefined;
      while (!stopped && link === undefined) {
        const emails = runtime.outbox?.emails ?? [];
        for (let i = seen; i < emails.length && link === undefined; i++) {
          const email = emails[i];
          const found = email?.links.find((l) => l.includes('/approvals/'));
          if (email && found && (email.text ?? '').includes(incidentId)) {
            link = found;
            seen = i + 1;
          }
        }
        if (link === undefined) await new Promise((resolve) => setTimeout(resolve, 20));
      }
      if (stopped || link === undefined) return;
      await decide(link, decision);
    }
  })();
  return () => {
    stopped = true;
  };
}
