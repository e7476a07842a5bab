/**
 * The audit recorder: opens incidents, appends hash-chained steps and reads them back.
 *
 * A step is one conditional put whose sort key is its sequence number, so that of two writers that read
 * the same last step only one can write the next: the other re-reads and tries again. No transaction is
 * needed for steps. After each append the incident's head (`lastSeq`, `lastHash`) is moved forward with
 * a conditional update that only ever raises it, so that `verify` also catches a deleted last step.
 */
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandInput,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { keys } from './audit-table.ts';
import { type Clock, type IdSource, randomIds, systemClock } from './clock.ts';
import {
  type Incident,
  IncidentSchema,
  type IncidentStatus,
  parseOrThrow,
  type Step,
  type StepInput,
  StepInputSchema,
} from './domain.ts';
import { isConditionFailure } from './dynamo.ts';
import { IncidentNotFoundError, ValidationError, WriteConflictError } from './errors.ts';
import { GENESIS_HASH, normalize, stepHash } from './hash-chain.ts';

/** What the recorder needs of a DynamoDB document client. */
export type DocumentSender = Pick<DynamoDBDocumentClient, 'send'>;

export interface AuditRecorderOptions {
  readonly client: DocumentSender;
  readonly tableName: string;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** Attempts at an append before giving up on contention. Default 100. */
  readonly maxAppendAttempts?: number;
}

/** What a caller gives to open an incident; the recorder sets the id (unless given), status and time. */
export type NewIncident = Omit<Incident, 'id' | 'status' | 'openedAt'> & { id?: string };

export { incidentFrom } from './incident-from.ts';

/** An incident as stored, with its chain head. */
export interface StoredIncident extends Incident {
  lastSeq?: number;
  lastHash?: string;
}

export type VerifyResult =
  | { ok: true; incidentId: string; steps: number; lastHash: string }
  | { ok: false; incidentId: string; steps: number; brokenSeq: number; reason: string };

const STEP_KEY_FIELDS = new Set(['pk', 'sk', 'gsi3pk', 'gsi3sk']);
const INCIDENT_KEY_FIELDS = new Set(['pk', 'sk', 'gsi1pk', 'gsi1sk', 'gsi2pk', 'gsi2sk', 'gsi3pk', 'gsi3sk']);

function strip<T>(item: Record<string, unknown>, fields: Set<string>): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) if (!fields.has(k)) out[k] = v;
  return out as T;
}

export class AuditRecorder {
  readonly tableName: string;
  private readonly client: DocumentSender;
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly maxAppendAttempts: number;
  private readonly knownIncidents = new Set<string>();

  constructor(options: AuditRecorderOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 100;
  }

