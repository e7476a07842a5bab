/**
 * The audit recorder: opens incidents, appends hash-chained, keyed and anchored steps, and reads them back.
 *
 * A step is one conditional put whose sort key is its sequence number, so that of two writers that read
 * the same last step only one can write the next: the other re-reads and tries again. A writer chains only
 * onto a step it can vouch for (one it wrote, or one whose MAC the key confirms): a step a forger put in
 * the table is never laundered by an honest step written after it. Each step carries the
 * record key's MAC of its hash, and once written its hash is anchored where nobody can take it back
 * (functions/shared/seal.ts). A step that changes the incident item (its status, its times) is written
 * together with that change in one transaction, so the item never says what no step says. After each
 * append the incident's head (`lastSeq`, `lastHash`) is moved forward.
 *
 * The reads and the verification are in functions/shared/audit-reader.ts, the recorder's base class.
 * Longer than 400 lines: one class on purpose, as the append protocol (read the tip, vouch for it, write
 * conditionally, move the head, anchor) is one invariant, and it is reviewed best in one place.
 */
import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { AuditReader, type ChainTip, type DocumentSender, pause, remember, stepOf } from './audit-reader.ts';
import { keys } from './audit-table.ts';
import { type Clock, type IdSource, randomIds, systemClock } from './clock.ts';
import {
  type Incident,
  type IncidentChanges,
  IncidentSchema,
  parseOrThrow,
  type Step,
  type StepInput,
  StepInputSchema,
} from './domain.ts';
import { incidentConditionFailed, isConditionFailure, lostTheRace } from './dynamo.ts';
import {
  IncidentNotFoundError,
  RecordTamperedError,
  translateAwsError,
  ValidationError,
  WriteConflictError,
} from './errors.ts';
import { GENESIS_HASH, normalize, openingHash, stepHash } from './hash-chain.ts';
import type { Logger } from './log.ts';
import { type RecordSeal, stepMacMessage } from './seal.ts';

export type { DocumentSender, StoredIncident, VerifiedRecord } from './audit-reader.ts';
export type { BreakKind, VerifyResult } from './audit-verify.ts';

export interface AuditRecorderOptions {
  readonly client: DocumentSender;
  readonly tableName: string;
  /** The record key and the anchor. */
  readonly seal: RecordSeal;
  /** Where an anchor that could not be written is reported (the step stands, unconfirmed). */
  readonly logger?: Pick<Logger, 'warn'>;
  readonly clock?: Clock;
  readonly ids?: IdSource;
  /** Attempts at an append before giving up on contention. Default 100. */
  readonly maxAppendAttempts?: number;
}

/** What a caller gives to open an incident; the recorder sets the id (unless given), status and time. */
export type NewIncident = Omit<Incident, 'id' | 'status' | 'openedAt'> & { id?: string };

/** An incident change that no longer applies: another writer raised the last-seen time further. */
class StaleChange extends Error {}

/** Opens incidents and appends steps; reads and verifies them through {@link AuditReader}. */
export class AuditRecorder extends AuditReader {
  private readonly clock: Clock;
  private readonly ids: IdSource;
  private readonly maxAppendAttempts: number;
  private readonly logger: Pick<Logger, 'warn'> | undefined;

  constructor(options: AuditRecorderOptions) {
    super(options);
    this.logger = options.logger;
    this.clock = options.clock ?? systemClock;
    this.ids = options.ids ?? randomIds;
    this.maxAppendAttempts = options.maxAppendAttempts ?? 100;
  }

