/**
 * The audit table's key design: one source of truth for the CDK construct, the local store and the
 * recorder. One table holds incidents, their steps, resource links, finding ids and open-resource
 * markers; every console query is a Query on the table or one of its three indexes, never a Scan.
 *
 * | item          | pk                   | sk                       | index keys                                   |
 * |---------------|----------------------|--------------------------|----------------------------------------------|
 * | incident      | `INCIDENT#<id>`      | `INCIDENT`               | by-time: `MONTH#<yyyy-mm>`, `<openedAt>#<id>` |
 * |               |                      |                          | by-status: `STATUS#<status>`, same            |
 * |               |                      |                          | by-ref: `TYPE#<findingType>`, same            |
 * | step          | `INCIDENT#<id>`      | `STEP#<seq, 10 digits>`  | by-ref: `ACTOR#<actor>`, `<startedAt>#<id>#<seq>` |
 * | resource link | `INCIDENT#<id>`      | `RESOURCE#<resource id>` | by-ref: `RESOURCE#<resource id>`, `<openedAt>#<id>` |
 * | open marker   | `OPEN#<resource id>` | `OPEN`                   |                                              |
 * | finding       | `FINDING#<id>`       | `FINDING`                |                                              |
 * | blast-radius slot | `COUNTER#automatic#<account>` | `SLOT#<i>`, i < the limit | holder: `takenAt`, `incidentId`, `resourceId` |
 * | rejection     | `REJECTED#<yyyy-mm-dd>` | `<time>#<id>`         |                                              |
 */

/** An attribute of a key, with its DynamoDB type. */
export interface KeyAttribute {
  readonly name: string;
  readonly type: 'S' | 'N';
}

export interface IndexDefinition {
  readonly name: string;
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
}

export interface TableDefinition {
  readonly partitionKey: KeyAttribute;
  readonly sortKey: KeyAttribute;
  readonly indexes: readonly IndexDefinition[];
}

export const INDEX = {
  byTime: 'by-time',
  byStatus: 'by-status',
  byRef: 'by-ref',
} as const;

export const AUDIT_TABLE: TableDefinition = {
  partitionKey: { name: 'pk', type: 'S' },
  sortKey: { name: 'sk', type: 'S' },
  indexes: [
    {
      name: INDEX.byTime,
      partitionKey: { name: 'gsi1pk', type: 'S' },
      sortKey: { name: 'gsi1sk', type: 'S' },
    },
    {
      name: INDEX.byStatus,
      partitionKey: { name: 'gsi2pk', type: 'S' },
      sortKey: { name: 'gsi2sk', type: 'S' },
    },
    {
      name: INDEX.byRef,
      partitionKey: { name: 'gsi3pk', type: 'S' },
      sortKey: { name: 'gsi3sk', type: 'S' },
    },
  ],
};

export const SEQ_DIGITS = 10;

/** A step item's sequence number, from its sort key (what the table orders by, not what the item says). */
export function seqOfStepKey(item: Readonly<Record<string, unknown>>): number {
  const sk = String(item.sk);
  return sk.startsWith(keys.stepPrefix) ? Number(sk.slice(keys.stepPrefix.length)) : Number.NaN;
}

export const keys = {
  incident: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: 'INCIDENT' }),
  step: (incidentId: string, seq: number) => ({
    pk: `INCIDENT#${incidentId}`,
    sk: `STEP#${String(seq).padStart(SEQ_DIGITS, '0')}`,
  }),
  stepPrefix: 'STEP#',
  resource: (incidentId: string, resourceId: string) => ({
    pk: `INCIDENT#${incidentId}`,
    sk: `RESOURCE#${resourceId}`,
  }),
  openMarker: (resourceId: string) => ({ pk: `OPEN#${resourceId}`, sk: 'OPEN' }),
  finding: (findingId: string) => ({ pk: `FINDING#${findingId}`, sk: 'FINDING' }),
  /**
   * The partition of an account's blast-radius slots: one item per automatic containment place, reused
   * once its holder is 60 minutes old, so the limit is a sliding window read with one Query.
   */
  automaticSlots: (account: string) => `COUNTER#automatic#${account}`,
  /** One blast-radius slot of an account (`0` to the limit - 1). */
  automaticSlot: (account: string, slot: number) => ({
    pk: `COUNTER#automatic#${account}`,
    sk: `SLOT#${slot}`,
  }),
  automaticSlotPrefix: 'SLOT#',
  /** An event the router could not handle, kept whole with its reason. */
  rejection: (at: string, id: string) => ({ pk: `REJECTED#${at.slice(0, 10)}`, sk: `${at}#${id}` }),
  month: (isoTime: string) => `MONTH#${isoTime.slice(0, 7)}`,
  status: (status: string) => `STATUS#${status}`,
  type: (findingType: string) => `TYPE#${findingType}`,
  actor: (actor: string) => `ACTOR#${actor}`,
  resourceRef: (resourceId: string) => `RESOURCE#${resourceId}`,
} as const;

/** The table's key attributes and every index's. */
export const KEY_ATTRIBUTES: ReadonlySet<string> = new Set([
  AUDIT_TABLE.partitionKey.name,
  AUDIT_TABLE.sortKey.name,
  ...AUDIT_TABLE.indexes.flatMap((index) => [index.partitionKey.name, index.sortKey.name]),
]);

/** The record's seal on an item (the incident's opening, MACs): what verify reads, not what a person reads. */
export const SEAL_ATTRIBUTES: ReadonlySet<string> = new Set([
  'opening',
  'openingHash',
  'openingMac',
  'mac',
  'lastMac',
]);

/** An item without the attributes named: what a reader of the record gets. */
export function withoutAttributes<T>(
  item: Readonly<Record<string, unknown>>,
  ...sets: ReadonlySet<string>[]
): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!sets.some((set) => set.has(k))) out[k] = v;
  return out as T;
}
