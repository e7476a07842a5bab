/**
 * The project's state folder (`.cordon/` in the working directory, or `CORDON_STATE_DIR`): the local
 * store's data, the record key and anchors (`trust/`), the outbox, reports. A store started here writes `store.json` so that a second command
 * reuses it instead of opening the same files twice.
 */
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { CordonError } from '#shared/errors';
import {
  createAuditTable,
  type LocalStore,
  localClient,
  type StoreProgress,
  startLocalStore,
} from './store.ts';
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

export interface OpenStateOptions {
  /**
   * Whether to make the folder when it does not exist (default true). Commands that only read the record
   * pass false: a folder that does not exist is an error ({@link StateDirMissingError}), not an empty store.
   */
  readonly create?: boolean;
  /**
   * Told what happens while the store opens, one line at a time: whether a running store is reused, and
   * while DynamoDB Local starts (seconds to half a minute), how long it has waited so far.
   */
  readonly onProgress?: (line: string) => void;
}

/** A command that reads the local record was given a state folder that does not exist. */
export class StateDirMissingError extends CordonError {
  override readonly name: string = 'StateDirMissingError';
  constructor(readonly dir: string) {
    super(`no state folder at ${dir}: run \`npm run demo\` or \`cordon run\` first, or pass --state-dir`);
  }
}

/**
 * Opens the state folder's store: reuses one that a running command started, or starts DynamoDB Local
 * on the folder's data and creates the audit table. `close()` stops it only if this call started it.
 */
export async function openStateStore(
  dir = stateDir(),
  options: OpenStateOptions = {},
): Promise<{ endpoint: string; close(): Promise<void> }> {
  if (options.create === false) {
    if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new StateDirMissingError(dir);
  } else {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new CordonError(
        `cannot make the state folder ${dir}${code ? ` (${code})` : ''}: pass --state-dir with a folder you can write, or set CORDON_STATE_DIR`,
        { cause: error },
      );
    }
  }
  const file = join(dir, 'store.json');
  if (existsSync(file)) {
    try {
      const running = JSON.parse(readFileSync(file, 'utf8')) as StoreFile;
      if (await answers(running.endpoint)) {
        await createAuditTable(localClient(running.endpoint), LOCAL_TABLE);
        options.onProgress?.(`Reusing the local store another command runs at ${running.endpoint}.`);
        return { endpoint: running.endpoint, close: async () => {} };
      }
    } catch {
      // A stale or unreadable file: start a store of our own below.
    }
  }
  const progress = options.onProgress;
  const store: LocalStore = await startLocalStore({
    dataDir: join(dir, 'store'),
    ...(progress
      ? {
          onProgress: (p: StoreProgress) =>
            progress(
              p.kind === 'launched'
                ? `Starting DynamoDB Local (Java) on ${p.endpoint}: this takes from a few seconds to half a minute...`
                : p.kind === 'waiting'
                  ? `  still starting, ${p.seconds} s...`
                  : `  DynamoDB Local answered after ${p.seconds} s.`,
            ),
        }
      : {}),
  });
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

/**
 * The sandbox account the state folder's commands share (`<dir>/account.json`): `cordon run` and the demo
 * leave their account there on exit, and `cordon release --local` continues from it.
 */
export function stateAccountFile(dir = stateDir()): string {
  return join(dir, 'account.json');
}
