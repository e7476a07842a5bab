/**
 * The audit console's commands (`incidents list|show`, `steps`, `verify`, `report`, `stats`), added to
 * the `cordon` program with one call.
 */

import type { Command } from 'commander';
import { registerIncidentsCommands } from './commands/incidents.ts';
import { regionClients, registerRecoverCommand } from './commands/recover.ts';
import { registerReportCommand } from './commands/report.ts';
import { registerStatsCommand } from './commands/stats.ts';
import { registerStepsCommand } from './commands/steps.ts';
import { registerVerifyCommand } from './commands/verify.ts';
import { connect } from './connection.ts';
import type { ConsoleContext } from './context.ts';
import { processIO } from './output.ts';

export interface ConsoleOptions extends Partial<ConsoleContext> {
  /** Sets the exit status (default: `process.exitCode`). */
  readonly setExit?: (code: number) => void;
}

/** Adds the audit console's commands to `cli`; defaults: the process's stdout/stderr, {@link connect}, the clock. */
export function registerConsoleCommands(cli: Command, options: ConsoleOptions = {}): Command {
  const ctx: ConsoleContext = {
    io: options.io ?? processIO,
    connect: options.connect ?? ((flags) => connect(flags)),
    now: options.now ?? (() => new Date()),
  };
  const setExit =
    options.setExit ??
    ((code: number) => {
      process.exitCode = code;
    });
  registerIncidentsCommands(cli, ctx);
  registerStepsCommand(cli, ctx);
  registerVerifyCommand(cli, ctx, setExit);
  registerReportCommand(cli, ctx);
  registerStatsCommand(cli, ctx);
  registerRecoverCommand(cli, ctx, regionClients);
  return cli;
}
