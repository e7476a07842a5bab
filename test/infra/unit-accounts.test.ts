/**
 * How `cordon prepare` finds the accounts of the settings' organizational units (cli/commands/prepare-run.ts),
 * which the stack reads at synth (infra/prepared-units.ts): against a hand-written Organizations that pages
 * its answers, as AWS does, one or two items at a time.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ListAccountsForParentCommand,
  type ListAccountsForParentCommandOutput,
  ListChildrenCommand,
  type ListChildrenCommandOutput,
} from '@aws-sdk/client-organizations';
import { describe, expect, it } from 'vitest';
import {
  type AwsPrepareDeps,
  type OrganizationsSender,
  prepareDeployed,
  unitAccounts,
  unitLines,
  writeUnitAccounts,
} from '../../cli/commands/prepare-run.ts';
import { preparedUnitAccounts } from '../../infra/prepared-units.ts';

const ROOT = 'r-ab12';
const SALES = 'ou-ab12-sales001';
const EMEA = 'ou-ab12-emea0001';
const APAC = 'ou-ab12-apac0001';
const LAB = 'ou-ab12-lab00001';

/** The organization: each parent's accounts and child units. */
const TREE: Record<string, { accounts: string[]; units: string[] }> = {
  [ROOT]: { accounts: ['100000000001'], units: [SALES, LAB] },
  [SALES]: { accounts: ['200000000002', '200000000003', '200000000004'], units: [EMEA, APAC] },
  [EMEA]: { accounts: ['300000000005'], units: [] },
  [APAC]: { accounts: [], units: [] },
  // An account may be listed under one unit only; LAB repeats one to show each is listed once.
  [LAB]: { accounts: ['200000000003', '400000000006'], units: [] },
};

/** Organizations, answering `size` items a page, with a token for the rest; it records every call. */
function organizations(size = 1): { client: OrganizationsSender; calls: string[] } {
  const calls: string[] = [];
  const page = <T>(items: readonly T[], token: string | undefined) => {
    const start = token === undefined ? 0 : Number(token.split(':')[1]);
    const next = start + size < items.length ? `page:${start + size}` : undefined;
    return { items: items.slice(start, start + size), next };
  };
  const send = async (command: unknown) => {
    if (command instanceof ListAccountsForParentCommand) {
      const { ParentId = '', NextToken } = command.input;
      calls.push(`ListAccountsForParent ${ParentId} ${NextToken ?? '-'}`);
      const node = TREE[ParentId];
      // What an account that is neither the management account nor a delegated administrator is told.
      if (!node) {
        throw Object.assign(new Error("You don't have permissions to access this resource."), {
          name: 'AccessDeniedException',
          $fault: 'client',
          $metadata: { httpStatusCode: 400 },
        });
      }
      const { items, next } = page(node.accounts, NextToken);
      return {
        Accounts: items.map((Id) => ({ Id, Status: 'ACTIVE' })),
        NextToken: next,
        $metadata: {},
      } satisfies ListAccountsForParentCommandOutput;
    }
    if (command instanceof ListChildrenCommand) {
      const { ParentId = '', NextToken, ChildType } = command.input;
      calls.push(`ListChildren ${ParentId} ${ChildType} ${NextToken ?? '-'}`);
      const { items, next } = page(TREE[ParentId]?.units ?? [], NextToken);
      return {
        Children: items.map((Id) => ({ Id, Type: 'ORGANIZATIONAL_UNIT' })),
        NextToken: next,
        $metadata: {},
      } satisfies ListChildrenCommandOutput;
    }
    throw new Error(`the fake Organizations does not answer ${String(command)}`);
  };
  return { client: { send } as unknown as OrganizationsSender, calls };
}

describe("the accounts of the settings' organizational units", () => {
  it("finds each unit's own accounts and its child units', every page followed", async () => {
    const { client, calls } = organizations(1);
    expect(await unitAccounts(client, [SALES, ROOT])).toEqual({
      [SALES]: ['200000000002', '200000000003', '200000000004', '300000000005'],
      [ROOT]: [
        '100000000001',
        '200000000002',
        '200000000003',
        '200000000004',
        '300000000005',
        '400000000006',
      ],
    });
    // Three pages of SALES's accounts, two of its children: nothing read past the last page.
    expect(calls.filter((c) => c.startsWith(`ListAccountsForParent ${SALES}`))).toEqual([
      `ListAccountsForParent ${SALES} -`,
      `ListAccountsForParent ${SALES} page:1`,
      `ListAccountsForParent ${SALES} page:2`,
      `ListAccountsForParent ${SALES} -`,
      `ListAccountsForParent ${SALES} page:1`,
      `ListAccountsForParent ${SALES} page:2`,
    ]);
    expect(calls.filter((c) => c.startsWith(`ListChildren ${SALES}`))).toEqual([
      `ListChildren ${SALES} ORGANIZATIONAL_UNIT -`,
      `ListChildren ${SALES} ORGANIZATIONAL_UNIT page:1`,
      `ListChildren ${SALES} ORGANIZATIONAL_UNIT -`,
      `ListChildren ${SALES} ORGANIZATIONAL_UNIT page:1`,
    ]);
  });

  it('gives the same accounts whatever the page size, and a unit with none an empty list', async () => {
    const small = await unitAccounts(organizations(1).client, [ROOT, APAC]);
    const large = await unitAccounts(organizations(100).client, [ROOT, APAC]);
    expect(large).toEqual(small);
    expect(large[APAC]).toEqual([]);
    expect(unitLines(large)).toEqual([
      `${ROOT}: 6 accounts (100000000001, 200000000002, 200000000003, 200000000004, 300000000005, 400000000006)`,
      `${APAC}: 0 accounts`,
    ]);
  });

  it('writes them beside the isolation groups, where the synth reads them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-prepare-'));
    const file = join(dir, 'cordon.prepared.json');
    const groups = { accounts: { '111122223333/us-east-1': { preparedAt: 'x', isolationGroups: {} } } };
    writeFileSync(file, JSON.stringify(groups));
    writeUnitAccounts(file, await unitAccounts(organizations(2).client, [EMEA]), '2026-12-02T00:00:00.000Z');
    const written = JSON.parse(readFileSync(file, 'utf8'));
    expect(written.accounts).toEqual(groups.accounts);
    expect(preparedUnitAccounts(file)).toEqual({ [EMEA]: ['300000000005'] });
  });

  it('leaves the prepared file as it was when Organizations refuses, before any VPC is touched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-prepare-'));
    const file = join(dir, 'cordon.prepared.json');
    writeFileSync(file, '{"accounts":{}}');
    const ec2Calls: unknown[] = [];
    const deps = {
      ec2: { send: async (c: unknown) => ec2Calls.push(c) },
      sts: { send: async () => ({ Account: '111122223333' }) },
      organizations: organizations().client,
      region: 'us-east-1',
    } as unknown as AwsPrepareDeps;
    await expect(prepareDeployed(deps, file, new Date(), ['ou-ab12-gone0001'])).rejects.toThrow(
      /organizations:ListAccountsForParent ou-ab12-gone0001: AccessDeniedException/,
    );
    expect(ec2Calls).toEqual([]);
    expect(readFileSync(file, 'utf8')).toBe('{"accounts":{}}');
    const { organizations: _none, ...withoutOrganizations } = deps;
    await expect(prepareDeployed(withoutOrganizations, file, new Date(), [SALES])).rejects.toThrow(
      /organization\.organizationalUnits/,
    );
  });
});
