/**
 * Files a person can hold in mind: no source file is over {@link MAX_LINES} lines unless its header comment
 * (the comment before its first import or statement) has a line starting with {@link LONG_FILE_PHRASE}
 * followed by the reason, e.g. ` * Longer than 400 lines: one table of every EC2 error AWS documents.`
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
/** The folders whose files are the project's source (tests are not held to it). */
const SOURCE_FOLDERS = ['functions', 'infra', 'playbooks', 'cli', 'local', 'bench', 'bin'] as const;
const SOURCE_FILE = /\.(ts|js|mjs|cjs)$/;
const MAX_LINES = 400;
const LONG_FILE_PHRASE = 'Longer than 400 lines:';

/** The file's header: its leading comments, up to the first line of code. */
function header(text: string): string {
  const lines: string[] = [];
  let inBlock = false;
  for (const line of text.split('\n')) {
    const t = line.trim();
    if (inBlock) {
      lines.push(t);
      if (t.includes('*/')) inBlock = false;
    } else if (t.startsWith('/*')) {
      lines.push(t);
      inBlock = !t.includes('*/', 2);
    } else if (t.startsWith('//') || t.startsWith('#!') || t === '') {
      lines.push(t);
    } else break;
  }
  return lines.join('\n');
}

/** Why a long file is long, from its header: the text after the phrase, or undefined when it gives none. */
function statedReason(text: string): string | undefined {
  for (const line of header(text).split('\n')) {
    const t = line.replace(/^(\/\*\*?|\*|\/\/)\s*/, '');
    if (t.startsWith(LONG_FILE_PHRASE)) {
      const reason = t
        .slice(LONG_FILE_PHRASE.length)
        .replace(/\*\/\s*$/, '')
        .trim();
      return reason === '' ? undefined : reason;
    }
  }
  return undefined;
}

/** Lines as `wc -l` counts them (a last line without a newline still counts). */
const lineCount = (text: string): number => text.split('\n').length - (text.endsWith('\n') ? 1 : 0);

/** The offence of one file, or undefined: over the limit with no reason in its header. */
function offence(path: string, text: string): string | undefined {
  const n = lineCount(text);
  if (n <= MAX_LINES || statedReason(text) !== undefined) return undefined;
  return `${path}: ${n} lines (over ${MAX_LINES}, and its header has no "${LONG_FILE_PHRASE} <why>" line)`;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'node_modules' ? [] : sourceFiles(path);
    return SOURCE_FILE.test(entry.name) ? [path] : [];
  });
}

describe('the file-length check', () => {
  const long = (head: string) => `${head}\n${'const x = 1;\n'.repeat(MAX_LINES)}`;

  it('passes a file of exactly the limit and fails one line more', () => {
    expect(offence('a.ts', 'x;\n'.repeat(MAX_LINES))).toBeUndefined();
    expect(offence('a.ts', 'x;\n'.repeat(MAX_LINES + 1))).toBe(
      `a.ts: ${MAX_LINES + 1} lines (over ${MAX_LINES}, and its header has no "${LONG_FILE_PHRASE} <why>" line)`,
    );
  });

  it('accepts a long file whose header comment says why', () => {
    const text = long(
      `/**\n * The EC2 errors.\n *\n * ${LONG_FILE_PHRASE} one table of every error AWS documents.\n */`,
    );
    expect(statedReason(text)).toBe('one table of every error AWS documents.');
    expect(offence('a.ts', text)).toBeUndefined();
    expect(offence('a.ts', long(`// ${LONG_FILE_PHRASE} generated from the API model`))).toBeUndefined();
  });

  it('refuses the phrase with no reason, or outside the header', () => {
    expect(offence('a.ts', long(`/** ${LONG_FILE_PHRASE} */`))).toContain('a.ts:');
    expect(
      offence('a.ts', long(`/** A file. */\nimport x from 'y';\n// ${LONG_FILE_PHRASE} too late`)),
    ).toContain('a.ts:');
  });
});

describe('the source', () => {
  it(`has no file over ${MAX_LINES} lines whose header does not say why`, () => {
    const offences = SOURCE_FOLDERS.flatMap((folder) => sourceFiles(join(ROOT, folder)))
      .map((path) => offence(relative(ROOT, path), readFileSync(path, 'utf8')))
      .filter((o): o is string => o !== undefined)
      .sort();
    expect(offences, `Split these files, or say in the header why not:\n${offences.join('\n')}`).toEqual([]);
  });
});
