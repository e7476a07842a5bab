/**
 * `cordon run`: runs a playbook on the local runtime, printing each step as it happens, either for a real
 * event (a new incident, marked a rehearsal) or on an existing incident of the state folder's record
 * (`--incident`, as `cordon release --local` does).
 *
 * For an event it rehearses what the router would do: the router's policy (functions/router/policy.ts, as
 * `cordon triage --local` prints it) chooses the playbook and its mode, so a target-only instance waits for
 * approval; `--playbook` and `--mode` override them, and a playbook that does not fit the event's resource is
 * refused. The sandbox holds what the event names (or what `--account` describes, validated field by
 * field; see docs/examples/account.json) in the finding's account: the hub's when the finding is in
 * LOCAL_ACCOUNT, else a member of the sandbox organization with its responder role, in the finding's region
 * (the playbook's actions then assume that role). It is kept in the state folder (`account.json`) when the
 * command ends, so that a later `cordon release --local` or `cordon run --incident` continues from it; the
 * run ends by saying which account and region answered which calls.
 * The record goes to the local store in the state folder. With `--aws` the same engine drives the real
 * endpoints (the default credential chain and the standard endpoint settings), for a game day in a
 * sandbox AWS account; only the calls meant for the local engine (its task tokens) stay local.
 */
import { existsSync } from 'node:fs';
import { makeDocumentClient } from '#shared/dynamo';
import { ValidationError } from '#shared/errors';
import { incidentFrom } from '#shared/incident-from';
import { executionName, playbookInput } from '#shared/playbook-input';
import { parseSettings } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import type { ApprovalRequest } from '../../functions/approval/model.ts';
import { ApprovalStore } from '../../functions/approval/store.ts';
import { LOCAL_ACCOUNT, LocalRuntime } from '../../local/runtime.ts';
import type { OrganizationSeed } from '../../local/sandbox/organization.ts';
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
import { isReleasePlaybook } from '../playbook-choice.ts';
import { awsAccount, awsRegion, localOperator, readAccountSeed, readJsonFile } from '../run/inputs.ts';
import { actedIn, markCalls } from '../run/places.ts';
import { firstFinding, type Plan, planForEvent, planForIncident, type RunOptions } from '../run/plan.ts';
import { approve, listApprovals, localApprovalsDeps, reject } from './approvals.ts';

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
  let seed: OrganizationSeed | undefined;
  let eventPlan: Plan | undefined;
  if (options.event !== undefined) {
    const event = readJsonFile(options.event, '--event');
    const finding = firstFinding(event, settings);
    eventPlan = planForEvent(finding, settings, options);
    const place = { account: finding.account, region: finding.region };
    if (options.account) seed = readAccountSeed(options.account, place);
    if (!aws) seed ??= seedForEvent(event, finding.resources, place);
    out(
      `Finding ${finding.type} (severity ${finding.severity}) on ${eventPlan.resource.type} ${eventPlan.resource.id}`,
    );
    out(`Playbook ${eventPlan.playbook}, mode ${eventPlan.mode}`);
    for (const reason of eventPlan.reasons.slice(1)) out(`  ${reason}`);
  } else if (options.account) {
    seed = readAccountSeed(options.account);
  } else if (!aws && accountFile !== undefined && !existsSync(accountFile)) {
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
  if (!aws && eventPlan && eventPlan.finding.account !== LOCAL_ACCOUNT) {
    out(
      `The finding is in member account ${eventPlan.finding.account}, region ${eventPlan.finding.region}: the actions assume its responder role.`,
    );
  }
  const store = await openStateStore(dir);
  const started = Date.now();
  const since = () => `+${((Date.now() - started) / 1000).toFixed(2)}s`.padStart(8);
  let runtime: LocalRuntime | undefined;
  try {
    // With --aws, the real caller is an operator only when --decision needs it: without it, the run
    // serves no console route and is decided by its links. Its account is the stack's, always.
    const operatorArn = !aws || options.decision ? await localOperator(seed, aws) : undefined;
    const awsPlace = aws && region !== undefined ? { account: await awsAccount(), region } : undefined;
    const consolePrincipals = [...settings.approval.consolePrincipals, ...(operatorArn ? [operatorArn] : [])];
    runtime = await LocalRuntime.start({
      store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
      stack: { settings: { ...settings, approval: { ...settings.approval, consolePrincipals } } },
      trust: await openStateTrust(dir),
      approvals: { stateDir: dir, print: out, ...(operatorArn ? { operator: operatorArn } : {}) },
      ...(seed ? { organization: seed } : {}),
      ...(accountFile ? { accountFile } : {}),
      aws,
      ...(awsPlace ? { awsPlace } : {}),
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
    const mark = aws ? undefined : markCalls(runtime.organization);
    const input = playbookInput(incidentId, plan.finding, plan.resource, plan.mode, plan.reasons);
    const result = await engine.run(plan.playbook, input, {
      name: executionName(incidentId, plan.playbook),
    });
    out(`${since()}  execution ${result.status}${result.error ? `: ${result.error}` : ''}`);
    await active.settled();
    if (mark) for (const line of actedIn(runtime.organization, mark)) out(`  acted in ${line}`);
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
