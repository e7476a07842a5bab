/**
 * `cordon demo` (`npm run demo`): a game day on this machine, with no AWS account and no network.
 *
 * Two real GuardDuty findings from the fixtures go through the router (triage, incident, playbook
 * start) and their playbooks run on the local engine against a sandbox organization that holds what the
 * findings name, in the findings' account: the fixtures' findings are in member account 883606788610
 * (delivered to the GuardDuty administrator 101010101111), so Cordon, in the hub (LOCAL_ACCOUNT), contains
 * them in the member through its responder role. Approval emails land in the outbox; the demo then plays
 * the approver and decides by the link, as a person's browser would. It ends with each incident's
 * timeline, the accounts and regions each playbook acted in, and its verified chain. Everything stays in
 * the state folder (`./.cordon`).
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
import { parseSettings, type Settings } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import { routeEvent } from '../../functions/router/core.ts';
import { normalizeEvent } from '../../functions/router/normalize.ts';
import { LOCAL_ACCOUNT, LocalRuntime } from '../../local/runtime.ts';
import { type AccountSeed, callerArnOf } from '../../local/sandbox/index.ts';
import type { MemberSeed, OrganizationSeed } from '../../local/sandbox/organization.ts';
import { mergeOrganizationSeeds, seedForEvent } from '../../local/seed-from-finding.ts';
import {
  LOCAL_TABLE,
  openStateStore,
  openStateTrust,
  stateAccountFile,
  stateDir,
} from '../../local/state.ts';
import { LOCAL_REGION } from '../../local/store.ts';
import { timeline } from '../format.ts';
import { closeIncident, type LocalRecord, localOperator } from '../lifecycle.ts';
import { ConsoleQueries } from '../queries.ts';
import { actedIn, markCalls } from '../run/places.ts';
import { decideByLink, nextApprovalLink } from './approve-locally.ts';

const fixture = (name: string): unknown =>
  JSON.parse(
    readFileSync(fileURLToPath(new URL(`../../test/fixtures/events/${name}`, import.meta.url)), 'utf8'),
  );

/** One approval the demo's approver answers: the decision, and why (said in the output and the record). */
interface DemoDecision {
  readonly decision: 'approve' | 'reject';
  readonly why: string;
}

/**
 * The findings the demo runs, and what the demo's approver decides at each approval, in order. Containment
 * is approved and what cannot be undone is rejected, so that the game day leaves the instance contained
 * (not stopped or terminated) and the key deactivated (not deleted): `cordon release <id> --local` then
 * returns both to their state before containment.
 */
const SCENARIOS: readonly {
  readonly title: string;
  readonly event: string;
  readonly decisions: readonly DemoDecision[];
}[] = [
  {
    title: 'A compromised EC2 instance (GuardDuty Backdoor:EC2/C&CActivity.B!DNS)',
    event: 'guardduty/ec2-backdoor-c2-dns.eventbridge.json',
    decisions: [
      // The instance is only the target of this sample finding: a person approves containment first.
      { decision: 'approve', why: 'contain the instance' },
      {
        decision: 'reject',
        why: 'keep the instance contained rather than stop it, so that `cordon release <id> --local` can return it',
      },
    ],
  },
  {
    title: "An IAM user's key used from a Tor exit node (GuardDuty UnauthorizedAccess:IAMUser/TorIPCaller)",
    event: 'guardduty/iam-tor-ip-caller.eventbridge.json',
    decisions: [
      {
        decision: 'reject',
        why: 'keep the key deactivated rather than delete it (a deleted key cannot be restored), so that `cordon release <id> --local` can return it',
      },
    ],
  },
];

/** The reason the demo closes the incidents an earlier game day left open in the state folder. */
export const NEW_GAME_DAY = 'a new game day starts';

/**
 * This game day's copy of a fixture event: its finding id gets the game day's suffix, so that the router
 * takes it for a new finding (not a repeat delivery of the last game day's) and opens a new incident. The
 * fixture file is unchanged.
 */
function asFindingOf(event: unknown, gameDay: string): unknown {
  const copy = structuredClone(event) as { detail?: { id?: unknown } };
  if (copy.detail && typeof copy.detail.id === 'string') copy.detail.id = `${copy.detail.id}-${gameDay}`;
  return copy;
}

/**
 * An account of the game day, with a daily backup of each of its instances (the newest taken a day before
 * the finding was first seen, one after it: the recovery must pick the first) and, in the account's first
 * region (IAM is global), the restore role.
 */
