/**
 * Reading the record back: an incident, its steps as stored and in order (every page of the Query), and
 * the verification of both against the chain, the key and the anchors (functions/shared/audit-verify.ts).
 * {@link AuditReader} is the base of the recorder (functions/shared/audit.ts), which adds the writes.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  QueryCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { KEY_ATTRIBUTES, keys, seqOfStepKey, withoutAttributes } from './audit-table.ts';
import { changeAfterHead, type VerifyResult, verifyRecord } from './audit-verify.ts';
import type { Incident, Step } from './domain.ts';
import { IncidentNotFoundError, RecordTamperedError, translateAwsError } from './errors.ts';
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
const OPENING_SEAL: ReadonlySet<string> = new Set(['opening', 'openingMac']);
/** A stored incident as the recorder returns it: without keys, its opening and the opening's MAC. */
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
  /** Each incident's opening, once read: the `prevHash` of its first step and the MAC it carries. */
  protected readonly openings = new Map<string, ChainTip>();
  /**
   * Per incident, the last step (or opening) this recorder wrote or has checked with the key, by seq and
   * hash: chaining onto it again needs no call of the key.
   */
  protected readonly vouched = new Map<string, string>();

  constructor(options: {
    readonly client: DocumentSender;
    readonly tableName: string;
    readonly seal: RecordSeal;
  }) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.seal = options.seal;
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
    if (!item) return undefined;
    return {
      seq: seqOfStepKey(item),
      hash: typeof item.hash === 'string' ? item.hash : '',
      item,
      mac: typeof item.mac === 'string' ? item.mac : '',
    };
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
   * Verifies an incident's record (functions/shared/audit-verify.ts): the incident is read first (its head
   * can only be behind the steps read after it), then the anchors, then the steps (so that no anchored step
   * can be missing from what is read), and a writer appending meanwhile is never taken for a forger. An
   * incident item that looks edited is read again: a change written between the two reads is not a break.
   */
  async verify(incidentId: string): Promise<VerifyResult> {
    return (await this.check(incidentId)).result;
  }

  protected async check(incidentId: string): Promise<{
    result: VerifyResult;
    incident: Record<string, unknown>;
    steps: Record<string, unknown>[];
  }> {
    for (let read = 1; ; read++) {
      const incident = await this.incidentItem(incidentId);
      if (!incident) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
      const anchors = await this.sealed(`reading the anchors of ${incidentId}`, () =>
        this.seal.anchors(incidentId),
      );
      const steps = await this.storedSteps(incidentId);
      // A step past the head that changes the incident was written with its head: read the head again.
      const laterHead =
        changeAfterHead(incident, steps) === undefined
          ? undefined
          : (await this.incidentItem(incidentId))?.lastSeq;
      const snapshot = {
        incidentId,
        incident,
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
      if (last) this.vouch(incidentId, seqOfStepKey(last), result.lastHash);
      else this.vouch(incidentId, 0, result.lastHash);
      if (typeof incident.openingHash === 'string' && typeof incident.openingMac === 'string') {
        remember(this.openings, incidentId, { seq: 0, hash: incident.openingHash, mac: incident.openingMac });
      }
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
