/**
 * The isolation groups `cordon prepare --local` made in the state folder's sandbox account
 * (`prepared.json` beside `account.json`), added to the stack's settings when the runtime continues from
 * that account, as a deployment adds those of `cordon.prepared.json` at synth. A runtime on a new account
 * (a seed or an organization, the demo, `cordon run --event`) or on AWS gets none: the ids are of that saved account only.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import settingsFile from '../../cordon.config.ts';
import {
  LOCAL_PREPARED_FILE,
  preparedGroupsFor,
  withPreparedGroups,
} from '../../functions/actions/ec2-isolate/prepared-file.ts';
import type { CordonStackProps } from '../../infra/cordon-stack.ts';
import type { LocalRuntimeOptions } from './options.ts';

/** The stack's props, with the prepared groups of the saved account when the runtime continues from it. */
export function withLocalPreparedGroups(
  options: LocalRuntimeOptions,
  account: string,
  region: string,
): CordonStackProps | undefined {
  const file = options.accountFile;
  if (options.aws || options.seed || options.organization || file === undefined || !existsSync(file))
    return options.stack;
  const groups = preparedGroupsFor(join(dirname(file), LOCAL_PREPARED_FILE), account, region);
  if (Object.keys(groups).length === 0) return options.stack;
  return { ...options.stack, settings: withPreparedGroups(options.stack?.settings ?? settingsFile, groups) };
}
