/**
 * Gives an integration test its own audit table on the run's DynamoDB Local, a recorder on it, and a
 * count of every command the recorder's client sends (to show that no query is a Scan).
 */
import { randomBytes } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { inject } from 'vitest';
import { AuditRecorder, type AuditRecorderOptions } from '#shared/audit';
import { createAuditTable, localClient } from '../../local/store.ts';

export interface TestTable {
  readonly endpoint: string;
  readonly tableName: string;
  readonly doc: DynamoDBDocumentClient;
  /** Names of the commands the document client sent, in order (e.g. `QueryCommand`). */
  readonly commands: string[];
  recorder(options?: Partial<AuditRecorderOptions>): AuditRecorder;
  drop(): Promise<void>;
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
  return {
    endpoint,
    tableName,
    doc,
    commands,
    recorder: (options = {}) => new AuditRecorder({ client: doc, tableName, ...options }),
    drop: async () => {
      await raw.send(new DeleteTableCommand({ TableName: tableName }));
    },
  };
}
