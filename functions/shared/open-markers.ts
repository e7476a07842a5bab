/**
 * Releasing an incident's open-resource markers when it is recovered or closed, so that a later finding
 * on the same resource opens a new incident instead of joining a finished one. Kept apart from the
 * queries: only the function that ends incidents may delete anything from the record.
 *
 * A marker is keyed by its resource's place ({@link resourceKey}): the incident's account and region, as
 * its verified record says, tell whose instance or key it is, so that ending an incident in one account
 * never frees the marker of the same id in another.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { DeleteCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { keys, type Place, resourceKey } from './audit-table.ts';

/** One open marker to release: its key, and the resource id it is said by. */
export interface OpenMarkerRef {
  readonly resourceKey: string;
  readonly resourceId: string;
}

/** The open markers of an incident's resources, in its place (the incident's account and region). */
export function openMarkersOf(
  place: Place,
  resources: readonly { readonly type: string; readonly id: string }[],
): OpenMarkerRef[] {
  return resources.map((resource) => ({
    resourceKey: resourceKey(place, resource),
    resourceId: resource.id,
  }));
}

/**
 * Removes the open markers that `incidentId` holds; a marker another incident holds is left alone.
 * Returns the ids of the resources released.
 */
export async function releaseOpenMarkers(
  client: DocumentSender,
  tableName: string,
  incidentId: string,
  markers: readonly OpenMarkerRef[],
): Promise<string[]> {
  const released: string[] = [];
  const seen = new Set<string>();
  for (const marker of markers) {
    if (seen.has(marker.resourceKey)) continue;
    seen.add(marker.resourceKey);
    try {
      await client.send(
        new DeleteCommand({
          TableName: tableName,
          Key: keys.openMarker(marker.resourceKey),
          ConditionExpression: 'incidentId = :id',
          ExpressionAttributeValues: { ':id': incidentId },
        }),
      );
      released.push(marker.resourceId);
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }
  return released;
}
