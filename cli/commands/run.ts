/**
 * `cordon run`: runs a playbook on the local runtime for a real event, printing each step as it
 * happens. The sandbox account holds what the event names (or what `--account` describes); the record
 * goes to the local store in the project's state folder. With `--aws` the same engine drives the real
 * endpoints (the default credential chain and the standard endpoint settings), for a game day in a
 * sandbox AWS account.
 */
import { readFileSync } from 'node:fs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { incidentFrom } from '#shared/audit';
import { makeClient } from '#shared/clients';
import type { Finding } from '#shared/domain';
import { makeDocumentClient } from '#shared/dynamo';
import { ValidationError } from '#shared/errors';
import { executionName, playbookInput } from '#shared/playbook-input';
import { type PlaybookMode, parseSettings, type Settings } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import { ApprovalStore } from '../../functions/approval/store.ts';
import { normalizeEvent } from '../../functions/router/normalize.ts';
import { resourceForPlaybook } from '../../functions/router/policy.ts';
import { LOCAL_ACCOUNT, LocalRuntime } from '../../local/runtime.ts';
import { type AccountSeed, callerArnOf } from '../../local/sandbox/index.ts';
import { seedForEvent } from '../../local/seed-from-finding.ts';
import { LOCAL_TABLE, openStateStore, openStateTrust, stateDir } from '../../local/state.ts';
import { timeline } from '../format.ts';
import { approve, listApprovals, localApprovalsDeps, reject } from './approvals.ts';

export interface RunOptions {
  readonly playbook: string;
  readonly event: string;
  readonly account?: string;
  readonly aws?: boolean;
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

function firstFinding(event: unknown, settings: Settings): Finding {
  const result = normalizeEvent(event, settings);
  if (result.kind === 'rejected') throw new ValidationError('event', [result.reason]);
  const [finding] = result.findings;
  if (!finding) throw new ValidationError('event', ['it holds no finding']);
  return finding;
}

/**
 * Who `--decision` decides as: the caller the sandbox names (with `--aws`, the real caller). Only a
 * principal of `approval.consolePrincipals` decides from the console, so this run lists it there: the
 * operator asked to decide, and the record names them.
 */
async function localOperator(seed: AccountSeed | undefined, aws: boolean): Promise<string> {
  if (!aws) return callerArnOf(seed ?? {}, LOCAL_ACCOUNT);
  const identity = await makeClient(STSClient, { service: 'STS' }).send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new ValidationError('caller identity', ['Arn: STS returned none']);
  return identity.Arn;
}

/** Runs `cordon run`; returns the exit status. */
export async function runPlaybook(options: RunOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const settings = parseSettings(settingsFile);
  // The functions' own log lines would bury the steps; warnings and errors still show.
  process.env.CORDON_LOG_LEVEL ??= 'warn';
  const event = readJsonFile(options.event, '--event');
  const finding = firstFinding(event, settings);
  const resource = finding.resources[0];
  if (!resource) throw new ValidationError('event', ['its finding names no resource']);
  let seed: AccountSeed | undefined;
  if (!options.aws) {
    if (options.account) {
      const raw = readJsonFile(options.account, '--account');
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
        throw new ValidationError('--account', [
          `${options.account} must hold a JSON object (an account seed)`,
        ]);
      }
      seed = raw as AccountSeed;
    } else {
      seed = seedForEvent(event, finding.resources);
    }
  }

  out(`Finding ${finding.type} (severity ${finding.severity}) on ${resource.type} ${resource.id}`);
  out(options.aws ? 'Driving REAL AWS endpoints (--aws).' : 'Sandbox account: nothing leaves this machine.');
  const store = await openStateStore(options.stateDir ?? stateDir());
  const started = Date.now();
  const since = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);
  let runtime: LocalRuntime | undefined;
  try {
    const operatorArn = options.decision ? await localOperator(seed, options.aws ?? false) : undefined;
    const consolePrincipals = [...settings.approval.consolePrincipals, ...(operatorArn ? [operatorArn] : [])];
    runtime = await LocalRuntime.start({
      store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
      stack: { settings: { ...settings, approval: { ...settings.approval, consolePrincipals } } },
      trust: await openStateTrust(options.stateDir ?? stateDir()),
      approvals: { stateDir: options.stateDir ?? stateDir(), print: out },
      ...(seed ? { seed } : {}),
      aws: options.aws ?? false,
      waitScale: options.waitScale ?? 0.01,
      onEvent: (e) => {
        if (/StateEntered$/.test(e.type) && e.stateName) out(`${since()}  ${e.stateName}`);
        if (/Failed$|TimedOut$/.test(e.type) && e.details.error) {
          out(
            `${since()}    ${e.type}: ${e.details.error}${e.details.cause ? ` ${e.details.cause.slice(0, 200)}` : ''}`,
          );
        }
      },
    });
    const engine = runtime.engine;
    if (!engine.playbooks().some((p) => p.id === options.playbook)) {
      throw new ValidationError('--playbook', [
        `no playbook "${options.playbook}"; the stack has: ${
          engine
            .playbooks()
            .map((p) => p.id)
            .join(', ') || 'none'
        }`,
      ]);
    }
    const mode: PlaybookMode = options.dryRun ? 'dry-run' : 'automatic';
    const incident = await runtime.recorder.openIncident(
      incidentFrom(finding, options.playbook, resourceForPlaybook(finding, options.playbook)),
    );
    out(`Incident ${incident.id}`);
    const reasons = [`started by cordon run --playbook ${options.playbook}`];
    await runtime.recorder.appendStep(incident.id, {
      phase: 'identification',
      action: 'start-playbook',
      status: 'succeeded',
      actor: 'automation',
      input: { findingId: finding.id, playbook: options.playbook, mode },
      note: reasons.join('; '),
    });
    const decision = options.decision;
    const active = runtime;
    const operator = decision
      ? localApprovalsDeps({
          store: new ApprovalStore(makeDocumentClient(), LOCAL_TABLE),
          recorder: active.recorder,
          consolePrincipals,
        })
      : undefined;
    engine.onTask(() => {
      if (!operator || !decision) {
        out(
          `${since()}  waiting for a person: open the link in the email above (the server runs until the request times out)`,
        );
        return;
      }
      // Decided as the local operator (the caller's principal), never as an approver who did not decide.
      void (async () => {
        for (let attempt = 0; attempt < 200; attempt++) {
          const pending = (await listApprovals(operator)).filter((r) => r.incidentId === incident.id);
          const request = pending[0];
          if (request) {
            const reason = `cordon run --decision ${decision}`;
            const { request: decided } =
              decision === 'approve'
                ? await approve(operator, request.requestId, { reason })
                : await reject(operator, request.requestId, { reason });
            out(
              `${since()}  ${decision === 'approve' ? 'approved' : 'rejected'} ${decided.action} as ${decided.decidedBy ?? ''}`,
            );
            return;
          }
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
      })().catch((error: unknown) => out(`${since()}  could not decide: ${String(error)}`));
    });
    const input = playbookInput(incident.id, finding, resource, mode, reasons);
    const result = await engine.run(options.playbook, input, {
      name: executionName(incident.id, options.playbook),
    });
    out(`${since()}  execution ${result.status}${result.error ? `: ${result.error}` : ''}`);
    await active.settled();
    out('');
    out(timeline(await runtime.recorder.steps(incident.id)));
    return result.status === 'SUCCEEDED' ? 0 : 1;
  } finally {
    await runtime?.close();
    await store.close();
  }
}
