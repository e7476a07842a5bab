/** The DynamoDB document client every function and the console use, made through the one factory. */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientOptions, makeClient } from './clients.ts';

export function makeDocumentClient(options: Omit<ClientOptions, 'service'> = {}): DynamoDBDocumentClient {
  const client = makeClient(DynamoDBClient, { service: 'DYNAMODB', ...options });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}

/**
 * True when a write was refused by its condition: a conditional put or update, or a transaction that
 * was cancelled because one of its conditions failed. A transaction cancelled for any other reason
 * (throttling, a conflict) is not a condition failure: the caller rethrows it.
 */
export function isConditionFailure(error: unknown): boolean {
  if (error instanceof ConditionalCheckFailedException) return true;
  if (!(error instanceof Error)) return false;
  if (error.name === 'ConditionalCheckFailedException') return true;
  if (error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons.some((reason) => reason.Code === 'ConditionalCheckFailed');
}
