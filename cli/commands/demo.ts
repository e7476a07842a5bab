/**
 * `cordon demo` (`npm run demo`): a game day on this machine, with no AWS account and no network.
 *
 * Two real GuardDuty findings from the fixtures go through the router (triage, incident, playbook
 * start) and their playbooks run on the local engine against a sandbox account that holds what the
 * findings name. Approval emails land in the outbox; the demo then plays the approver and decides by
 * the link, as a person's browser would. It ends with each incident's timeline and its verified chain.
 * Everything stays in the state folder (`./.cordon`).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SFNClient } from '@aws-sdk/client-sfn';
import { AuditQueries } from '#shared/audit-queries';
import { makeClient } from '#shared/clients';
import { randomIds } from '#shared/clock';
import { makeDocumentClient } from '#shared/dynamo';
import { createLogger } from '#shared/log';
import { parseSettings } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import { routeEvent } from '../../functions/router/core.ts';
import { normalizeEvent } from '../../functions/router/normalize.ts';
import { LocalRuntime } from '../../local/runtime.ts';
import type { AccountSeed } from '../../local/sandbox/index.ts';
import { seedForEvent } from '../../local/seed-from-finding.ts';
import { LOCAL_TABLE, openStateStore, openStateTrust, stateDir } from '../../local/state.ts';
import { timeline } from '../format.ts';
import { main } from '../main.ts';
import { decideByLink, nextApprovalLink } from './approve-locally.ts';

const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../test/fixtures/events/${name}`, import.meta.url)), 'utf8'),
  );

/** The findings the demo runs, and what the demo's approver decides at each approval. */
const SCENARIOS = [
  {
    title: 'A compromised EC2 instance (GuardDuty Backdoor:EC2/C&CActivity.B!DNS)',
    event: 'guardduty/ec2-backdoor-c2-dns.eventbridge.json',
    // Containment (the instance is only the target of this sample finding), eradication, recovery.
    decisions: ['approve', 'approve', 'approve'] as const,
  },
  {
    title: "An IAM user's key used from a Tor exit node (GuardDuty UnauthorizedAccess:IAMUser/TorIPCaller)",
    event: 'guardduty/iam-tor-ip-caller.eventbridge.json',
    decisions: ['approve'] as const,
  },
];

/**
 * One account for both findings, with a daily backup of each instance (the newest taken a day before the
 * finding was first seen, one after it: the recovery must pick the first) and the restore role.
 */
function demoAccount(seeds: AccountSeed[], firstSeen: Map<string, string>): AccountSeed {
  const vpcs = seeds.flatMap((s) => s.vpcs ?? []);
  const instances = seeds.flatMap((s) => s.instances ?? []);
  const day = 86_400_000;
  return {
    instances,
    ...(vpcs.length ? { vpcs } : {}),
    iam: {
      users: seeds.flatMap((s) => s.iam?.users ?? []),
      roles: [...seeds.flatMap((s) => s.iam?.roles ?? []), { name: 'cordon-restore-us-east-1' }],
    },
    backup: {
      recoveryPoints: instances.flatMap((instance) => {
        const seen = Date.parse(firstSeen.get(instance.id) ?? new Date().toISOString());
        return [2, 1, -1].map((days) => ({
          resource: instance.id,
          created: new Date(seen - days * day).toISOString(),
          vault: 'daily',
        }));
      }),
    },
  };
}

export interface DemoOptions {
  readonly out?: (line: string) => void;
  readonly stateDir?: string;
}