  /**
   * Opens an incident: the incident item, with its opening hashed, MAC'd and anchored as step 0, and one
   * link per resource, written together so that nothing partial is stored. Refuses an incident that fails
   * its schema, or whose id is taken.
   */
  async openIncident(input: NewIncident): Promise<Incident> {
    const openedAt = this.clock();
    const incident = parseOrThrow(
      IncidentSchema,
      normalize({ ...input, id: input.id ?? this.ids(), status: 'open', openedAt }),
      'incident',
    );
    const opening = normalize(incident) as unknown as Record<string, unknown>;
    const hash = openingHash(opening);
    const mac = await this.sealed(`sealing incident ${incident.id}`, () =>
      this.seal.mac(stepMacMessage(incident.id, 0, hash)),
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
                  opening,
                  openingHash: hash,
                  openingMac: mac,
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
    remember(this.openings, incident.id, { seq: 0, hash, mac });
    this.vouch(incident.id, 0, hash);
    await this.anchorQuietly(incident.id, 0, hash);
    return incident;
  }

  /**
   * Records times and status on an incident (`containedAt`, `recoveredAt`, `closedAt`, `status`,
   * `playbook`): a step that says so, written with the change in one transaction.
   */
  async updateIncident(
    incidentId: string,
    fields: IncidentChanges,
    step: Partial<Pick<StepInput, 'phase' | 'action' | 'actor' | 'note' | 'executionArn'>> = {},
  ): Promise<Step> {
    const changes = Object.fromEntries(
      Object.entries(fields).filter(([, v]) => v !== undefined),
    ) as IncidentChanges;
    const phaseOfStatus = {
      open: 'identification',
      contained: 'containment',
      recovered: 'recovery',
      failed: 'identification',
      closed: 'lessons-learned',
    } as const;
    return this.appendStep(incidentId, {
      phase: step.phase ?? (changes.status ? phaseOfStatus[changes.status] : 'identification'),
      action: step.action ?? 'incident-update',
      status: 'noted',
      actor: step.actor ?? 'automation',
      note:
        step.note ??
        `incident ${Object.entries(changes)
          .map(([k, v]) => `${k} ${String(v)}`)
          .join(', ')}`,
      ...(step.executionArn ? { executionArn: step.executionArn } : {}),
      incident: changes,
    });
  }

  /**
   * Raises an incident's last-seen time (a later delivery of one of its findings); never lowers it. The
   * raise is a step of its own, so that the incident item never says what its record does not.
   */
  async raiseLastSeen(incidentId: string, lastSeen: string): Promise<void> {
    const incident = await this.findIncident(incidentId);
    if (!incident || !(lastSeen > incident.lastSeen)) return;
    try {
      await this.append(
        incidentId,
        {
          phase: 'identification',
          action: 'raise-last-seen',
          status: 'noted',
          actor: 'automation',
          note: `a finding of the incident was seen again at ${lastSeen}`,
          incident: { lastSeen },
        },
        lastSeen,
      );
    } catch (error) {
      if (!(error instanceof StaleChange)) throw error;
    }
  }

  /**
   * Appends a step to an incident's chain and returns it as stored. Validates the step first: a step
   * that fails its schema is refused and nothing is written. The step carries the record key's MAC; it is
   * anchored once written (if the anchor cannot be written, the step stands and verify reports it
   * unconfirmed until a later step is anchored).
   */
  appendStep(incidentId: string, input: StepInput): Promise<Step> {
    return this.append(incidentId, input);
  }

  private async append(incidentId: string, input: StepInput, raiseLastSeenTo?: string): Promise<Step> {
    const step = normalize(parseOrThrow(StepInputSchema, input, 'step'));
    for (let attempt = 1; attempt <= this.maxAppendAttempts; attempt++) {
      const tip = (await this.lastStep(incidentId)) ?? (await this.openingOf(incidentId));
      const seq = tip.seq + 1;
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
        prevHash: tip.hash,
      };
      const hash = stepHash(item);
      item.hash = hash;
      // The tip is checked while the new step is sealed: one more call of the key, no longer a wait.
      const [mac] = await Promise.all([
        this.sealed(`sealing step ${seq} of ${incidentId}`, () =>
          this.seal.mac(stepMacMessage(incidentId, seq, hash)),
        ),
        this.vouchFor(incidentId, tip),
      ]);
      item.mac = mac;
      try {
        if (step.incident) await this.writeWithIncident(item, step.incident, raiseLastSeenTo);
        else {
          await this.client.send(
            new PutCommand({
              TableName: this.tableName,
              Item: item,
              ConditionExpression: 'attribute_not_exists(pk)',
            }),
          );
        }
      } catch (error) {
        if (raiseLastSeenTo !== undefined && incidentConditionFailed(error)) throw new StaleChange();
        if (lostTheRace(error)) {
          // A put the SDK retried after its first attempt was written fails its own condition: the place is
          // taken by this very step, which must not be written twice.
          if (!step.incident && (await this.stepAt(incidentId, seq))?.hash === hash) {
            return this.written(incidentId, seq, hash, item, step.incident);
          }
          // Another writer took this sequence number: wait a moment, with jitter, and read again.
          await pause(Math.random() * Math.min(50, attempt * 5));
          continue;
        }
        throw translateAwsError(error, `recording step ${seq} of ${incidentId}`);
      }
      return this.written(incidentId, seq, hash, item, step.incident);
    }
    throw new WriteConflictError(
      `could not append to incident ${incidentId}: ${this.maxAppendAttempts} attempts lost to other writers`,
    );
  }

  /** After a step is written: from here nothing may throw, or a caller would take it for a missing one. */
  private async written(
    incidentId: string,
    seq: number,
    hash: string,
    item: Record<string, unknown>,
    changes: IncidentChanges | undefined,
  ): Promise<Step> {
    this.vouch(incidentId, seq, hash);
    await Promise.all([
      changes ? undefined : this.moveHeadQuietly(incidentId, seq, hash),
      this.anchorQuietly(incidentId, seq, hash),
    ]);
    return stepOf(item);
  }

