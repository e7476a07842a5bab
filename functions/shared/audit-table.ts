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
 * |               |                      |                          | by-place: `ACCOUNT#<account>`, same           |
 * | place         | `INCIDENT#<id>`      | `PLACE`                  | by-place: `REGION#<region>`, `<openedAt>#<id>` |
 * | step          | `INCIDENT#<id>`      | `STEP#<seq, 10 digits>`  | by-ref: `ACTOR#<actor>`, `<startedAt>#<id>#<seq>` |
 * | resource link | `INCIDENT#<id>`      | `RESOURCE#<resource id>` | by-ref: `RESOURCE#<resource id>`, `<openedAt>#<id>` |
 * | open marker   | `OPEN#<resource key>` | `OPEN`                  | resource key: {@link resourceKey}            |
 * | finding       | `FINDING#<account>#<region>#<id>` | `FINDING`   |                                              |
 * | blast-radius slot | `COUNTER#automatic#<account>` | `SLOT#<i>`, i < the limit | holder: `takenAt`, `incidentId`, `resourceId` |
 * | organization slot | `COUNTER#automatic#organization` | `SLOT#<i>`, i < the organization's limit | the same holder |
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
  /** Incidents by account (the incident item) and by region (its place item). */
  byPlace: 'by-place',
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
    {
      name: INDEX.byPlace,
      partitionKey: { name: 'gsi4pk', type: 'S' },
      sortKey: { name: 'gsi4sk', type: 'S' },
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
  /** The incident's place item: its account and region, which the by-place index finds it by region with. */
  place: (incidentId: string) => ({ pk: `INCIDENT#${incidentId}`, sk: 'PLACE' }),
  /** The open marker of a resource, by its {@link resourceKey} (account, region when regional, id). */
  openMarker: (resourceKey: string) => ({ pk: `OPEN#${resourceKey}`, sk: 'OPEN' }),
  /**
   * A finding, by the account and region it is in and its reporter's id: two accounts' findings never share
   * an item, whatever their ids say.
   */
  finding: (place: Place, findingId: string) => ({
    pk: `FINDING#${place.account}#${place.region}#${findingId}`,
    sk: 'FINDING',
  }),
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
  /** The partition of the organization's blast-radius slots, taken with the account's, in one transaction. */
  organizationSlots: 'COUNTER#automatic#organization',
  organizationSlot: (slot: number) => ({ pk: 'COUNTER#automatic#organization', sk: `SLOT#${slot}` }),
  /** An event the router could not handle, kept whole with its reason. */
  rejection: (at: string, id: string) => ({ pk: `REJECTED#${at.slice(0, 10)}`, sk: `${at}#${id}` }),
  month: (isoTime: string) => `MONTH#${isoTime.slice(0, 7)}`,
  status: (status: string) => `STATUS#${status}`,
  type: (findingType: string) => `TYPE#${findingType}`,
  actor: (actor: string) => `ACTOR#${actor}`,
  resourceRef: (resourceId: string) => `RESOURCE#${resourceId}`,
  account: (account: string) => `ACCOUNT#${account}`,
  region: (region: string) => `REGION#${region}`,
} as const;

/** Where a finding, an incident or a step is: an AWS account and region. */
export interface Place {
  readonly account: string;
  readonly region: string;
}

/**
 * Resource types whose ids are one per account, whatever the region (IAM's users, roles and keys; a
 * bucket's name is global): their open marker is keyed by account alone, so that findings from two regions
 * on one key join one incident.
 */
const GLOBAL_RESOURCE_TYPES: ReadonlySet<string> = new Set([
  'access-key',
  'iam-user',
  'iam-role',
  's3-bucket',
]);

/**
 * What tells one resource from every other in an organization: `<account>#<region>#<id>` for a regional
 * resource (an instance), `<account>#<id>` for a global one. The same instance id, or key id, in two
 * accounts gives two keys.
 */
export function resourceKey(place: Place, resource: { readonly type: string; readonly id: string }): string {
  return GLOBAL_RESOURCE_TYPES.has(resource.type)
    ? `${place.account}#${resource.id}`
    : `${place.account}#${place.region}#${resource.id}`;
}

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
