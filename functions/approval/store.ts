/**
 * Approval requests, links and task tokens in the audit table. Every decision is one conditional write (a
 * transaction of two for a link: the link is used and the request decided, together), so of concurrent
 * deciders exactly one wins.
 *
 * What is stored here is operational state (which requests wait, which links were used): the facts a
 * decision is checked against (who may decide, until when, the default) come from the incident's verified
 * record (functions/approval/recorded.ts), and a link counts only with its MAC.
 */
import { GetCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { DocumentSender } from '#shared/audit';
import { INDEX, KEY_ATTRIBUTES, withoutAttributes } from '#shared/audit-table';
import { isConditionFailure } from '#shared/dynamo';
import { eachPage, lastEvaluatedKey } from '#shared/pages';
import { approvalKeys } from './keys.ts';
import type { ApprovalRequest, ApprovalStatus, Decision, DecisionSource } from './model.ts';

/** A stored request. The task token is not part of it: see {@link ApprovalStore.token}. */
export type StoredApproval = ApprovalRequest;

/** A stored link: bound to one approver and one request by its MAC. */
export interface StoredLink {
  readonly requestId: string;
  readonly approver: string;
  readonly expiresAt: string;
  /** The record key's MAC of the link's hash, request, approver and expiry (functions/shared/seal.ts). */
  readonly mac?: string;
  readonly usedAt?: string;
}

/** A new link, as the request core makes it. */
export interface NewLink {
  readonly linkHash: string;
  readonly approver: string;
  readonly mac: string;
}

/**
 * What a decision attempt came to. `decided` carries nothing read back: what was decided is the write that
 * won, which the caller holds. Reading the item again after the write would hand on whatever anyone with
 * table access put there in between, as the decider's decision.
 */
export type DecideOutcome =
  | { readonly kind: 'decided' }
  | { readonly kind: 'closed'; readonly request: StoredApproval }
  | { readonly kind: 'expired'; readonly request: StoredApproval }
  | { readonly kind: 'link-used'; readonly request: StoredApproval }
  | { readonly kind: 'not-found' };

/** A decision to write. */
export interface DecisionWrite {
  readonly decision: Decision;
  readonly decidedBy: string;
  readonly decidedAt: string;
  readonly reason: string;
  readonly source: DecisionSource;
}

const KIND: ReadonlySet<string> = new Set(['kind']);

/** An item without its keys and its kind. */
const strip = <T>(item: Record<string, unknown>): T => withoutAttributes<T>(item, KEY_ATTRIBUTES, KIND);

/** A request as anyone may see it (the stored request holds no secret). */
export function publicView(request: StoredApproval): ApprovalRequest {
  return request;
}

/** The status a request takes when a person decides it. */
export const statusFor = (decision: Decision): ApprovalStatus =>
  decision === 'approve' ? 'approved' : 'rejected';

export class ApprovalStore {
  constructor(
    private readonly client: DocumentSender,
    readonly tableName: string,
  ) {}

  /** Stores a request, its links and its task token together; refuses a request id that is taken. */
  async create(request: StoredApproval, links: readonly NewLink[], taskToken: string): Promise<void> {
    const time = approvalKeys.time(request.requestedAt, request.requestId);
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: {
              TableName: this.tableName,
              Item: {
                ...approvalKeys.request(request.requestId),
                gsi2pk: approvalKeys.status(request.status),
                gsi2sk: time,
                gsi3pk: approvalKeys.gate(request.executionArn, request.gate),
                gsi3sk: time,
                kind: 'approval-request',
                ...request,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          {
            Put: {
              TableName: this.tableName,
              // No index key: the token is in no index, and only the decision function may read it.
              Item: { ...approvalKeys.token(request.requestId), requestId: request.requestId, taskToken },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          },
          ...links.map((link) => ({
            Put: {
              TableName: this.tableName,
              Item: {
                ...approvalKeys.link(link.linkHash),
                kind: 'approval-link',
                requestId: request.requestId,
                approver: link.approver,
                expiresAt: request.expiresAt,
                mac: link.mac,
              },
              ConditionExpression: 'attribute_not_exists(pk)',
            },
          })),
        ],
      }),
    );
  }

  /** A request by id, read consistently. */
  async get(requestId: string): Promise<StoredApproval | undefined> {
    const result = await this.client.send(
      new GetCommand({
        TableName: this.tableName,
        Key: approvalKeys.request(requestId),
        ConsistentRead: true,
      }),
    );
    return result.Item ? strip<StoredApproval>(result.Item) : undefined;
  }

  /** A request's task token: only the decision function reads it. */
  async token(requestId: string): Promise<string | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: approvalKeys.token(requestId), ConsistentRead: true }),
    );
    const token = result.Item?.taskToken;
    return typeof token === 'string' ? token : undefined;
  }

  /** A link by the hash of its id. */
  async link(linkHash: string): Promise<StoredLink | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: approvalKeys.link(linkHash), ConsistentRead: true }),
    );
    return result.Item ? strip<StoredLink>(result.Item) : undefined;
  }

  /**
   * Requests with a status, newest first, at most `limit` (a Query on the by-status index): for the
   * console. A page holds at most 1 MB, so fewer than `limit` can come back with a `LastEvaluatedKey`:
   * the pages are followed until `limit` is reached or there are no more.
   */
  async byStatus(status: ApprovalStatus, limit = 100): Promise<StoredApproval[]> {
    const out: StoredApproval[] = [];
    for await (const page of eachPage({
      doing: `dynamodb:Query approvals ${status}`,
      fetch: (ExclusiveStartKey: Record<string, unknown> | undefined) =>
        this.client.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: INDEX.byStatus,
            KeyConditionExpression: 'gsi2pk = :pk',
            ExpressionAttributeValues: { ':pk': approvalKeys.status(status) },
            ScanIndexForward: false,
            Limit: limit - out.length,
            ExclusiveStartKey,
          }),
        ),
      next: lastEvaluatedKey,
    })) {
      out.push(...(page.Items ?? []).map((item) => strip<StoredApproval>(item)));
      if (out.length >= limit) break;
    }
    return out.slice(0, limit);
  }

  private decisionUpdate(requestId: string, write: DecisionWrite, status: ApprovalStatus) {
    return {
      TableName: this.tableName,
      Key: approvalKeys.request(requestId),
      UpdateExpression:
        'SET #status = :status, gsi2pk = :gsi2pk, decision = :decision, decidedBy = :by, decidedAt = :at, reason = :reason, decidedVia = :via',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: {
        ':status': status,
        ':gsi2pk': approvalKeys.status(status),
        ':decision': write.decision,
        ':by': write.decidedBy,
        ':at': write.decidedAt,
        ':reason': write.reason,
        ':via': write.source.via,
        ':pending': 'pending',
      } as Record<string, unknown>,
    };
  }

  /**
   * Decides through a link: uses the link and decides the request in one transaction, on condition that
   * the link is unused and unexpired and the request still pending and unexpired.
   */
  async decideByLink(linkHash: string, link: StoredLink, write: DecisionWrite): Promise<DecideOutcome> {
    const update = this.decisionUpdate(link.requestId, write, statusFor(write.decision));
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: approvalKeys.link(linkHash),
                UpdateExpression: 'SET usedAt = :now',
                ConditionExpression:
                  'attribute_exists(pk) AND attribute_not_exists(usedAt) AND expiresAt > :now',
                ExpressionAttributeValues: { ':now': write.decidedAt },
              },
            },
            {
              Update: {
                ...update,
                ConditionExpression: '#status = :pending AND expiresAt > :at',
              },
            },
          ],
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.whyNot(link.requestId, write.decidedAt, link);
    }
    return { kind: 'decided' };
  }

  /** Decides a request by id (the console): on condition that it is pending and unexpired. */
  async decideById(requestId: string, write: DecisionWrite): Promise<DecideOutcome> {
    const update = this.decisionUpdate(requestId, write, statusFor(write.decision));
    try {
      await this.client.send(
        new UpdateCommand({ ...update, ConditionExpression: '#status = :pending AND expiresAt > :at' }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.whyNot(requestId, write.decidedAt);
    }
    return { kind: 'decided' };
  }

  /**
   * Applies the default decision once the deadline has passed: the request becomes `expired`, decided by
   * `timeout`. A person's decision that was made but never reached the playbook (it came too late) is kept
   * as `lateDecision`, as the caller knows it (the decision it wrote itself, or one the record holds; never
   * what the item says): it is refused, and the request says so.
   */
  async expire(
    requestId: string,
    write: DecisionWrite,
    late?: StoredApproval['lateDecision'],
  ): Promise<DecideOutcome> {
    const current = await this.get(requestId);
    if (!current) return { kind: 'not-found' };
    if (current.status === 'expired' || current.status === 'failed')
      return { kind: 'closed', request: current };
    const { ':pending': _unused, ...values } = this.decisionUpdate(
      requestId,
      write,
      'expired',
    ).ExpressionAttributeValues;
    const update = { ...this.decisionUpdate(requestId, write, 'expired'), ExpressionAttributeValues: values };
    try {
      await this.client.send(
        new UpdateCommand({
          ...update,
          UpdateExpression: late
            ? `${update.UpdateExpression}, lateDecision = :late`
            : update.UpdateExpression,
          ExpressionAttributeValues: {
            ...update.ExpressionAttributeValues,
            ':was': current.status,
            ...(late ? { ':late': late } : {}),
          },
          // Whatever it was when read; a decision written meanwhile makes this read it again.
          ConditionExpression: '#status = :was',
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      return this.expire(requestId, write, late);
    }
    return { kind: 'decided' };
  }

  /** Marks a pending request `failed` (its emails could not be sent), so that no link of it works. */
  async markFailed(requestId: string, at: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: approvalKeys.request(requestId),
          UpdateExpression: 'SET #status = :failed, gsi2pk = :gsi2pk, failedAt = :at',
          ConditionExpression: '#status = :pending',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
            ':failed': 'failed',
            ':gsi2pk': approvalKeys.status('failed'),
            ':at': at,
            ':pending': 'pending',
          },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async whyNot(requestId: string, now: string, link?: StoredLink): Promise<DecideOutcome> {
    const request = await this.get(requestId);
    if (!request) return { kind: 'not-found' };
    if (request.status !== 'pending') return { kind: 'closed', request };
    if (request.expiresAt <= now || (link && link.expiresAt <= now)) return { kind: 'expired', request };
    return { kind: 'link-used', request };
  }
}
