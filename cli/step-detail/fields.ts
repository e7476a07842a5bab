/** Reading what a step recorded (its `before`, `changes`, `output`, `input`) without trusting its shape. */
import type { Step } from '#shared/domain';

export type Fields = Record<string, unknown>;

export function rec(value: unknown): Fields {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Fields) : {};
}

export function arr(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}

export function str(value: unknown): string | undefined {
  return typeof value === 'string' && value !== '' ? value : undefined;
}

export function strs(value: unknown): string[] {
  return arr(value).filter((v): v is string => typeof v === 'string' && v !== '');
}

export function list(values: readonly string[], none = 'none'): string {
  return values.length === 0 ? none : values.join(',');
}

/** What a describer reads of a step. */
export interface Recorded {
  readonly step: Step;
  readonly before: Fields;
  readonly changes: Fields;
  readonly output: Fields;
  readonly input: Fields;
  readonly dryRun: boolean;
}

/** A describer: the facts of what the step changed (or, in a dry run, would change). */
export type Describer = (r: Recorded) => string[];
