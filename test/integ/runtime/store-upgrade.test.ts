/**
 * A state folder made by an earlier Cordon holds a table without the indexes added since (by-place): opening
 * it adds each missing index, and keeps what the table held.
 */
import { randomBytes } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteTableCommand,
  DescribeTableCommand,
  GetItemCommand,
  PutItemCommand,
} from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { AUDIT_TABLE, INDEX } from '#shared/audit-table';
import { auditTableInput, createAuditTable, localClient } from '../../../local/store.ts';

describe('the local audit table of an earlier Cordon', () => {
  it('gets the by-place index it lacks, and keeps its items', async () => {
    const client = localClient(inject('dynamoEndpoint'));
    const tableName = `old-${randomBytes(4).toString('hex')}`;
    const older = AUDIT_TABLE.indexes.filter((index) => index.name !== INDEX.byPlace);
    await client.send(new CreateTableCommand(auditTableInput(tableName, older)));
    try {
      const item = { pk: { S: 'INCIDENT#old' }, sk: { S: 'INCIDENT' } };
      await client.send(new PutItemCommand({ TableName: tableName, Item: item }));

      const before = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect(before.Table?.GlobalSecondaryIndexes?.map((index) => index.IndexName)).not.toContain(
        INDEX.byPlace,
      );

      await createAuditTable(client, tableName);

      const { Table } = await client.send(new DescribeTableCommand({ TableName: tableName }));
      expect((Table?.GlobalSecondaryIndexes ?? []).map((index) => index.IndexName).sort()).toEqual(
        AUDIT_TABLE.indexes.map((index) => index.name).sort(),
      );
      const kept = await client.send(new GetItemCommand({ TableName: tableName, Key: item }));
      expect(kept.Item).toEqual(item);
      // Opening it again changes nothing.
      await createAuditTable(client, tableName);
    } finally {
      await client.send(new DeleteTableCommand({ TableName: tableName }));
    }
  });
});
