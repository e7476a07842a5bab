/**
 * The local organization's parts without the runtime: the trust policy as IAM reads it, where a finding's
 * seed goes, the organization seed file's schema, and the account file's two versions.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  readAccountFile,
  readOrganizationFile,
  writeAccountFile,
  writeOrganizationFile,
} from '../../../local/runtime/account-file.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';
import { checkOrganizationSeed } from '../../../local/sandbox/organization/seed-schema.ts';
import { responderTrustPolicy, trustAllows } from '../../../local/sandbox/organization/trust-policy.ts';
import { LocalOrganization, SandboxPolicyError } from '../../../local/sandbox/organization.ts';
import { mergeOrganizationSeeds, seedAt, seedForEvent } from '../../../local/seed-from-finding.ts';
import { fixture } from '../../support/fixtures.ts';

const HUB_ROLE = 'arn:aws:iam::123456789012:role/ActionRole';
const request = {
  principalArn: HUB_ROLE,
  callerArn: 'arn:aws:sts::123456789012:assumed-role/ActionRole/fn',
  principalAccount: '123456789012',
  principalOrgId: 'o-abcdefghij',
  externalId: 'ext-1',
};

describe('a trust policy', () => {
  const policy = JSON.stringify(responderTrustPolicy([HUB_ROLE], 'ext-1', 'o-abcdefghij'));

  it('allows the trusted role with the external id from the organization, and nothing short of that', () => {
    expect(trustAllows(policy, request)).toBe(true);
    expect(trustAllows(policy, { ...request, externalId: 'ext-2' })).toBe(false);
    expect(trustAllows(policy, { ...request, externalId: undefined })).toBe(false);
    expect(trustAllows(policy, { ...request, principalOrgId: undefined })).toBe(false);
    expect(trustAllows(policy, { ...request, principalArn: 'arn:aws:iam::123456789012:role/Other' })).toBe(
      false,
    );
  });

  it('reads an account root, an explicit deny, and refuses loudly what it does not evaluate', () => {
    const root = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Principal: { AWS: 'arn:aws:iam::123456789012:root' }, Action: 'sts:*' },
        {
          Effect: 'Deny',
          Principal: '*',
          Action: 'sts:AssumeRole',
          Condition: { StringLike: { 'aws:PrincipalArn': '*:role/Blocked*' } },
        },
      ],
    };
    expect(trustAllows(JSON.stringify(root), { ...request, externalId: undefined })).toBe(true);
    expect(
      trustAllows(JSON.stringify(root), {
        ...request,
        principalArn: 'arn:aws:iam::123456789012:role/Blocked1',
      }),
    ).toBe(false);
    const other = {
      Statement: [
        {
          Effect: 'Allow',
          Principal: '*',
          Action: 'sts:AssumeRole',
          Condition: { Bool: { 'aws:SecureTransport': 'true' } },
        },
      ],
    };
    expect(() => trustAllows(JSON.stringify(other), request)).toThrow(SandboxPolicyError);
  });
});

describe('where a finding is seeded', () => {
  it('puts a hub finding in the hub, and a member finding in that member and region', () => {
    const ec2 = fixture('guardduty/ec2-backdoor-c2-dns.eventbridge.json');
    expect(Object.keys(seedForEvent(ec2).members ?? {})).toEqual(['883606788610']);
    expect(seedForEvent(ec2).members?.['883606788610']?.regions?.['us-east-1']?.instances?.[0]?.id).toBe(
      'i-99999999',
    );
    expect(seedForEvent(fixture('guardduty/ec2-canary-stateless.detail.json')).hub?.instances).toHaveLength(
      1,
    );
    // The hub in another region: IAM (global) in the home region, the rest in that region.
    expect(
      seedAt(
        { instances: [{ id: 'i-1' }], iam: { users: [{ name: 'u' }] } },
        { account: '123456789012', region: 'eu-west-1' },
      ),
    ).toEqual({
      hub: { iam: { users: [{ name: 'u' }] } },
      hubRegions: { 'eu-west-1': { instances: [{ id: 'i-1' }] } },
    });
  });

  it('merges the same place of several seeds, lists joined', () => {
    const a = seedAt({ instances: [{ id: 'i-1' }] }, { account: '111111111111', region: 'us-east-1' });
    const b = seedAt({ instances: [{ id: 'i-2' }] }, { account: '111111111111', region: 'us-east-1' });
    const c = seedAt({ instances: [{ id: 'i-3' }] }, { account: '111111111111', region: 'eu-west-1' });
    const merged = mergeOrganizationSeeds([a, b, c]);
    expect(merged.members?.['111111111111']?.regions).toEqual({
      'us-east-1': { instances: [{ id: 'i-1' }, { id: 'i-2' }] },
      'eu-west-1': { instances: [{ id: 'i-3' }] },
    });
  });
});

describe('an organization seed file', () => {
  it('names each bad field by its path, and an unknown one', () => {
    const checked = checkOrganizationSeed({
      members: { '1234': {}, '111111111111': { regions: { 'us-east-1': { instances: [{}] } }, typo: 1 } },
    });
    expect(checked.ok).toBe(false);
    const problems = checked.ok ? [] : checked.problems;
    expect(problems).toContain('members.1234: must be a 12-digit AWS account id');
    expect(problems.join('\n')).toContain('members.111111111111.typo: not a field of an organization seed');
  });
});

describe('the account file', () => {
  const dir = () => mkdtempSync(join(tmpdir(), 'cordon-account-file-'));

  it('reads a single account as the hub alone, and a whole organization back as it was written', () => {
    const file = join(dir(), 'account.json');
    const single = Sandbox.create({}).state();
    writeFileSync(file, JSON.stringify(single));
    const org = readOrganizationFile(file, { id: 'o-abcdefghij', externalId: 'ext-1' });
    expect(org).toEqual({
      id: 'o-abcdefghij',
      externalId: 'ext-1',
      hub: { account: single.accountId, region: single.region },
      accounts: { [single.accountId]: { inOrganization: true, regions: [single] } },
    });
    const whole = LocalOrganization.create({ members: { '111111111111': {} } }).state();
    writeOrganizationFile(file, whole);
    expect(readOrganizationFile(file, { id: 'o-abcdefghij', externalId: 'ext-1' })).toEqual(whole);
    expect(readAccountFile(file)).toEqual(whole.accounts['123456789012']?.regions[0]);
  });

  it("writes one account's state in its place of a saved organization, keeping the members", () => {
    const file = join(dir(), 'account.json');
    const whole = LocalOrganization.create({ members: { '111111111111': {} } });
    writeOrganizationFile(file, whole.state());
    const hub = Sandbox.create({ instances: [{ id: 'i-9' }] }).state();
    writeAccountFile(file, hub);
    const read = readOrganizationFile(file, { id: 'o-abcdefghij', externalId: 'x1' });
    expect(read.accounts['123456789012']?.regions[0]).toEqual(hub);
    expect(read.accounts['111111111111']).toEqual(whole.state().accounts['111111111111']);
  });

  it('refuses a file of another version or a broken organization, naming the file', () => {
    const file = join(dir(), 'account.json');
    writeFileSync(file, JSON.stringify({ version: 3 }));
    expect(() => readAccountFile(file)).toThrow(
      `the saved sandbox account ${file} is not an account state (version 3`,
    );
    writeFileSync(
      file,
      JSON.stringify({
        version: 2,
        organization: {
          id: 'o-x',
          externalId: 'e',
          hub: { account: '1', region: 'r' },
          accounts: { '1': { regions: [{}] } },
        },
      }),
    );
    expect(() => readAccountFile(file)).toThrow(/account 1's regions\[0\] lacks accountId/);
    expect(readFileSync(file, 'utf8')).toContain('"version":2');
  });
});
