/**
 * What the recorder's transactions send besides its own items, and how it reads their refusals: the
 * writes a caller makes alongside a step, and the cancellation reasons (one per item, in order) that say
 * which condition failed, with the item the table returned, or that DynamoDB throttled a write.
 */
import type { TransactWriteCommandInput } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { ConditionsFailedError, ThrottlingError, translateAwsError } from './errors.ts';

/** One entry of a TransactWriteItems, document-client form. */
export type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];

/** A write of another item, made in the same transaction as the recorder's own (the router's items). */
export interface AlongsideWrite {
  /** Named in the error when its condition fails: 'finding', 'open-marker', 'slot 3', ... */
  readonly label: string;
  /** One TransactItems entry, document-client form. Set ReturnValuesOnConditionCheckFailure:
   *  'ALL_OLD' on it to get the item back in the error. */
  readonly write: TransactItem;
}

/** What a write's refusal says, read from its cancellation reasons (one per item, in order). */
export interface Refusal {
  /** The step's place was taken. */
  readonly placeTaken: boolean;
  /** The head's condition failed; `item` is the incident item as it is (undefined: there is none). */
  readonly head: { readonly item: Record<string, unknown> | undefined } | undefined;
  /** Alongside writes whose condition failed. */
  readonly failed: { label: string; item?: Record<string, unknown> }[];
  /** A write collided with another transaction: try again as it was. */
  readonly conflict: boolean;
}

export type CancellationReason = { Code?: string; Item?: Record<string, unknown> };

export function cancellationReasons(error: unknown): CancellationReason[] | undefined {
  if (!(error instanceof Error)) return undefined;
  if (error.name === 'TransactionConflictException') return [{ Code: 'TransactionConflict' }];
  if (error.name !== 'TransactionCanceledException') return undefined;
  return (error as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

/** The item a cancellation reason carries (plain-client form: errors are not unmarshalled), if any. */
export function itemOf(reason: CancellationReason | undefined): Record<string, unknown> | undefined {
  if (!reason?.Item) return undefined;
  // biome-ignore lint/suspicious/noExplicitAny: the reason's item is an AttributeValue map.
  return unmarshall(reason.Item as any) as Record<string, unknown>;
}

export const failedCondition = (reason: CancellationReason | undefined) =>
  reason?.Code === 'ConditionalCheckFailed';

/** The reasons a transaction is cancelled for that are DynamoDB's throttling. */
const THROTTLED = new Set(['ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * A write's error as Cordon names it: a transaction cancelled because DynamoDB throttled one of its items is
 * a `ThrottlingError` (retried by the playbooks), as a throttled single write is.
 */
export function writeError(error: unknown, doing: string): unknown {
  const throttled = cancellationReasons(error)?.find((reason) => THROTTLED.has(String(reason.Code)));
  if (throttled) return new ThrottlingError(`${doing}: ${String(throttled.Code)}`, { cause: error });
  return translateAwsError(error, doing);
}

/** The alongside writes whose condition failed, from the reasons from `offset` on. */
export function failedAlongside(
  reasons: readonly CancellationReason[],
  offset: number,
  alongside: readonly AlongsideWrite[],
): { label: string; item?: Record<string, unknown> }[] {
  return alongside.flatMap((write, i) => {
    const reason = reasons[offset + i];
    if (!failedCondition(reason)) return [];
    const item = itemOf(reason);
    return [item ? { label: write.label, item } : { label: write.label }];
  });
}

export function conditionsFailed(
  failed: { label: string; item?: Record<string, unknown> }[],
  cause: unknown,
): ConditionsFailedError {
  return new ConditionsFailedError(
    `the condition of ${failed.map((f) => f.label).join(', ')} failed: nothing was written`,
    failed,
    { cause },
  );
}
