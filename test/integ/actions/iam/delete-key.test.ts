import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecorder } from '#shared/audit';
import { AccessDeniedError, ResourceNotFoundError } from '#shared/errors';
import { deleteKey } from '../../../../functions/actions/iam-delete-key/core.ts';
import { createTestTable, type TestTable } from '../../../support/store.ts';
import {
  audited,
  BOB_KEY,
  errorOf,
  KEY_1,
  KEY_2,
  mutatingCalls,
  openIncident,
  setupIam,
  T0,
} from './helpers.ts';

let table: TestTable;
let recorder: AuditRecorder;
beforeAll(async () => {
  table = await createTestTable('iam-delete');
  recorder = table.recorder();
});
afterAll(async () => {
  await table.drop();
});

async function bench() {
  const { sandbox, iam } = setupIam();
  const incident = await openIncident(recorder);
  const run = audited(recorder, 'eradication', 'iam-delete-key', (event) =>
    deleteKey({ iam, recorder }, event),
  );
  return { sandbox, iam, incident, run };
}

describe('iam-delete-key', () => {
  it('deletes the compromised key, recording its state and that it cannot be restored', async () => {
    const { sandbox, incident, run } = await bench();
    const result = await run({ incidentId: incident.id, userName: 'alice', accessKeyId: KEY_2 });
    expect(result.status).toBe('succeeded');
    expect(sandbox.state().iam.accessKeys[KEY_2]).toBeUndefined();
    expect(sandbox.state().iam.accessKeys[KEY_1]).toBeDefined();
    expect(result.before).toEqual({
      userName: 'alice',
      key: {
        accessKeyId: KEY_2,
        status: 'Active',
        createDate: new Date(T0 - 2 * 86_400_000).toISOString(),
        lastUsed: { date: new Date(T0 - 86_400_000).toISOString(), service: 'ec2', region: 'us-east-1' },
      },
    });
    expect(result.note).toContain('cannot be restored');
    expect(mutatingCalls(sandbox.calls)).toEqual(['DeleteAccessKey']);
  });

  it('reports already-done on a second run from the record, with no change made', async () => {
    const { sandbox, incident, run } = await bench();
    const event = { incidentId: incident.id, userName: 'alice', accessKeyId: KEY_2 };
    await run(event);
    const second = await run(event);
    expect(second.status).toBe('already-done');
    expect(mutatingCalls(sandbox.calls)).toEqual(['DeleteAccessKey']);
    const steps = await recorder.steps(incident.id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'succeeded', 'started', 'already-done']);
  });

  it('throws ResourceNotFoundError for a key this incident never deleted', async () => {
    const { sandbox, incident, run } = await bench();
    const error = await errorOf(run({ incidentId: incident.id, userName: 'alice', accessKeyId: BOB_KEY }));
    expect(error).toBeInstanceOf(ResourceNotFoundError);
    expect(sandbox.state().iam.accessKeys[BOB_KEY]).toBeDefined();
  });

  it('throws AccessDeniedError when IAM denies the deletion, keeping the key', async () => {
    const { sandbox, incident, run } = await bench();
    sandbox.failNext('DeleteAccessKey', 1, { code: 'AccessDenied' });
    const error = await errorOf(run({ incidentId: incident.id, userName: 'alice', accessKeyId: KEY_2 }));
    expect(error).toBeInstanceOf(AccessDeniedError);
    expect(sandbox.state().iam.accessKeys[KEY_2]).toBeDefined();
    expect((await recorder.steps(incident.id)).map((s) => s.status)).toEqual(['started', 'failed']);
  });

  it('deletes nothing on a dry run', async () => {
    const { sandbox, iam } = await bench();
    const result = await deleteKey(
      { iam },
      { incidentId: 'x', userName: 'alice', accessKeyId: KEY_2, dryRun: true },
    );
    expect(result).toMatchObject({ status: 'succeeded', dryRun: true, changes: { deletedKeys: [KEY_2] } });
    expect(sandbox.state().iam.accessKeys[KEY_2]).toBeDefined();
    expect(mutatingCalls(sandbox.calls)).toEqual([]);
  });
});
