/**
 * What `cordon prepare` does (cli/commands/prepare.ts registers it and loads this module only when it
 * runs, so that the console starts without the EC2 client): lists every VPC, prepares both groups of each
 * (functions/actions/ec2-isolate/groups.ts) and writes their ids (prepared-file.ts), on AWS or on the
 * state folder's sandbox account.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsCall } from '#shared/aws';
import { type ClientSettings, makeClient } from '#shared/clients';
import { ValidationError } from '#shared/errors';
import { allItems, nextToken } from '#shared/pages';
import type { Ec2Sender } from '../../functions/actions/ec2-common/instance.ts';
import { type PreparedVpc, prepareGroups } from '../../functions/actions/ec2-isolate/groups.ts';
import {
  LOCAL_PREPARED_FILE,
  writePreparedGroups,
} from '../../functions/actions/ec2-isolate/prepared-file.ts';
import { readAccountFile, writeAccountFile } from '../../local/runtime/account-file.ts';
import { Sandbox } from '../../local/sandbox/index.ts';
import { stateAccountFile } from '../../local/state.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../local/store.ts';

/** The sandbox account's id (the local runtime's `LOCAL_ACCOUNT`). */
const SANDBOX_ACCOUNT = '123456789012';

/** Every VPC of the account and region, from every page of DescribeVpcs. */
export async function accountVpcIds(ec2: Ec2Sender): Promise<string[]> {
  const doing = 'ec2:DescribeVpcs';
  const vpcs = await allItems({
    doing,
    fetch: (NextToken) => awsCall(doing, () => ec2.send(new DescribeVpcsCommand({ NextToken }))),
    next: nextToken,
    items: (page) => page.Vpcs,
  });
  return vpcs.flatMap((v) => (v.VpcId ? [v.VpcId] : []));
}

/** Prepares every VPC of the account: both groups each, made or fixed. */
export async function prepareAccount(ec2: Ec2Sender): Promise<Record<string, PreparedVpc>> {
  return prepareGroups(ec2, await accountVpcIds(ec2));
}

/** One line per VPC: its groups, and what was done to them. */
export function preparedLines(prepared: Record<string, PreparedVpc>): string[] {
  return Object.entries(prepared).map(([vpc, p]) => {
    const done =
      p.calls.length === 0
        ? 'both as they should be, unchanged'
        : [
            ...(p.created.length > 0 ? [`created ${p.created.join(', ')}`] : []),
            ...(p.calls.some((c) => !c.startsWith('ec2:CreateSecurityGroup'))
              ? [`rules set: ${p.calls.filter((c) => !c.startsWith('ec2:CreateSecurityGroup')).join(', ')}`]
              : []),
          ].join('; ');
    return `${vpc}: isolation ${p.isolation}, untrack ${p.untrack} (${done})`;
  });
}

const ids = (prepared: Record<string, PreparedVpc>) =>
  Object.fromEntries(
    Object.entries(prepared).map(([vpc, p]) => [vpc, { isolation: p.isolation, untrack: p.untrack }]),
  );

/** `cordon prepare --local`: the state folder's sandbox account; returns the file written. */
export async function prepareLocal(dir: string, now: Date): Promise<{ file: string; lines: string[] }> {
  const accountFile = stateAccountFile(dir);
  if (!existsSync(accountFile)) {
    throw new ValidationError('--local', [
      `${dir} holds no sandbox account (account.json) to prepare: run npm run demo or cordon run first, or pass --state-dir`,
    ]);
  }
  const state = readAccountFile(accountFile);
  const sandbox = Sandbox.restore(state, { accountId: SANDBOX_ACCOUNT, region: LOCAL_REGION });
  const ec2 = sandbox.attach(new EC2Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
  const prepared = await prepareAccount(ec2);
  writeAccountFile(accountFile, sandbox.state());
  const file = join(dir, LOCAL_PREPARED_FILE);
  writePreparedGroups(file, SANDBOX_ACCOUNT, LOCAL_REGION, ids(prepared), now.toISOString());
  return { file, lines: preparedLines(prepared) };
}

/** What `cordon prepare` needs on AWS: EC2 and STS clients of one account and region. */
export interface AwsPrepareDeps {
  readonly ec2: Ec2Sender;
  readonly sts: Pick<STSClient, 'send'>;
  readonly region: string;
}

/** `cordon prepare` on AWS; returns the file written. */
export async function prepareDeployed(
  deps: AwsPrepareDeps,
  file: string,
  now: Date,
): Promise<{ file: string; account: string; lines: string[] }> {
  const identity = await awsCall('sts:GetCallerIdentity', () =>
    deps.sts.send(new GetCallerIdentityCommand({})),
  );
  const account = identity.Account;
  if (!account) throw new ValidationError('sts:GetCallerIdentity', ['returned no account']);
  const prepared = await prepareAccount(deps.ec2);
  writePreparedGroups(file, account, deps.region, ids(prepared), now.toISOString());
  return { file, account, lines: preparedLines(prepared) };
}

/** EC2 and STS clients of the region, with the profile's credentials when one is given. */
export function awsClients(region: string | undefined, profile: string | undefined): AwsPrepareDeps {
  const resolved = region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (!resolved) throw new ValidationError('--region', ['is required (or AWS_REGION)']);
  const extra = profile ? { profile } : {};
  const Ec2 = class extends EC2Client {
    constructor(settings: ClientSettings) {
      super({ ...settings, ...extra });
    }
  };
  const Sts = class extends STSClient {
    constructor(settings: ClientSettings) {
      super({ ...settings, ...extra });
    }
  };
  return {
    ec2: makeClient(Ec2, { service: 'EC2', region: resolved }),
    sts: makeClient(Sts, { service: 'STS', region: resolved }),
    region: resolved,
  };
}
