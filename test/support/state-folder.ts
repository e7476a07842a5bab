/**
 * A state folder for tests that run the real `cordon` binary on it: its store started once here (every
 * command reuses it through `store.json` instead of starting its own), and a recorder on its record, sealed
 * with the folder's key, to read what the commands wrote.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AuditRecorder } from '#shared/audit';
import { makeDocumentClient } from '#shared/dynamo';
import { LOCAL_TABLE, openStateStore, openStateTrust } from '../../local/state.ts';

export interface TestStateFolder {
  readonly dir: string;
  readonly recorder: AuditRecorder;
  close(): Promise<void>;
}

/** Makes a state folder under the system's temporary folder, named from `prefix`, and starts its store. */
export async function openTestStateFolder(prefix: string): Promise<TestStateFolder> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const store = await openStateStore(dir);
  const recorder = new AuditRecorder({
    client: makeDocumentClient({ endpoint: store.endpoint }),
    tableName: LOCAL_TABLE,
    seal: (await openStateTrust(dir)).seal,
  });
  return { dir, recorder, close: () => store.close() };
}
