/**
 * What each function may do to the audit table, by the partition keys of the items it touches: the
 * grants are built from this list (`dynamodb:LeadingKeys`), and the IAM comparison test holds the
 * template to it, so a function that gains access to more items fails the test.
 *
 * The item kinds (functions/shared/audit-table.ts, functions/approval/keys.ts) and who touches them:
 * - `INCIDENT#`: the incident, its steps and resource links. Every function records (read, append, move
 *   the head); none deletes.
 * - `FINDING#`, `OPEN#`, `COUNTER#automatic#`, `REJECTED#`: the router's coordination items. Open markers
 *   are deleted only by the three functions that end incidents (mark-incident, playbook-ended, lifecycle).
 * - `APPROVAL#`, `APPROVAL-LINK#`: requests and links; `APPROVAL-TOKEN#`: the task tokens, which only the
 *   request function writes and only the decision function reads.
 *
 * What LeadingKeys cannot say: which attributes of an `INCIDENT#` item a function writes (a step and the
 * incident item share the partition). That is what the record key and the anchor are for: a step or an
 * incident change written by anything but the recorder does not verify.
 */

/** The DynamoDB actions a function may be granted on the table. */
export type TableAction = 'GetItem' | 'Query' | 'PutItem' | 'UpdateItem' | 'DeleteItem';

/** Access to the items whose partition key starts with `prefix`. */
export interface ItemAccess {
  readonly prefix: string;
  readonly actions: readonly TableAction[];
}

/** What every function that records needs: read, append to and move the head of an incident's chain. */
export const RECORDS: ItemAccess = {
  prefix: 'INCIDENT#',
  actions: ['GetItem', 'Query', 'PutItem', 'UpdateItem'],
};

/** The access of each function beyond {@link RECORDS}, by handler module. Functions not listed only record. */
export const TABLE_ACCESS: Readonly<Record<string, readonly ItemAccess[]>> = {
  'functions/router/handler.ts': [
    // The lock, the raises, the take-over and the finding's writes in the record's transactions: updates only.
    { prefix: 'FINDING#', actions: ['UpdateItem'] },
    { prefix: 'OPEN#', actions: ['GetItem', 'PutItem'] },
    { prefix: 'COUNTER#automatic#', actions: ['Query', 'UpdateItem'] },
    { prefix: 'REJECTED#', actions: ['PutItem'] },
  ],
  'functions/actions/mark-incident/handler.ts': [{ prefix: 'OPEN#', actions: ['DeleteItem'] }],
  'functions/playbook-ended/handler.ts': [{ prefix: 'OPEN#', actions: ['DeleteItem'] }],
  'functions/lifecycle/handler.ts': [{ prefix: 'OPEN#', actions: ['DeleteItem'] }],
  'functions/approval/request/handler.ts': [
    { prefix: 'APPROVAL#', actions: ['PutItem', 'UpdateItem'] },
    { prefix: 'APPROVAL-LINK#', actions: ['PutItem'] },
    { prefix: 'APPROVAL-TOKEN#', actions: ['PutItem'] },
  ],
  'functions/approval/decide/handler.ts': [
    { prefix: 'APPROVAL#', actions: ['GetItem', 'UpdateItem'] },
    { prefix: 'APPROVAL-LINK#', actions: ['GetItem', 'UpdateItem'] },
    { prefix: 'APPROVAL-TOKEN#', actions: ['GetItem'] },
  ],
  'functions/approval/timeout/handler.ts': [{ prefix: 'APPROVAL#', actions: ['GetItem', 'UpdateItem'] }],
  'functions/approval/check/handler.ts': [{ prefix: 'APPROVAL#', actions: ['GetItem'] }],
};

/** Every item access of a function: {@link RECORDS} and its own. */
export function tableAccessOf(entry: string): readonly ItemAccess[] {
  return [RECORDS, ...(TABLE_ACCESS[entry] ?? [])];
}
