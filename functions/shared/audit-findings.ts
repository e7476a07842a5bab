/**
 * The record of each finding id the router saw: claimed once (a repeat delivery is told apart), marked
 * routed or failed, taken over by exactly one retry when its delivery failed or stalled, its count and
 * last-seen raised by later deliveries, and pointed at the incident it joined. The base class of
 * AuditQueries (functions/shared/audit-queries.ts).
 *
 * A finding is keyed by the account and region it is in and its reporter's id (`keys.finding`): GuardDuty's
 * ids are unique only within a detector, so two accounts' findings never share an item, and the stored
 * `findingId` stays the reporter's.
 *
 * The router's lock is {@link FindingRecords.claimFinding}: one UpdateItem that every delivery makes, whose
 * old item tells the first delivery (none), a repeat, and a delivery that failed or stalled. Its later
 * writes of the finding ({@link FindingRecords.findingWrite}) go in the recorder's transactions.
 */
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from './audit.ts';
import { keys, type Place } from './audit-table.ts';
import type { TransactItem } from './audit-transactions.ts';

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

/** What a delivery asks of {@link FindingRecords.claimFinding}. */
export interface FindingClaimRequest {
  /** The account and region the finding is in: with its id, its key. */
  readonly place: Place;
  readonly findingId: string;
  /** The incident a first delivery routes the finding to. */
  readonly incidentId: string;
  readonly count: number;
  readonly lastSeen: string;
  /** The delivery's time: a first delivery's claim, which its later writes are conditioned on. */
  readonly claimedAt: string;
  /**
   * The decision, when the policy decided before the lock that nothing is to be done: a first delivery is
   * then recorded `routed` with it by the lock itself, and needs no other write.
   */
  readonly routed?: unknown;
}

/** What the lock found: nothing (the first delivery), or the finding as an earlier delivery left it. */
export type FindingClaim =
  | { readonly first: true }
  | {
      readonly first: false;
      /** The finding before this delivery; `deliveries` already counts this one. */
      readonly earlier: FindingRecord;
    };

/** What a finding's write in a transaction changes (see {@link FindingRecords.findingWrite}). */
export interface FindingChange {
  readonly incidentId?: string;
  readonly status?: 'routed' | 'failed';
  readonly decision?: unknown;
  /** Written only while the finding is still claimed at this time (no other delivery took it over). */
  readonly claimedAt?: string;
}

/**
 * The finding as the table returned it. The item is not evidence (anyone who can write the table can
 * write it): a field of the wrong type reads as missing, so that it never passes for a claim.
 */
export function findingRecordOf(item: Record<string, unknown>, findingId: string): FindingRecord {
  const text = (value: unknown) => (typeof value === 'string' ? value : '');
  const number = (value: unknown) => (typeof value === 'number' && Number.isFinite(value) ? value : 0);
  const status = item.status === 'routing' || item.status === 'routed' || item.status === 'failed';
  return {
    findingId,
    incidentId: text(item.incidentId),
    status: status ? (item.status as FindingRecord['status']) : 'routed',
    claimedAt: text(item.claimedAt),
    count: number(item.count),
    lastSeen: text(item.lastSeen),
    deliveries: number(item.deliveries),
  };
}

