/**
 * The `cordon` console. Each command lives in `cli/commands/`; this file only wires them to the
 * command line and turns errors into a message and an exit status.
 */
import { Command, CommanderError } from 'commander';
import { CordonError } from '#shared/errors';
import { runDemo } from './commands/demo.ts';

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
      process.exitCode = await runDemo({ stateDir: options.stateDir });
    });

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
