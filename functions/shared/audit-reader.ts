/**
 * Reading the record back: an incident, its steps as stored and in order (every page of the Query), and
 * the verification of both against the chain, the key and the anchors (functions/shared/audit-verify.ts).
 * {@link AuditReader} is the base of the recorder (functions/shared/audit.ts), which adds the writes; it
 * also keeps what the recorder knows of each incident's head (and its place: account and region), so that a
 * record just verified is appended to with no further read.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { KEY_ATTRIBUTES, keys, type Place, seqOfStepKey, withoutAttributes } from './audit-table.ts';
import { changeAfterHead, type VerifyResult, verifyRecord } from './audit-verify.ts';
import type { Incident, Step } from './domain.ts';
import { IncidentNotFoundError, RecordTamperedError, translateAwsError } from './errors.ts';
import { GENESIS_HASH, openingHash } from './hash-chain.ts';
import { allItems, lastEvaluatedKey } from './pages.ts';
import type { RecordSeal } from './seal.ts';

/** What the recorder needs of a DynamoDB document client. */
export type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

/** An incident as stored, with its chain head and its opening. */
export interface StoredIncident extends Incident {
  lastSeq?: number;
  lastHash?: string;
  openingHash?: string;
}

/** An incident and its steps, as verified. */
export interface VerifiedRecord {
  readonly incident: StoredIncident;
  readonly steps: readonly Step[];
  readonly result: Extract<VerifyResult, { ok: true }>;
}

/** A stored step as the recorder returns it: its own fields and its seal (the MAC), without keys. */
export const stepOf = (item: Record<string, unknown>): Step => withoutAttributes<Step>(item, KEY_ATTRIBUTES);
const OPENING_SEAL: ReadonlySet<string> = new Set(['opening', 'openingMac', 'lastMac']);
/** A stored incident as the recorder returns it: without keys, its opening and the MACs it keeps. */
export const incidentOf = (item: Record<string, unknown>): StoredIncident =>
  withoutAttributes<StoredIncident>(item, KEY_ATTRIBUTES, OPENING_SEAL);

/** The last step of a chain (or the opening, as step 0), as a writer is about to chain onto it. */
export interface ChainTip {
  readonly seq: number;
  readonly hash: string;
  /** The stored item; undefined for the opening. */
  readonly item?: Readonly<Record<string, unknown>>;
  /** The MAC it carries. */
  readonly mac: string;
}

/**
 * What the recorder knows of an incident's head: where the incident item says it is (what the next write is
 * conditioned on) and what the next step chains onto. The two differ only when the head lags its steps (a
 * record written before the head moved with each step, or a head an attacker moved back).
 */
export interface Head {
  /** `lastSeq` and `lastHash` as the incident item stores them; undefined when it has none (no step yet). */
  readonly stored: { readonly seq: number; readonly hash: string } | undefined;
  /** The step (or the opening, as step 0) the next step follows. */
  readonly tip: ChainTip;
  /** The incident's last-seen time as stored, when known: whether a raise is still one. */
  readonly lastSeen: string | undefined;
  /** The incident's account and region, stamped on every step written after this head. */
  readonly place: Place | undefined;
}

/** The place an incident item (or its opening, or its place item) states; undefined when it states none. */
export function placeOfItem(item: Readonly<Record<string, unknown>> | undefined): Place | undefined {
  return typeof item?.account === 'string' && typeof item.region === 'string'
    ? { account: item.account, region: item.region }
    : undefined;
}

/** What the head of an incident item says, as stored; undefined when it says nothing a write can match. */
export function storedHead(item: Readonly<Record<string, unknown>>): Head['stored'] {
  return typeof item.lastSeq === 'number' && typeof item.lastHash === 'string'
    ? { seq: item.lastSeq, hash: item.lastHash }
    : undefined;
}

/** The opening of an incident item as a tip: an opening that does not match its own hash is refused as the MAC would be. */
export function openingTip(item: Readonly<Record<string, unknown>>): ChainTip {
  const stored = typeof item.openingHash === 'string' ? item.openingHash : GENESIS_HASH;
  const opening = item.opening;
  const hash =
    typeof opening === 'object' &&
    opening !== null &&
    openingHash(opening as Record<string, unknown>) === stored
      ? stored
      : GENESIS_HASH;
  return { seq: 0, hash, mac: typeof item.openingMac === 'string' ? item.openingMac : '' };
}

