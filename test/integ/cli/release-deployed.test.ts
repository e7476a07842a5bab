/**
 * `cordon release <id>` on the deployed stack: it picks the release playbook from the incident's verified
 * record and starts `cordon-<playbook>` with StartExecution, as the operator STS names (here the local
 * runtime stands in for Step Functions and the account). The release playbook refuses, before anyone is
 * asked, when there is nothing to release, and then leaves the incident's status as it was; it releases
 * and marks the incident recovered only after an approval and a change.
 */
import { SFNClient } from '@aws-sdk/client-sfn';
import { STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeClient } from '#shared/clients';
import type { Resource } from '#shared/domain';
import { RecordTamperedError, ValidationError } from '#shared/errors';
import { incidentFrom } from '#shared/incident-from';
import { startRelease } from '../../../cli/commands/release.ts';
import { releaseFor } from '../../../cli/playbook-choice.ts';
import { answerApprovals, findingFor, startPlaybook } from '../../support/playbook.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';

const KEY: Resource = {
  type: 'access-key',
  id: 'AKIARELEASE000000001',
  details: { userName: 'alice', userType: 'IAMUser' },
};
const seed = {
  iam: { users: [{ name: 'alice', accessKeys: [{ id: KEY.id }, { id: 'AKIARELEASE000000002' }] }] },
};

let t: TestRuntime;
beforeAll(async () => {
  t = await startTestRuntime({ approvals: {}, seed });
});
afterAll(async () => {
  await t?.close();
});

const deps = () => ({
  recorder: t.runtime.recorder,
  sfn: makeClient(SFNClient, { service: 'SFN' }),
  sts: makeClient(STSClient, { service: 'STS' }),
  region: 'us-east-1',
});

async function ended(executionArn: string) {
  const execution = t.runtime.engine.executionList().find((e) => e.arn === executionArn);
  const result = await execution?.done;
  await t.runtime.settled();
  return result;
}

describe('cordon release on the deployed stack', () => {
  it('chooses the release playbook from the verified incident, and refuses others', () => {
    const incident = (playbook: string | undefined, resources: Resource[]) => ({
      id: 'inc-1',
      resources,
      ...(playbook ? { playbook } : {}),
    });
    expect(releaseFor(incident('iam-credential-compromise', [KEY])).playbook).toBe('iam-release');
    expect(
      releaseFor(incident('ec2-compromise', [KEY, { type: 'instance', id: 'i-1' }])).resource,
    ).toMatchObject({ id: 'i-1' });
    expect(() => releaseFor(incident('recover', [{ type: 'instance', id: 'i-1' }]))).toThrow(ValidationError);
    expect(() => releaseFor(incident(undefined, [KEY]))).toThrow(/opened for no playbook/);
  });

  it('refuses a release with nothing to release before asking anyone, and leaves the status', async () => {
    const finding = findingFor(KEY, 'UnauthorizedAccess:IAMUser/TorIPCaller');
    const incident = await t.runtime.recorder.openIncident(
      incidentFrom(finding, 'iam-credential-compromise', KEY),
    );
    const emails = t.runtime.outbox?.emails.length ?? 0;
    const started = await startRelease(deps(), incident.id);
    expect(started.playbook).toBe('iam-release');
    expect(started.input.reasons).toEqual([
      expect.stringMatching(/^started by arn:aws:sts::123456789012:.* with cordon release$/),
    ]);
    const result = await ended(started.executionArn);
    expect(result?.status).toBe('SUCCEEDED');
    const states = result?.history.flatMap((e) => (e.type.endsWith('StateEntered') ? [e.stateName] : []));
    expect(states).toContain('Nothing to release');
    expect(states).not.toContain('Approve release: enter');
    expect(states).not.toContain('Mark recovered');
    expect(t.runtime.outbox?.emails.length).toBe(emails);
    expect((await t.runtime.recorder.getIncident(incident.id)).status).toBe('open');
    const release = (await t.runtime.recorder.steps(incident.id)).filter((s) => s.action === 'iam-release');
    expect(release.at(-1)).toMatchObject({
      status: 'skipped',
      note: expect.stringMatching(/nothing to release/),
    });
  });

  it('releases a contained key after approval, and only then marks the incident recovered', async () => {
    const contain = await startPlaybook(t.runtime, 'iam-credential-compromise', KEY, 'automatic');
    const stopContain = answerApprovals(t.runtime, contain.incidentId, ['reject']);
    expect((await contain.execution.done).status).toBe('SUCCEEDED');
    stopContain();
    await t.runtime.settled();
    const key = () => t.runtime.sandbox.state().iam.accessKeys[KEY.id];
    expect(key()?.status).toBe('Inactive');

    const emails = t.runtime.outbox?.emails.length ?? 0;
    const stop = answerApprovals(t.runtime, contain.incidentId, ['approve'], emails);
    const started = await startRelease(deps(), contain.incidentId);
    expect((await ended(started.executionArn))?.status).toBe('SUCCEEDED');
    stop();
    expect(key()?.status).toBe('Active');
    expect((await t.runtime.recorder.getIncident(contain.incidentId)).status).toBe('recovered');
  });

  it('refuses to start a release from a record that does not verify', async () => {
    await expect(startRelease(deps(), 'no-such-incident')).rejects.toThrow();
    const before = t.runtime.engine.executionList().length;
    const incident = await t.runtime.recorder.openIncident(
      incidentFrom(findingFor(KEY), 'iam-credential-compromise', KEY),
    );
    const { UpdateCommand } = await import('@aws-sdk/lib-dynamodb');
    const { keys } = await import('#shared/audit-table');
    const { makeDocumentClient } = await import('#shared/dynamo');
    await makeDocumentClient().send(
      new UpdateCommand({
        TableName: t.runtime.recorder.tableName,
        Key: keys.incident(incident.id),
        UpdateExpression: 'SET #p = :p',
        ExpressionAttributeNames: { '#p': 'playbook' },
        ExpressionAttributeValues: { ':p': 'ec2-compromise' },
      }),
    );
    await expect(startRelease(deps(), incident.id)).rejects.toBeInstanceOf(RecordTamperedError);
    expect(t.runtime.engine.executionList()).toHaveLength(before);
  });
});
