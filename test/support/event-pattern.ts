/**
 * An EventBridge event-pattern matcher for tests, faithful to the documented behaviour
 * (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns.html and
 * https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-pattern-operators.html):
 *
 * - every field of the pattern must match (AND), with the same nesting as the event; `$or` takes any of
 *   several sub-patterns;
 * - a field's value in the pattern is an array of matchers, any of which may match (OR);
 * - when the event's value is an array, the pattern matches if any element matches
 *   (https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-event-patterns-arrays.html); for an array
 *   of objects, one element must match the whole nested pattern (array consistency, as EventBridge's
 *   engine, aws/event-ruler, does);
 * - matchers: exact strings, numbers, booleans and `null` (a string never equals a number; `null` is not
 *   `""`), `prefix` and `suffix` (optionally `equals-ignore-case`), `equals-ignore-case`, `wildcard`,
 *   `anything-but` (values, `prefix`, `suffix`, `equals-ignore-case`, `wildcard`), `numeric` with one or two
 *   comparisons, `exists` (leaf fields only: an object is not a leaf, an empty array has no value) and
 *   IPv4 `cidr`.
 *
 * An operator it does not know throws, so that a test never passes on a pattern the matcher misread.
 */

type Json = unknown;

function isObject(value: Json): value is Record<string, Json> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The leaf values of an event field: arrays are flattened, objects are not leaves. */
function leaves(value: Json): Json[] {
  if (value === undefined) return [];
  if (Array.isArray(value)) return value.flatMap(leaves);
  if (isObject(value)) return [];
  return [value];
}

function textOperand(operand: Json, name: string): { text: string; ignoreCase: boolean } {
  if (typeof operand === 'string') return { text: operand, ignoreCase: false };
  if (
    isObject(operand) &&
    typeof operand['equals-ignore-case'] === 'string' &&
    Object.keys(operand).length === 1
  ) {
    return { text: operand['equals-ignore-case'], ignoreCase: true };
  }
  throw new Error(`invalid ${name} operand: ${JSON.stringify(operand)}`);
}

function fold(text: string, ignoreCase: boolean): string {
  return ignoreCase ? text.toLowerCase() : text;
}

