/**
 * The router bench's counting: each kind of delivery's calls and rounds by service, from the tallies of
 * bench/counting.ts, and the bare conditional PutItem the router's throughput is set against.
 */
import { randomBytes } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import type { RouteOutcome } from '../functions/router/core.ts';
import { ALL_SERVICES, type CallCounts, of } from './counting.ts';

/** Calls or rounds by service (and {@link ALL_SERVICES}). */
export type ByService = Record<string, number>;

/** One kind of delivery, routed one at a time and counted. */
export interface PerDelivery {
  readonly samples: number;
  /** Outcomes by kind: all should be the kind measured. */
  readonly outcomes: Readonly<Record<string, number>>;
  /** The most calls and rounds of any one delivery, by service. */
  readonly worst: { readonly calls: ByService; readonly rounds: ByService };
  readonly mean: { readonly calls: ByService; readonly rounds: ByService };
}

/** The services a delivery's figures are given for, and all of them together. */
export const SERVICES = ['DynamoDB', 'SFN', 'KMS', 'S3', ALL_SERVICES];

/** Outcomes by kind. */
export function countBy(outcomes: readonly RouteOutcome[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const o of outcomes) counts[o.outcome] = (counts[o.outcome] ?? 0) + 1;
  return counts;
}

export function perDelivery(tallies: readonly CallCounts[], outcomes: readonly RouteOutcome[]): PerDelivery {
  const by = (what: 'calls' | 'rounds', how: 'max' | 'mean'): ByService => {
    const out: ByService = {};
    for (const service of SERVICES) {
      const values = tallies.map((t) => of(t, service)[what]);
      out[service] =
        how === 'max'
          ? Math.max(0, ...values)
          : values.reduce((a, b) => a + b, 0) / Math.max(1, values.length);
    }
    return out;
  };
  return {
    samples: tallies.length,
    outcomes: countBy(outcomes),
    worst: { calls: by('calls', 'max'), rounds: by('rounds', 'max') },
    mean: { calls: by('calls', 'mean'), rounds: by('rounds', 'mean') },
  };
}

/** Conditional PutItems of new items, `concurrency` at a time: the bare write the router's are set against. */
export async function barePuts(
  documents: DynamoDBDocumentClient,
  tableName: string,
  puts: number,
  concurrency: number,
): Promise<number> {
  const run = randomBytes(4).toString('hex');
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < puts; i = next++) {
        await documents.send(
          new PutCommand({
            TableName: tableName,
            Item: { pk: `BENCHPUT#${run}#${i}`, sk: 'PUT', at: new Date().toISOString() },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      }
    }),
  );
  return (performance.now() - start) / 1000;
}

/**
 * The router's writes for a new finding with none of its code, `concurrency` at a time: the lock (an
 * UpdateItem returning the old item) beside the marker's GetItem and the Queries of the account's slots and
 * the organization's (one partition for every finding, as the router's), then the opening's transaction of
 * seven conditional writes (incident, resource link, triage step, marker, account slot, organization slot,
 * finding), then the start step's transaction of three (step, head, finding). What DynamoDB Local itself allows the router
 * on this machine: the router's throughput can come near it, not past it. Returns the seconds taken.
 */
export async function routerWritesOnly(
  documents: DynamoDBDocumentClient,
  tableName: string,
  findings: number,
  concurrency: number,
): Promise<number> {
  const run = randomBytes(4).toString('hex');
  const put = (pk: string, sk: string) => ({
    Put: {
      TableName: tableName,
      Item: { pk, sk, at: new Date().toISOString(), data: 'x'.repeat(400) },
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  });
  const update = (pk: string, sk: string) => ({
    Update: {
      TableName: tableName,
      Key: { pk, sk },
      UpdateExpression: 'SET #at = :at',
      ExpressionAttributeNames: { '#at': 'at' },
      ExpressionAttributeValues: { ':at': new Date().toISOString() },
    },
  });
  const organization = `BENCHFLOOR#${run}#ORGANIZATION`;
  let next = 0;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      for (let i = next++; i < findings; i = next++) {
        const id = `BENCHFLOOR#${run}#${i}`;
        await Promise.all([
          documents.send(
            new UpdateCommand({ ...update(`${id}#F`, 'FINDING').Update, ReturnValues: 'ALL_OLD' }),
          ),
          documents.send(
            new GetCommand({
              TableName: tableName,
              Key: { pk: `${id}#O`, sk: 'OPEN' },
              ConsistentRead: true,
            }),
          ),
          ...[`${id}#C`, organization].map((pk) =>
            documents.send(
              new QueryCommand({
                TableName: tableName,
                KeyConditionExpression: 'pk = :pk',
                ExpressionAttributeValues: { ':pk': pk },
                ConsistentRead: true,
              }),
            ),
          ),
        ]);
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              put(`${id}#I`, 'INCIDENT'),
              put(`${id}#I`, 'RESOURCE#r'),
              put(`${id}#I`, 'STEP#1'),
              put(`${id}#O`, 'OPEN'),
              update(`${id}#C`, 'SLOT#0'),
              update(organization, `SLOT#${i}`),
              update(`${id}#F`, 'FINDING'),
            ],
          }),
        );
        await documents.send(
          new TransactWriteCommand({
            TransactItems: [
              put(`${id}#I`, 'STEP#2'),
              update(`${id}#I`, 'INCIDENT'),
              update(`${id}#F`, 'FINDING'),
            ],
          }),
        );
      }
    }),
  );
  return (performance.now() - start) / 1000;
}
