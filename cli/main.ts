/**
 * The `cordon` console. Each command lives in `cli/commands/`; this file only wires them to the
 * command line and turns errors into a message and an exit status.
 */
import { Command, CommanderError } from 'commander';
import { CordonError, ValidationError } from '#shared/errors';
import { registerApprovalsCommands } from './commands/approvals.ts';
import { runTriage } from './commands/triage.ts';
import { registerConsoleCommands } from './console.ts';

function program(): Command {
  const cli = new Command('cordon')
    .description(
      'Cordon: serverless automated incident response for AWS.\n' +
        'Query and verify the audit record, and run playbooks on the local runtime.',
    )
    .showHelpAfterError()
    .exitOverride();

  cli
    .command('demo')
    .description(
      'Game day on this machine with no AWS account: start the local store, open an incident from a real ' +
        'GuardDuty finding, record steps through the audit middleware, print the timeline, verify the chain.',
    )
    .option('--state-dir <dir>', 'the project state folder (default: ./.cordon)')
    .action(async (options: { stateDir?: string }) => {
      // The local runtime (and the CDK app it builds) loads only for the commands that run it.
      const { runDemo } = await import('./commands/demo.ts');
      process.exitCode = await runDemo({ stateDir: options.stateDir });
    });

  cli
    .command('triage <file>')
    .description(
      'Read an EventBridge event or a bare GuardDuty finding object and print, as JSON, the normalized ' +
        'findings and what the router would decide (playbook, mode, reasons). Touches nothing.',
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
      'Run a playbook on the local runtime for an event (an EventBridge event or a bare GuardDuty finding), ' +
        'printing each step as it happens. The sandbox account holds what the event names unless --account ' +
        'describes one; the record goes to the local store in the state folder.',
    )
    .requiredOption('--playbook <id>', 'the playbook to run, e.g. ec2-compromise')
    .requiredOption('--event <file>', 'the event, as JSON')
    .option(
      '--account <file>',
      'a sandbox account seed, as JSON (default: an account holding what the event names)',
    )
    .option(
      '--aws',
      'drive the real AWS endpoints (default credential chain, AWS_ENDPOINT_URL...) instead of a sandbox',
    )
    .option('--dry-run', 'every action reports what it would do and changes nothing')
    .option('--decision <approve|reject>', 'answer every approval request with this decision')
    .option('--wait-scale <factor>', 'factor on Wait states and approval timeouts', '0.01')
    .option('--state-dir <dir>', 'the project state folder (default: ./.cordon)')
    .action(async (options: Record<string, string | boolean | undefined>) => {
      const decision = options.decision;
      if (decision !== undefined && decision !== 'approve' && decision !== 'reject') {
        throw new ValidationError('--decision', [`must be approve or reject, got "${String(decision)}"`]);
      }
      const waitScale = Number(options.waitScale);
      if (!Number.isFinite(waitScale) || waitScale < 0 || waitScale > 1) {
        throw new ValidationError('--wait-scale', [
          `must be a number from 0 to 1, got "${String(options.waitScale)}"`,
        ]);
      }
      const { runPlaybook } = await import('./commands/run.ts');
      process.exitCode = await runPlaybook({
        playbook: String(options.playbook),
        event: String(options.event),
        ...(typeof options.account === 'string' ? { account: options.account } : {}),
        aws: options.aws === true,
        dryRun: options.dryRun === true,
        ...(decision ? { decision } : {}),
        waitScale,
        ...(typeof options.stateDir === 'string' ? { stateDir: options.stateDir } : {}),
      });
    });

  registerApprovalsCommands(cli);
  registerConsoleCommands(cli);
  return cli;
}

/** Runs the console with `argv` (as `process.argv`); returns the exit status. */
export async function main(argv: readonly string[]): Promise<number> {
  process.exitCode = 0;
  try {
    await program().parseAsync([...argv]);
    return Number(process.exitCode ?? 0);
  } catch (error) {
    if (error instanceof CommanderError) return error.exitCode;
    if (error instanceof CordonError) {
      process.stderr.write(`cordon: ${error.message}\n`);
      return 1;
    }
    throw error;
  }
}
