/**
 * After the demo, `cordon incidents list --local` in a new process lists the demo's incidents from the
 * state folder's store, starting DynamoDB Local for the query since the demo's has stopped.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../../cli/commands/demo.ts';

describe('cordon incidents list --local', () => {
  it("lists the demo's incidents from the state folder in a new process, and shows, verifies and reports them", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'cordon-state-'));
    const lines: string[] = [];
    expect(await runDemo({ stateDir: dir, out: (line) => lines.push(line) })).toBe(0);
    const started = lines.flatMap((l) => /^Router: incident (\S+),/.exec(l)?.[1] ?? []);
    expect(started).toHaveLength(2);

    const bin = fileURLToPath(new URL('../../../bin/cordon.js', import.meta.url));
    const run = (...args: string[]) =>
      spawnSync(process.execPath, [bin, ...args], {
        env: { ...process.env, CORDON_STATE_DIR: dir },
        encoding: 'utf8',
        timeout: 90_000,
      });
    const list = run('incidents', 'list', '--local', '--output', 'json');
    expect(list.stderr).toBe('');
    expect(list.status).toBe(0);
    const listed = (JSON.parse(list.stdout) as { incidents: { id: string; status: string }[] }).incidents;
    expect(listed.map((i) => i.id).sort()).toEqual([...started].sort());

    const id = started[0] ?? '';
    const verify = run('verify', '--all', '--local', '--output', 'csv');
    expect(verify.status).toBe(0);
    expect(verify.stdout.match(/,ok,/g)).toHaveLength(2);
    const report = run('report', id, '--local');
    expect(report.status).toBe(0);
    expect(report.stdout).toContain(`| Incident | ${id} |`);
    expect(report.stdout).toContain('## Approvals');
  }, 180_000);
});
