/**
 * The incident a finding opens: one shape for the router, `cordon run`, the tests and the bench.
 */
import type { NewIncident } from './audit.ts';
import type { Finding } from './domain.ts';

/** The incident a finding opens, handled by `playbook`: the router, `cordon run` and the tests all use it. */
export function incidentFrom(finding: Finding, playbook: string, id?: string): NewIncident {
  const resource = finding.resources[0];
  return {
    ...(id === undefined ? {} : { id }),
    title: finding.title ?? `${finding.type} on ${resource?.id ?? 'no resource'}`,
    findingType: finding.type,
    severity: finding.severity,
    account: finding.account,
    region: finding.region,
    resources: finding.resources,
    playbook,
    firstSeen: finding.firstSeen,
    lastSeen: finding.lastSeen,
  };
}
