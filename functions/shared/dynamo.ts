/** The DynamoDB document client every function and the console use, made through the one factory. */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { type ClientOptions, makeClient } from './clients.ts';

export function makeDocumentClient(options: Omit<ClientOptions, 'service'> = {}): DynamoDBDocumentClient {
  const client = makeClient(DynamoDBClient, { service: 'DYNAMODB', ...options });
  return DynamoDBDocumentClient.from(client, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
}
