/**
 * The audit recorder: opens incidents, appends hash-chained, keyed and anchored steps, and reads them back.
 *
 * A step is one transaction: the step's put, whose sort key is its sequence number and which must not
 * exist, and the update of the incident's head (`lastSeq`, `lastHash`, `lastMac`) to it, conditioned on
 * the head being where the recorder believes it is, with the step's changes to the incident item (its
 * status, its times) and any writes a caller makes alongside. So the head never lags its steps, the item
 * never says what no step says, and of two writers that chain onto the same head only one can write: the
 * other learns the new head from the refusal (`ReturnValuesOnConditionCheckFailure`) and tries again. The
 * recorder knows the head of every incident it opened, appended to or verified, and reads one it does not
 * know once (a consistent GetItem of the incident item).
 *
 * Every step carries its incident's account and region (its place), which the recorder knows from the same
 * sources as the head: the opening, that GetItem, a refusal's incident item or a verification. The opening
 * also writes the incident's place item (`keys.place`), which the by-place index finds incidents by region
 * with; the incident item itself is found by account there.
 *
 * A writer chains only onto a step it can vouch for (one it wrote, or one whose MAC the key confirms): a
 * step a forger put in the table is never laundered by an honest step written after it. A head that lags
 * its steps (a record written before heads moved with their steps, or a head an attacker moved back) does
 * not wedge appends: when the step's place is taken but the head has not moved, the recorder reads the
 * real last step, vouches for it in full, and moves the head to the step it writes after it. Each step
 * carries the record key's MAC of its hash, and once written its hash is anchored where nobody can take it
 * back (functions/shared/seal.ts).
 *
 * The reads and the verification are in functions/shared/audit-reader.ts, the recorder's base class; the
 * writes made alongside a step and the reading of a transaction's refusal in audit-transactions.ts.
 * Longer than 400 lines: one class on purpose, as the append protocol (know the head, vouch for the tip,
 * write step and head in one transaction, read a refusal, anchor) is one invariant, and it is reviewed best
 * in one place.
 */
import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import {
  AuditReader,
  type ChainTip,
  type DocumentSender,
  type Head,
  openingTip,
  pause,
  placeOfItem,
  remember,
  stepOf,
  storedHead,
} from './audit-reader.ts';
import { keys, type Place } from './audit-table.ts';
import {
  type AlongsideWrite,
  cancellationReasons,
  conditionsFailed,
  failedAlongside,
  failedCondition,
  itemOf,
  type Refusal,
  type TransactItem,
  writeError,
} from './audit-transactions.ts';
import { PLACE_ITEM_MARK } from './audit-verify.ts';
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
import {
  ConditionsFailedError,
  IncidentNotFoundError,
  PlaceMismatchError,
  RecordTamperedError,
  ValidationError,
  WriteConflictError,
} from './errors.ts';
import { normalize, openingHash, stepHash } from './hash-chain.ts';
import type { Logger } from './log.ts';
import { type RecordSeal, stepMacMessage } from './seal.ts';

export type { DocumentSender, StoredIncident, VerifiedRecord } from './audit-reader.ts';
export type { AlongsideWrite, TransactItem } from './audit-transactions.ts';
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
  /**
   * Refused attempts at an append that are no other writer's progress (collisions, a lagging head) before
   * giving up with `WriteConflictError`; refusals because another writer appended count ten times as far.
   * Default 100.
   */
  readonly maxAppendAttempts?: number;
}

/** What a caller gives to open an incident; the recorder sets the id (unless given), status and time. */
export type NewIncident = Omit<Incident, 'id' | 'status' | 'openedAt'> & { id?: string };

export interface AppendOptions {
  /** Writes of other items made in the same transaction: all are written with the step, or none is. */
  readonly alongside?: readonly AlongsideWrite[];
  /**
   * An ISO time to raise the incident's `lastSeen` to in the same write, when it is later than the stored
   * one (the step's `incident` change then says so). Never lowers it: when the stored time is as late, the
   * step is written without the change.
   */
  readonly raiseLastSeen?: string;
}

/** The index keys and content of an incident item, and its opening's seal. */
function incidentItem(incident: Incident, opening: Record<string, unknown>, hash: string, mac: string) {
  const timeKey = `${incident.openedAt}#${incident.id}`;
  return {
    ...keys.incident(incident.id),
    gsi1pk: keys.month(incident.openedAt),
    gsi1sk: timeKey,
    gsi2pk: keys.status(incident.status),
    gsi2sk: timeKey,
    gsi3pk: keys.type(incident.findingType),
    gsi3sk: timeKey,
    gsi4pk: keys.account(incident.account),
    gsi4sk: timeKey,
    ...incident,
    opening,
    openingHash: hash,
    openingMac: mac,
  };
}