export class FindingRecords {
  constructor(
    protected readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  /**
   * The router's lock: one UpdateItem that every delivery of a finding makes. It creates the finding as
   * `routing` to `incidentId` (or `routed`, with the decision, when {@link FindingClaimRequest.routed} is
   * given) when there is none, and else only counts the delivery: every attribute an earlier delivery
   * wrote is kept (`if_not_exists`). The old item it returns tells the deliveries apart, exactly once
   * each: none for the first, whatever the concurrency; the earlier finding for a repeat, or for a
   * delivery to take over when that one failed or stalled ({@link takeOverFinding} decides which one).
   */
  async claimFinding(request: FindingClaimRequest): Promise<FindingClaim> {
    const { findingId, routed, place } = request;
    const sets = [
      'findingId = :findingId',
      'account = :account',
      '#region = :region',
      'incidentId = if_not_exists(incidentId, :incident)',
      '#count = if_not_exists(#count, :count)',
      'lastSeen = if_not_exists(lastSeen, :lastSeen)',
      '#status = if_not_exists(#status, :status)',
      'claimedAt = if_not_exists(claimedAt, :claimedAt)',
      ...(routed === undefined ? [] : ['decision = if_not_exists(decision, :decision)']),
    ];
    const result = await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(place, findingId),
        UpdateExpression: `SET ${sets.join(', ')} ADD deliveries :one`,
        ExpressionAttributeNames: { '#count': 'count', '#status': 'status', '#region': 'region' },
        ExpressionAttributeValues: {
          ':findingId': findingId,
          ':account': place.account,
          ':region': place.region,
          ':incident': request.incidentId,
          ':count': request.count,
          ':lastSeen': request.lastSeen,
          ':status': routed === undefined ? 'routing' : 'routed',
          ':claimedAt': request.claimedAt,
          ':one': 1,
          ...(routed === undefined ? {} : { ':decision': routed }),
        },
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = result.Attributes;
    if (old === undefined || Object.keys(old).length === 0) return { first: true };
    const earlier = findingRecordOf(old, findingId);
    return { first: false, earlier: { ...earlier, deliveries: earlier.deliveries + 1 } };
  }

  /**
   * Raises a finding's count and last-seen time to a repeat delivery's, each only when that is higher
   * than the stored one: one conditional update each, made together, so that neither lowers what another
   * delivery raised meanwhile.
   */
  async raiseFinding(
    place: Place,
    findingId: string,
    raise: { count?: number; lastSeen?: string },
  ): Promise<void> {
    const raiseTo = async (name: string, value: unknown): Promise<void> => {
      try {
        await this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.finding(place, findingId),
            UpdateExpression: 'SET #a = :v',
            ConditionExpression: 'attribute_exists(pk) AND #a < :v',
            ExpressionAttributeNames: { '#a': name },
            ExpressionAttributeValues: { ':v': value },
          }),
        );
      } catch (error) {
        // Another delivery raised it as far or further meanwhile.
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    };
    await Promise.all([
      raise.count === undefined ? undefined : raiseTo('count', raise.count),
      raise.lastSeen === undefined ? undefined : raiseTo('lastSeen', raise.lastSeen),
    ]);
  }

  /**
   * A write of the finding for a transaction of the recorder's: what it is routed to, its status and
   * decision. Given `claimedAt`, its condition is that the finding is still claimed at that time, so that
   * of a delivery that stalled and the one that took it over only one opens or joins an incident; the
   * item comes back in the refusal.
   */
  findingWrite(place: Place, findingId: string, change: FindingChange): TransactItem {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    const set = (name: string, value: unknown) => {
      names[`#${name}`] = name;
      values[`:${name}`] = value;
      sets.push(`#${name} = :${name}`);
    };
    if (change.incidentId !== undefined) set('incidentId', change.incidentId);
    if (change.status !== undefined) set('status', change.status);
    if (change.decision !== undefined) set('decision', change.decision);
    if (sets.length === 0) throw new Error(`a write of finding ${findingId} that changes nothing`);
    if (change.claimedAt !== undefined) {
      names['#claimedAt'] = 'claimedAt';
      values[':claim'] = change.claimedAt;
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.finding(place, findingId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ...(change.claimedAt === undefined
          ? {}
          : { ConditionExpression: '#claimedAt = :claim', ReturnValuesOnConditionCheckFailure: 'ALL_OLD' }),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      },
    };
  }

  /** Marks a finding `routed` (its playbook started, or nothing to do) or `failed` (a retry may take it over). */
  async setFindingStatus(
    place: Place,
    findingId: string,
    status: 'routed' | 'failed',
    decision?: unknown,
  ): Promise<void> {
    await this.client.send(
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.finding(place, findingId),
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
  async takeOverFinding(place: Place, findingId: string, staleBefore: string, now: string): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.finding(place, findingId),
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

  /** What is recorded of a finding id in a place, if it was seen there. */
  async finding(place: Place, findingId: string): Promise<FindingRecord | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: keys.finding(place, findingId),
        ConsistentRead: true,
      }),
    );
    return result.Item as FindingRecord | undefined;
  }
}
