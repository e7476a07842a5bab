/** Runs the audit console's commands in-process, as `cordon` would, and seeds a record to run them on. */
import { Command, CommanderError } from 'commander';
import { registerClientPlugin } from '#shared/clients';
import { sequentialIds, steppingClock } from '#shared/clock';
import type { StepInput } from '#shared/domain';
import { CordonError } from '#shared/errors';
import { registerConsoleCommands } from '../../../cli/console.ts';
import type { TestTable } from '../../support/store.ts';

/** What a command printed and the status it ended with. */
export interface Ran {
  readonly status: number;
  readonly out: string;
  readonly err: string;
}

/** The clock the console reads in these tests: 2026-11-28 noon. */
export const NOW = new Date('2026-11-28T12:00:00.000Z');

/** Runs `cordon <args>` with the console's commands, catching errors as `cli/main.ts` does. */
export async function cordon(args: readonly string[]): Promise<Ran> {
  let out = '';
  let err = '';
  let status = 0;
  const cli = new Command('cordon').exitOverride().configureOutput({
    writeOut: (text) => {
      out += text;
    },
    writeErr: (text) => {
      err += text;
    },
  });
  registerConsoleCommands(cli, {
    io: {
      out: (text) => {
        out += text.endsWith('\n') ? text : `${text}\n`;
      },
      err: (text) => {
        err += text.endsWith('\n') ? text : `${text}\n`;
      },
      isTTY: false,
    },
    now: () => NOW,
    setExit: (code) => {
      status = code;
    },
  });
  try {
    await cli.parseAsync(['node', 'cordon', ...args]);
  } catch (error) {
    if (error instanceof CommanderError) status = error.exitCode;
    else if (error instanceof CordonError) {
      err += `cordon: ${error.message}\n`;
      status = 1;
    } else throw error;
  }
  return { status, out, err };
}

const answered = new WeakSet<TestTable>();

/**
 * `--endpoint`, `--table`, `--record-key` and `--anchor-bucket` of a test table. The console's KMS and S3
 * calls for them are answered by the table's record key and anchor (its sandbox), as AWS would answer a
 * deployed console's.
 */
export function on(table: TestTable): string[] {
  if (!answered.has(table)) {
    answered.add(table);
    registerClientPlugin(table.trust.plugin());
  }
  return [
    '--endpoint',
    table.endpoint,
    '--table',
    table.tableName,
    '--record-key',
    table.trust.keyArn,
    '--anchor-bucket',
    table.trust.bucket,
  ];
}

/**
 * A small record with fixed times and ids: three incidents in two months (an EC2 one contained after an
 * approval, an IAM one still open with a failed step, an older closed one), each with a valid chain.
 */
export async function seedRecord(table: TestTable): Promise<void> {
  const recorder = table.recorder({
    clock: steppingClock('2026-10-30T09:00:00.000Z', 60_000),
    ids: sequentialIds('inc'),
  });
  const old = await recorder.openIncident({
    title: 'Recon from a known malicious IP',
    findingType: 'Recon:IAMUser/MaliciousIPCaller.Custom',
    severity: 2,
    account: '111111111111',
    region: 'eu-west-1',
    resources: [{ type: 'iam-user', id: 'build-bot' }],
    playbook: 'iam-credential-compromise',
    firstSeen: '2026-10-30T08:55:00.000Z',
    lastSeen: '2026-10-30T08:58:00.000Z',
  });
  await recorder.appendStep(old.id, {
    phase: 'identification',
    action: 'start-playbook',
    status: 'succeeded',
    actor: 'automation',
    note: 'iam-credential-compromise started in dry-run mode',
  });
  await recorder.updateIncident(old.id, { status: 'closed', closedAt: '2026-10-30T09:30:00.000Z' });

  const clock = steppingClock('2026-11-27T10:00:00.000Z', 30_000);
  const r2 = table.recorder({ clock, ids: () => 'inc-0002' });
  const ec2 = await r2.openIncident({
    title: 'Command and Control server domain name queried by EC2 instance i-0abc',
    findingType: 'Backdoor:EC2/C&CActivity.B!DNS',
    severity: 8,
    account: '222222222222',
    region: 'us-east-1',
    resources: [{ type: 'instance', id: 'i-0abc' }],
    playbook: 'ec2-compromise',
    firstSeen: '2026-11-27T09:50:00.000Z',
    lastSeen: '2026-11-27T09:55:00.000Z',
  });
  const steps: (Omit<StepInput, 'actor'> & { actor?: string })[] = [
    {
      phase: 'identification',
      action: 'start-playbook',
      status: 'succeeded',
      note: 'ec2-compromise started in automatic mode',
    },
    { phase: 'containment', action: 'ec2-isolate', status: 'started' },
    {
      phase: 'containment',
      action: 'ec2-isolate',
      status: 'succeeded',
      before: { groups: { 'eni-1': ['sg-web'] } },
      changes: { groups: { 'eni-1': ['sg-isolation'] } },
      note: 'isolated eni-1, "quoted", with a comma',
      startedSeq: 2,
    },
    {
      phase: 'evidence',
      action: 'ec2-snapshot',
      status: 'succeeded',
      evidence: ['snap-0001', 'snap-0002'],
      changes: { snapshots: ['snap-0001', 'snap-0002'] },
    },
    {
      phase: 'eradication',
      action: 'approval-request',
      status: 'started',
      input: { requestId: 'req-1', action: 'stop-instance', resource: { type: 'instance', id: 'i-0abc' } },
      note: 'asked alice@example.com to approve stop-instance on i-0abc',
    },
    {
      phase: 'eradication',
      action: 'approval-decision',
      status: 'succeeded',
      actor: 'alice@example.com',
      input: {
        requestId: 'req-1',
        action: 'stop-instance',
        resource: { type: 'instance', id: 'i-0abc' },
        via: 'link',
      },
      changes: { decision: 'approve', status: 'decided', reason: 'confirmed C2' },
      note: 'alice@example.com approved stop-instance on i-0abc: confirmed C2',
    },
    {
      phase: 'eradication',
      action: 'ec2-eradicate',
      status: 'succeeded',
      before: { state: 'running' },
      changes: { state: 'stopped' },
    },
  ];
  for (const s of steps) await r2.appendStep(ec2.id, { actor: 'automation', ...s });
  await r2.updateIncident(ec2.id, { status: 'contained', containedAt: '2026-11-27T10:01:00.000Z' });

  const r3 = table.recorder({
    clock: steppingClock('2026-11-28T08:00:00.000Z', 1000),
    ids: () => 'inc-0003',
  });
  const iam = await r3.openIncident({
    title: 'API GetCallerIdentity was invoked from a Tor exit node',
    findingType: 'UnauthorizedAccess:IAMUser/TorIPCaller',
    severity: 5,
    account: '222222222222',
    region: 'us-east-1',
    resources: [
      { type: 'access-key', id: 'AKIAEXAMPLE' },
      { type: 'iam-user', id: 'dev' },
    ],
    playbook: 'iam-credential-compromise',
    firstSeen: '2026-11-28T07:00:00.000Z',
    lastSeen: '2026-11-28T07:30:00.000Z',
  });
  await r3.appendStep(iam.id, {
    phase: 'containment',
    action: 'iam-contain-user-key',
    status: 'started',
    actor: 'automation',
  });
  await r3.appendStep(iam.id, {
    phase: 'containment',
    action: 'iam-contain-user-key',
    status: 'failed',
    actor: 'automation',
    error: { name: 'AccessDeniedError', message: 'iam:UpdateAccessKey denied' },
    startedSeq: 1,
  });
}
