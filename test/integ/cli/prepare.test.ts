/**
 * `cordon prepare`: both isolation groups of every VPC of the account, made or fixed before any incident,
 * their ids written where the settings pick them up (at synth for a deployment, in the local runtime for
 * the state folder's sandbox account); idempotent, and every page of DescribeVpcs is read.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuthorizeSecurityGroupEgressCommand, EC2Client } from '@aws-sdk/client-ec2';
import { STSClient } from '@aws-sdk/client-sts';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { registerPrepareCommand } from '../../../cli/commands/prepare.ts';
import {
  preparedGroupsFor,
  withPreparedGroups,
} from '../../../functions/actions/ec2-isolate/prepared-file.ts';
import { readAccountFile, writeAccountFile } from '../../../local/runtime/account-file.ts';
import { withLocalPreparedGroups } from '../../../local/runtime/prepared.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';
import { stateAccountFile } from '../../../local/state.ts';
import { seed } from '../actions/ec2/helpers.ts';

const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
const ACCOUNT = '123456789012';
const KEY = `${ACCOUNT}/us-east-1`;

/** Three VPCs; pages of one item, so that only a caller following every page sees them all. */
function account() {
  const sandbox = Sandbox.create(
    {
      vpcs: [
        { id: 'vpc-0a', isDefault: true, subnets: [{ id: 'subnet-a', cidr: '10.0.1.0/24' }] },
        { id: 'vpc-0b', subnets: [{ id: 'subnet-b', cidr: '10.1.1.0/24' }] },
        { id: 'vpc-0c', subnets: [{ id: 'subnet-c', cidr: '10.2.1.0/24' }] },
      ],
    },
    { pageCap: 1 },
  );
  return {
    sandbox,
    ec2: sandbox.attach(new EC2Client(config)),
    sts: sandbox.attach(new STSClient(config)),
  };
}

/** Runs `cordon prepare <args>`; returns what it printed. */
async function prepare(args: readonly string[], env?: ReturnType<typeof account>): Promise<string> {
  let out = '';
  const cli = new Command('cordon').exitOverride();
  registerPrepareCommand(
    cli,
    { out: (line) => (out += `${line}\n`), err: () => {}, isTTY: false },
    () => new Date('2026-12-01T00:00:00Z'),
    env ? () => ({ ec2: env.ec2, sts: env.sts, region: 'us-east-1' }) : undefined,
  );
  await cli.parseAsync(['node', 'cordon', 'prepare', ...args]);
  return out;
}

const cordonGroups = (state: ReturnType<Sandbox['state']>) =>
  Object.values(state.ec2.securityGroups).filter((g) => g.groupName.startsWith('cordon-'));

