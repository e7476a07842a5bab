/**
 * The accounts of the settings' organizational units, as `cordon prepare` read them from AWS Organizations
 * (cli/commands/prepare-run.ts) and wrote them to `cordon.prepared.json`, under `organization.unitAccounts`;
 * `infra/app.ts` adds them to the settings' `organization.unitAccounts` at synth, so that the router puts
 * those accounts in scope. Accounts that join a unit later are in scope after the next prepare and deploy
 * (the StackSet gives them the responder role as they join).
 */
import * as z from 'zod/mini';
import { ConfigError } from '#shared/errors';
import type { SettingsInput } from '#shared/settings';
import { readPreparedJson } from '../functions/actions/ec2-isolate/prepared-file.ts';

const FileSchema = z.object({
  organization: z.optional(
    z.object({
      preparedAt: z.optional(z.string()),
      unitAccounts: z.record(z.string(), z.array(z.string().check(z.regex(/^\d{12}$/)))),
    }),
  ),
});

/** The accounts of each unit the file holds; none when there is no file or it holds none. */
export function preparedUnitAccounts(path: string): Record<string, string[]> {
  const value = readPreparedJson(path);
  if (value === undefined) return {};
  const parsed = z.safeParse(FileSchema, value);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new ConfigError(
      `${path}: organization is not what cordon prepare writes (${issues}); run it again`,
    );
  }
  return parsed.data.organization?.unitAccounts ?? {};
}

/**
 * The settings with the prepared accounts of each unit in `organization.unitAccounts`; a unit the settings
 * already list accounts for keeps the settings' (what a person wrote wins over what a command found).
 */
export function withUnitAccounts(
  settings: SettingsInput,
  units: Readonly<Record<string, readonly string[]>>,
): SettingsInput {
  if (Object.keys(units).length === 0) return settings;
  const organization = settings.organization ?? {};
  return {
    ...settings,
    organization: {
      ...organization,
      unitAccounts: {
        ...Object.fromEntries(Object.entries(units).map(([unit, accounts]) => [unit, [...accounts]])),
        ...organization.unitAccounts,
      },
    },
  };
}
