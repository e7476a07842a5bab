/**
 * What `cordon prepare` does (cli/commands/prepare.ts registers it and loads this module only when it
 * runs, so that the console starts without the EC2 client): lists every VPC, prepares both groups of each
 * (functions/actions/ec2-isolate/groups.ts) and writes their ids (prepared-file.ts), on AWS or on the
 * state folder's sandbox account; on AWS, it also reads the accounts of the settings' organizational units
 * from AWS Organizations and writes them beside the groups (`organization.unitAccounts`, which
 * infra/prepared-units.ts reads at synth).
 */
import { existsSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DescribeVpcsCommand, EC2Client } from '@aws-sdk/client-ec2';
import {
  ListAccountsForParentCommand,
  ListChildrenCommand,
  OrganizationsClient,
} from '@aws-sdk/client-organizations';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { awsCall } from '#shared/aws';
import { type ClientSettings, makeClient } from '#shared/clients';
import { ValidationError } from '#shared/errors';
import { allItems, nextToken } from '#shared/pages';
import type { Ec2Sender } from '../../functions/actions/ec2-common/instance.ts';
import { type PreparedVpc, prepareGroups } from '../../functions/actions/ec2-isolate/groups.ts';
import {
  LOCAL_PREPARED_FILE,
  readPreparedJson,
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

/** What the OU resolution sends to AWS Organizations. */
export type OrganizationsSender = Pick<OrganizationsClient, 'send'>;

/**
 * Every account of each unit (an OU or the root): the unit's own accounts and those of every unit below it,
 * each listing followed to its last page. Sorted, each account once.
 */
export async function unitAccounts(
  organizations: OrganizationsSender,
  units: readonly string[],
): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const unit of units) {
    const accounts = new Set<string>();
    const pending = [unit];
    const visited = new Set<string>();
    for (let parent = pending.shift(); parent !== undefined; parent = pending.shift()) {
      if (visited.has(parent)) continue;
      visited.add(parent);
      const ParentId = parent;
      const listAccounts = `organizations:ListAccountsForParent ${parent}`;
      const own = await allItems({
        doing: listAccounts,
        fetch: (NextToken) =>
          awsCall(listAccounts, () =>
            organizations.send(new ListAccountsForParentCommand({ ParentId, NextToken })),
          ),
        next: nextToken,
        items: (page) => page.Accounts,
      });
      for (const a of own) if (a.Id) accounts.add(a.Id);
      const listChildren = `organizations:ListChildren ${parent}`;
      const children = await allItems({
        doing: listChildren,
        fetch: (NextToken) =>
          awsCall(listChildren, () =>
            organizations.send(
              new ListChildrenCommand({ ParentId, ChildType: 'ORGANIZATIONAL_UNIT', NextToken }),
            ),
          ),
        next: nextToken,
        items: (page) => page.Children,
      });
      for (const child of children) if (child.Id) pending.push(child.Id);
    }
    out[unit] = [...accounts].sort();
  }
  return out;
}

/** One line per unit: how many accounts it has, and which. */
export function unitLines(units: Readonly<Record<string, readonly string[]>>): string[] {
  return Object.entries(units).map(
    ([unit, accounts]) =>
      `${unit}: ${accounts.length} account${accounts.length === 1 ? '' : 's'}${accounts.length ? ` (${accounts.join(', ')})` : ''}`,
  );
}

/**
 * Puts the units' accounts in the prepared file, under `organization` (replacing what it held), whole, via a
 * temporary file; the isolation groups it holds are kept.
 */
export function writeUnitAccounts(
  path: string,
  units: Readonly<Record<string, readonly string[]>>,
  preparedAt: string,
): void {
  const file = (readPreparedJson(path) ?? {}) as Record<string, unknown>;
  // A file with no groups yet still has the shape the groups' reader takes (functions/actions/ec2-isolate/prepared-file.ts).
  const next = { accounts: {}, ...file, organization: { preparedAt, unitAccounts: units } };
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(next, null, 2)}\n`);
  renameSync(temporary, path);
}

/** What `cordon prepare` needs on AWS: EC2 and STS clients of one account and region, and Organizations'. */
export interface AwsPrepareDeps {
  readonly ec2: Ec2Sender;
  readonly sts: Pick<STSClient, 'send'>;
  /** Needed when the settings name organizational units. */
  readonly organizations?: OrganizationsSender;
  readonly region: string;
}

/**
 * `cordon prepare` on AWS; returns the file written. The units' accounts are read first, so that a refusal
 * by Organizations leaves the file as it was.
 */
export async function prepareDeployed(
  deps: AwsPrepareDeps,
  file: string,
  now: Date,
  units: readonly string[] = [],
): Promise<{ file: string; account: string; lines: string[] }> {
  const identity = await awsCall('sts:GetCallerIdentity', () =>
    deps.sts.send(new GetCallerIdentityCommand({})),
  );
  const account = identity.Account;
  if (!account) throw new ValidationError('sts:GetCallerIdentity', ['returned no account']);
  let accounts: Record<string, string[]> | undefined;
  if (units.length > 0) {
    if (!deps.organizations) {
      throw new ValidationError('organization.organizationalUnits', [
        'need an AWS Organizations client to be read',
      ]);
    }
    accounts = await unitAccounts(deps.organizations, units);
  }
  const prepared = await prepareAccount(deps.ec2);
  writePreparedGroups(file, account, deps.region, ids(prepared), now.toISOString());
  if (accounts) writeUnitAccounts(file, accounts, now.toISOString());
  return {
    file,
    account,
    lines: [...preparedLines(prepared), ...(accounts ? unitLines(accounts) : [])],
  };
}

/** EC2, STS and Organizations clients of the region, with the profile's credentials when one is given. */
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
  const Organizations = class extends OrganizationsClient {
    constructor(settings: ClientSettings) {
      super({ ...settings, ...extra });
    }
  };
  return {
    ec2: makeClient(Ec2, { service: 'EC2', region: resolved }),
    sts: makeClient(Sts, { service: 'STS', region: resolved }),
    // Organizations is global: the SDK sends to its one endpoint whatever the region. Its listings are
    // throttled hard (https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html):
    // more attempts, with the adaptive retry's backoff.
    organizations: makeClient(Organizations, { service: 'Organizations', region: resolved, maxAttempts: 10 }),
    region: resolved,
  };
}
