/**
 * The incident a finding opens: one shape for the router, `cordon run`, the tests and the bench.
 */
import type { NewIncident } from './audit.ts';
import type { Finding, RehearsalKind, Resource } from './domain.ts';

/** True when `title` names `id` as a word of its own (not `i-1` inside `i-12`). */
function names(title: string, id: string): boolean {
  for (let at = title.indexOf(id); at >= 0; at = title.indexOf(id, at + 1)) {
    const before = title[at - 1];
    const after = title[at + id.length];
    if ((before === undefined || !/[\w-]/.test(before)) && (after === undefined || !/[\w-]/.test(after)))
      return true;
  }
  return false;
}

function sameResource(a: Resource, b: Resource): boolean {
  return a.type === b.type && a.id === b.id;
}

/**
 * The incident a finding opens, handled by `playbook` acting on `resource` (the one the policy chose, or
 * `resourceForPlaybook` in functions/router/policy.ts). The resource is listed first and named in the
 * title, so that the record and the approval email say what is acted on even when the finding listed
 * other resources before it; the finding's other resources follow, once each.
 *
 * `rehearsal` marks an incident that is not a real one (the local runtime's, a dry run's); a sample
 * finding's incident is marked `sample` whatever else is given, so that a report can say its time to
 * detect was measured on a sample finding (each mark keeps it out of `stats`).
 */
export function incidentFrom(
  finding: Finding,
  playbook: string,
  resource: Resource,
  id?: string,
  rehearsal?: RehearsalKind,
): NewIncident {
  const mark = finding.sample ? 'sample' : rehearsal;
  const others: Resource[] = [];
  for (const r of finding.resources) {
    if (!sameResource(r, resource) && !others.some((o) => sameResource(o, r))) others.push(r);
  }
  const given = finding.title?.trim() ?? '';
  const title =
    given === ''
      ? `${finding.type} on ${resource.id}`
      : names(given, resource.id)
        ? given
        : `${given} (${resource.type} ${resource.id})`;
  return {
    ...(id === undefined ? {} : { id }),
    title,
    findingType: finding.type,
    severity: finding.severity,
    account: finding.account,
    region: finding.region,
    resources: [resource, ...others],
    playbook,
    firstSeen: finding.firstSeen,
    lastSeen: finding.lastSeen,
    ...(mark === undefined ? {} : { rehearsal: mark }),
  };
}
