/**
 * The report of an incident recorded by a real playbook run (ec2-compromise on the local engine and the
 * sandbox account, eradication approved by link), compared with a golden Markdown file after replacing
 * what changes from run to run: the incident id, times (all one name: two steps may or may not share a millisecond),
 * durations and random ids.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalLink, decide, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { seed, WEB } from '../actions/ec2/helpers.ts';
import { cordon } from './helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ approvals: {}, waitScale: 0.01 });
});
afterAll(async () => {
  await t.close();
});

/** Replaces the volatile parts of a report; each distinct random id gets a numbered name in order of appearance. */
function normalizeReport(text: string, incidentId: string): string {
  const numbered = (pattern: RegExp, name: string) => {
    const seen = new Map<string, string>();
    return (input: string) =>
      input.replace(pattern, (match) => {
        let label = seen.get(match);
        if (!label) {
          label = `<${name}-${seen.size + 1}>`;
          seen.set(match, label);
        }
        return label;
      });
  };
  let out = text.replaceAll(incidentId, '<incident>');
  out = out.replace(/\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z/g, '<time>');
  out = out.replace(/\b\d+ (ms|s|min|h|d)( \d+ (s|min|h))?\b/g, '<duration>');
  out = numbered(/\b[0-9a-f]{32}\b/g, 'id')(out);
  // A snapshot's progress at a check depends on how long the check waited: not part of the report's shape.
  out = out.replace(/(snap-[0-9a-f]+) \d{1,3}%/g, '$1 <progress>%');
  return out;
}

describe('cordon report of a playbook run', () => {
  it('matches the golden Markdown report, with the approval, the state before and after, and the evidence', async () => {
    t.runtime.useAccount(seed());
    const emails = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'ec2-compromise', { type: 'instance', id: WEB }, 'automatic', {
      name: 'report-golden',
    });
    expect(
      await decide(await approvalLink(t.runtime, run.incidentId, emails), 'approve', 'confirmed C2'),
    ).toBe(200);
    expect((await run.execution.done).status).toBe('SUCCEEDED');

    const ran = await cordon([
      'report',
      run.incidentId,
      '--endpoint',
      t.table.endpoint,
      '--table',
      t.table.tableName,
    ]);
    expect(ran.status).toBe(0);
    expect(ran.out).toMatch(
      new RegExp(`\\| \\d+ \\| stop-instance \\| ${WEB} \\| approve \\| [^|]+@[^|]+ \\|`),
    );
    await expect(normalizeReport(ran.out, run.incidentId)).toMatchFileSnapshot(
      '../../fixtures/golden/report-ec2-compromise.md',
    );
  });
});
