/**
 * What every playbook execution starts with: the router (or `cordon run`, or `cordon recover`) builds
 * it, each state reads from it, and no state overwrites it (every task has its own `resultPath`).
 */
import type { Finding, Resource } from './domain.ts';
import type { PlaybookMode } from './settings.ts';

export interface PlaybookInput {
  incidentId: string;
  /** The finding that started it, without its raw event (that is in the record). */
  finding: Pick<
    Finding,
    'id' | 'source' | 'type' | 'severity' | 'account' | 'region' | 'firstSeen' | 'lastSeen'
  > & {
    title?: string;
  };
  /**
   * The resource the playbook acts on: the one the policy chose (`Decision.resource`), which need not be
   * the finding's first.
   */
  resource: Resource;
  mode: PlaybookMode;
  /** True in `dry-run` mode: every action reports what it would do and changes nothing. */
  dryRun: boolean;
  /** Why the router chose this playbook and mode. */
  reasons: string[];
}

/** Builds a playbook's input from a finding and a decision. */
export function playbookInput(
  incidentId: string,
  finding: Finding,
  resource: Resource,
  mode: PlaybookMode,
  reasons: readonly string[],
): PlaybookInput {
  return {
    incidentId,
    finding: {
      id: finding.id,
      source: finding.source,
      type: finding.type,
      severity: finding.severity,
      account: finding.account,
      region: finding.region,
      firstSeen: finding.firstSeen,
      lastSeen: finding.lastSeen,
      ...(finding.title === undefined ? {} : { title: finding.title }),
    },
    resource,
    mode,
    dryRun: mode === 'dry-run',
    reasons: [...reasons],
  };
}

/** A name for the execution, derived from the incident and the playbook, so that a repeat start is idempotent. */
export function executionName(incidentId: string, playbook: string): string {
  // Step Functions names: 1-80 characters of letters, digits, - and _.
  return `${playbook}-${incidentId}`.replace(/[^A-Za-z0-9_-]/g, '_').slice(0, 80);
}
