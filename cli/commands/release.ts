/**
 * `cordon release <incident-id>`: undoes an incident's containment with the release playbook that fits it
 * (`ec2-release` for an instance contained by `ec2-compromise`, `iam-release` for a key contained by
 * `iam-credential-compromise`). On the deployed stack it starts `cordon-<playbook>` (as `cordon recover`
 * does); with `--local` it runs the playbook on the local runtime, against the state folder's record and
 * the sandbox account the earlier commands left (`.cordon/account.json`).
 *
 * The choice is made from the incident's verified record only (its opening's playbook and resources): a
 * record that does not verify is refused. The release playbook itself first checks, as a dry run, that
 * there is something to release: with nothing (never contained, only dry runs, already released) it is
 * refused with the reason in the record and the incident's status stays as it is.
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { STSClient } from '@aws-sdk/client-sts';
import type { Command } from 'commander';
import { ValidationError } from '#shared/errors';
import type { PlaybookInput } from '#shared/playbook-input';
import { connect, withConnection } from '../connection.ts';
import {
  type CommonFlags,
  type ConsoleContext,
  connectionFlags,
  parseIncidentId,
  withCommonOptions,
} from '../context.ts';
import { processIO } from '../output.ts';
import { releaseFor } from '../playbook-choice.ts';
import { type DeployedPlaybookDeps, regionClients, startDeployedPlaybook } from './recover.ts';

/** What `cordon release` needs on the deployed stack. */
export type ReleaseDeps = DeployedPlaybookDeps;

/** Starts the deployed release playbook for an incident; idempotent per incident (the name is derived). */
export async function startRelease(
  deps: ReleaseDeps,
  incidentId: string,
  options: { dryRun?: boolean } = {},
): Promise<{ executionArn: string; playbook: string; input: PlaybookInput }> {
  // RecordTamperedError on a break: a release from a record that does not verify is refused.
  const { incident } = await deps.recorder.verified(incidentId);
  const { playbook, resource } = releaseFor(incident);
  const started = await startDeployedPlaybook(deps, incident, playbook, resource, {
    command: 'release',
    ...(options.dryRun ? { dryRun: true } : {}),
  });
  return { ...started, playbook };
}

/** What `cordon release` takes besides the connection flags. */
interface ReleaseFlags extends CommonFlags {
  readonly dryRun?: boolean;
  readonly decision?: string;
  readonly waitScale?: string;
}

/**
 * Adds `release` to the console. Defaults: the process's stdout and stderr, the console's connection, and
 * clients of the flags' region.
 */
export function registerReleaseCommand(
  cli: Command,
  ctx: ConsoleContext = { io: processIO, connect: (flags) => connect(flags), now: () => new Date() },
  clients: (region: string | undefined) => {
    sfn: Pick<SFNClient, 'send'>;
    sts: Pick<STSClient, 'send'>;
    region: string;
  } = regionClients,
): Command {
  return withCommonOptions(
    cli
      .command('release <incident-id>')
      .description(
        "Undo an incident's containment with the release playbook that fits it (ec2-release, iam-release): " +
          'it checks there is something to release, asks the approvers, then restores the state the record ' +
          'holds from before containment. --local runs it on the local runtime, on the sandbox account ' +
          'that cordon run or the demo left in the state folder.',
      ),
  )
    .option('--dry-run', 'report what the release would change, and change nothing')
    .option('--decision <approve|reject>', 'with --local: answer the approval request with this decision')
    .option('--wait-scale <factor>', 'with --local: factor on Wait states and approval timeouts', '0.01')
    .action(async (id: string, flags: ReleaseFlags) => {
      const incidentId = parseIncidentId(id);
      if (flags.local) {
        const decision = flags.decision;
        if (decision !== undefined && decision !== 'approve' && decision !== 'reject') {
          throw new ValidationError('--decision', [`must be approve or reject, got "${decision}"`]);
        }
        const waitScale = Number(flags.waitScale);
        if (!Number.isFinite(waitScale) || waitScale < 0 || waitScale > 1) {
          throw new ValidationError('--wait-scale', [
            `must be a number from 0 to 1, got "${String(flags.waitScale)}"`,
          ]);
        }
        const { runPlaybook } = await import('./run.ts');
        process.exitCode = await runPlaybook({
          incident: incidentId,
          release: true,
          dryRun: flags.dryRun === true,
          ...(decision ? { decision } : {}),
          waitScale,
          ...(flags.stateDir === undefined ? {} : { stateDir: flags.stateDir }),
          out: (line) => ctx.io.out(line),
        });
        return;
      }
      if (flags.decision !== undefined) {
        throw new ValidationError('--decision', [
          'only with --local: on the deployed stack the approvers decide from their email',
        ]);
      }
      const { sfn, sts, region } = clients(flags.region);
      const started = await withConnection(ctx.connect, connectionFlags(flags), (connection) =>
        startRelease({ recorder: connection.recorder, sfn, sts, region }, incidentId, {
          dryRun: flags.dryRun === true,
        }),
      );
      ctx.io.out(`started ${started.playbook}: ${started.executionArn}`);
      ctx.io.out(
        'It first checks there is something to release (a release with nothing to release is refused and ' +
          "leaves the incident's status as it is); then the approvers get an email, and nothing is restored before one of them approves.",
      );
    });
}
