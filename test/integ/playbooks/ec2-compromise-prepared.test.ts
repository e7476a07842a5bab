/**
 * The ec2-compromise playbook of Cordon's own stack, on the local engine and sandbox, with the isolation
 * groups prepared before the incident (`cordon prepare`) and named in the stack's settings: the default
 * two-step isolation makes 1 + 2n EC2 calls until isolated, the isolate stage working from what the swap
 * stage handed over through the state machine, and records the check it made after isolating.
 */
import { EC2Client } from '@aws-sdk/client-ec2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import settings from '../../../cordon.config.ts';
import { prepareIsolationGroups } from '../../../functions/actions/ec2-isolate/groups.ts';
import { Sandbox } from '../../../local/sandbox/index.ts';
import { answerApprovals, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { groupsOf, seed, VPC, WEB, WEB_ENI_0, WEB_ENI_1 } from '../actions/ec2/helpers.ts';

const config = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };

/** Prepares the groups of a fresh seed account: the sandbox's ids are the same for the same seed. */
const prepare = (sandbox: Sandbox) => prepareIsolationGroups(sandbox.attach(new EC2Client(config)), [VPC]);

let t: TestRuntime;
let groups: Awaited<ReturnType<typeof prepare>>;
beforeAll(async () => {
  groups = await prepare(Sandbox.create(seed()));
  t = await startTestRuntime({
    approvals: {},
    waitScale: 0.01,
    stack: { settings: { ...settings, ec2: { isolationGroups: groups } } },
  });
});
afterAll(async () => {
  await t.close();
});

describe('ec2-compromise with prepared isolation groups', () => {
  it('isolates a two-interface instance in 1 + 2n = 5 EC2 calls and records the check after', async () => {
    const sandbox = t.runtime.useAccount(seed());
    expect(await prepare(sandbox)).toEqual(groups);
    const isolation = groups[VPC]?.isolation ?? '';
    const mark = sandbox.calls.length;
    const emailsBefore = t.runtime.outbox?.emails.length ?? 0;
    const run = await startPlaybook(t.runtime, 'ec2-compromise', { type: 'instance', id: WEB });
    const stop = answerApprovals(t.runtime, run.incidentId, ['reject', 'reject'], emailsBefore);
    const result = await run.execution.done;
    stop();
    expect(result.status).toBe('SUCCEEDED');

    const ec2 = sandbox.calls.slice(mark).filter((c) => c.service === 'EC2');
    const isolated = ec2.findLastIndex(
      (c) =>
        c.command === 'ModifyNetworkInterfaceAttribute' &&
        JSON.stringify((c.input as { Groups?: string[] }).Groups) === JSON.stringify([isolation]),
    );
    expect(ec2.slice(0, isolated + 1).map((c) => c.command)).toEqual([
      'DescribeInstances',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
      'ModifyNetworkInterfaceAttribute',
    ]);
    const state = sandbox.state();
    expect(groupsOf(state, WEB_ENI_0)).toEqual([isolation]);
    expect(groupsOf(state, WEB_ENI_1)).toEqual([isolation]);
    // Nothing was created inside the containment.
    expect(sandbox.calls.slice(mark).some((c) => c.command === 'CreateSecurityGroup')).toBe(false);

    const steps = await t.runtime.recorder.steps(run.incidentId);
    const done = steps.filter((s) => s.action === 'ec2-isolate' && s.status === 'succeeded');
    expect(done.map((s) => (s.changes as { stage?: string }).stage)).toEqual(['swap', 'isolate']);
    // The swap stage records the state before containment in full.
    expect(done[0]?.before).toMatchObject({
      interfaces: [
        { networkInterfaceId: WEB_ENI_0, groups: ['sg-web', 'sg-admin'] },
        { networkInterfaceId: WEB_ENI_1, groups: ['sg-web'] },
      ],
    });
    expect(done[1]?.changes).toMatchObject({
      checkedAfter: { groups: expect.arrayContaining([isolation, groups[VPC]?.untrack]), fixedGroups: [] },
    });
    expect(done[1]?.note).toMatch(/checked after isolating/);
    const incident = await t.runtime.recorder.getIncident(run.incidentId);
    expect(incident.status).toBe('contained');
    await t.runtime.settled();
    expect((await t.runtime.recorder.verify(run.incidentId)).ok).toBe(true);
  });
});
