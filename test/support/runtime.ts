/**
 * One helper that gives an integration test the local runtime: its own audit table on the run's
 * DynamoDB Local, a seeded sandbox account, and the local engine running the stack's playbooks, with
 * Wait states a thousand times shorter. Call `close()` in `afterAll`.
 */
import { LocalRuntime, type LocalRuntimeOptions } from '../../local/runtime.ts';
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
