/**
 * `cordon run`: runs a playbook on the local runtime, printing each step as it happens, either for a real
 * event (a new incident, marked a rehearsal) or on an existing incident of the state folder's record
 * (`--incident`, as `cordon release --local` does).
 *
 * For an event it rehearses what the router would do: the router's policy (functions/router/policy.ts, as
 * `cordon triage --local` prints it) chooses the playbook and its mode, so a target-only instance waits for
 * approval; `--playbook` and `--mode` override them, and a playbook that does not fit the event's resource is
 * refused. The sandbox account holds what the event names (or what `--account` describes, validated field
 * by field; see docs/examples/account.json) and is kept in the state folder (`account.json`) when the
 * command ends, so that a later `cordon release --local` or `cordon run --incident` continues from it.
 * The record goes to the local store in the state folder. With `--aws` the same engine drives the real
 * endpoints (the default credential chain and the standard endpoint settings), for a game day in a
 * sandbox AWS account; only the calls meant for the local engine (its task tokens) stay local.
 */
import { existsSync, readFileSync } from 'node:fs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { incidentFrom } from '#shared/audit';
import { makeClient } from '#shared/clients';
import type { Finding, Incident, Resource } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { ValidationError } from '#shared/errors';
import { executionName, playbookInput } from '#shared/playbook-input';
import { type PlaybookMode, parseSettings, type Settings } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import type { ApprovalRequest } from '../../functions/approval/model.ts';
import { ApprovalStore } from '../../functions/approval/store.ts';
import { normalizeEvent } from '../../functions/router/normalize.ts';
import { DEFAULT_PLAYBOOK_MODE, decide } from '../../functions/router/policy.ts';
import { LOCAL_ACCOUNT, LocalRuntime } from '../../local/runtime.ts';
import { type AccountSeed, callerArnOf } from '../../local/sandbox/index.ts';
import { checkAccountSeed } from '../../local/sandbox/seed-schema.ts';
import { seedForEvent } from '../../local/seed-from-finding.ts';
import {
  LOCAL_TABLE,
  openStateStore,
  openStateTrust,
  stateAccountFile,
  stateDir,
} from '../../local/state.ts';
import { RELEASE_CHECK_RESULT, RELEASE_RESULT } from '../../playbooks/release.ts';
import { describeCause } from '../errors-text.ts';
import { timeline } from '../format.ts';
import { approve, listApprovals, localApprovalsDeps, reject } from './approvals.ts';
import { incidentFinding } from './recover.ts';
import { isReleasePlaybook, releaseFor, resourceFitting } from './release.ts';

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

/** Reads and parses a JSON file, with a message that names the file and what is wrong. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(what, [
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(what, [`${path} is not JSON: ${(error as Error).message}`]);
  }
}

/** Reads an `--account` seed file, refusing it with each bad field named. */
export function readAccountSeed(path: string): AccountSeed {
  const checked = checkAccountSeed(readJsonFile(path, '--account'));
  if (!checked.ok) {
    throw new ValidationError('--account', [
      ...checked.problems,
      'see docs/examples/account.json for a seed file',
    ]);
  }
  return checked.seed;
}

function firstFinding(event: unknown, settings: Settings): Finding {
  const result = normalizeEvent(event, settings);
  if (result.kind === 'rejected') throw new ValidationError('event', [result.reason]);
  const [finding] = result.findings;
  if (!finding) throw new ValidationError('event', ['it holds no finding']);
  return finding;
}

/**
 * Who decides from the console on this run (`--decision`, or `cordon approvals approve|reject --local`
 * while it waits): the caller the sandbox names (with `--aws`, the real caller). Only a principal of
 * `approval.consolePrincipals` decides from the console, so this run lists it there: the operator of a
 * local runtime is the person at the keyboard, and the record names them.
 */
async function localOperator(seed: AccountSeed | undefined, aws: boolean): Promise<string> {
  if (!aws) return callerArnOf(seed ?? {}, LOCAL_ACCOUNT);
  const identity = await makeClient(STSClient, { service: 'STS' }).send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new ValidationError('caller identity', ['Arn: STS returned none']);
  return identity.Arn;
}

/**
 * The pending approval request of an incident, once the gate's request function has written it (polled,
 * for up to 10 s); undefined if none comes.
 */