function withBackups(
  seed: AccountSeed,
  region: string,
  first: boolean,
  firstSeen: Map<string, string>,
): AccountSeed {
  const instances = seed.instances ?? [];
  const day = 86_400_000;
  return {
    ...seed,
    instances,
    ...(first
      ? {
          iam: {
            users: seed.iam?.users ?? [],
            roles: [...(seed.iam?.roles ?? []), { name: `cordon-restore-${region}` }],
          },
        }
      : {}),
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

/** The game day's organization: the findings' accounts merged, each with its backups and restore role. */
function demoOrganization(seeds: OrganizationSeed[], firstSeen: Map<string, string>): OrganizationSeed {
  const merged = mergeOrganizationSeeds(seeds);
  const member = (m: MemberSeed): MemberSeed => ({
    ...m,
    regions: Object.fromEntries(
      Object.entries(m.regions ?? {}).map(([region, seed], i) => [
        region,
        withBackups(seed, region, i === 0, firstSeen),
      ]),
    ),
  });
  return {
    ...merged,
    hub: withBackups(merged.hub ?? {}, LOCAL_REGION, true, firstSeen),
    ...(merged.members
      ? { members: Object.fromEntries(Object.entries(merged.members).map(([a, m]) => [a, member(m)])) }
      : {}),
  };
}

/**
 * The sandbox organization a game day starts from, made from its events (the same for every game day: only
 * the finding ids differ): each finding's account (the fixtures': member 883606788610, with its responder
 * role) holding what it names; and when each resource was first seen.
 */
export function demoSeed(
  events: readonly unknown[] = SCENARIOS.map((s) => fixture(s.event)),
  settings: Settings = parseSettings(settingsFile),
): { seed: OrganizationSeed; firstSeen: Map<string, string> } {
  const firstSeen = new Map<string, string>();
  const seed = demoOrganization(
    events.map((event) => {
      const normalized = normalizeEvent(event, settings);
      const findings = normalized.kind === 'findings' ? normalized.findings : [];
      for (const f of findings) for (const r of f.resources) firstSeen.set(r.id, f.firstSeen);
      const [first] = findings;
      return seedForEvent(
        event,
        findings.flatMap((f) => f.resources),
        first ? { account: first.account, region: first.region } : undefined,
      );
    }),
    firstSeen,
  );
  return { seed, firstSeen };
}

export interface DemoOptions {
  readonly out?: (line: string) => void;
  readonly stateDir?: string;
  /**
   * Runs a console command (`argv` as `process.argv`) and returns its exit status: the demo ends with the
   * console. `cli/main.ts` passes its own `main`, so that this module does not import the one that loads it.
   */
  readonly runConsole: (argv: readonly string[]) => Promise<number>;
}

/** Runs the demo; returns the exit status. */
export async function runDemo(options: DemoOptions): Promise<number> {
  const out = options.out ?? ((line: string) => process.stdout.write(`${line}\n`));
  const dir = options.stateDir ?? stateDir();
  const settings = parseSettings(settingsFile);
  // The functions' own log lines would bury the story; warnings and errors still show.
  process.env.CORDON_LOG_LEVEL ??= 'warn';
  out(`Cordon demo: a game day with no AWS account and no network. State folder: ${dir}`);
  out('');
  out('--- Preparation: the local store (DynamoDB Local) and the local engine');
  const store = await openStateStore(dir, { onProgress: out });
  // Each game day's findings are new findings: a second demo in the same folder runs the whole scenario.
  const gameDay = `gameday-${new Date().toISOString().replace(/[-:.]/g, '').toLowerCase()}`;
  const events = SCENARIOS.map((s) => asFindingOf(fixture(s.event), gameDay));
  const { seed, firstSeen } = demoSeed(events, settings);
  let runtime: LocalRuntime | undefined;
  let failures = 0;
  let reported: string | undefined;
  try {
    out("Building Cordon's own stack for the local engine (its state machines and functions)...");
    // The operator of a local runtime is the person at the keyboard: while the demo waits, they may
    // decide from the console (`cordon approvals approve|reject --local`), as the sandbox's caller.
    const operator = callerArnOf(seed.hub ?? {}, LOCAL_ACCOUNT);
    const consolePrincipals = [...settings.approval.consolePrincipals, operator];
    runtime = await LocalRuntime.start({
      store: { endpoint: store.endpoint, tableName: LOCAL_TABLE },
      stack: { settings: { ...settings, approval: { ...settings.approval, consolePrincipals } } },
      trust: await openStateTrust(dir),
      organization: seed,
      // Left in the state folder on exit: `cordon release <id> --local` continues from this organization.
      accountFile: stateAccountFile(dir),
      waitScale: 0.01,
      approvals: { stateDir: dir, print: (text) => out(text.replace(/^/gm, '    ')), operator },
    });
    out('The local engine is ready.');
    const org = runtime.organization;
    for (const a of org.accounts()) {
      out(
        `  ${a.hub ? 'Hub' : a.inOrganization ? 'Member' : 'Outside'} account ${a.account} (${a.regions.join(', ')})${
          a.hub
            ? `: Cordon runs here; organization ${org.id}`
            : a.responderRoleArn
              ? `: responder role ${a.responderRoleArn}`
              : ''
        }`,
      );
    }
    const documents = makeDocumentClient();
    const closed = await closeEarlierGameDays(
      { recorder: runtime.recorder, documents },
      new ConsoleQueries(documents, LOCAL_TABLE),
      [...firstSeen.keys()],
    );
    for (const line of closed) out(line);
    const arns = new Map(runtime.engine.playbooks().map((p) => [p.id, p.arn]));
    const deps = {
      recorder: runtime.recorder,
      queries: new AuditQueries(documents, LOCAL_TABLE),
      sfn: makeClient(SFNClient, { service: 'SFN' }),
      // The stack's settings: the local organization's members are in scope.
      settings: runtime.settings ?? settings,
      playbookArn: (id: string) => arns.get(id),
      runtime: 'local' as const,
      home: { account: LOCAL_ACCOUNT, region: LOCAL_REGION },
      now: () => new Date(),
      ids: randomIds,
      logger: createLogger('router', { level: 'silent' }),
    };

    for (const [index, scenario] of SCENARIOS.entries()) {
      out('');
      out(`=== ${index + 1}. ${scenario.title}`);
      out(
        `Event: test/fixtures/events/${scenario.event} (a real event; this game day's finding id ends in -${gameDay})`,
      );
      out('--- Identification: the router triages the finding and opens an incident');
      const mark = markCalls(org);
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
      out('--- Containment, evidence and eradication: the playbook runs on the local engine');
      const execution = runtime.engine.executionList().find((e) => e.arn === outcome.executionArn);
      if (!execution) throw new Error(`no execution ${outcome.executionArn}`);
      let seen = runtime.outbox?.emails.length ?? 0;
      const decider = (async () => {
        for (const { decision, why } of scenario.decisions) {
          const found = await nextApprovalLink(runtime as LocalRuntime, outcome.incidentId, seen, 60_000);
          if (!found) return;
          seen = found.index + 1;
          out(
            `  The demo plays the approver now: ${decision} by the link in the email (POST from the decision page), to ${why}.`,
          );
          const status = await decideByLink(found.link, decision, `game day: ${why}`);
          out(`  -> HTTP ${status}`);
        }
      })();
      const result = await execution.done;
      await runtime.settled();
      await decider;
      out(`Playbook ${outcome.playbook}: ${result.status}${result.error ? ` (${result.error})` : ''}`);
      if (result.status !== 'SUCCEEDED') failures++;
      const { account, region } =
        (execution.input as { finding?: { account?: string; region?: string } }).finding ?? {};
      out(
        `The finding is in account ${account ?? '?'}${account === LOCAL_ACCOUNT ? ' (the hub)' : ' (a member)'}, region ${region ?? '?'}. The AWS calls, by where they were answered:`,
      );
      for (const line of actedIn(org, mark)) out(`  ${line}`);
      const incident = await runtime.recorder.getIncident(outcome.incidentId);
      out(
        `Incident ${incident.id}: ${incident.status}${incident.containedAt ? `, contained at ${incident.containedAt}` : ''}`,
      );
      out('--- Lessons learned: the timeline and the chain');
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
      const status = await options.runConsole(['node', 'cordon', ...args, '--local', '--state-dir', dir]);
      if (status !== 0) failures++;
    };
    await console('incidents', 'list', '--output', 'table');
    if (reported) {
      await console('incidents', 'show', reported, '--output', 'table');
      await console('verify', '--all', '--output', 'table');
      await console('report', reported, '--out', join(dir, `report-${reported}.md`));
    }
    out('');
    const at = options.stateDir ? ` --state-dir ${dir}` : '';
    out(`Explore it in a new shell: npx cordon incidents list --local${at}`);
    if (reported) {
      out(
        `Undo the containment: npx cordon release ${reported} --local${at}; close an incident: npx cordon incidents close ${reported} --reason "..." --local${at}`,
      );
    }
    return failures === 0 ? 0 : 1;
  } finally {
    // Closing the runtime writes the sandbox account to the state folder.
    if (runtime) out(`The sandbox account is saved in ${stateAccountFile(dir)}.`);
    await runtime?.close();
    await store.close();
  }
}

/**
 * Closes, as the local operator, the incidents an earlier game day left open on the demo's resources
 * (`closeIncident` verifies each record first and releases its open markers), so that this game day's
 * findings open incidents of their own. An incident whose record does not verify stays as it is, and is
 * said to.
 */
async function closeEarlierGameDays(
  record: LocalRecord,
  queries: ConsoleQueries,
  resourceIds: readonly string[],
): Promise<string[]> {
  const open = new Map<string, string>();
  for (const resource of resourceIds) {
    let nextToken: string | undefined;
    do {
      const page = await queries.listIncidents(
        { since: '0000', until: new Date().toISOString(), resource },
        { limit: 100, ...(nextToken ? { nextToken } : {}) },
      );
      for (const incident of page.items)
        if (incident.status !== 'closed') open.set(incident.id, incident.status);
      nextToken = page.nextToken;
    } while (nextToken);
  }
  if (open.size === 0) return [];
  const lines = [
    `An earlier game day left ${open.size} incident(s) open on these resources: closing them (${NEW_GAME_DAY}).`,
  ];
  for (const [id, status] of open) {
    try {
      await closeIncident(record, id, { reason: NEW_GAME_DAY, actor: localOperator() });
      lines.push(`  closed ${id} (was ${status})`);
    } catch (error) {
      // A record that does not verify is not closed: the router opens a new incident rather than join it.
      lines.push(`  left ${id} as it is: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  return lines;
}
