/**
 * How the console prints: `--output table|json|csv`, a table by default on a terminal and JSON when piped,
 * as the AWS CLI does. JSON keeps every field; the table and CSV show the columns a command names.
 */
import { ValidationError } from '#shared/errors';
import { table } from './format.ts';

export const OUTPUT_FORMATS = ['table', 'json', 'csv'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Where a command writes: its result to `out`, hints and progress to `err`. */
export interface ConsoleIO {
  out(text: string): void;
  err(text: string): void;
  /** Whether `out` is a terminal: decides the default format. */
  readonly isTTY: boolean;
}

/** The process's own stdout and stderr. */
export const processIO: ConsoleIO = {
  out: (text) => process.stdout.write(text.endsWith('\n') ? text : `${text}\n`),
  err: (text) => process.stderr.write(text.endsWith('\n') ? text : `${text}\n`),
  get isTTY() {
    return process.stdout.isTTY === true;
  },
};

/** `--output`, or the default: a table on a terminal, JSON otherwise. */
export function resolveFormat(value: string | undefined, isTTY: boolean): OutputFormat {
  if (value === undefined) return isTTY ? 'table' : 'json';
  if ((OUTPUT_FORMATS as readonly string[]).includes(value)) return value as OutputFormat;
  throw new ValidationError('--output', [`must be one of ${OUTPUT_FORMATS.join(', ')}, got "${value}"`]);
}

/** A column of a table or CSV: its header and how to read a row's cell. */
export interface Column<T> {
  readonly header: string;
  readonly cell: (row: T) => string | number | boolean | undefined;
}

function text(value: string | number | boolean | undefined): string {
  return value === undefined ? '' : String(value);
}

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, quotes doubled. A text
 * that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first) gets a leading `'`, since
 * titles and notes can carry text from outside (OWASP, "CSV Injection").
 */
export function csvField(value: string | number | boolean | undefined): string {
  let out = text(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(out)) out = `'${out}`;
  return /[",\r\n]/.test(out) ? `"${out.replace(/"/g, '""')}"` : out;
}

/** Rows as CSV with a header line, lines ending in `\n`. */
export function csv<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const lines = [columns.map((c) => csvField(c.header)).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvField(c.cell(row))).join(','));
  return `${lines.join('\n')}\n`;
}

/** Rows as a padded table; one line when there is nothing to show. */
export function textTable<T>(rows: readonly T[], columns: readonly Column<T>[], empty: string): string {
  if (rows.length === 0) return empty;
  return table(
    columns.map((c) => c.header),
    rows.map((row) => columns.map((c) => text(c.cell(row)).replace(/\s*\n\s*/g, ' '))),
  );
}

/** JSON as the console prints it: two-space indent, a final newline. */
export function json(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/**
 * Prints a list in the chosen format. JSON is an object `{ [key]: rows, nextToken? }` (the AWS CLI's shape);
 * for a table or CSV the continuation token goes to `err`, so that the data stays clean.
 */
export function printList<T>(
  io: ConsoleIO,
  format: OutputFormat,
  list: { key: string; rows: readonly T[]; columns: readonly Column<T>[]; nextToken?: string; empty: string },
): void {
  if (format === 'json') {
    io.out(json({ [list.key]: list.rows, ...(list.nextToken ? { nextToken: list.nextToken } : {}) }));
    return;
  }
  io.out(format === 'csv' ? csv(list.rows, list.columns) : textTable(list.rows, list.columns, list.empty));
  if (list.nextToken) io.err(`More results: pass --next-token ${list.nextToken}`);
}