/** A stored step as a tip to chain onto, numbered by its key. */
export function tipOfStep(item: Readonly<Record<string, unknown>>): ChainTip {
  return {
    seq: seqOfStepKey(item),
    hash: typeof item.hash === 'string' ? item.hash : '',
    item,
    mac: typeof item.mac === 'string' ? item.mac : '',
  };
}

/** How many incidents' tips a recorder remembers (a Lambda container's recorder lives for many invocations). */
const REMEMBERED = 1000;

/** Remembers a value under a key, forgetting the oldest beyond {@link REMEMBERED}. */
export function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
  if (map.size > REMEMBERED) {
    const oldest = map.keys().next().value;
    if (oldest !== undefined) map.delete(oldest);
  }
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Reads and verifies the record; see the module's comment. */
export class AuditReader {
  readonly tableName: string;
  readonly seal: RecordSeal;
  protected readonly client: DocumentSender;
  /**
   * Per incident, the last step (or opening) this recorder wrote or has checked with the key, by seq and
   * hash: chaining onto it again needs no call of the key.
   */
  protected readonly vouched = new Map<string, string>();
  /** Per incident, the head as this recorder last wrote, read or verified it (see {@link Head}). */
  protected readonly heads = new Map<string, Head>();

  constructor(options: {
    readonly client: DocumentSender;
    readonly tableName: string;
    readonly seal: RecordSeal;
  }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.seal = options.seal;
  }

  /**
   * The account and region of an incident, as this recorder knows them from its opening, a read of its
   * incident item (before an append, or a refusal's), or its verification; undefined when it knows neither.
   * Costs no call: every step this recorder writes to the incident carries this place.
   */
  placeOf(incidentId: string): Place | undefined {
    return this.heads.get(incidentId)?.place;
  }

  /** Reads an incident, or throws {@link IncidentNotFoundError}. */
  async getIncident(incidentId: string): Promise<StoredIncident> {
    const found = await this.findIncident(incidentId);
    if (!found) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
    return found;
  }

  /** Reads an incident, or returns undefined. */
  async findIncident(incidentId: string): Promise<StoredIncident | undefined> {
    const item = await this.incidentItem(incidentId);
    return item ? incidentOf(item) : undefined;
  }