  /**
   * Refuses to chain onto a tip the recorder cannot vouch for: one it did not write or check before, whose
   * content does not match its hash, or whose MAC the key does not confirm. Chaining onto it would make a
   * forged step look authentic to anyone who trusts the steps after it.
   */
  private async vouchFor(incidentId: string, tip: ChainTip): Promise<void> {
    if (this.vouched.get(incidentId) === `${tip.seq}#${tip.hash}`) return;
    const what = tip.seq === 0 ? 'its opening' : `step ${tip.seq}`;
    const refuse = (
      kind: 'step-edited' | 'step-forged' | 'incident-edited' | 'incident-forged',
      why: string,
    ) =>
      new RecordTamperedError(
        `incident ${incidentId}: ${what} ${why}; Cordon does not append to a record it cannot vouch for`,
        { brokenSeq: tip.seq, kind, reason: `${what} ${why}` },
      );
    if (tip.item) {
      const item = tip.item;
      if (item.seq !== tip.seq || item.incidentId !== incidentId || stepHash(item) !== tip.hash) {
        throw refuse('step-edited', 'does not match its hash or its place');
      }
    }
    const valid = await this.sealed(`verifying ${what} of ${incidentId}`, () =>
      this.seal.verify(stepMacMessage(incidentId, tip.seq, tip.hash), tip.mac),
    );
    if (!valid) {
      throw refuse(
        tip.seq === 0 ? 'incident-forged' : 'step-forged',
        'carries no valid MAC of the record key',
      );
    }
    this.vouch(incidentId, tip.seq, tip.hash);
  }

  /** The step and the incident's change (and head) in one transaction. */
  private async writeWithIncident(
    item: Record<string, unknown>,
    changes: IncidentChanges,
    raiseLastSeenTo: string | undefined,
  ): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':seq': item.seq, ':hash': item.hash };
    const sets = ['lastSeq = :seq', 'lastHash = :hash'];
    for (const [key, value] of Object.entries(changes)) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    if (changes.status) {
      names['#gsi2pk'] = 'gsi2pk';
      values[':gsi2pk'] = keys.status(changes.status);
      sets.push('#gsi2pk = :gsi2pk');
    }
    let condition = 'attribute_exists(pk)';
    if (raiseLastSeenTo !== undefined) {
      names['#lastSeen'] = 'lastSeen';
      values[':raise'] = raiseLastSeenTo;
      condition += ' AND #lastSeen < :raise';
    }
    await this.client.send(
      new TransactWriteCommand({
        TransactItems: [
          {
            Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
          },
          {
            Update: {
              TableName: this.tableName,
              Key: keys.incident(String(item.incidentId)),
              UpdateExpression: `SET ${sets.join(', ')}`,
              ConditionExpression: condition,
              ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
              ExpressionAttributeValues: values,
            },
          },
        ],
      }),
    );
  }

  /** What the incident's first step follows: its opening (read once per incident). */
  private async openingOf(incidentId: string): Promise<ChainTip> {
    const known = this.openings.get(incidentId);
    if (known !== undefined) return known;
    const item = await this.incidentItem(incidentId);
    if (!item) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
    const stored = typeof item.openingHash === 'string' ? item.openingHash : GENESIS_HASH;
    const opening = item.opening;
    // An opening that does not match its own hash is refused as the MAC would be.
    const hash =
      typeof opening === 'object' &&
      opening !== null &&
      openingHash(opening as Record<string, unknown>) === stored
        ? stored
        : GENESIS_HASH;
    const tip: ChainTip = { seq: 0, hash, mac: typeof item.openingMac === 'string' ? item.openingMac : '' };
    remember(this.openings, incidentId, tip);
    return tip;
  }

  private async moveHeadQuietly(incidentId: string, seq: number, hash: string): Promise<void> {
    // If the head still lags after a few tries, the next append moves it; verify does not need it.
    for (let tries = 1; tries <= 3; tries++) {
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
        return;
      } catch (error) {
        // A later step already moved the head past this one: nothing to do.
        if (isConditionFailure(error)) return;
        await pause(tries * 50);
      }
    }
  }

  private async anchorQuietly(incidentId: string, seq: number, hash: string): Promise<void> {
    for (let tries = 1; ; tries++) {
      try {
        await this.seal.anchor({ incidentId, seq, hash });
        return;
      } catch (error) {
        if (tries >= 3) {
          // The step stands with its MAC; verify reports it unconfirmed until a later step is anchored.
          this.logger?.warn('could not anchor a step', {
            incidentId,
            seq,
            error: error instanceof Error ? { name: error.name, message: error.message } : String(error),
          });
          return;
        }
        await pause(tries * 50);
      }
    }
  }
}
