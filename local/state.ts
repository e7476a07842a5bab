/**
 * The project's state folder (`.cordon/` in the working directory, or `CORDON_STATE_DIR`): the local
 * store's data, the record key and anchors (`trust/`), the outbox, reports. A store started here writes `store.json` so that a second command
 * reuses it instead of opening the same files twice.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { createAuditTable, type LocalStore, localClient, startLocalStore } from './store.ts';
import { type LocalTrust, openLocalTrust } from './trust.ts';

/** The local table's name: the same as the deployed one. */
export const LOCAL_TABLE = 'cordon-audit';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  return resolve(env.CORDON_STATE_DIR ?? join(process.cwd(), '.cordon'));
}

interface StoreFile {
  endpoint: string;
  pid: number;
}

async function answers(endpoint: string): Promise<boolean> {
  const client = localClient(endpoint);
  try {
    await client.send(new ListTablesCommand({ Limit: 1 }));
    return true;
  } catch {
    return false;
  } finally {
    client.destroy();
  }
}

/**
 * Opens the state folder's store: reuses one that a running command started, or starts DynamoDB Local
 * on the folder's data and creates the audit table. `close()` stops it only if this call started it.
 */
export async function openStateStore(
  dir = stateDir(),
): Promise<{ endpoint: string; close(): Promise<void> }> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'store.json');
  if (existsSync(file)) {
    try {
      const running = JSON.parse(readFileSync(file, 'utf8')) as StoreFile;
      if (await answers(running.endpoint)) {
        await createAuditTable(localClient(running.endpoint), LOCAL_TABLE);
        return { endpoint: running.endpoint, close: async () => {} };
      }
    } catch {
      // A stale or unreadable file: start a store of our own below.
    }
  }
  const store: LocalStore = await startLocalStore({ dataDir: join(dir, 'store') });
  writeFileSync(file, JSON.stringify({ endpoint: store.endpoint, pid: process.pid } satisfies StoreFile));
  const client = store.client();
  await createAuditTable(client, LOCAL_TABLE);
  client.destroy();
  return {
    endpoint: store.endpoint,
    close: async () => {
      await store.stop();
      rmSync(file, { force: true });
    },
  };
}

/**
 * The state folder's record key and anchors: every command on the folder seals and verifies with the same
 * ones, so the record a demo wrote verifies in a later `cordon verify --local`.
 */
export function openStateTrust(dir = stateDir()): Promise<LocalTrust> {
  return openLocalTrust({ dir: join(dir, 'trust') });
}
