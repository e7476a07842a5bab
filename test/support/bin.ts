/**
 * Runs the real `cordon` binary (`bin/cordon.js`) in a child process, as a person at a terminal would,
 * and returns what it printed and its exit status. Asynchronous, so that a test's own servers (a fake
 * endpoint, the approval server) keep answering while it runs.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const CORDON_BIN = fileURLToPath(new URL('../../bin/cordon.js', import.meta.url));

export interface BinRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

export interface BinOptions {
  /** Added to (or, with `undefined`, removed from) the test process's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Written to the command's standard input, then closed. */
  readonly input?: string;
  /** Kills the command after this long (default 120 s) and fails. */
  readonly timeoutMs?: number;
}

/** Runs `cordon <args>`; resolves when it exits. */
export function runCordon(args: readonly string[], options: BinOptions = {}): Promise<BinRun> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries({ ...process.env, ...options.env })) {
    if (v !== undefined) env[k] = v;
  }
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CORDON_BIN, ...args], {
      env,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(
        new Error(
          `cordon ${args.join(' ')} ran over ${options.timeoutMs ?? 120_000} ms\n${stdout}\n${stderr}`,
        ),
      );
    }, options.timeoutMs ?? 120_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ status: code ?? 1, stdout, stderr });
    });
    child.stdin.end(options.input ?? '');
  });
}
