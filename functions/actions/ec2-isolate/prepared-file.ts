/**
 * The file `cordon prepare` writes the prepared isolation groups to, and what reads them into the
 * settings: `cordon.prepared.json` beside `cordon.config.ts` for a deployment (read by `infra/app.ts` at
 * synth, for the account and region it deploys to), `prepared.json` in the state folder for the local
 * runtime's sandbox account (read when a command continues from that account).
 *
 * One file holds the groups of several accounts and regions, each under `<account>/<region>`, so that a
 * team deploying to more than one keeps them apart. The ids are a setting, not proof: the isolation
 * checks the groups after isolating, and finds or creates them on the spot when one is gone.
 * Never imported by a function's handler (it reads and writes files).
 */
import { existsSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import * as z from 'zod/mini';
import { ConfigError } from '#shared/errors';
import type { SettingsInput } from '#shared/settings';

/** The file of a deployment, beside `cordon.config.ts`. */
export const PREPARED_FILE = 'cordon.prepared.json';
/** The file of the local runtime, in the state folder. */
export const LOCAL_PREPARED_FILE = 'prepared.json';

const sg = z.string().check(z.regex(/^sg-[0-9a-f]+$/, 'must be a security group id'));
const GroupsSchema = z.record(
  z.string().check(z.regex(/^vpc-[0-9a-z]+$/, 'must be a VPC id')),
  z.object({ isolation: sg, untrack: sg }),
);
export type PreparedIsolationGroups = z.infer<typeof GroupsSchema>;

const FileSchema = z.object({
  comment: z.optional(z.string()),
  accounts: z.record(z.string(), z.object({ preparedAt: z.string(), isolationGroups: GroupsSchema })),
  /**
   * The organizational units' accounts (infra/prepared-units.ts reads and checks them): kept whole when the
   * groups are rewritten.
   */
  organization: z.optional(z.unknown()),
});
type PreparedFile = z.infer<typeof FileSchema>;

/** The key of an account and region in the file. */
export const preparedKey = (account: string, region: string): string => `${account}/${region}`;

/**
 * The prepared file's JSON as it is, undefined when there is no file; a file that is not JSON is a
 * ConfigError naming it. Its parts are checked by their readers: the groups here, the organization's units
 * by infra/prepared-units.ts.
 */
export function readPreparedJson(path: string): unknown {
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ConfigError(`${path} is not JSON: ${(error as Error).message}; run cordon prepare again`);
  }
}

/** Reads the file (none: no accounts); a file that does not parse is a ConfigError naming it. */
export function readPreparedFile(path: string): PreparedFile {
  const value = readPreparedJson(path);
  if (value === undefined) return { accounts: {} };
  const parsed = z.safeParse(FileSchema, value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(`${path} is not a file cordon prepare wrote (${issues}); run cordon prepare again`);
  }
  return parsed.data;
}

/** The groups the file holds for an account and region; none when it holds none. */
export function preparedGroupsFor(path: string, account: string, region: string): PreparedIsolationGroups {
  return readPreparedFile(path).accounts[preparedKey(account, region)]?.isolationGroups ?? {};
}

/** Puts an account and region's groups in the file (replacing what it held for them), whole, via a temporary file. */
export function writePreparedGroups(
  path: string,
  account: string,
  region: string,
  groups: PreparedIsolationGroups,
  preparedAt: string,
): void {
  const file = readPreparedFile(path);
  const next: PreparedFile = {
    comment:
      'Written by cordon prepare: the isolation and untrack groups of each VPC, by account and region. ' +
      'Run it again after adding a VPC; the groups in cordon.config.ts (ec2.isolationGroups) take precedence.',
    accounts: { ...file.accounts, [preparedKey(account, region)]: { preparedAt, isolationGroups: groups } },
    ...(file.organization === undefined ? {} : { organization: file.organization }),
  };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(temporary, path);
}

/**
 * The settings with the prepared groups added to `ec2.isolationGroups`; a VPC the settings already name
 * keeps the settings' groups (what a person wrote wins over what a command found).
 */
export function withPreparedGroups(settings: SettingsInput, groups: PreparedIsolationGroups): SettingsInput {
  if (Object.keys(groups).length === 0) return settings;
  return {
    ...settings,
    ec2: { ...settings.ec2, isolationGroups: { ...groups, ...settings.ec2?.isolationGroups } },
  };
}