  protected async incidentItem(incidentId: string): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.incident(incidentId), ConsistentRead: true }),
    );
    return result.Item;
  }

  /** Runs a call of the record key, with AWS's throttling and 5xx as Cordon's retryable errors. */
  protected async sealed<T>(doing: string, call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      throw translateAwsError(error, doing);
    }
  }

  /** The last stored step, numbered by its key (what the next step's key follows), not by what it says. */
  protected async lastStep(incidentId: string): Promise<ChainTip | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.tableName,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
        ExpressionAttributeValues: { ':pk': keys.incident(incidentId).pk, ':prefix': keys.stepPrefix },
        ScanIndexForward: false,
        Limit: 1,
        ConsistentRead: true,
      }),
    );
    const item = result.Items?.[0];
    return item ? tipOfStep(item) : undefined;
  }

  protected async stepAt(incidentId: string, seq: number): Promise<Record<string, unknown> | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.step(incidentId, seq), ConsistentRead: true }),
    );
    return result.Item;
  }

  /** Every step of an incident, in order, as stored (keys included, for verification). */
  async storedSteps(incidentId: string): Promise<Record<string, unknown>[]> {
    return this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
      ExpressionAttributeValues: { ':pk': keys.incident(incidentId).pk, ':prefix': keys.stepPrefix },
      ConsistentRead: true,
    });
  }

  /**
   * Every step of an incident, in order, unverified: for display. An action that acts on what the record
   * says reads it through {@link AuditRecorder.verified} instead.
   */
  async steps(incidentId: string): Promise<Step[]> {
    return (await this.storedSteps(incidentId)).map((item) => stepOf(item));
  }

  /** Runs a Query to its end, page by page (`LastEvaluatedKey`: at most 1 MB a page). */
  queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    return allItems({
      doing: `dynamodb:Query ${input.TableName}`,
      fetch: (ExclusiveStartKey) => this.client.send(new QueryCommand({ ...input, ExclusiveStartKey })),
      next: lastEvaluatedKey,
      items: (page) => page.Items,
    });
  }

  /**
   * Verifies an incident's record (functions/shared/audit-verify.ts): the anchors are read first, then the
   * incident item and its steps with one Query of its partition (the item sorts before its steps, so its
   * head can only be behind the steps read after it, and no anchored step can be missing from what is
   * read), and a writer appending meanwhile is never taken for a forger. An incident item that looks edited
   * is read again: a change written between the two reads is not a break.
   */
  async verify(incidentId: string): Promise<VerifyResult> {
    return (await this.check(incidentId)).result;
  }

  /**
   * The incident item, its place item and its steps (keys included), read with one Query of the incident's
   * partition.
   */
  protected async partition(incidentId: string): Promise<{
    incident: Record<string, unknown> | undefined;
    place: Record<string, unknown> | undefined;
    steps: Record<string, unknown>[];
  }> {
    const items = await this.queryAll({
      TableName: this.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.incident(incidentId).pk },
      ConsistentRead: true,
    });
    const incidentSk = keys.incident(incidentId).sk;
    const placeSk = keys.place(incidentId).sk;
    return {
      incident: items.find((item) => item.sk === incidentSk),
      place: items.find((item) => item.sk === placeSk),
      steps: items.filter((item) => String(item.sk).startsWith(keys.stepPrefix)),
    };
  }

  protected async check(incidentId: string): Promise<{
    result: VerifyResult;
    incident: Record<string, unknown>;
    steps: Record<string, unknown>[];
  }> {
    for (let read = 1; ; read++) {
      const anchors = await this.sealed(`reading the anchors of ${incidentId}`, () =>
        this.seal.anchors(incidentId),
      );
      const { incident, place, steps } = await this.partition(incidentId);
      if (!incident) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
      // A step past the head that changes the incident was written with its head: read the head again.
      const laterHead =
        changeAfterHead(incident, steps) === undefined
          ? undefined
          : (await this.incidentItem(incidentId))?.lastSeq;
      const snapshot = {
        incidentId,
        incident,
        ...(place ? { place } : {}),
        steps,
        anchors,
        ...(typeof laterHead === 'number' ? { laterHead } : {}),
      };
      const result = await verifyRecord(snapshot, (message, mac) =>
        this.sealed(`verifying a MAC of ${incidentId}`, () => this.seal.verify(message, mac)),
      );
      if (result.ok || result.kind !== 'incident-edited' || read >= 3) return { result, incident, steps };
      await pause(100 * read);
    }
  }

  /** Remembers a tip as vouched for: chaining onto it needs no call of the key. */
  protected vouch(incidentId: string, seq: number, hash: string): void {
    remember(this.vouched, incidentId, `${seq}#${hash}`);
  }

  /**
   * The incident and its steps, verified: what an action that acts on the record reads. Throws
   * {@link RecordTamperedError} (recorded by the audit middleware, and emailed by the playbook) on a break.
   */
  async verified(incidentId: string): Promise<VerifiedRecord> {
    const { result, incident, steps } = await this.check(incidentId);
    if (result.ok) {
      // What was just verified is a tip this recorder can chain onto without asking the key again.
      const last = steps.at(-1);
      const tip = last ? tipOfStep(last) : openingTip(incident);
      this.vouch(incidentId, tip.seq, result.lastHash);
      remember(this.heads, incidentId, {
        stored: storedHead(incident),
        tip,
        lastSeen: typeof incident.lastSeen === 'string' ? incident.lastSeen : undefined,
        place: placeOfItem(incident),
      });
    }
    if (!result.ok) {
      throw new RecordTamperedError(
        `the record of incident ${incidentId} does not verify: ${result.kind} at step ${result.brokenSeq}: ${result.reason}`,
        result,
      );
    }
    return {
      incident: incidentOf(incident),
      steps: steps.map((item) => stepOf(item)),
      result,
    };
  }
}
