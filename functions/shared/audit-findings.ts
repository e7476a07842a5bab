/**
 * The record of each finding id the router saw: claimed once (a repeat delivery is told apart), marked
 * routed or failed, taken over by exactly one retry when its delivery failed or stalled, its count and
 * last-seen raised by later deliveries, and pointed at the incident it joined. The base class of
 * AuditQueries (functions/shared/audit-queries.ts).
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { keys } from './audit-table.ts';

/** What the record keeps of a finding id. */
export interface FindingRecord {
  findingId: string;
  incidentId: string;
  status: 'routing' | 'routed' | 'failed';
  claimedAt: string;
  /** The reporter's own count (GuardDuty's `service.count`), the highest delivered. */
  count: number;
  lastSeen: string;
  /** How many times it was delivered to the router. */
  deliveries: number;
}

export class FindingRecords {
  constructor(
    protected readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  /**
   * Records a finding id once, as being routed to `incidentId`. Returns true the first time; false for a
   * repeat delivery.
   */
  async recordFinding(
    findingId: string,
    incidentId: string,
    count: number,
    lastSeen: string,
    claimedAt = new Date().toISOString(),
  ): Promise<boolean> {
    try {
      await this.client.send(
        new PutCommand({
          TableName: this.tableName,
          Item: {
            ...keys.finding(findingId),
            findingId,
            incidentId,
            count,
            lastSeen,
            deliveries: 1,
            status: 'routing',
            claimedAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /** Marks a finding `routed` (its playbook started, or nothing to do) or `failed` (a retry may take it over). */
  async setFindingStatus(findingId: string, status: 'routed' | 'failed', decision?: unknown): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: decision === undefined ? 'SET #status = :s' : 'SET #status = :s, decision = :d',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues:
          decision === undefined ? { ':s': status } : { ':s': status, ':d': decision },
      }),
    );
  }

  /**
   * Takes over the routing of a finding whose earlier delivery failed, or stalled since before
   * `staleBefore`: true for exactly one caller.
   */
  async takeOverFinding(findingId: string, staleBefore: string, now: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.finding(findingId),
          UpdateExpression: 'SET #status = :routing, claimedAt = :now',
          ConditionExpression: '#status = :failed OR (#status = :routing AND claimedAt < :stale)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':routing': 'routing',
            ':failed': 'failed',
            ':stale': staleBefore,
            ':now': now,
          },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Records a repeat delivery of a finding: one more delivery, and its count and last-seen time raised
   * when the delivery reports higher ones (GuardDuty re-sends a finding with a higher `service.count`).
   */
  async recordRepeat(findingId: string, count: number, lastSeen: string): Promise<FindingRecord> {
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: 'ADD deliveries :one',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'ALL_NEW',
      }),
    );
    let record = result.Attributes as FindingRecord;
    if (count > record.count || lastSeen > record.lastSeen) {
      try {
        const raised = await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.finding(findingId),
            UpdateExpression: 'SET #count = :count, lastSeen = :lastSeen',
            ConditionExpression: '#count < :count OR lastSeen < :lastSeen',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':count': Math.max(count, record.count),
              ':lastSeen': lastSeen > record.lastSeen ? lastSeen : record.lastSeen,
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        record = raised.Attributes as FindingRecord;
      } catch (error) {
        // Another delivery raised it further meanwhile.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
    return record;
  }

  /** Points a finding at the incident it joined. */
  async linkFinding(findingId: string, incidentId: string): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(findingId),
        UpdateExpression: 'SET incidentId = :id',
        ExpressionAttributeValues: { ':id': incidentId },
      }),
    );
  }

  /** What is recorded of a finding id, if it was seen. */
  async finding(findingId: string): Promise<FindingRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.finding(findingId), ConsistentRead: true }),
    );
    return result.Item as FindingRecord | undefined;
  }
}