  /**
   * Opens an incident: the incident item and one link per resource, written together so that nothing
   * partial is stored. Refuses an incident that fails its schema, or whose id is taken.
   */
  async openIncident(input: NewIncident): Promise<Incident> {
    const openedAt = this.clock();
    const incident = parseOrThrow(
      IncidentSchema,
      normalize({ ...input, id: input.id ?? this.ids(), status: 'open', openedAt }),
      'incident',
    );
    const timeKey = `${incident.openedAt}#${incident.id}`;
    const resourceIds = new Set(incident.resources.map((r) => r.id));
    try {
      await this.client.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.incident(incident.id),
                  gsi1pk: keys.month(incident.openedAt),
                  gsi1sk: timeKey,
                  gsi2pk: keys.status(incident.status),
                  gsi2sk: timeKey,
                  gsi3pk: keys.type(incident.findingType),
                  gsi3sk: timeKey,
                  ...incident,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
            ...[...resourceIds].map((resourceId) => ({
              Put: {
                TableName: this.tableName,
                Item: {
                  ...keys.resource(incident.id, resourceId),
                  gsi3pk: keys.resourceRef(resourceId),
                  gsi3sk: timeKey,
                  incidentId: incident.id,
                  resourceId,
                  openedAt: incident.openedAt,
                },
              },
            })),
          ],
        }),
      );
    } catch (error) {
      // Only a failed condition means the id is taken; a cancellation for throttling or a conflict is not.
      if (isConditionFailure(error)) {
        throw new ValidationError('incident', [`id: incident ${incident.id} already exists`], {
          cause: error,
        });
      }
      throw error;
    }
    this.knownIncidents.add(incident.id);
    return incident;
  }

  /** Reads an incident, or throws {@link IncidentNotFoundError}. */
  async getIncident(incidentId: string): Promise<StoredIncident> {
    const found = await this.findIncident(incidentId);
    if (!found) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
    return found;
  }

  /** Reads an incident, or returns undefined. */
  async findIncident(incidentId: string): Promise<StoredIncident | undefined> {
    const result = await this.client.send(
      new GetCommand({ TableName: this.tableName, Key: keys.incident(incidentId), ConsistentRead: true }),
    );
    if (!result.Item) return undefined;
    return strip<StoredIncident>(result.Item, INCIDENT_KEY_FIELDS);
  }

  /**
   * Records times and status on an incident (`containedAt`, `recoveredAt`, `closedAt`, `status`), keeping
   * the status index in step.
   */
  async updateIncident(
    incidentId: string,
    fields: Partial<Pick<Incident, 'status' | 'containedAt' | 'recoveredAt' | 'closedAt' | 'playbook'>>,
  ): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets: string[] = [];
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    if (fields.status) {
      names['#gsi2pk'] = 'gsi2pk';
      values[':gsi2pk'] = keys.status(fields.status satisfies IncidentStatus);
      sets.push('#gsi2pk = :gsi2pk');
    }
    if (sets.length === 0) return;
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.incident(incidentId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: 'attribute_exists(pk)',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) {
        throw new IncidentNotFoundError(`incident ${incidentId} does not exist`, { cause: error });
      }
      throw error;
    }
  }

  /** Raises an incident's last-seen time (a later delivery of one of its findings); never lowers it. */
  async raiseLastSeen(incidentId: string, lastSeen: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.incident(incidentId),
          UpdateExpression: 'SET lastSeen = :v',
          ConditionExpression: 'attribute_exists(pk) AND lastSeen < :v',
          ExpressionAttributeValues: { ':v': lastSeen },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  /**
   * Appends a step to an incident's chain and returns it as stored. Validates the step first: a step
   * that fails its schema is refused and nothing is written.
   */
  async appendStep(incidentId: string, input: StepInput): Promise<Step> {
    const step = normalize(parseOrThrow(StepInputSchema, input, 'step'));
    if (!this.knownIncidents.has(incidentId)) {
      await this.getIncident(incidentId);
      this.knownIncidents.add(incidentId);
    }
    for (let attempt = 1; attempt <= this.maxAppendAttempts; attempt++) {
      const last = await this.lastStep(incidentId);
      const seq = (last?.seq ?? 0) + 1;
      const recordedAt = this.clock();
      const item: Record<string, unknown> = {
        ...keys.step(incidentId, seq),
        gsi3pk: keys.actor(step.actor),
        gsi3sk: `${step.startedAt ?? recordedAt}#${incidentId}#${seq}`,
        ...step,
        incidentId,
        seq,
        startedAt: step.startedAt ?? recordedAt,
        recordedAt,
        prevHash: last?.hash ?? GENESIS_HASH,
      };
      item.hash = stepHash(item);
      try {
        await this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: item,
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
      } catch (error) {
        if (isConditionFailure(error)) {
          // Another writer took this sequence number: wait a moment, with jitter, and read again.
          await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(50, attempt * 5)));
          continue;
        }
        throw error;
      }
      // The step is written: from here nothing may throw, or a caller would take a recorded step for a
      // missing one. The head is moved with a few tries; if it still lags, the next append moves it, and
      // until then verify reports the step as unconfirmed, which is true.
      for (let tries = 1; tries <= 3; tries++) {
        try {
          await this.advanceHead(incidentId, seq, item.hash as string);
          break;
        } catch {
          await new Promise((resolve) => setTimeout(resolve, tries * 50));
        }
      }
      return strip<Step>(item, STEP_KEY_FIELDS);
    }
    throw new WriteConflictError(
      `could not append to incident ${incidentId}: ${this.maxAppendAttempts} attempts lost to other writers`,
    );
  }

  private async advanceHead(incidentId: string, seq: number, hash: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.incident(incidentId),
          UpdateExpression: 'SET lastSeq = :seq, lastHash = :hash',
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(lastSeq) OR lastSeq < :seq)',
          ExpressionAttributeValues: { ':seq': seq, ':hash': hash },
        }),
      );
    } catch (error) {
      // A later step already moved the head past this one: nothing to do.
      if (!isConditionFailure(error)) throw error;
    }
  }

  private async lastStep(incidentId: string): Promise<Step | undefined> {
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
    return item ? strip<Step>(item, STEP_KEY_FIELDS) : undefined;
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

  /** Every step of an incident, in order. */
  async steps(incidentId: string): Promise<Step[]> {
    return (await this.storedSteps(incidentId)).map((item) => strip<Step>(item, STEP_KEY_FIELDS));
  }

  /** Runs a Query to its end, page by page. */
  async queryAll(input: QueryCommandInput): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await this.client.send(new QueryCommand({ ...input, ExclusiveStartKey: startKey }));
      items.push(...(page.Items ?? []));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  /**
   * Walks an incident's chain and names the first broken step: a changed field (its hash no longer
   * matches), a deleted or reordered step (a gap, or a `prevHash` that is not the previous step's hash),
   * a moved step (its key does not match its content), a deleted last step (the incident's head is
   * further on than the last stored step), or a step appended past the head (not confirmed by it).
   */
  async verify(incidentId: string): Promise<VerifyResult> {
    const incident = await this.getIncident(incidentId);
    const items = await this.storedSteps(incidentId);
    let prevHash = GENESIS_HASH;
    let expectedSeq = 1;
    const broken = (seq: number, reason: string): VerifyResult => ({
      ok: false,
      incidentId,
      steps: items.length,
      brokenSeq: seq,
      reason,
    });
    for (const item of items) {
      const seq = typeof item.seq === 'number' ? item.seq : Number.NaN;
      const keySeq = Number(String(item.sk).slice(keys.stepPrefix.length));
      if (keySeq !== expectedSeq) {
        return broken(expectedSeq, `step ${expectedSeq} is missing (the next stored step is ${keySeq})`);
      }
      if (seq !== keySeq || item.incidentId !== incidentId) {
        return broken(
          keySeq,
          `step ${keySeq} was moved: its content says incident ${String(item.incidentId)} step ${seq}`,
        );
      }
      if (item.prevHash !== prevHash) {
        return broken(seq, `step ${seq} does not follow step ${seq - 1}: its prevHash does not match`);
      }
      if (stepHash(item) !== item.hash) {
        return broken(seq, `step ${seq} was changed: its content no longer matches its hash`);
      }
      prevHash = String(item.hash);
      expectedSeq++;
    }
    const head = incident.lastSeq ?? 0;
    const last = expectedSeq - 1;
    if (head > last) {
      return broken(expectedSeq, `step ${expectedSeq} is missing (the incident's head is at step ${head})`);
    }
    if (last > head) {
      // Every append moves the head right after its put, so a step past the head was either forged, or
      // written by a writer that stopped before it could confirm it. Either way it is not confirmed.
      return broken(
        head + 1,
        `step ${head + 1} is past the incident's head (step ${head}): not confirmed, appended without the recorder or by a writer that stopped`,
      );
    }
    if (head > 0 && incident.lastHash !== prevHash) {
      return broken(head, `step ${head} does not match the hash the incident recorded for it`);
    }
    return { ok: true, incidentId, steps: items.length, lastHash: prevHash };
  }
}
