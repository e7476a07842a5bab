/**
 * One helper that gives an integration test the local runtime: its own audit table on the run's
 * DynamoDB Local, a seeded sandbox account (or organization), and the local engine running the stack's
 * playbooks, with Wait states a thousand times shorter. Call `close()` in `afterAll`.
 *
 * `organizationRuntime` starts it on an organization: the hub (LOCAL_ACCOUNT, LOCAL_REGION) and members
 * named by account id, each with its regions' seeds and its responder role (trusting the stack's action
 * roles and the local external id, by default); the stack's settings then name the local organization
 * and those members (local/runtime/organization.ts). `member(seed)` writes a member of one region.
 */

import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.ts';
import type { AccountSeed } from '../../local/sandbox/index.ts';
import type { MemberSeed, OrganizationSeed } from '../../local/sandbox/organization.ts';
import { LOCAL_REGION } from '../../local/store.ts';
import { createTestTable, type TestTable } from './store.ts';

export interface TestRuntime {
  readonly runtime: LocalRuntime;
  readonly table: TestTable;
  close(): Promise<void>;
}

export async function startTestRuntime(
  options: Omit<LocalRuntimeOptions, 'store'> = {},
): Promise<TestRuntime> {
  const table = await createTestTable('runtime');
  const runtime = await LocalRuntime.start({
    waitScale: 0.001,
    trust: table.trust,
    ...options,
    store: { endpoint: table.endpoint, tableName: table.tableName },
  });
  return {
    runtime,
    table,
    close: async () => {
      await runtime.close();
      await table.drop();
    },
  };
}

/** A member account of one region (default the hub's, us-east-1) holding `seed`, with its responder role. */
export function member(
  seed: AccountSeed = {},
  options: { readonly region?: string } & Omit<MemberSeed, 'regions'> = {},
): MemberSeed {
  const { region = LOCAL_REGION, ...rest } = options;
  return { ...rest, regions: { [region]: seed } };
}

/**
 * The local runtime on an organization: `{ hub?, members: { '111111111111': member({...}) }, outsiders? }`.
 * `runtime.organization.sandbox(account, region)` reaches each place, `runtime.sandbox` is the hub's home.
 */
export function organizationRuntime(
  organization: OrganizationSeed,
  options: Omit<LocalRuntimeOptions, 'store' | 'organization' | 'seed'> = {},
): Promise<TestRuntime> {
  return startTestRuntime({ ...options, organization });
}
