/**
 * A persisted service's journal: one file that only ever receives appended JSON lines, one a change.
 * Every process that shares the file applies the same lines in the same order, so they agree on the
 * state; each reads only what was appended since its last read. A line is written with a single
 * `write(2)` on a descriptor opened with `O_APPEND`, so lines of two processes never interleave, and a
 * reader leaves an unfinished last line for its next read.
 */
import {
  closeSync,
  fchmodSync,
  fstatSync,
  mkdirSync,
  openSync,
  readSync,
  statSync,
  writeSync,
} from 'node:fs';
import { SandboxJournalError } from './errors.ts';

/** Owner read and write only: the KMS journal holds key material. */
const FILE_MODE = 0o600;
const NEWLINE = 0x0a;

/** Reads and appends one journal file. */
export class Journal {
  /** Bytes of the file already read. */
  #offset = 0;
  /** Lines already read. */
  #lines = 0;

  /** Opens (and creates, mode 0600, in a folder made with mode 0700) the journal at `file`. */
  constructor(
    readonly file: string,
    dir: string,
  ) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'a', FILE_MODE);
    try {
      secure(fd);
    } finally {
      closeSync(fd);
    }
  }

  /**
   * Calls `onLine` with each complete line appended since the last read, parsed, and its line number.
   * Throws {@link SandboxJournalError} for a line that is not JSON, or a file that shrank.
   */
  read(onLine: (value: unknown, line: number) => void): void {
    let size: number;
    try {
      size = statSync(this.file).size;
    } catch (error) {
      throw new SandboxJournalError(this.file, 'cannot be read', { cause: error });
    }
    if (size < this.#offset) {
      throw new SandboxJournalError(
        this.file,
        `is ${size} bytes, shorter than the ${this.#offset} already read: it was truncated or replaced`,
      );
    }
    if (size === this.#offset) return;
    const length = size - this.#offset;
    const buffer = Buffer.allocUnsafe(length);
    const fd = openSync(this.file, 'r');
    let filled = 0;
    try {
      while (filled < length) {
        const n = readSync(fd, buffer, filled, length - filled, this.#offset + filled);
        if (n === 0) break;
        filled += n;
      }
    } finally {
      closeSync(fd);
    }
    let start = 0;
    for (;;) {
      const end = buffer.indexOf(NEWLINE, start);
      if (end < 0 || end >= filled) return;
      const line = this.#lines + 1;
      let value: unknown;
      try {
        value = JSON.parse(buffer.toString('utf8', start, end));
      } catch (error) {
        throw new SandboxJournalError(this.file, `line ${line} is not JSON`, { cause: error });
      }
      onLine(value, line);
      this.#lines = line;
      this.#offset += end + 1 - start;
      start = end + 1;
    }
  }

  /** Appends `value` as one JSON line. */
  append(value: unknown): void {
    const data = Buffer.from(`${JSON.stringify(value)}\n`, 'utf8');
    const fd = openSync(this.file, 'a', FILE_MODE);
    try {
      const written = writeSync(fd, data);
      if (written !== data.length) {
        throw new SandboxJournalError(this.file, `wrote ${written} of ${data.length} bytes of a line`);
      }
    } finally {
      closeSync(fd);
    }
  }
}

/** Takes group and other permissions away from a journal made by hand or copied with looser modes. */
function secure(fd: number): void {
  if ((fstatSync(fd).mode & 0o077) !== 0) fchmodSync(fd, FILE_MODE);
}
