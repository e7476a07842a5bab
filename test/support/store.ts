/**
 * Gives an integration test its own audit table on the run's DynamoDB Local, the record key and anchor
 * (in memory, in a sandbox of their own, as the local runtime has them), recorders sealed with them, and
 * a count of every command the recorder's client sends (to show that no query is a Scan). A forger in a
 * test writes `doc` directly, as an attacker with table access would, and has no use of the key.
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Pluggable } from '@smithy/types';
import { inject } from 'vitest';
import { AuditRecorder, type AuditRecorderOptions } from '#shared/audit';
import { registerClientPlugin } from '#shared/clients';
import { createAuditTable, localClient } from '../../local/store.ts';
import { type LocalTrust, openLocalTrust } from '../../local/trust.ts';

export interface TestTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly doc: DynamoDBDocumentClient;
  /** Names of the commands the document client sent, in order (e.g. `QueryCommand`). */
  readonly commands: string[];
  /** The record key and anchor the recorders seal with. */
  readonly trust: LocalTrust;
  recorder(options?: Partial<AuditRecorderOptions>): AuditRecorder;
  drop(): Promise<void>;
}

/**
 * Lets deployed handlers run in this process against a test table and a sandbox account: the table's
 * name and endpoint and its record key and anchor in the environment, and the SDK clients the factory makes
 * answered by the record's key and anchor first, then by the account. Returns the function that undoes it.
 */
export function runHandlersOn(
  table: TestTable,
  account: { plugin(): Pluggable<object, object> },
): () => void {
  Object.assign(process.env, {
    CORDON_TABLE_NAME: table.tableName,
    AWS_ENDPOINT_URL_DYNAMODB: table.endpoint,
    ...table.trust.env,
  });
  const offTrust = registerClientPlugin(table.trust.plugin());
  const offAccount = registerClientPlugin(account.plugin());
  return () => {
    offAccount();
    offTrust();
  };
}

export async function createTestTable(prefix = 'audit'): Promise<TestTable> {
  const endpoint = inject('dynamoEndpoint');
  const tableName = `${prefix}-${randomBytes(4).toString('hex')}`;
  const raw = localClient(endpoint);
  await createAuditTable(raw, tableName);
  const commands: string[] = [];
  raw.middlewareStack.add(
    (next, context) => async (args) => {
      commands.push(String(context.commandName));
      return next(args);
    },
    { step: 'initialize', name: 'countCommands' },
  );
  const doc = DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
  const trust = await openLocalTrust();
  return {
    endpoint,
    tableName,
    doc,
    commands,
    trust,
    recorder: (options = {}) => new AuditRecorder({ client: doc, tableName, seal: trust.seal, ...options }),
    drop: async () => {
      await raw.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}
