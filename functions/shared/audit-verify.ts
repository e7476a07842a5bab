/**
 * Verifying an incident's record: the incident item, its steps, the anchors of their hashes and their MACs.
 * Pure over what was read, so that the recorder, the console and the tests share one judgement.
 *
 * What holds when it says `ok`: every step was written by Cordon (each step is either anchored under its own
 * number, or carries a valid MAC of the record key: a later anchor vouches for the chain it follows, not for
 * a step no anchor or MAC vouches for), in the order written, unchanged; no anchored step is missing, no
 * anchor is hidden; the incident item says exactly what its opening and its steps say; every step and the
 * incident's place item are in the account and region the incident was opened in. What it names when not:
 * the first break, with its kind.
 *
 * An incident opened before incidents had a place item (its opening has no `placeItem` mark) has no by-place
 * key and no place item, and verifies without them; its steps carry no place (audit-verify-places.ts).
 */

export { PLACE_ITEM_MARK } from './audit-verify-places.ts';

import { keys, seqOfStepKey } from './audit-table.ts';
import { byPlaceKeys, placeItemBreak, stepPlaceBreak } from './audit-verify-places.ts';
import { type IncidentChanges, MUTABLE_INCIDENT_FIELDS } from './domain.ts';
import { canonicalJson, GENESIS_HASH, openingHash, stepHash } from './hash-chain.ts';
import { type AnchorEntry, stepMacMessage } from './seal.ts';

/** The kinds of break verify tells apart. */
export type BreakKind =
  /** A step's content no longer matches its hash, or the hash anchored for it. */
  | 'step-edited'
  /** A step is missing between two others. */
  | 'step-deleted'
  /** A step holds another step's content, or does not follow the step before it. */
  | 'steps-reordered'
  /** A step that no anchor confirms carries no valid MAC: it was not written by Cordon. */
  | 'step-forged'
  /** The chain was rewritten from a step on, hashes recomputed: none of its anchors match any more. */
  | 'chain-rewritten'
  /** Steps that were anchored (or that the head counted) are gone from the end. */
  | 'tail-truncated'
  /** The incident item says something its opening and its steps do not. */
  | 'incident-edited'
  /** The incident's opening is neither anchored nor carries a valid MAC. */
  | 'incident-forged'
  /** The anchor itself holds something verify cannot read, or two hashes for one step. */
  | 'anchor-unreadable'
  /** A delete marker was put over an anchor, so that a listing of current objects no longer shows it. */
  | 'anchor-hidden'
  /**
   * A place the record holds says another account or region than the incident's opening: the place item
   * (edited, pointing at another incident, or gone from an incident opened with one), or a step's.
   */
  | 'place-edited'
  /**
   * The incident has no opening and nothing of it was ever anchored: a record written before Cordon sealed
   * its records (or an item made to look like one). Nothing in it can be vouched for.
   */
  | 'record-unsealed';

export type VerifyResult =
  | {
      ok: true;
      incidentId: string;
      steps: number;
      lastHash: string;
      /** The highest step whose hash is anchored (0: only the opening). */
      anchoredThrough: number;
      /** Steps past the last anchor whose MAC is valid: written by Cordon, their anchor not yet written. */
      unconfirmed: number[];
    }
  | {
      ok: false;
      incidentId: string;
      steps: number;
      /** The first broken step; 0 for the incident item or its opening. */
      brokenSeq: number;
      kind: BreakKind;
      reason: string;
    };

/** What verify reads. */
export interface RecordSnapshot {
  readonly incidentId: string;
  /** The incident item as stored (keys included). */
  readonly incident: Readonly<Record<string, unknown>>;
  /** The incident's place item as stored (keys included), if it has one. */
  readonly place?: Readonly<Record<string, unknown>>;
  /** The step items as stored, in key order. */
  readonly steps: readonly Readonly<Record<string, unknown>>[];
  readonly anchors: readonly AnchorEntry[];
  /**
   * The incident's head (`lastSeq`) read again after the steps, when a step past the first read's head
   * changes the incident: such a step was written with its head in one transaction, so a head read after
   * it must have reached it; a head that has not was rolled back.
   */
  readonly laterHead?: number;
}

/** Checks a MAC with the record key. */
export type MacCheck = (message: string, mac: string) => Promise<boolean>;

/** The incident fields verify recomputes: the opening's, changed by the steps that say so. */
const INCIDENT_FIELDS = [
  'id',
  'title',
  'findingType',
  'severity',
  'account',
  'region',
  'resources',
  'openedAt',
  'firstSeen',
  'rehearsal',
  ...MUTABLE_INCIDENT_FIELDS,
] as const;

/** Attributes of the incident item that are neither its content nor derived from it. */
const INCIDENT_BOOKKEEPING = new Set([
  'pk',
  'sk',
  'lastSeq',
  'lastHash',
  'lastMac',
  'opening',
  'openingHash',
  'openingMac',
]);

const text = (value: unknown): string => (value === undefined ? 'nothing' : canonicalJson(value));