describe('cordon prepare', () => {
  it('makes both groups of every VPC, on every page of DescribeVpcs, and writes their ids', async () => {
    const env = account();
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-prepare-')), 'cordon.prepared.json');
    const out = await prepare(['--file', file], env);
    const state = env.sandbox.state();
    const vpcs = Object.keys(state.ec2.vpcs).sort();
    expect(vpcs).toEqual(['vpc-0a', 'vpc-0b', 'vpc-0c']);
    expect(env.sandbox.calls.filter((c) => c.command === 'DescribeVpcs').length).toBeGreaterThanOrEqual(3);
    const groups = preparedGroupsFor(file, ACCOUNT, 'us-east-1');
    expect(Object.keys(groups).sort()).toEqual(vpcs);
    for (const vpc of vpcs) {
      const isolation = state.ec2.securityGroups[groups[vpc]?.isolation ?? ''];
      const untrack = state.ec2.securityGroups[groups[vpc]?.untrack ?? ''];
      expect(isolation).toMatchObject({ groupName: `cordon-isolation-${vpc}`, vpcId: vpc, rules: [] });
      expect(untrack).toMatchObject({ groupName: `cordon-untrack-${vpc}`, vpcId: vpc });
      expect(untrack?.rules.map((r) => [r.egress, r.ipProtocol, r.cidrIpv4 ?? r.cidrIpv6]).sort()).toEqual(
        [
          [false, '-1', '0.0.0.0/0'],
          [false, '-1', '::/0'],
          [true, '-1', '0.0.0.0/0'],
          [true, '-1', '::/0'],
        ].sort(),
      );
    }
    expect(out).toMatch(/vpc-0c: isolation sg-\w+, untrack sg-\w+ \(created/);
    expect(JSON.parse(readFileSync(file, 'utf8')).accounts[KEY].preparedAt).toBe('2026-12-01T00:00:00.000Z');
  });

  it('changes nothing the second time, and fixes a group someone changed the third', async () => {
    const env = account();
    const file = join(mkdtempSync(join(tmpdir(), 'cordon-prepare-')), 'cordon.prepared.json');
    await prepare(['--file', file], env);
    const first = preparedGroupsFor(file, ACCOUNT, 'us-east-1');
    const state = env.sandbox.state();
    const mark = env.sandbox.calls.length;
    const again = await prepare(['--file', file], env);
    expect(env.sandbox.calls.slice(mark).filter((c) => !/^(Describe|Get)/.test(c.command))).toEqual([]);
    expect(env.sandbox.state()).toEqual(state);
    expect(preparedGroupsFor(file, ACCOUNT, 'us-east-1')).toEqual(first);
    expect(again.match(/unchanged/g)).toHaveLength(3);

    const isolation = first['vpc-0b']?.isolation ?? '';
    await env.ec2.send(
      new AuthorizeSecurityGroupEgressCommand({
        GroupId: isolation,
        IpPermissions: [
          { IpProtocol: 'tcp', FromPort: 443, ToPort: 443, IpRanges: [{ CidrIp: '0.0.0.0/0' }] },
        ],
      }),
    );
    const fixed = await prepare(['--file', file], env);
    expect(fixed).toMatch(`vpc-0b: isolation ${isolation}`);
    expect(fixed).toMatch(`rules set: ec2:RevokeSecurityGroupEgress ${isolation}`);
    expect(env.sandbox.state().ec2.securityGroups[isolation]?.rules).toEqual([]);
    expect(cordonGroups(env.sandbox.state())).toHaveLength(6);
  });

  it("prepares the state folder's sandbox account with --local, for the local runtime to use", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-prepare-local-'));
    const accountFile = stateAccountFile(dir);
    writeAccountFile(accountFile, Sandbox.create(seed()).state());
    const out = await prepare(['--local', '--state-dir', dir]);
    expect(out).toMatch(/Wrote .*prepared\.json/);
    const groups = preparedGroupsFor(join(dir, 'prepared.json'), ACCOUNT, 'us-east-1');
    const saved = readAccountFile(accountFile);
    expect(saved.ec2.securityGroups[groups['vpc-0a']?.isolation ?? '']?.groupName).toBe(
      'cordon-isolation-vpc-0a',
    );
    // The runtime continuing from that account gets them in its settings; one on a new account does not.
    const store = { endpoint: 'http://127.0.0.1:1', tableName: 't' };
    expect(
      withLocalPreparedGroups({ store, accountFile }, ACCOUNT, 'us-east-1')?.settings?.ec2,
    ).toMatchObject({
      isolationGroups: groups,
    });
    expect(
      withLocalPreparedGroups({ store, accountFile, seed: seed() }, ACCOUNT, 'us-east-1'),
    ).toBeUndefined();
    // Again: nothing changes in the account.
    await prepare(['--local', '--state-dir', dir]);
    expect(readAccountFile(accountFile)).toEqual(saved);
  });

  it('refuses --local without a sandbox account, and AWS flags with --local', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-prepare-empty-'));
    await expect(prepare(['--local', '--state-dir', dir])).rejects.toThrow(/holds no sandbox account/);
    await expect(prepare(['--local', '--region', 'eu-west-1'])).rejects.toThrow(/does not go with --region/);
  });

  it('adds the prepared groups to the settings at synth, the settings of a VPC winning', () => {
    const prepared = {
      'vpc-0a': { isolation: 'sg-0a1', untrack: 'sg-0a2' },
      'vpc-0b': { isolation: 'sg-0b1', untrack: 'sg-0b2' },
    };
    const merged = withPreparedGroups(
      {
        approvers: ['a@example.com'],
        sender: 'c@example.com',
        ec2: { isolationGroups: { 'vpc-0b': { isolation: 'sg-0bb' } } },
      },
      prepared,
    );
    expect(merged.ec2?.isolationGroups).toEqual({
      'vpc-0a': { isolation: 'sg-0a1', untrack: 'sg-0a2' },
      'vpc-0b': { isolation: 'sg-0bb' },
    });
  });
});