/** `*` matches any run of characters (including none); `\*` is a literal `*`, `\\` a literal `\`. */
export function wildcardMatches(pattern: string, value: string): boolean {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] ?? '';
    if (c === '\\' && (pattern[i + 1] === '*' || pattern[i + 1] === '\\')) {
      source += `\\${pattern[i + 1]}`;
      i++;
    } else if (c === '*') source += '[\\s\\S]*';
    else source += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${source}$`).test(value);
}

function ipv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || Number(part) > 255) return undefined;
    value = value * 256 + Number(part);
  }
  return value;
}

function cidrMatches(range: string, value: Json): boolean {
  const [base, bits] = range.split('/');
  const start = ipv4(base ?? '');
  const size = Number(bits);
  if (start === undefined || !Number.isInteger(size) || size < 0 || size > 32)
    throw new Error(`invalid cidr: ${range}`);
  const address = typeof value === 'string' ? ipv4(value) : undefined;
  if (address === undefined) return false;
  const block = 2 ** (32 - size);
  return Math.floor(address / block) === Math.floor(start / block);
}

const COMPARISONS: Record<string, (a: number, b: number) => boolean> = {
  '<': (a, b) => a < b,
  '<=': (a, b) => a <= b,
  '=': (a, b) => a === b,
  '>': (a, b) => a > b,
  '>=': (a, b) => a >= b,
};

function numericMatches(spec: Json, value: Json): boolean {
  if (!Array.isArray(spec) || spec.length === 0 || spec.length % 2 !== 0 || spec.length > 4) {
    throw new Error(`invalid numeric operand: ${JSON.stringify(spec)}`);
  }
  if (typeof value !== 'number') return false;
  for (let i = 0; i < spec.length; i += 2) {
    const compare = COMPARISONS[String(spec[i])];
    const bound = spec[i + 1];
    if (compare === undefined || typeof bound !== 'number')
      throw new Error(`invalid numeric operand: ${JSON.stringify(spec)}`);
    if (!compare(value, bound)) return false;
  }
  return true;
}

function isLiteral(value: Json): boolean {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function anythingButMatches(operand: Json, value: Json): boolean {
  if (isLiteral(operand)) return value !== operand;
  if (Array.isArray(operand)) {
    if (!operand.every(isLiteral))
      throw new Error(`invalid anything-but operand: ${JSON.stringify(operand)}`);
    return !operand.includes(value);
  }
  if (isObject(operand) && Object.keys(operand).length === 1) {
    const [[name, inner]] = Object.entries(operand) as [[string, Json]];
    const texts = Array.isArray(inner) ? inner : [inner];
    if (!texts.every((t) => typeof t === 'string'))
      throw new Error(`invalid anything-but operand: ${JSON.stringify(operand)}`);
    if (typeof value !== 'string') return false;
    const strings = texts as string[];
    switch (name) {
      case 'prefix':
        return !strings.some((t) => value.startsWith(t));
      case 'suffix':
        return !strings.some((t) => value.endsWith(t));
      case 'equals-ignore-case':
        return !strings.some((t) => t.toLowerCase() === value.toLowerCase());
      case 'wildcard':
        return !strings.some((t) => wildcardMatches(t, value));
    }
  }
  throw new Error(`invalid anything-but operand: ${JSON.stringify(operand)}`);
}

/** Whether one matcher of a pattern array matches one leaf value of the event. */
function leafMatches(matcher: Json, value: Json): boolean {
  if (isLiteral(matcher)) return value === matcher;
  if (!isObject(matcher) || Object.keys(matcher).length !== 1) {
    throw new Error(`invalid matcher: ${JSON.stringify(matcher)}`);
  }
  const [[operator, operand]] = Object.entries(matcher) as [[string, Json]];
  switch (operator) {
    case 'prefix': {
      const { text, ignoreCase } = textOperand(operand, 'prefix');
      return typeof value === 'string' && fold(value, ignoreCase).startsWith(fold(text, ignoreCase));
    }
    case 'suffix': {
      const { text, ignoreCase } = textOperand(operand, 'suffix');
      return typeof value === 'string' && fold(value, ignoreCase).endsWith(fold(text, ignoreCase));
    }
    case 'equals-ignore-case':
      if (typeof operand !== 'string')
        throw new Error(`invalid equals-ignore-case operand: ${JSON.stringify(operand)}`);
      return typeof value === 'string' && value.toLowerCase() === operand.toLowerCase();
    case 'wildcard':
      if (typeof operand !== 'string')
        throw new Error(`invalid wildcard operand: ${JSON.stringify(operand)}`);
      return typeof value === 'string' && wildcardMatches(operand, value);
    case 'anything-but':
      return anythingButMatches(operand, value);
    case 'numeric':
      return numericMatches(operand, value);
    case 'cidr':
      if (typeof operand !== 'string') throw new Error(`invalid cidr operand: ${JSON.stringify(operand)}`);
      return cidrMatches(operand, value);
    default:
      throw new Error(`unsupported pattern operator: ${operator}`);
  }
}

function fieldMatches(matchers: Json[], eventValue: Json): boolean {
  const values = leaves(eventValue);
  return matchers.some((matcher) => {
    if (isObject(matcher) && 'exists' in matcher) {
      if (typeof matcher.exists !== 'boolean' || Object.keys(matcher).length !== 1) {
        throw new Error(`invalid exists matcher: ${JSON.stringify(matcher)}`);
      }
      return matcher.exists === values.length > 0;
    }
    return values.some((value) => leafMatches(matcher, value));
  });
}

function objectMatches(pattern: Record<string, Json>, event: Json): boolean {
  const fields = isObject(event) ? event : {};
  return Object.entries(pattern).every(([key, sub]) => {
    if (key === '$or') {
      if (!Array.isArray(sub) || sub.length < 2 || !sub.every(isObject))
        throw new Error('$or needs two or more patterns');
      return sub.some((alternative) => objectMatches(alternative as Record<string, Json>, event));
    }
    const value = fields[key];
    if (Array.isArray(sub)) return fieldMatches(sub, value);
    if (isObject(sub)) {
      if (Array.isArray(value)) {
        const objects = value.filter(isObject);
        return objects.length === 0
          ? objectMatches(sub, undefined)
          : objects.some((element) => objectMatches(sub, element));
      }
      return objectMatches(sub, value);
    }
    throw new Error(
      `pattern field "${key}" must be an array of matchers or an object, got ${JSON.stringify(sub)}`,
    );
  });
}

/**
 * Whether an EventBridge event pattern matches an event. Throws for a pattern EventBridge would refuse or
 * that uses an operator this matcher does not implement.
 */
export function matchesEventPattern(pattern: Json, event: Json): boolean {
  if (!isObject(pattern) || Object.keys(pattern).length === 0)
    throw new Error('an event pattern is a non-empty object');
  return objectMatches(pattern, event);
}