/**
 * The place a step is stamped with: its incident's. A step that names another account or region is refused
 * with {@link PlaceMismatchError}, nothing written: a step never says it was somewhere its incident is not.
 */
function stampOf(incidentId: string, step: StepInput, place: Place | undefined): Partial<Place> {
  if (!place) {
    return {
      ...(step.account ? { account: step.account } : {}),
      ...(step.region ? { region: step.region } : {}),
    };
  }
  const account = step.account ?? place.account;
  const region = step.region ?? place.region;
  if (account !== place.account || region !== place.region) {
    throw new PlaceMismatchError(
      `incident ${incidentId} is in account ${place.account}, region ${place.region}: a step in account ${account}, region ${region} is not recorded on it`,
    );
  }
  return { account, region };
}

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
    return (await this.openIncidentWith(input, {})).incident;
  }

  /**
   * Opens an incident with its first steps and the caller's writes alongside, in one transaction: the
   * incident item (its head at the last step given), its resource links, the steps and the alongside
   * writes. The MACs are made in parallel before, the anchors in parallel after. Refuses, writing nothing:
   * an incident or step that fails its schema (`ValidationError`), an incident id already taken
   * (`ValidationError`, `already exists`, whatever else failed), an alongside write whose condition failed
   * (`ConditionsFailedError`, naming each).
   */
  async openIncidentWith(
    input: NewIncident,
    options: { steps?: readonly StepInput[]; alongside?: readonly AlongsideWrite[] },
  ): Promise<{ incident: Incident; steps: Step[] }> {
    const openedAt = this.clock();
    const opened = parseOrThrow(
      IncidentSchema,
      normalize({ ...input, id: input.id ?? this.ids(), status: 'open', openedAt }),
      'incident',
    );
    const place: Place = { account: opened.account, region: opened.region };
    const stepInputs = (options.steps ?? []).map((s) => {
      const step = normalize(parseOrThrow(StepInputSchema, s, 'step'));
      return { ...step, ...stampOf(opened.id, step, place) };
    });
    const alongside = options.alongside ?? [];
    const opening = { ...normalize(opened), [PLACE_ITEM_MARK]: true } as unknown as Record<string, unknown>;
    const hash = openingHash(opening);
    // The incident as its steps leave it: verify recomputes the same from the opening and the chain.
    const incident: Incident = { ...opened };
    let prevHash = hash;
    const items = stepInputs.map((step, i) => {
      const seq = i + 1;
      const recordedAt = this.clock();
      const item: Record<string, unknown> = {
        ...this.stepKeys(opened.id, seq, step, recordedAt),
        ...step,
        incidentId: opened.id,
        seq,
        startedAt: step.startedAt ?? recordedAt,
        recordedAt,
        prevHash,
      };
      item.hash = stepHash(item);
      prevHash = String(item.hash);
      if (step.incident) Object.assign(incident, changesOf(step.incident));
      return item;
    });
    const [openingMac, ...macs] = await this.sealed(`sealing incident ${opened.id}`, () =>
      Promise.all([
        this.seal.mac(stepMacMessage(opened.id, 0, hash)),
        ...items.map((item) => this.seal.mac(stepMacMessage(opened.id, Number(item.seq), String(item.hash)))),
      ]),
    );
    items.forEach((item, i) => {
      item.mac = macs[i];
    });
    const last = items.at(-1);
    const headItem = {
      ...incidentItem(incident, opening, hash, String(openingMac)),
      ...(last ? { lastSeq: last.seq, lastHash: last.hash, lastMac: last.mac } : {}),
    };
    const resourceIds = [...new Set(opened.resources.map((r) => r.id))];
    const timeKey = `${opened.openedAt}#${opened.id}`;
    const own: TransactItem[] = [
      {
        Put: { TableName: this.tableName, Item: headItem, ConditionExpression: 'attribute_not_exists(pk)' },
      },
      ...items.map((item) => ({
        Put: { TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(pk)' },
      })),
      ...resourceIds.map((resourceId) => ({
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.resource(opened.id, resourceId),
            gsi3pk: keys.resourceRef(resourceId),
            gsi3sk: timeKey,
            incidentId: opened.id,
            resourceId,
            openedAt: opened.openedAt,
          },
        },
      })),
      {
        Put: {
          TableName: this.tableName,
          Item: {
            ...keys.place(opened.id),
            gsi4pk: keys.region(opened.region),
            gsi4sk: timeKey,
            incidentId: opened.id,
            account: opened.account,
            region: opened.region,
            openedAt: opened.openedAt,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
    ];
    try {
      await this.client.send(
        new TransactWriteCommand({ TransactItems: [...own, ...alongside.map((a) => a.write)] }),
      );
    } catch (error) {
      const reasons = cancellationReasons(error);
      // Only a failed condition means the id is taken; a cancellation for throttling or a conflict is not.
      if (reasons?.slice(0, own.length).some(failedCondition)) {
        throw new ValidationError('incident', [`id: incident ${opened.id} already exists`], { cause: error });
      }
      const failed = reasons ? failedAlongside(reasons, own.length, alongside) : [];
      if (failed.length > 0) throw conditionsFailed(failed, error);
      throw writeError(error, `opening incident ${opened.id}`);
    }
    const tip: ChainTip = last
      ? { seq: Number(last.seq), hash: String(last.hash), mac: String(last.mac), item: last }
      : { seq: 0, hash, mac: String(openingMac) };
    this.vouch(opened.id, tip.seq, tip.hash);
    remember(this.heads, opened.id, {
      stored: last ? { seq: tip.seq, hash: tip.hash } : undefined,
      tip,
      lastSeen: incident.lastSeen,
      place,
    });
    await Promise.all([
      this.anchorQuietly(opened.id, 0, hash),
      ...items.map((item) => this.anchorQuietly(opened.id, Number(item.seq), String(item.hash))),
    ]);
    return { incident, steps: items.map((item) => stepOf(item)) };
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
    const changes = changesOf(fields);
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
   * raise is a step of its own, so that the incident item never says what its record does not; when the
   * stored time is as late, nothing is written.
   */
  async raiseLastSeen(incidentId: string, lastSeen: string): Promise<void> {
    try {
      await this.append(
        incidentId,
        {
          phase: 'identification',
          action: 'raise-last-seen',
          status: 'noted',
          actor: 'automation',
          note: `a finding of the incident was seen again at ${lastSeen}`,
        },
        { raiseLastSeen: lastSeen },
        true,
      );
    } catch (error) {
      // An incident that does not exist has nothing to raise.
      if (!(error instanceof IncidentNotFoundError)) throw error;
    }
  }

  /**
   * Appends a step to an incident's chain, with the caller's writes alongside, and returns it as stored.
   * Validates the step first: a step that fails its schema is refused and nothing is written. One
   * transaction: the step, the head moved to it with the step's incident changes, and the alongside
   * writes. When another writer appended first, it learns the new head from the refusal and tries again
   * with the same alongside writes; when an alongside condition fails it throws
   * {@link ConditionsFailedError} and nothing is written. The step carries the record key's MAC; it is
   * anchored once written (if the anchor cannot be written, the step stands and verify reports it
   * unconfirmed until a later step is anchored).
   */
  async appendStep(incidentId: string, input: StepInput, options: AppendOptions = {}): Promise<Step> {
    const step = await this.append(incidentId, input, options, false);
    if (!step) throw new Error('unreachable: a step that raises nothing is still written');
    return step;
  }

  /** The append protocol; with `onlyIfRaising`, no step is written when the stored last-seen time is as late. */
  private async append(
    incidentId: string,
    input: StepInput,
    options: AppendOptions,
    onlyIfRaising: boolean,
  ): Promise<Step | undefined> {
    const step = normalize(parseOrThrow(StepInputSchema, input, 'step'));
    const alongside = options.alongside ?? [];
    let head = this.heads.get(incidentId) ?? (await this.readHead(incidentId));
    // Refusals that are no other writer's progress (a collision, a lagging head, a raise already as late)
    // are bounded by `maxAppendAttempts`; refusals because another writer appended are bounded only ten
    // times over: each one is the record moving on, and a writer that appends in a loop (it always knows
    // the head) can win many races in a row against one that must learn the head from a refusal.
    let stalled = 0;
    let lost = 0;
    for (
      let attempt = 1;
      stalled < this.maxAppendAttempts && attempt <= 10 * this.maxAppendAttempts;
      attempt++
    ) {
      const raise = options.raiseLastSeen;
      const raising = raise !== undefined && (head.lastSeen === undefined || raise > head.lastSeen);
      if (onlyIfRaising && !raising) return undefined;
      const changes: IncidentChanges | undefined = raising
        ? { ...step.incident, lastSeen: raise }
        : step.incident;
      const { tip } = head;
      const seq = tip.seq + 1;
      const recordedAt = this.clock();
      const item: Record<string, unknown> = {
        ...this.stepKeys(incidentId, seq, step, recordedAt),
        ...step,
        ...stampOf(incidentId, step, head.place),
        ...(changes ? { incident: changes } : {}),
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
      const sentAt = Date.now();
      try {
        await this.client.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: item,
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              this.headUpdate(incidentId, head, { seq, hash, mac }, changes, raising ? raise : undefined),
              ...alongside.map((a) => a.write),
            ],
          }),
        );
      } catch (error) {
        const refusal = this.refusalOf(error, alongside);
        if (!refusal) throw writeError(error, `recording step ${seq} of ${incidentId}`);
        const now = refusal.head?.item;
        const ours: Head = {
          stored: { seq, hash },
          tip: { seq, hash, mac, item },
          lastSeen: changes?.lastSeen ?? (typeof now?.lastSeen === 'string' ? now.lastSeen : head.lastSeen),
          place: head.place ?? placeOfItem(now),
        };
        // A transaction the SDK retried after its first attempt was written fails its own conditions: the
        // head is at this very step, which must not be written twice.
        if (now && now.lastSeq === seq && now.lastHash === hash) return this.written(incidentId, item, ours);
        if (
          now &&
          refusal.placeTaken &&
          typeof now.lastSeq === 'number' &&
          now.lastSeq > seq &&
          ((error as { $metadata?: { attempts?: number } }).$metadata?.attempts ?? 1) > 1 &&
          (await this.stepAt(incidentId, seq))?.hash === hash
        ) {
          return this.written(incidentId, item, await this.headOf(incidentId, now));
        }
        if (refusal.failed.length > 0) throw conditionsFailed(refusal.failed, error);
        if (refusal.conflict) {
          stalled++;
          await pause(Math.random() * Math.min(50, stalled * 5));
          continue;
        }
        if (refusal.head) {
          if (!now) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
          const learnt = await this.headOf(incidentId, now);
          if (sameStored(learnt.stored, head.stored)) {
            // The head has not moved: only the raise's condition can have failed (the stored time is as late).
            if (!(raising && typeof now.lastSeen === 'string' && !(raise > now.lastSeen))) {
              throw new RecordTamperedError(
                `incident ${incidentId}: its head is not one Cordon writes; Cordon does not append to a record it cannot vouch for`,
                {
                  brokenSeq: 0,
                  kind: 'incident-edited',
                  reason: 'the incident item holds a head Cordon does not write',
                },
              );
            }
            stalled++;
            head = { ...head, lastSeen: now.lastSeen };
            continue;
          }
          // Another writer appended: chain onto its step after a random moment of up to a few round trips, so
          // that writers racing on one incident do not keep the table busy with writes that must fail.
          if (!learnt.stored || learnt.stored.seq <= (head.stored?.seq ?? 0)) stalled++;
          head = learnt;
          await pause(Math.random() * (Date.now() - sentAt) * Math.min(++lost, 4));
          continue;
        }
        if (refusal.placeTaken) {
          // The head is where this recorder believed, but the step's place is taken: the head lags its steps.
          // Chain onto the real last step (vouched for in full before anything is chained onto it) and move
          // the head past it.
          const last = await this.lastStep(incidentId);
          if (!last || last.seq < seq) {
            throw new WriteConflictError(`incident ${incidentId}: step ${seq} is taken but cannot be read`, {
              cause: error,
            });
          }
          stalled++;
          head = { ...head, tip: last };
          continue;
        }
        throw writeError(error, `recording step ${seq} of ${incidentId}`);
      }
      return this.written(incidentId, item, {
        stored: { seq, hash },
        tip: { seq, hash, mac, item },
        lastSeen: changes?.lastSeen ?? head.lastSeen,
        place: head.place,
      });
    }
    throw new WriteConflictError(
      `could not append to incident ${incidentId}: too many attempts lost to other writers or refused`,
    );
  }

  /** A step item's keys, its actor index included. */
  private stepKeys(incidentId: string, seq: number, step: StepInput, recordedAt: string) {
    return {
      ...keys.step(incidentId, seq),
      gsi3pk: keys.actor(step.actor),
      gsi3sk: `${step.startedAt ?? recordedAt}#${incidentId}#${seq}`,
    };
  }

  /** The head's update: moved to the new step, with the step's incident changes, if it is where believed. */
  private headUpdate(
    incidentId: string,
    head: Head,
    to: { seq: number; hash: string; mac: string },
    changes: IncidentChanges | undefined,
    raise: string | undefined,
  ): TransactItem {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':seq': to.seq, ':hash': to.hash, ':mac': to.mac };
    const sets = ['lastSeq = :seq', 'lastHash = :hash', 'lastMac = :mac'];
    for (const [key, value] of Object.entries(changes ?? {})) {
      if (value === undefined) continue;
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    if (changes?.status) {
      names['#gsi2pk'] = 'gsi2pk';
      values[':gsi2pk'] = keys.status(changes.status);
      sets.push('#gsi2pk = :gsi2pk');
    }
    let condition = 'attribute_exists(pk)';
    if (head.stored) {
      values[':prevSeq'] = head.stored.seq;
      values[':prevHash'] = head.stored.hash;
      condition += ' AND lastSeq = :prevSeq AND lastHash = :prevHash';
    } else condition += ' AND attribute_not_exists(lastSeq)';
    if (raise !== undefined) {
      names['#lastSeen'] = 'lastSeen';
      values[':raise'] = raise;
      condition += ' AND #lastSeen < :raise';
    }
    return {
      Update: {
        TableName: this.tableName,
        Key: keys.incident(incidentId),
        UpdateExpression: `SET ${sets.join(', ')}`,
        ConditionExpression: condition,
        ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
        ExpressionAttributeValues: values,
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
  }

  /** Reads a transaction's refusal: [the step, the head, ...alongside]. Undefined: not a refusal to read. */
  private refusalOf(error: unknown, alongside: readonly AlongsideWrite[]): Refusal | undefined {
    const reasons = cancellationReasons(error);
    if (!reasons) return undefined;
    return {
      placeTaken: failedCondition(reasons[0]),
      head: failedCondition(reasons[1]) ? { item: itemOf(reasons[1]) } : undefined,
      failed: failedAlongside(reasons, 2, alongside),
      conflict: reasons.some((r) => r.Code === 'TransactionConflict'),
    };
  }

  /**
   * The account and region of an incident: what {@link placeOf} knows, else one consistent read of its
   * incident item, which the next append to it then does not repeat (the head it states is kept). Throws
   * {@link IncidentNotFoundError} for an incident that does not exist.
   */
  async placeFor(incidentId: string): Promise<Place | undefined> {
    const known = this.heads.get(incidentId);
    if (known) return known.place;
    const head = await this.readHead(incidentId);
    remember(this.heads, incidentId, head);
    return head.place;
  }

  /** The head of an incident this recorder does not know: one consistent read of the incident item. */
  private async readHead(incidentId: string): Promise<Head> {
    const item = await this.incidentItem(incidentId);
    if (!item) throw new IncidentNotFoundError(`incident ${incidentId} does not exist`);
    return this.headOf(incidentId, item);
  }

  /**
   * The head an incident item states. A head with no MAC (a record from before heads kept one) is followed
   * to the real last step, read once.
   */
  private async headOf(incidentId: string, item: Record<string, unknown>): Promise<Head> {
    const stored = storedHead(item);
    const lastSeen = typeof item.lastSeen === 'string' ? item.lastSeen : undefined;
    let tip: ChainTip | undefined;
    if (stored && stored.seq > 0) {
      tip =
        typeof item.lastMac === 'string'
          ? { seq: stored.seq, hash: stored.hash, mac: item.lastMac }
          : await this.lastStep(incidentId);
    }
    return { stored, tip: tip ?? openingTip(item), lastSeen, place: placeOfItem(item) };
  }

  /** After a step is written: from here nothing may throw, or a caller would take it for a missing one. */
  private async written(incidentId: string, item: Record<string, unknown>, head: Head): Promise<Step> {
    const seq = Number(item.seq);
    const hash = String(item.hash);
    this.vouch(incidentId, seq, hash);
    remember(this.heads, incidentId, head);
    await this.anchorQuietly(incidentId, seq, hash);
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

/** The changes given, without the fields left undefined. */
function changesOf(fields: IncidentChanges): IncidentChanges {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)) as IncidentChanges;
}

const sameStored = (a: Head['stored'], b: Head['stored']) => a?.seq === b?.seq && a?.hash === b?.hash;
