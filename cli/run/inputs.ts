/**
 * What `cordon run` reads before it starts: JSON files, an `--account` seed (one account's, or a whole
 * organization's), the operator, the `--aws` region.
 */
import { readFileSync } from 'node:fs';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { makeClient } from '#shared/clients';
import { ValidationError } from '#shared/errors';
import { LOCAL_ACCOUNT } from '../../local/runtime.ts';
import { callerArnOf } from '../../local/sandbox/index.ts';
import { checkOrganizationSeed, isOrganizationSeed } from '../../local/sandbox/organization/seed-schema.ts';
import type { OrganizationPlace, OrganizationSeed } from '../../local/sandbox/organization.ts';
import { checkAccountSeed } from '../../local/sandbox/seed-schema.ts';
import { seedAt } from '../../local/seed-from-finding.ts';

/** Reads and parses a JSON file, with a message that names the file and what is wrong. */
export function readJsonFile(path: string, what: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new ValidationError(what, [
      `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    ]);
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ValidationError(what, [`${path} is not JSON: ${(error as Error).message}`]);
  }
}

/**
 * Reads an `--account` seed file, refusing it with each bad field named: a whole organization's (it names a
 * `hub`, `members` or `outsiders`), or one account's, which is the finding's account (`place`: the hub, or
 * a member with its responder role; default the hub).
 */
export function readAccountSeed(path: string, place?: OrganizationPlace): OrganizationSeed {
  const value = readJsonFile(path, '--account');
  const refused = (problems: string[]) =>
    new ValidationError('--account', [...problems, 'see docs/examples/account.json for a seed file']);
  if (isOrganizationSeed(value)) {
    const checked = checkOrganizationSeed(value);
    if (!checked.ok) throw refused(checked.problems);
    return checked.seed;
  }
  const checked = checkAccountSeed(value);
  if (!checked.ok) throw refused(checked.problems);
  return seedAt(checked.seed, place);
}

/**
 * Who decides from the console on this run (`--decision`, or `cordon approvals approve|reject --local`
 * while it waits): the caller the sandbox names (with `--aws`, the real caller). Only a principal of
 * `approval.consolePrincipals` decides from the console, so this run lists it there: the operator of a
 * local runtime is the person at the keyboard, and the record names them.
 */
export async function localOperator(seed: OrganizationSeed | undefined, aws: boolean): Promise<string> {
  if (!aws) return callerArnOf(seed?.hub ?? {}, LOCAL_ACCOUNT);
  const identity = await makeClient(STSClient, { service: 'STS' }).send(new GetCallerIdentityCommand({}));
  if (!identity.Arn) throw new ValidationError('caller identity', ['Arn: STS returned none']);
  return identity.Arn;
}

/**
 * The account `--aws` drives: its caller's, from STS (GetCallerIdentity needs no permission,
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html), so that the stack's
 * functions know it as their own (the hub they act in without assuming a responder role).
 */
export async function awsAccount(): Promise<string> {
  const identity = await makeClient(STSClient, { service: 'STS' }).send(new GetCallerIdentityCommand({}));
  if (!identity.Account) throw new ValidationError('caller identity', ['Account: STS returned none']);
  return identity.Account;
}

/**
 * The region `--aws` drives, checked before anything starts (else the first AWS call fails after the
 * whole startup): `AWS_REGION`, `AWS_DEFAULT_REGION` (which the client factory also reads), or the
 * profile's `region` as the SDK's own region provider reads it from the config file.
 */
export async function awsRegion(env: NodeJS.ProcessEnv = process.env): Promise<string> {
  const fromEnv = env.AWS_REGION || env.AWS_DEFAULT_REGION;
  if (fromEnv) return fromEnv;
  // Not through makeClient: it sets the region from the environment, and the profile's is wanted here.
  const client = new STSClient({});
  try {
    return await client.config.region();
  } catch (error) {
    throw new ValidationError(
      '--aws',
      [
        `no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION), or region in profile ${env.AWS_PROFILE || 'default'} of ${env.AWS_CONFIG_FILE || '~/.aws/config'}`,
      ],
      { cause: error },
    );
  } finally {
    client.destroy();
  }
}
