/**
 * The fault suite, generated from the playbooks: each scenario runs once cleanly to learn every AWS call
 * its playbook makes; then, for each distinct call, a run with a throttling error injected once must
 * succeed (retried), and a run with an access denial, and one with a server error past the retries, must
 * end in a recorded failure with the approvers emailed and nothing after the failed step. A new call in
 * a playbook is covered without a new test.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resource } from '#shared/domain';
import type { AccountSeed, Sandbox } from '../../../local/sandbox/index.ts';
import { answerApprovals, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { seed as ec2Seed, WEB } from '../actions/ec2/helpers.ts';
import { SEED as iamSeed, KEY_1 } from '../actions/iam/helpers.ts';

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ approvals: {}, waitScale: 0.001 });
});
afterAll(async () => {
  await t.close();
});

interface Scenario {
  readonly playbook: string;
  readonly seed: () => AccountSeed;
  readonly resource: Resource;
  /** How the approvals are answered, in order. */
  readonly decisions: readonly ('approve' | 'reject')[];
}

const SCENARIOS: Scenario[] = [
  {
    playbook: 'ec2-compromise',
    seed: ec2Seed,
    resource: { type: 'instance', id: WEB },
    decisions: ['approve', 'reject'],
  },
  {
    playbook: 'iam-credential-compromise',
    seed: () => iamSeed,
    resource: { type: 'access-key', id: KEY_1, details: { userType: 'IAMUser', userName: 'alice' } },
    decisions: ['approve'],
  },
];

/** Throttling, access-denied and server-error codes, as each service names them. */
const CODES: Record<string, { throttle: string; denied: string; server: string }> = {
  EC2: { throttle: 'RequestLimitExceeded', denied: 'UnauthorizedOperation', server: 'InternalError' },
  IAM: { throttle: 'Throttling', denied: 'AccessDenied', server: 'ServiceFailure' },
  AutoScaling: { throttle: 'Throttling', denied: 'AccessDenied', server: 'InternalFailure' },
  ELBv2: { throttle: 'Throttling', denied: 'AccessDenied', server: 'InternalFailure' },
  ELB: { throttle: 'Throttling', denied: 'AccessDenied', server: 'InternalFailure' },
  Backup: {
    throttle: 'ThrottlingException',
    denied: 'AccessDeniedException',
    server: 'ServiceUnavailableException',
  },
  SESv2: { throttle: 'TooManyRequestsException', denied: 'AccessDeniedException', server: 'InternalFailure' },
};

async function run(scenario: Scenario, inject?: (sandbox: Sandbox) => void) {
  const sandbox = t.runtime.useAccount(scenario.seed());
  inject?.(sandbox);
  const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
  const started = await startPlaybook(t.runtime, scenario.playbook, scenario.resource);
  const stop = answerApprovals(t.runtime, started.incidentId, scenario.decisions, emailsBefore);
  const result = await started.execution.done;
  stop();
  const steps = await t.runtime.recorder.steps(started.incidentId);
  const emails = t.runtime.outbox?.emails.slice(emailsBefore) ?? [];
  return { sandbox, result, steps, emails };
}

for (const scenario of SCENARIOS) {
  describe(`${scenario.playbook}, every AWS call`, () => {
    it('retries an injected throttle on each call to success, and ends a denial or a server error past the retries in a recorded failure', async () => {
      const clean = await run(scenario);
      expect(clean.result.status).toBe('SUCCEEDED');
      const calls = [
        ...new Set(
          clean.sandbox.calls.filter((c) => c.service in CODES).map((c) => `${c.service}:${c.command}`),
        ),
      ];
      expect(calls.length).toBeGreaterThan(3);
      for (const call of calls) {
        const [service = ''] = call.split(':');
        const codes = CODES[service];
        if (!codes) continue;

        const throttled = await run(scenario, (s) => s.failNext(call, 1, { code: codes.throttle }));
        expect(throttled.result.status, `${call} throttled once`).toBe('SUCCEEDED');
        expect(
          throttled.sandbox.calls.find((c) => `${c.service}:${c.command}` === call)?.error?.name,
          call,
        ).toBe(codes.throttle);

        // A failed email cannot announce itself by email: SES failures are checked as failures only.
        for (const [kind, code, fault] of [
          ['denied', codes.denied, 'client'],
          ['server error', codes.server, 'server'],
        ] as const) {
          const failed = await run(scenario, (s) => s.failNext(call, 100, { code, fault }));
          const failedSteps = failed.steps.filter((s) => s.status === 'failed');
          expect(failedSteps.length, `${call} ${kind}: a failed step is recorded`).toBeGreaterThan(0);
          if (failed.result.status === 'SUCCEEDED') {
            // A retry that no longer needed the call (an earlier call of the same attempt did its work,
            // e.g. leaving the Auto Scaling group also deregisters the instance from the group's target
            // groups): the record must show the failure, then the same action finishing.
            const action = failedSteps[0]?.action;
            expect(
              failed.steps.some(
                (s) =>
                  s.action === action &&
                  s.seq > (failedSteps[0]?.seq ?? 0) &&
                  s.status !== 'started' &&
                  s.status !== 'failed',
              ),
              `${call} ${kind}: the action finished on a retry`,
            ).toBe(true);
            expect(
              failed.sandbox.calls.filter((c) => `${c.service}:${c.command}` === call).length,
              `${call} ${kind}: the retry no longer made the call`,
            ).toBeLessThan(5);
            continue;
          }
          expect(failed.result.status, `${call} ${kind}`).toBe('FAILED');
          const firstFailed = failedSteps.at(-1)?.seq ?? 0;
          expect(
            failed.steps
              .filter(
                (s) =>
                  s.seq > firstFailed &&
                  !['notify', 'approval-request'].includes(s.action) &&
                  s.status === 'succeeded',
              )
              .map((s) => s.action),
            `${call} ${kind}: nothing after the failed step`,
          ).toEqual([]);
          if (service !== 'SESv2') {
            expect(
              failed.emails.some((e) => e.subject.includes('FAILED')),
              `${call} ${kind}: approvers emailed`,
            ).toBe(true);
          }
        }
      }
    });
  });
}