/** Runs the demo; returns the exit status. */
export async function runDemo(options: DemoOptions = {}): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = options.stateDir ?? stateDir();
  const settings = parseSettings(settingsFile);
  // The functions' own log lines would bury the story; warnings and errors still show.
  process.env.CORDON_LOG_LEVEL ??= 'warn';
  out(`Cordon demo: a game day with no AWS account and no network. State folder: ${dir}`);
  out("Starting the local store (DynamoDB Local) and the local engine with Cordon's own stack...");
  const store = await openStateStore(dir);
  const events = SCENARIOS.map((s) => fixture(s.event));
  const firstSeen = new Map<string, string>();
  const seed = demoAccount(
    events.map((event) => {
      const normalized = normalizeEvent(event, settings);
      const findings = normalized.kind === 'findings' ? normalized.findings : [];
      for (const f of findings) for (const r of f.resources) firstSeen.set(r.id, f.firstSeen);
      return seedForEvent(
        event,
        findings.flatMap((f) => f.resources),
      );
    }),
    firstSeen,
  );
  let runtime: LocalRuntime | undefined;
  let failures = 0;
  let reported: string | undefined;
  try {
    runtime = await LocalRuntime.start({
      store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
      trust: await openStateTrust(dir),
      seed,
      waitScale: 0.01,
      approvals: { stateDir: dir, print: (text) => out(text.replace(/^/gm, '    ')) },
    });
    const documents = makeDocumentClient();
    const arns = new Map(runtime.engine.playbooks().map((p) => [p.id, p.arn]));
    const deps = {
      recorder: runtime.recorder,
      queries: new AuditQueries(documents, LOCAL_TABLE),
      sfn: makeClient(SFNClient, { service: 'SFN' }),
      settings,
      playbookArn: (id: string) => arns.get(id),
      runtime: 'local' as const,
      now: () => new Date(),
      ids: randomIds,
      logger: createLogger('router', { level: 'silent' }),
    };

    for (const [index, scenario] of SCENARIOS.entries()) {
      out('');
      out(`=== ${index + 1}. ${scenario.title}`);
      out(`Event: test/fixtures/events/${scenario.event} (a real event, unchanged)`);
      const [outcome] = await routeEvent(deps, events[index]);
      if (outcome?.outcome !== 'started') {
        out(`The router did not start a playbook: ${JSON.stringify(outcome)}`);
        failures++;
        continue;
      }
      out(
        `Router: incident ${outcome.incidentId}, playbook ${outcome.playbook} started in ${outcome.mode} mode`,
      );
      for (const reason of outcome.reasons) out(`  - ${reason}`);
      const execution = runtime.engine.executionList().find((e) => e.arn === outcome.executionArn);
      if (!execution) throw new Error(`no execution ${outcome.executionArn}`);
      let seen = runtime.outbox?.emails.length ?? 0;
      const decider = (async () => {
        for (const decision of scenario.decisions) {
          const found = await nextApprovalLink(runtime as LocalRuntime, outcome.incidentId, seen, 60_000);
          if (!found) return;
          seen = found.index + 1;
          out(
            `  The demo plays the approver now: ${decision} by the link in the email (POST from the decision page).`,
          );
          const status = await decideByLink(found.link, decision, 'game day');
          out(`  -> HTTP ${status}`);
        }
      })();
      const result = await execution.done;
      await runtime.settled();
      await decider;
      out(`Playbook ${outcome.playbook}: ${result.status}${result.error ? ` (${result.error})` : ''}`);
      if (result.status !== 'SUCCEEDED') failures++;
      const incident = await runtime.recorder.getIncident(outcome.incidentId);
      out(
        `Incident ${incident.id}: ${incident.status}${incident.containedAt ? `, contained at ${incident.containedAt}` : ''}`,
      );
      out(timeline(await runtime.recorder.steps(outcome.incidentId)));
      reported ??= outcome.incidentId;
      const verified = await runtime.recorder.verify(outcome.incidentId);
      if (verified.ok)
        out(`Chain verified: ${verified.steps} steps, head ${verified.lastHash.slice(0, 16)}...`);
      else {
        out(`Chain BROKEN at step ${verified.brokenSeq}: ${verified.reason}`);
        failures++;
      }
    }
    out('');
    out(`Emails are in ${runtime.outbox?.dir ?? '(none)'}.`);
    out('');
    out('The record, through the console (the same commands work on the deployed table without --local):');
    const console = async (...args: string[]) => {
      out(`$ cordon ${args.join(' ')}`);
      const status = await main(['node', 'cordon', ...args, '--local', '--state-dir', dir]);
      if (status !== 0) failures++;
    };
    await console('incidents', 'list', '--output', 'table');
    if (reported) {
      await console('incidents', 'show', reported, '--output', 'table');
      await console('verify', '--all', '--output', 'table');
      await console('report', reported, '--out', join(dir, `report-${reported}.md`));
    }
    out('');
    out(
      `Explore it in a new shell: npx cordon incidents list --local${options.stateDir ? ` --state-dir ${dir}` : ''}`,
    );
    return failures === 0 ? 0 : 1;
  } finally {
    await runtime?.close();
    await store.close();
  }
}
