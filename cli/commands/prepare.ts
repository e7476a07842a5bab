/**
 * `cordon prepare`: before any incident, makes the isolation and untrack groups of every VPC of the
 * account (every page of DescribeVpcs), or fixes their rules when someone changed them, and writes their
 * ids where the settings pick them up, so that an isolation looks nothing up and creates nothing inside
 * the containment:
 * - on AWS, `cordon.prepared.json` beside `cordon.config.ts`, under the
 *   account and region; `infra/app.ts` adds them to `ec2.isolationGroups` at synth, so a deployment after
 *   it gives them to the functions;
 * - with `--local`, the state folder's sandbox account (`account.json`, which `npm run demo` or
 *   `cordon run` leaves) and `prepared.json` beside it, which the local runtime reads when it continues
 *   from that account (`cordon run --incident`, `cordon release --local`).
 *
 * Idempotent: a second run finds both groups of each VPC with exactly their rules and changes nothing. A
 * VPC made later has no prepared groups until prepare runs again; an isolation there finds or creates them
 * on the spot, and its record says so.
 *
 * On AWS it also reads, from AWS Organizations, the accounts of the settings' `organization.organizationalUnits`
 * (each unit's own and its child units', every page), and writes them to the same file as
 * `organization.unitAccounts`, which `infra/app.ts` adds to the settings at synth: the router puts those
 * accounts in scope. With `--local` there is no Organizations to ask: it says so and skips them.
 */
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { ValidationError } from '#shared/errors';
import { parseSettings, type SettingsInput } from '#shared/settings';
import settingsFile from '../../cordon.config.ts';
import { PREPARED_FILE } from '../../functions/actions/ec2-isolate/prepared-file.ts';
import { stateDir } from '../../local/state.ts';
import { type ConsoleIO, processIO } from '../output.ts';
import type { AwsPrepareDeps } from './prepare-run.ts';

interface PrepareFlags {
  readonly local?: boolean;
  readonly stateDir?: string;
  readonly region?: string;
  readonly profile?: string;
  readonly file?: string;
}

/**
 * Adds `prepare` to the console. Defaults: the process's stdout, the clock, clients of the flags' region,
 * and `cordon.config.ts` (its organizational units).
 */
export function registerPrepareCommand(
  cli: Command,
  io: ConsoleIO = processIO,
  now: () => Date = () => new Date(),
  clients?: (region: string | undefined, profile: string | undefined) => AwsPrepareDeps,
  settings: SettingsInput = settingsFile,
): Command {
  return cli
    .command('prepare')
    .description(
      'Before any incident: make the isolation group (no rules) and the untrack group (all traffic, for the ' +
        'two-step swap) of every VPC of the account, or fix their rules if someone changed them, and write ' +
        'their ids where the settings pick them up, so that an isolation looks nothing up and creates nothing ' +
        'while it contains. On AWS: cordon.prepared.json beside cordon.config.ts, under the account and region; ' +
        'deploy afterwards (npx cdk deploy) for the functions to get them. With --local: the sandbox account ' +
        'of the state folder, and prepared.json beside it, which cordon run --incident and cordon release ' +
        '--local use. Safe to run again: groups as they should be are left unchanged. Run it again after ' +
        'adding a VPC; until then an isolation there finds or creates its groups on the spot, and its record ' +
        'says so. Needs ec2:DescribeVpcs, DescribeSecurityGroups, CreateSecurityGroup, CreateTags and the ' +
        'Authorize/Revoke SecurityGroup Ingress/Egress calls, and sts:GetCallerIdentity. When the settings name ' +
        'organizational units (organization.organizationalUnits), it also reads their accounts, and those of ' +
        'their child units, from AWS Organizations (organizations:ListAccountsForParent and ListChildren: run ' +
        'it in the management account or a delegated administrator) and writes them to the same file as ' +
        'organization.unitAccounts, which puts them in scope at the next deployment; not with --local.',
    )
    .option('--local', "prepare the local runtime's sandbox account in the state folder instead of AWS")
    .option('--state-dir <dir>', 'the state folder for --local (default: $CORDON_STATE_DIR or ./.cordon)')
    .option('--region <region>', 'the AWS region (default: $AWS_REGION or your profile)')
    .option('--profile <name>', 'the AWS profile for credentials')
    .option(
      '--file <path>',
      `where to write the groups on AWS (default: ${PREPARED_FILE} beside cordon.config.ts, which the stack reads at synth)`,
    )
    .action(async (flags: PrepareFlags) => {
      const units = parseSettings(settings).organization.organizationalUnits;
      if (flags.local) {
        const clash = (['region', 'profile', 'file'] as const).filter((f) => flags[f] !== undefined);
        if (clash.length > 0) {
          throw new ValidationError('--local', [
            `does not go with ${clash.map((f) => `--${f}`).join(', ')}: it prepares the sandbox account`,
          ]);
        }
        const { prepareLocal } = await import('./prepare-run.ts');
        const done = await prepareLocal(flags.stateDir ?? stateDir(), now());
        for (const line of done.lines) io.out(line);
        io.out(
          `Wrote ${done.file}: the local runtime uses these groups when it continues from this account.`,
        );
        if (units.length > 0) {
          io.out(
            `Skipped organization.organizationalUnits (${units.join(', ')}): reading their accounts needs the real AWS Organizations API, which --local does not have; run cordon prepare without --local to write them.`,
          );
        }
        return;
      }
      if (flags.stateDir !== undefined) throw new ValidationError('--state-dir', ['only with --local']);
      const file = flags.file ?? fileURLToPath(new URL(`../../${PREPARED_FILE}`, import.meta.url));
      const { awsClients, prepareDeployed } = await import('./prepare-run.ts');
      const done = await prepareDeployed(
        (clients ?? awsClients)(flags.region, flags.profile),
        file,
        now(),
        units,
      );
      for (const line of done.lines) io.out(line);
      io.out(
        `Wrote ${done.file} for account ${done.account}: deploy (npx cdk deploy) for the functions to use these groups${units.length > 0 ? " and the router these units' accounts" : ''}.`,
      );
    });
}
