import { describe, expect, it } from 'vitest';
import { ValidationError } from '#shared/errors';
import { csv, csvField, resolveFormat, textTable } from '../../../cli/output.ts';

describe('output format', () => {
  it('defaults to a table on a terminal and to JSON when piped', () => {
    expect(resolveFormat(undefined, true)).toBe('table');
    expect(resolveFormat(undefined, false)).toBe('json');
    expect(resolveFormat('csv', true)).toBe('csv');
  });

  it('refuses an unknown format with the formats it knows', () => {
    expect(() => resolveFormat('yaml', true)).toThrow(ValidationError);
    expect(() => resolveFormat('yaml', true)).toThrow(/table, json, csv.*"yaml"/);
  });
});

describe('csv', () => {
  it('quotes fields holding commas, quotes and line breaks, doubling the quotes', () => {
    expect(csvField('a,b')).toBe('"a,b"');
    expect(csvField('say "hi"')).toBe('"say ""hi"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(7.5)).toBe('7.5');
    expect(csvField(undefined)).toBe('');
  });

  it('defuses text a spreadsheet would run as a formula', () => {
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`);
    expect(csvField('@SUM(A1)')).toBe("'@SUM(A1)");
    expect(csvField(-1)).toBe('-1');
  });

  it('writes a header line and one line per row', () => {
    const rows = [{ a: 'x', b: 1 }];
    expect(
      csv(rows, [
        { header: 'a', cell: (r) => r.a },
        { header: 'b', cell: (r) => r.b },
      ]),
    ).toBe('a,b\nx,1\n');
  });
});

describe('table', () => {
  it('says so when there is nothing to show, and keeps each row on one line', () => {
    const columns = [{ header: 'note', cell: (r: { note: string }) => r.note }];
    expect(textTable([], columns, 'No steps.')).toBe('No steps.');
    expect(textTable([{ note: 'a\n  b' }], columns, '')).toBe('note\n----\na b');
  });
});
