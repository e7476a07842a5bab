/**
 * What `cordon run` runs, on what, how and why, decided before anything starts: for an event, as the
 * router would (its policy, `--playbook` and `--mode` overriding it); for an existing incident, from its
 * verified record.
 */
import type { Finding, Incident, Resource } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import type { PlaybookMode, Settings } from '#shared/settings';
import { normalizeEvent } from '../../functions/router/normalize.ts';
import { DEFAULT_PLAYBOOK_MODE, decide } from '../../functions/router/policy.ts';
import { incidentFinding } from '../commands/recover.ts';
import { isReleasePlaybook, releaseFor, resourceFitting } from '../playbook-choice.ts';

export interface RunOptions {
  /** The playbook. Default, with `event`: the one the router's policy chooses. Required with `incident` unless `release`. */
  readonly playbook?: string;
  /** The event to open a new incident from. Exactly one of `event` and `incident`. */
  readonly event?: string;
  /** An incident of the state folder's record to run the playbook on (no new incident). */
  readonly incident?: string;
  /** With `incident`: run the release playbook that fits it (`cordon release --local`). */
  readonly release?: boolean;
  readonly account?: string;
  readonly aws?: boolean;
  /** Overrides the router's mode. */
  readonly mode?: PlaybookMode;
  /** The same as `mode: 'dry-run'`. */
  readonly dryRun?: boolean;
  /** Answer every approval request with this decision, as `cordon run`. */
  readonly decision?: 'approve' | 'reject';
  readonly waitScale?: number;
  readonly stateDir?: string;
  readonly out?: (line: string) => void;
}

export function firstFinding(event: unknown, settings: Settings): Finding {
  const result = normalizeEvent(event, settings);
  if (result.kind === 'rejected') throw new ValidationError('event', [result.reason]);
  const [finding] = result.findings;
  if (!finding) throw new ValidationError('event', ['it holds no finding']);
  return finding;
}

/** What runs, on what, how, and why: decided before anything starts. */
export interface Plan {
  readonly playbook: string;
  readonly finding: Finding;
  readonly resource: Resource;
  readonly mode: PlaybookMode;
  readonly reasons: string[];
}

/**
 * The playbook and mode for an event, as the router would decide them (the local runtime's policy: sample
 * findings are rehearsed), with `--playbook` and `--mode` overriding them.
 */
export function planForEvent(
  finding: Finding,
  settings: Settings,
  options: Pick<RunOptions, 'playbook' | 'mode' | 'dryRun'>,
): Plan {
  const decision = decide(finding, { runtime: 'local', automaticContainmentsLast60Minutes: 0 }, settings);
  const playbook = options.playbook ?? decision.playbook;
  if (playbook === null) {
    throw new ValidationError('--playbook', [
      `the router starts no playbook for this finding (${decision.reasons.join('; ')}): name one with --playbook`,
    ]);
  }
  if (isReleasePlaybook(playbook)) {
    throw new ValidationError('--playbook', [
      `${playbook} undoes the containment of an existing incident, not an event: use cordon release <incident-id> --local (or cordon run --incident <id> --playbook ${playbook})`,
    ]);
  }
  const resource =
    playbook === decision.playbook && decision.resource
      ? decision.resource
      : resourceFitting(playbook, finding.resources, `the event's finding`);
  const routerMode: PlaybookMode =
    playbook === decision.playbook && decision.mode !== 'none'
      ? decision.mode
      : (settings.playbookModes[playbook] ?? DEFAULT_PLAYBOOK_MODE);
  const mode = options.dryRun ? 'dry-run' : (options.mode ?? routerMode);
  const reasons = [
    `started by cordon run${options.playbook ? ` --playbook ${options.playbook}` : ''}`,
    ...(playbook === decision.playbook ? decision.reasons.map((r) => `router: ${r}`) : []),
    ...(mode === routerMode
      ? []
      : [`mode ${mode}, by --${options.dryRun ? 'dry-run' : 'mode'} (the router says ${routerMode})`]),
  ];
  return { playbook, finding, resource, mode, reasons };
}

/** The playbook and mode for an existing incident, from its verified record. */
export function planForIncident(incident: Incident, settings: Settings, options: RunOptions): Plan {
  const chosen = options.release
    ? releaseFor(incident)
    : (() => {
        if (!options.playbook) throw new ValidationError('--playbook', ['is required with --incident']);
        return {
          playbook: options.playbook,
          resource: resourceFitting(options.playbook, incident.resources, `incident ${incident.id}`),
        };
      })();
  const mode: PlaybookMode = options.dryRun
    ? 'dry-run'
    : (options.mode ??
      (isReleasePlaybook(chosen.playbook)
        ? 'automatic'
        : (settings.playbookModes[chosen.playbook] ?? DEFAULT_PLAYBOOK_MODE)));
  const by = options.release ? 'cordon release --local' : `cordon run --incident ${incident.id}`;
  return {
    ...chosen,
    finding: incidentFinding(incident, options.release ? 'release' : 'run'),
    mode,
    reasons: [`started by ${by} --playbook ${chosen.playbook}`],
  };
}