/** The fields of a step's `incident` that a step may change: the rest of the incident is its opening's. */
function changesOf(item: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const changes = item.incident;
  if (typeof changes !== 'object' || changes === null) return {};
  const out: Record<string, unknown> = {};
  for (const field of MUTABLE_INCIDENT_FIELDS) {
    const value = (changes as IncidentChanges)[field];
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Which steps past the head change the incident (the latest one), so the head must be read again. */
export function changeAfterHead(
  incident: Readonly<Record<string, unknown>>,
  steps: readonly Readonly<Record<string, unknown>>[],
): number | undefined {
  const head = typeof incident.lastSeq === 'number' ? incident.lastSeq : 0;
  let latest: number | undefined;
  for (const step of steps) {
    const seq = seqOfStepKey(step);
    if (seq > head && Object.keys(changesOf(step)).length > 0) latest = seq;
  }
  return latest;
}

/** Verifies one incident's record. */
export async function verifyRecord(snapshot: RecordSnapshot, checkMac: MacCheck): Promise<VerifyResult> {
  const { incidentId, incident, steps } = snapshot;
  const count = steps.length;
  const broken = (brokenSeq: number, kind: BreakKind, reason: string): VerifyResult => ({
    ok: false,
    incidentId,
    steps: count,
    brokenSeq,
    kind,
    reason,
  });

  // The anchors: at most one hash per step, every name readable.
  const anchored = new Map<number, string>();
  for (const anchor of snapshot.anchors) {
    if (anchor.seq < 0) {
      return broken(
        0,
        'anchor-unreadable',
        `the anchor holds an object that is not an anchor: ${anchor.hash}`,
      );
    }
    if (anchor.hidden) {
      return broken(
        anchor.seq,
        'anchor-hidden',
        `the anchor of step ${anchor.seq} was hidden behind a delete marker: someone tried to take it back`,
      );
    }
    const seen = anchored.get(anchor.seq);
    if (seen !== undefined && seen !== anchor.hash) {
      return broken(anchor.seq, 'anchor-unreadable', `step ${anchor.seq} has two different anchored hashes`);
    }
    anchored.set(anchor.seq, anchor.hash);
  }
  const seqByAnchoredHash = new Map([...anchored].map(([seq, hash]) => [hash, seq]));
  const lastAnchored = Math.max(0, ...anchored.keys());

  // The opening: what the incident was opened with, anchored as step 0 (or, until then, under its MAC).
  const opening = incident.opening;
  let prevHash = GENESIS_HASH;
  if (typeof opening !== 'object' || opening === null || typeof incident.openingHash !== 'string') {
    if (anchored.size === 0 && steps.every((step) => step.mac === undefined)) {
      return broken(
        0,
        'record-unsealed',
        `incident ${incidentId} has no opening and no anchor: its record was not sealed (written before Cordon sealed its records, or made to look so), and nothing in it can be vouched for`,
      );
    }
    return broken(
      0,
      'incident-forged',
      `incident ${incidentId} has no opening hash: it was not opened by a recorder with the record key`,
    );
  }
  const opened = openingHash(opening as Record<string, unknown>);
  if (opened !== incident.openingHash) {
    return broken(0, 'incident-edited', `the incident's opening was changed: it no longer matches its hash`);
  }
  const anchoredOpening = anchored.get(0);
  if (anchoredOpening !== undefined && anchoredOpening !== opened) {
    return broken(
      0,
      'chain-rewritten',
      'the incident was opened anew: its opening does not match its anchor',
    );
  }
  if (anchoredOpening === undefined) {
    const mac = typeof incident.openingMac === 'string' ? incident.openingMac : '';
    if (!(await checkMac(stepMacMessage(incidentId, 0, opened), mac))) {
      return broken(0, 'incident-forged', "the incident's opening is not anchored and carries no valid MAC");
    }
  }
  prevHash = opened;

  // The steps, in order.
  const unconfirmed: number[] = [];
  // The incident item was read before the steps: it says what the steps through its head say. A step past
  // the head was written since (checked below against the head read again).
  const head = typeof incident.lastSeq === 'number' ? incident.lastSeq : 0;
  const state: Record<string, unknown> = { ...(opening as Record<string, unknown>) };
  let expected = 1;
  for (const item of steps) {
    const keySeq = seqOfStepKey(item);
    const seq = typeof item.seq === 'number' ? item.seq : Number.NaN;
    const hash = typeof item.hash === 'string' ? item.hash : '';
    if (keySeq !== expected) {
      if (keySeq > expected) {
        return broken(
          expected,
          'step-deleted',
          `step ${expected} is missing (the next stored step is ${keySeq})`,
        );
      }
      return broken(keySeq, 'steps-reordered', `step ${keySeq} is stored twice`);
    }
    if (seq !== keySeq || item.incidentId !== incidentId) {
      return broken(
        keySeq,
        'steps-reordered',
        `step ${keySeq} was moved: its content says incident ${String(item.incidentId)} step ${seq}`,
      );
    }
    const elsewhere = seqByAnchoredHash.get(hash);
    if (stepHash(item) !== hash) {
      if (elsewhere !== undefined && elsewhere !== seq) {
        return broken(seq, 'steps-reordered', `step ${seq} holds the content of step ${elsewhere}`);
      }
      return broken(seq, 'step-edited', `step ${seq} was changed: its content no longer matches its hash`);
    }
    const anchor = anchored.get(seq);
    if (anchor !== undefined && anchor !== hash) {
      if (elsewhere !== undefined && elsewhere !== seq) {
        return broken(seq, 'steps-reordered', `step ${seq} holds the content of step ${elsewhere}`);
      }
      const rest = steps.filter((s) => seqOfStepKey(s) >= seq && anchored.has(seqOfStepKey(s)));
      const allDiffer = rest.every((s) => anchored.get(seqOfStepKey(s)) !== s.hash);
      if (allDiffer && rest.length > 1) {
        return broken(
          seq,
          'chain-rewritten',
          `the chain was rewritten from step ${seq} on: none of its ${rest.length} anchored steps matches its anchor`,
        );
      }
      return broken(
        seq,
        'step-edited',
        `step ${seq} was changed after it was anchored: its hash is not the anchored one`,
      );
    }
    if (item.prevHash !== prevHash) {
      return broken(
        seq,
        'steps-reordered',
        `step ${seq} does not follow step ${seq - 1}: its prevHash does not match`,
      );
    }
    if (anchor === undefined) {
      // Not anchored (a writer stopped before anchoring, or a forger put it): only the key vouches for it. A
      // later step's anchor does not: an honest writer may have chained onto a step it could not check.
      const mac = typeof item.mac === 'string' ? item.mac : '';
      if (!(await checkMac(stepMacMessage(incidentId, seq, hash), mac))) {
        return broken(
          seq,
          'step-forged',
          `step ${seq} is not anchored and carries no valid MAC: it was not written by Cordon`,
        );
      }
      unconfirmed.push(seq);
    }
    const misplacedStep = stepPlaceBreak(item, opening as Record<string, unknown>, incidentId);
    if (misplacedStep) return broken(seq, 'place-edited', misplacedStep);
    if (seq <= head) Object.assign(state, changesOf(item));
    prevHash = hash;
    expected++;
  }

  const last = expected - 1;
  if (lastAnchored > last) {
    return broken(
      last + 1,
      'tail-truncated',
      `steps ${last + 1} to ${lastAnchored} are gone: the anchor holds step ${lastAnchored}, the table ends at step ${last}`,
    );
  }
  if (head > last) {
    return broken(
      last + 1,
      'tail-truncated',
      `step ${last + 1} is missing (the incident's head is at step ${head})`,
    );
  }
  if (head > 0 && incident.lastHash !== steps[head - 1]?.hash) {
    return broken(head, 'incident-edited', `the incident's head does not match step ${head}`);
  }
  const pending = changeAfterHead(incident, steps);
  if (pending !== undefined && !((snapshot.laterHead ?? head) >= pending)) {
    return broken(
      0,
      'incident-edited',
      `step ${pending} changes the incident, but the incident's head is at step ${snapshot.laterHead ?? head}: the head was moved back to hide the change`,
    );
  }

  // The incident item against its opening and its chain.
  const differ: string[] = [];
  for (const field of INCIDENT_FIELDS) {
    if (text(incident[field]) !== text(state[field])) {
      differ.push(`${field} is ${text(incident[field])}, its record says ${text(state[field])}`);
    }
  }
  for (const field of Object.keys(incident)) {
    if (INCIDENT_BOOKKEEPING.has(field) || /^gsi\d(pk|sk)$/.test(field)) continue;
    if (!(INCIDENT_FIELDS as readonly string[]).includes(field)) differ.push(`${field} was added`);
  }
  const timeKey = `${String(state.openedAt)}#${incidentId}`;
  const derived: Record<string, string> = {
    gsi1pk: keys.month(String(state.openedAt)),
    gsi1sk: timeKey,
    gsi2pk: keys.status(String(state.status)),
    gsi2sk: timeKey,
    gsi3pk: keys.type(String(state.findingType)),
    gsi3sk: timeKey,
  };
  Object.assign(derived, byPlaceKeys(opening as Record<string, unknown>, incident, timeKey));
  for (const [field, value] of Object.entries(derived)) {
    if (incident[field] !== value)
      differ.push(`its index key ${field} is ${text(incident[field])}, not ${value}`);
  }
  if (differ.length > 0) {
    return broken(0, 'incident-edited', `the incident item was changed: ${differ.join('; ')}`);
  }
  const misplaced = placeItemBreak(snapshot.place, opening as Record<string, unknown>, incidentId, timeKey);
  if (misplaced) return broken(0, 'place-edited', misplaced);
  return {
    ok: true,
    incidentId,
    steps: count,
    lastHash: prevHash,
    anchoredThrough: lastAnchored,
    unconfirmed,
  };
}
