/**
 * Keys of the approval items in the audit table (see functions/shared/audit-table.ts for the table).
 *
 * | item    | pk                          | sk        | index keys                                                        |
 * |---------|-----------------------------|-----------|-------------------------------------------------------------------|
 * | request | `APPROVAL#<request id>`     | `REQUEST` | by-status: `APPROVAL#<status>`, `<requestedAt>#<request id>`      |
 * |         |                             |           | by-ref: `APPROVAL-GATE#<execution arn>#<gate>`, same sort key     |
 * | link    | `APPROVAL-LINK#<sha-256>`   | `LINK`    |                                                                   |
 * | token   | `APPROVAL-TOKEN#<request id>` | `TOKEN` | (none: the token is in no index)                                  |
 *
 * A link is stored only under the SHA-256 of its id, so that reading the table does not give a usable
 * link, with the record key's MAC of its request, approver and expiry, so that a link put in the table by
 * anyone else does not verify. The task token is an item of its own, in no index, under a partition key
 * prefix only the request function may write and only the decision function may read.
 */

export const approvalKeys = {
  request: (requestId: string) => ({ pk: `APPROVAL#${requestId}`, sk: 'REQUEST' }),
  link: (linkHash: string) => ({ pk: `APPROVAL-LINK#${linkHash}`, sk: 'LINK' }),
  token: (requestId: string) => ({ pk: `APPROVAL-TOKEN#${requestId}`, sk: 'TOKEN' }),
  /** by-status partition of requests with a status: `APPROVAL#pending` lists what waits for a person. */
  status: (status: string) => `APPROVAL#${status}`,
  /** by-ref partition of the requests one gate of one execution made (a retried gate makes several). */
  gate: (executionArn: string, gate: string) => `APPROVAL-GATE#${executionArn}#${gate}`,
  /** Sort key in both indexes: newest last. */
  time: (requestedAt: string, requestId: string) => `${requestedAt}#${requestId}`,
} as const;
