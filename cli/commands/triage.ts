/**
 * `cordon triage <file>`: reads an EventBridge event or a bare GuardDuty finding object from a file and
 * prints, as JSON, the normalized findings and what the policy would decide for each (playbook, the
 * resource it acts on, mode, reasons). It touches nothing: no AWS call, no store, no playbook started.
 *
 * The decision is the one a deployed Cordon would make with no automatic containment in the last 60
 * minutes and only the tags the finding itself carries (a deployment looks the resource's tags up).
 */
import { readFile } from 'node:fs/promises';
import type { Finding } from '#shared/domain';
import { parseSettings, type Settings } from '#shared/settings';
import {
  type NormalizeResult,
  normalizeEvent,
  type PartialRejection,
} from '../../functions/router/normalize.ts';
import { type Decision, decide, type PolicyContext } from '../../functions/router/policy.ts';

/**
 * What the policy is told beyond the finding. Defaults: deployed (`aws`), no automatic containment in the
 * last 60 minutes, no looked-up tags.
 */
export interface TriageOptions {
  readonly runtime?: PolicyContext['runtime'];
  readonly automaticContainmentsLast60Minutes?: number;
  readonly tags?: Readonly<Record<string, string>>;
}

/**
 * The findings an event normalizes to, each with its decision (same order); or the event's rejection (a
 * readable event the router refuses: a configuration change, an alarm mapped to no playbook), which is an
 * answer too; or why the text could not be read as an event at all.
 */
export type TriageResult =
  | {
      readonly ok: true;
      /** Without `raw`: the event is the file itself. */
      readonly findings: Omit<Finding, 'raw'>[];
      /** Each names the resource its playbook would act on (`resource`), null when nothing would start. */
      readonly decisions: Decision[];
      /** Findings of a multi-finding event that were refused. */
      readonly rejections: PartialRejection[];
    }
  | { readonly ok: false; readonly kind: 'rejected'; readonly reason: string }
  | { readonly ok: false; readonly kind: 'unreadable'; readonly reason: string };

/**
 * What `cordon triage` prints: `decision` says whether the router takes the event (`accepted`: then each
 * finding has its own decision, which may still start nothing) or refuses it (`rejected`, with `reason`).
 */
export type TriageOutput =
  | {
      readonly decision: 'accepted';
      readonly findings: Omit<Finding, 'raw'>[];
      readonly decisions: Decision[];
      readonly rejections: PartialRejection[];
    }
  | {
      readonly decision: 'rejected';
      readonly reason: string;
      readonly findings: [];
      readonly decisions: [];
      readonly rejections: [];
    };

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** Normalizes the file's event and decides each finding. Pure: the file is already read. */
export function triage(fileContents: string, settings: Settings, options: TriageOptions = {}): TriageResult {
  let event: unknown;
  try {
    event = JSON.parse(fileContents);
  } catch (error) {
    return {
      ok: false,
      kind: 'unreadable',
      reason: `not JSON: ${error instanceof Error ? error.message : String(error)}`,
    };
  }
  const result: NormalizeResult = normalizeEvent(event, settings);
  if (result.kind === 'rejected') return { ok: false, kind: 'rejected', reason: result.reason };
  const context: PolicyContext = {
    runtime: options.runtime ?? 'aws',
    automaticContainmentsLast60Minutes: options.automaticContainmentsLast60Minutes ?? 0,
    ...(options.tags === undefined ? {} : { tags: options.tags }),
  };
  return {
    ok: true,
    findings: result.findings.map(({ raw: _raw, ...finding }) => finding),
    decisions: result.findings.map((finding) => decide(finding, context, settings)),
    rejections: result.rejections,
  };
}

/** Reads and validates `cordon.config.ts` at the repository's root. */
export async function loadSettings(): Promise<Settings> {
  const module = (await import('../../cordon.config.ts')) as { default: unknown };
  return parseSettings(module.default);
}

/** Where `runTriage` writes, and what it may be given instead of the defaults. */
export interface TriageIo {
  readonly out: (line: string) => void;
  readonly err: (line: string) => void;
  /** Default: `cordon.config.ts`. */
  readonly settings?: Settings;
  readonly options?: TriageOptions;
}

/**
 * Runs `cordon triage <path>`: prints the JSON answer ({@link TriageOutput}) on `out` and returns 0, for an
 * event the router would take and for one it would refuse alike; or prints one line saying what is wrong on
 * `err` and returns 1 when there is no event to answer about (missing file, not JSON, invalid settings).
 */
export async function runTriage(path: string, io: TriageIo): Promise<number> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    io.err(`cordon triage: cannot read ${path}${code === undefined ? '' : ` (${code})`}`);
    return 1;
  }
  let settings: Settings;
  try {
    settings = io.settings ?? (await loadSettings());
  } catch (error) {
    io.err(
      oneLine(`cordon triage: cordon.config.ts: ${error instanceof Error ? error.message : String(error)}`),
    );
    return 1;
  }
  const result = triage(text, settings, io.options);
  if (!result.ok && result.kind === 'unreadable') {
    io.err(oneLine(`cordon triage: ${path}: ${result.reason}`));
    return 1;
  }
  const output: TriageOutput = result.ok
    ? {
        decision: 'accepted',
        findings: result.findings,
        decisions: result.decisions,
        rejections: result.rejections,
      }
    : { decision: 'rejected', reason: result.reason, findings: [], decisions: [], rejections: [] };
  io.out(JSON.stringify(output, null, 2));
  return 0;
}
