/** What every console command runs with: where it prints, how it connects, and what time it is. */
import { type Command, Option } from 'commander';
import { INCIDENT_STATUSES } from '#shared/domain';
import { ValidationError } from '#shared/errors';
import type { Connect, ConnectionFlags } from './connection.ts';
import { type ConsoleIO, OUTPUT_FORMATS, type OutputFormat, resolveFormat } from './output.ts';

export interface ConsoleContext {
  readonly io: ConsoleIO;
  readonly connect: Connect;
  /** The time durations such as `--since 7d` count back from. */
  readonly now: () => Date;
}

/** The flags every query command takes: connection and output. */
export interface CommonFlags extends ConnectionFlags {
  readonly output?: string;
}

/** Adds the connection and output flags to a command. */
export function withCommonOptions(command: Command): Command {
  return command
    .option(
      '--local',
      "read the local store in the project's state folder (started if none runs); the folder must exist: `npm run demo` or `cordon run` makes it",
    )
    .option('--state-dir <dir>', 'the state folder for --local (default: $CORDON_STATE_DIR or ./.cordon)')
    .option(
      '--table <name>',
      'the audit table (default: $CORDON_TABLE_NAME, the AuditTableName output in cdk-outputs.json, or cordon-audit)',
    )
    .option('--region <region>', 'the AWS region (default: $AWS_REGION or your profile)')
    .option('--profile <name>', 'the AWS profile for credentials and region')
    .option('--endpoint <url>', 'a DynamoDB endpoint (default: $AWS_ENDPOINT_URL_DYNAMODB or AWS)')
    .option(
      '--record-key <arn>',
      "the record key's ARN verify checks MACs with (default: $CORDON_RECORD_KEY or the RecordKeyArn output in cdk-outputs.json; an alias only if it resolves to that output)",
    )
    .option(
      '--anchor-bucket <name>',
      'the bucket of the anchors verify checks (default: $CORDON_ANCHOR_BUCKET or the AnchorBucketName output in cdk-outputs.json)',
    )
    .addOption(
      new Option(
        '--output <format>',
        'table (default on a terminal), json (default when piped) or csv',
      ).choices(OUTPUT_FORMATS),
    );
}

/** The connection flags of parsed options, without the ones not given. */
export function connectionFlags(flags: CommonFlags): ConnectionFlags {
  const out: Record<string, string | boolean> = {};
  for (const key of [
    'region',
    'profile',
    'table',
    'endpoint',
    'stateDir',
    'recordKey',
    'anchorBucket',
  ] as const) {
    const value = flags[key];
    if (value !== undefined) out[key] = value;
  }
  if (flags.local) out.local = true;
  return out as ConnectionFlags;
}

/** The output format for parsed options. */
export function formatOf(ctx: ConsoleContext, flags: CommonFlags): OutputFormat {
  return resolveFormat(flags.output, ctx.io.isTTY);
}

/** Parses `--limit`: a whole number from 1 to `max`. */
export function parseLimit(value: string | undefined, fallback: number, max = 1000): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1 || n > max) {
    throw new ValidationError('--limit', [`must be a whole number from 1 to ${max}, got "${value}"`]);
  }
  return n;
}

/** Checks `--status`. */
export function parseStatus(value: string | undefined): (typeof INCIDENT_STATUSES)[number] | undefined {
  if (value === undefined) return undefined;
  if (!(INCIDENT_STATUSES as readonly string[]).includes(value)) {
    throw new ValidationError('--status', [`must be one of ${INCIDENT_STATUSES.join(', ')}, got "${value}"`]);
  }
  return value as (typeof INCIDENT_STATUSES)[number];
}

/** Checks an incident id given on the command line. */
export function parseIncidentId(value: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(value)) {
    throw new ValidationError('incident id', [`must be letters, digits, . _ : -, got "${value}"`]);
  }
  return value;
}
