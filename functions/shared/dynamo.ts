/**
 * The DynamoDB document client every function and the console use, made through the one factory, and how
 * to read a write's refusal (a condition failed, a race lost).
 */
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

/** A write of the record that another writer won: the step's place was taken, or a transaction collided. */
export function lostTheRace(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  if (error.name === 'ConditionalCheckFailedException') return true;
  if (error.name === 'TransactionConflictException') return true;
  if (error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return (
    reasons[0]?.Code === 'ConditionalCheckFailed' || reasons.some((r) => r.Code === 'TransactionConflict')
  );
}

/** A transaction cancelled because the incident's own condition failed (not the step's place). */
export function incidentConditionFailed(error: unknown): boolean {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return false;
  const reasons = (error as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? [];
  return reasons[0]?.Code !== 'ConditionalCheckFailed' && reasons[1]?.Code === 'ConditionalCheckFailed';
}
