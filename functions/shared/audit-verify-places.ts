/**
 * Verify's judgement of where the record says things happened (functions/shared/audit-verify.ts runs it):
 * every step and the incident's place item in the account and region of the incident's opening, and the
 * incident's by-place key derived from it. Pure over what was read.
 *
 * An incident opened before place items (its opening has no {@link PLACE_ITEM_MARK}) has no by-place key,
 * no place item and steps without a place: it verifies without them, but a key or item it has must be right.
 */
import { keys } from './audit-table.ts';
import { canonicalJson } from './hash-chain.ts';

/**
 * The field of an incident's opening that says it was opened with its by-place key and its place item
 * (`true`): verify then requires both. Hashed with the opening, so it cannot be taken off unseen.
 */
export const PLACE_ITEM_MARK = 'placeItem';

/** The attributes of a place item: its keys and what it says. */
const PLACE_ATTRIBUTES: ReadonlySet<string> = new Set([
  'pk',
  'sk',
  'gsi4pk',
  'gsi4sk',
  'incidentId',
  'account',
  'region',
  'openedAt',
]);

type Item = Readonly<Record<string, unknown>>;

const text = (value: unknown): string => (value === undefined ? 'nothing' : canonicalJson(value));

/** Whether the opening says the incident was opened with its place item and by-place key. */
export const openedWithPlace = (opening: Item): boolean => opening[PLACE_ITEM_MARK] === true;

/**
 * Why a step's place is not its incident's (a step without one, from before, is not judged); undefined when
 * it is.
 */
export function stepPlaceBreak(step: Item, opening: Item, incidentId: string): string | undefined {
  const wrong = [
    ...(step.account !== undefined && step.account !== opening.account
      ? [`account ${text(step.account)}`]
      : []),
    ...(step.region !== undefined && step.region !== opening.region ? [`region ${text(step.region)}`] : []),
  ];
  if (wrong.length === 0) return undefined;
  return `step ${String(step.seq)} says ${wrong.join(' and ')}, but incident ${incidentId} was opened in account ${text(opening.account)}, region ${text(opening.region)}`;
}

/**
 * The by-place key the incident item must carry, derived from its opening: both attributes for an incident
 * opened with it, and whichever it has for one opened before (which has none, or the right ones).
 */
export function byPlaceKeys(opening: Item, incident: Item, timeKey: string): Record<string, string> {
  const derived: Record<string, string> = {};
  const byPlace = { gsi4pk: keys.account(String(opening.account)), gsi4sk: timeKey };
  for (const [field, value] of Object.entries(byPlace)) {
    if (openedWithPlace(opening) || incident[field] !== undefined) derived[field] = value;
  }
  return derived;
}

/** Why the incident's place item is not what its opening says (or is gone); undefined when it is. */
export function placeItemBreak(
  place: Item | undefined,
  opening: Item,
  incidentId: string,
  timeKey: string,
): string | undefined {
  if (!place) {
    return openedWithPlace(opening)
      ? `the place item of incident ${incidentId} is gone: the by-place index no longer finds it by region`
      : undefined;
  }
  const expected: Record<string, unknown> = {
    incidentId,
    account: opening.account,
    region: opening.region,
    openedAt: opening.openedAt,
    gsi4pk: keys.region(String(opening.region)),
    gsi4sk: timeKey,
  };
  const wrong = Object.entries(expected)
    .filter(([field, value]) => text(place[field]) !== text(value))
    .map(([field, value]) => `${field} is ${text(place[field])}, not ${text(value)}`);
  for (const field of Object.keys(place)) if (!PLACE_ATTRIBUTES.has(field)) wrong.push(`${field} was added`);
  return wrong.length > 0
    ? `the place item of incident ${incidentId} was changed: ${wrong.join('; ')}`
    : undefined;
}
