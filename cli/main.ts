/**
 * The `cordon` console. Each command lives in `cli/commands/`; this file only wires them to the
 * command line and turns errors into a message and an exit status.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ValidationError } from '#shared/errors';
import { PLAYBOOK_MODES, type PlaybookMode } from '#shared/settings';
import { registerApprovalsCommands } from './commands/approvals.ts';
import { registerPrepareCommand } from './commands/prepare.ts';
import { registerReleaseCommand } from './commands/release.ts';
import { runTriage } from './commands/triage.ts';
import { registerConsoleCommands } from './console.ts';
import { parseIncidentId } from './context.ts';
import { describeError } from './errors-text.ts';

/** The version in package.json. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version?: unknown;
  };
  return typeof pkg.version === 'string' ? pkg.version : 'unknown';
}

/** The command being run, as typed (`incidents list`), for error messages; set before each action. */
let running: string | undefined;

function program(): Command {
  const cli = new Command('cordon')
    .description(
      'Cordon: serverless automated incident response for AWS.\n' +
        'Query and verify the audit record, and run playbooks on the local runtime.',
    )
    .version(version(), '-V, --version', 'print the version of cordon')
    .showHelpAfterError()
    .exitOverride()
    .hook('preAction', (_cli, action) => {
      const names: string[] = [];
      for (let c: Command | null = action; c?.parent; c = c.parent) names.unshift(c.name());
      running = names.join(' ');
    })
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  npm run demo                                a game day on this machine, no AWS account',
        '  cordon incidents list --local               the incidents of the state folder (./.cordon)',
        '  cordon report <id> --local --format html    the post-incident report',
        '  cordon triage event.json                    what the router would decide for an event',
        '  cordon approvals list --region eu-west-1    pending approval requests of the deployed stack',
        '',
        'Each command has its own help: cordon <command> --help.',
        'Environment: AWS_REGION, AWS_PROFILE and the AWS credential chain; CORDON_TABLE_NAME; CORDON_STATE_DIR;',
        'CORDON_DEBUG=1 prints the stack of an error after its one-line message.',
        'Exit status: 0 done, 1 an error (one line on stderr), 2 a record that does not verify.',
      ].join('\n'),
    );

  cli
    .command('demo')
    .description(
      'Game day on this machine with no AWS account: two real GuardDuty findings go through the router and ' +
        'their playbooks run on the local engine against a sandbox account; the demo approves containment and ' +
        'rejects what cannot be undone, prints each timeline, verifies each chain and ends with the console. ' +
        'Run it again: it first closes the incidents the last game day left open. Afterwards, cordon release <id> --local ' +
        'returns the instance and the key.',
    )
    .option('--state-dir <dir>', 'the project state folder (default: ./.cordon)')
    .action(async (options: { stateDir?: string }) => {
      // The local runtime (and the CDK app it builds) loads only for the commands that run it.
      const { runDemo } = await import('./commands/demo.ts');
      process.exitCode = await runDemo({ stateDir: options.stateDir, runConsole: main });
    });

  cli
    .command('triage <file>')
    .description(
      'Read an EventBridge event or a bare GuardDuty finding object and print, as JSON, what the router ' +
        'would decide: "decision": "accepted" with the normalized findings and each one\'s decision (playbook, ' +
        'mode, reasons), or "decision": "rejected" with the reason (exit 0 either way; 1 only when the file ' +
        'cannot be read or is not JSON). Touches nothing.',
    )
    .option('--local', 'decide as the local runtime does (sample findings are rehearsed, not dry runs)')
    .action(async (file: string, options: { local?: boolean }) => {
      process.exitCode = await runTriage(file, {
        out: (line) => process.stdout.write(`${line}\n`),
        err: (line) => process.stderr.write(`${line}\n`),
        options: { runtime: options.local ? 'local' : 'aws' },
      });
    });

  cli
    .command('run')
    .description(
      'Rehearse on the local runtime what the router would do for an event (an EventBridge event or a bare ' +
        'GuardDuty finding): its policy picks the playbook and mode (as cordon triage --local prints them; ' +
        '--playbook and --mode override), a new incident marked a rehearsal is opened, and each step is ' +
        'printed as it happens. Or, with --incident, run a playbook on an existing incident of the state ' +
        "folder's record. The sandbox account holds what the event names unless --account describes one " +
        '(example: docs/examples/account.json), and is kept in the state folder for later commands ' +
        '(cordon release --local).',
    )
    .option('--playbook <id>', "the playbook, e.g. ec2-compromise (default: the router's choice)")
    .option('--event <file>', 'the event, as JSON')
    .option('--incident <id>', "run the playbook on this incident of the state folder's record")
    .option(
      '--mode <mode>',
      "automatic, approval-first or dry-run (default: the router's policy for the event)",
    )
    .option(
      '--account <file>',
      'a sandbox account seed, as JSON, checked field by field (example: docs/examples/account.json; ' +
        'default: an account holding what the event names, or with --incident the one the state folder keeps)',
    )
    .option(
      '--aws',
      'drive the real AWS endpoints (default credential chain, AWS_ENDPOINT_URL...) instead of a sandbox',
    )
    .option(
      '--dry-run',
      'the same as --mode dry-run: every action reports what it would do and changes nothing',
    )
    .option('--decision <approve|reject>', 'answer every approval request with this decision')
    .option('--wait-scale <factor>', 'factor on Wait states and approval timeouts', '0.01')
    .option('--state-dir <dir>', 'the project state folder (default: ./.cordon)')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const decision = options.decision;
      if (decision !== undefined && decision !== 'approve' && decision !== 'reject') {
        throw new ValidationError('--decision', [`must be approve or reject, got "${String(decision)}"`]);
      }
      const mode = options.mode;
      if (mode !== undefined && !PLAYBOOK_MODES.some((m) => m === mode)) {
        throw new ValidationError('--mode', [`must be ${PLAYBOOK_MODES.join(', ')}, got "${String(mode)}"`]);
      }
      if ((options.event === undefined) === (options.incident === undefined)) {
        throw new ValidationError('cordon run', ['give either --event <file> or --incident <id>']);
      }
      const waitScale = Number(options.waitScale);
      if (!Number.isFinite(waitScale) || waitScale < 0 || waitScale > 1) {
        throw new ValidationError('--wait-scale', [
          `must be a number from 0 to 1, got "${String(options.waitScale)}"`,
        ]);
      }
      const { runPlaybook } = await import('./commands/run.ts');
      process.exitCode = await runPlaybook({
        ...(typeof options.playbook === 'string' ? { playbook: options.playbook } : {}),
        ...(typeof options.event === 'string' ? { event: options.event } : {}),
        ...(typeof options.incident === 'string' ? { incident: parseIncidentId(options.incident) } : {}),
        ...(typeof options.account === 'string' ? { account: options.account } : {}),
        aws: options.aws === true,
        ...(mode ? { mode: mode as PlaybookMode } : {}),
        dryRun: options.dryRun === true,
        ...(decision ? { decision } : {}),
        waitScale,
        ...(typeof options.stateDir === 'string' ? { stateDir: options.stateDir } : {}),
      });
    });

  registerReleaseCommand(cli);
  registerPrepareCommand(cli);
  registerApprovalsCommands(cli);
  registerConsoleCommands(cli);
  return cli;
}

/** Prints an error as one line on stderr; with `CORDON_DEBUG=1`, its stack too. */
function report(error: unknown): void {
  process.stderr.write(`${describeError(error, running)}\n`);
  if (process.env.CORDON_DEBUG === '1' && error instanceof Error && error.stack) {
    process.stderr.write(`${error.stack}\n`);
  }
}

/** Runs the console with `argv` (as `process.argv`); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = 0;
  running = undefined;
  try {
    await program().parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    // Never a stack trace: a Cordon error is its message, anything else one line with a hint.
    report(error);
    return 1;
  }
}

let handlersInstalled = false;

/**
 * For the `cordon` process only (bin/cordon.js): an error that escapes every promise (a timer's, a
 * stream's) is printed as {@link main} prints one, and the process exits with status 1.
 */
export function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  const fatal = (error: unknown) => {
    report(error);
    process.exit(1);
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
}
