/**
 * Releasing an incident's open-resource markers when it is recovered or closed, so that a later finding
 * on the same resource opens a new incident instead of joining a finished one. Kept apart from the
 * queries: only the function that ends incidents may delete anything from the record.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { keys } from './audit-table.ts';

/**
 * Removes the open markers of `resourceIds` that `incidentId` holds; a marker another incident holds is
 * left alone. Returns the resources released.
 */
export async function releaseOpenMarkers(
  client: DocumentSender,
  tableName: string,
  incidentId: string,
  resourceIds: readonly string[],
): Promise<string[]> {
  const released: string[] = [];
  for (const resourceId of new Set(resourceIds)) {
    try {
      await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: keys.openMarker(resourceId),
          ConditionExpression: 'incidentId = :id',
          ExpressionAttributeValues: { ':id': incidentId },
        }),
      );
      released.push(resourceId);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return released;
}