async function pendingRequest(
  store: ApprovalStore,
  incidentId: string,
): Promise<ApprovalRequest | undefined> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const pending = (await listApprovals({ store })).find((r) => r.incidentId === incidentId);
    if (pending) return pending;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return undefined;
}

/**
 * The region `--aws` drives, checked before anything starts (else the first AWS call fails after the
 * whole startup): `AWS_REGION`, `AWS_DEFAULT_REGION` (which the client factory also reads), or the
 * profile's `region` as the SDK's own region provider reads it from the config file.
 */
export async function awsRegion(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  // Not through makeClient: it sets the region from the environment, and the profile's is wanted here.
  const client = new STSClient({});
  try {
    return await client.config.region();
  } catch (error) {
    throw new ValidationError(
      '--aws',
      [
        `no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or region in profile ${env.AWS_PROFILE || 'default'} of ${env.AWS_CONFIG_FILE || '~/.aws/config'}`,
      ],
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}

/** What runs, on what, how, and why: decided before anything starts. */
interface Plan {
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
function planForIncident(incident: Incident, settings: Settings, options: RunOptions): Plan {
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

/**
 * Why a release playbook released nothing (its check or its release was skipped or already done), from
 * the execution's output; undefined when it released something, or for another playbook.
 */
export function nothingReleased(output: unknown): string | undefined {
  const results = (output as { results?: Record<string, { status?: unknown; note?: unknown }> } | null)
    ?.results;
  for (const key of [RELEASE_CHECK_RESULT, RELEASE_RESULT]) {
    const result = results?.[key];
    if (result?.status === 'skipped' || result?.status === 'already-done') {
      return typeof result.note === 'string' ? result.note : `the release was ${String(result.status)}`;
    }
  }
  return undefined;
}

/** Runs `cordon run` (and `cordon release --local`); returns the exit status. */
export async function runPlaybook(options: RunOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = parseSettings(settingsFile);
  // The functions' own log lines would bury the steps; warnings and errors still show.
  process.env.CORDON_LOG_LEVEL ??= 'warn';
  if ((options.event === undefined) === (options.incident === undefined)) {
    throw new ValidationError('cordon run', ['give either --event <file> or --incident <id>']);
  }
  const dir = options.stateDir ?? stateDir();
  const aws = options.aws ?? false;
  const region = aws ? await awsRegion() : undefined;
  const accountFile = aws ? undefined : stateAccountFile(dir);
  let seed: AccountSeed | undefined = options.account ? readAccountSeed(options.account) : undefined;
  let eventPlan: Plan | undefined;
  if (options.event !== undefined) {
    const event = readJsonFile(options.event, '--event');
    const finding = firstFinding(event, settings);
    eventPlan = planForEvent(finding, settings, options);
    if (!aws) seed ??= seedForEvent(event, finding.resources);
    out(
      `Finding ${finding.type} (severity ${finding.severity}) on ${eventPlan.resource.type} ${eventPlan.resource.id}`,
    );
    out(`Playbook ${eventPlan.playbook}, mode ${eventPlan.mode}`);
    for (const reason of eventPlan.reasons.slice(1)) out(`  ${reason}`);
  } else if (!aws && !seed && accountFile !== undefined && !existsSync(accountFile)) {
    throw new ValidationError('--incident', [
      `${dir} holds no sandbox account (account.json) to act on: run cordon run or the demo first, or give --account`,
    ]);
  }
  if (aws) seed = undefined;

  out(
    aws
      ? `Driving REAL AWS endpoints (--aws) in ${region}.`
      : 'Sandbox account: nothing leaves this machine.',
  );
  const store = await openStateStore(dir);
  const started = Date.now();
  const since = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);
  let runtime: LocalRuntime | undefined;
  try {
    // With --aws, the real caller is asked of STS only when --decision needs it: without it, the run
    // serves no console route and is decided by its links.
    const operatorArn = !aws || options.decision ? await localOperator(seed, aws) : undefined;
    const consolePrincipals = [...settings.approval.consolePrincipals, ...(operatorArn ? [operatorArn] : [])];
    runtime = await LocalRuntime.start({
      store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
      stack: { settings: { ...settings, approval: { ...settings.approval, consolePrincipals } } },
      trust: await openStateTrust(dir),
      approvals: { stateDir: dir, print: out, ...(operatorArn ? { operator: operatorArn } : {}) },
      ...(seed ? { seed } : {}),
      ...(accountFile ? { accountFile } : {}),
      aws,
      waitScale: options.waitScale ?? 0.01,
      onEvent: (e) => {
        if (/StateEntered$/.test(e.type) && e.stateName) out(`${since()}  ${e.stateName}`);
        if (/Failed$|TimedOut$/.test(e.type) && e.details.error) {
          out(
            `${since()}    ${e.type}: ${e.details.error}${e.details.cause ? ` (${describeCause(e.details.cause, e.details.error)})` : ''}`,
          );
        }
      },
    });
    const engine = runtime.engine;
    let plan: Plan;
    let incidentId: string;
    if (eventPlan) {
      plan = eventPlan;
    } else {
      // The record is evidence, not instruction: it must verify before anything acts on it.
      const { incident } = await runtime.recorder.verified(options.incident ?? '');
      plan = planForIncident(incident, settings, options);
      out(`Incident ${incident.id} (${incident.status}): playbook ${plan.playbook}, mode ${plan.mode}`);
    }
    if (!engine.playbooks().some((p) => p.id === plan.playbook)) {
      throw new ValidationError('--playbook', [
        `no playbook "${plan.playbook}"; the stack has: ${
          engine
            .playbooks()
            .map((p) => p.id)
            .join(', ') || 'none'
        }`,
      ]);
    }
    if (eventPlan) {
      const incident = await runtime.recorder.openIncident(
        incidentFrom(
          plan.finding,
          plan.playbook,
          plan.resource,
          undefined,
          plan.mode === 'dry-run' ? 'dry-run' : 'rehearsal',
        ),
      );
      incidentId = incident.id;
      out(`Incident ${incident.id}`);
    } else {
      incidentId = options.incident ?? '';
    }
    await runtime.recorder.appendStep(incidentId, {
      phase: isReleasePlaybook(plan.playbook) ? 'recovery' : 'identification',
      action: 'start-playbook',
      status: 'succeeded',
      actor: 'automation',
      input: { findingId: plan.finding.id, playbook: plan.playbook, mode: plan.mode },
      note: plan.reasons.join('; '),
    });
    const decision = options.decision;
    const active = runtime;
    const requests = new ApprovalStore(makeDocumentClient(), LOCAL_TABLE);
    const operator = decision
      ? localApprovalsDeps({ store: requests, recorder: active.recorder, consolePrincipals })
      : undefined;
    engine.onTask(() => {
      void (async () => {
        const request = await pendingRequest(requests, incidentId);
        if (!request) {
          out(`${since()}  waiting for a person: open the link in the email (no approval request found)`);
          return;
        }
        if (!operator || !decision) {
          const here = operatorArn
            ? `, or decide here: cordon approvals approve|reject ${request.requestId} --local --state-dir ${dir} --reason <why>`
            : '';
          out(
            `${since()}  waiting for a person: open the link in the email${here} (the run waits until the request times out)`,
          );
          return;
        }
        // Decided as the local operator (the caller's principal), never as an approver who did not decide.
        const reason = `${options.release ? 'cordon release' : 'cordon run'} --decision ${decision}`;
        const { request: decided } =
          decision === 'approve'
            ? await approve(operator, request.requestId, { reason })
            : await reject(operator, request.requestId, { reason });
        out(
          `${since()}  ${decision === 'approve' ? 'approved' : 'rejected'} ${decided.action} as ${decided.decidedBy ?? ''}`,
        );
      })().catch((error: unknown) => out(`${since()}  could not decide: ${String(error)}`));
    });
    const input = playbookInput(incidentId, plan.finding, plan.resource, plan.mode, plan.reasons);
    const result = await engine.run(plan.playbook, input, {
      name: executionName(incidentId, plan.playbook),
    });
    out(`${since()}  execution ${result.status}${result.error ? `: ${result.error}` : ''}`);
    await active.settled();
    out('');
    out(timeline(await runtime.recorder.steps(incidentId)));
    const refused = result.status === 'SUCCEEDED' ? nothingReleased(result.output) : undefined;
    if (refused !== undefined) {
      out('');
      out(`release refused: ${refused}`);
      out(`the incident's status is unchanged`);
      return 1;
    }
    return result.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await runtime?.close();
    await store.close();
  }
}
