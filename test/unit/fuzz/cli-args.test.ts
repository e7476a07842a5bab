/**
 * Bad input on the console's command line: `main(argv)` returns an exit status for any argv and never
 * lets an error escape. Two safe families, so that no generated argv runs a command that starts a store
 * or reaches an endpoint: argv holding an option no command has (the parser refuses it before any
 * action), and `triage` (which only reads the file it is given) with arbitrary files and options.
 * Any AWS endpoint a command might reach is pointed at a closed loopback port for the run.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../../cli/main.ts';

const COMMANDS = [
  'demo',
  'triage',
  'run',
  'approvals',
  'list',
  'approve',
  'reject',
  'incidents',
  'show',
  'steps',
  'stats',
  'report',
  'verify',
  'help',
];
const OPTIONS = [
  '--local',
  '--aws',
  '--dry-run',
  '--playbook',
  '--event',
  '--account',
  '--decision',
  '--wait-scale',
  '--state-dir',
  '--since',
  '--until',
  '--status',
  '--json',
  '-h',
  '--help',
  '--version',
  '-V',
];

const output: string[] = [];
const writes = { out: process.stdout.write, err: process.stderr.write };
const saved = { endpoint: process.env.AWS_ENDPOINT_URL, exitCode: process.exitCode };
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'cordon-cli-fuzz-'));
  process.env.AWS_ENDPOINT_URL = 'http://127.0.0.1:9';
  const capture = ((chunk: string | Uint8Array) => {
    output.push(String(chunk));
    return true;
  }) as typeof process.stdout.write;
  process.stdout.write = capture;
  process.stderr.write = capture;
});
afterAll(() => {
  process.stdout.write = writes.out;
  process.stderr.write = writes.err;
  if (saved.endpoint === undefined) delete process.env.AWS_ENDPOINT_URL;
  else process.env.AWS_ENDPOINT_URL = saved.endpoint;
  process.exitCode = saved.exitCode;
});

/** Any token a person might type, except `--` (which would turn the refused option into an operand). */
const token = fc
  .oneof(
    fc.constantFrom(...COMMANDS, ...OPTIONS),
    fc.string({ maxLength: 30 }),
    fc.stringMatching(/^--?[a-z-]{1,12}(=.{0,10})?$/),
    fc.constantFrom('', ' ', '\u0000', '-', '-1', 'NaN', '{}', '../../etc/passwd', 'x'.repeat(2000)),
  )
  .filter((t) => t !== '--');

describe("the console's arguments", () => {
  it('answers any argv holding an option no command has with a status, never an unhandled error', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...COMMANDS), { maxLength: 2 }),
        fc.stringMatching(/^[a-z]{4,10}$/),
        fc.array(token, { maxLength: 6 }),
        async (path, unknown, rest) => {
          const status = await main([...path, `--cordon-fuzz-${unknown}`, ...rest]);
          expect(Number.isInteger(status)).toBe(true);
          expect(status).toBeGreaterThanOrEqual(0);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('refuses what it cannot use: an unknown option is a non-zero status', async () => {
    expect(await main(['list', '--cordon-fuzz-nope'])).not.toBe(0);
    expect(await main(['--cordon-fuzz-nope'])).not.toBe(0);
  });

  it('triages any file, however malformed, with status 0 or 1 and never an unhandled error', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string({ maxLength: 500 }),
          fc.jsonValue().map((v) => JSON.stringify({ detail: v })),
        ),
        fc.boolean(),
        fc.boolean(),
        async (content, exists, local) => {
          const file = join(dir, `event-${n++}.json`);
          if (exists) writeFileSync(file, content);
          const status = await main(['triage', file, ...(local ? ['--local'] : [])]);
          expect([0, 1]).toContain(status);
          if (!exists) expect(status).toBe(1);
        },
      ),
      { numRuns: 150 },
    );
  });
});
