/**
 * The deployed handlers of the IAM actions, each through its middy chain: settings from CORDON_SETTINGS,
 * the record on DynamoDB Local, IAM answered by the sandbox account through the client factory's plugin.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Sandbox } from '#local/sandbox/index';
import type { ActionEvent, ActionResult } from '#shared/action';
import type { AuditRecorder } from '#shared/audit';
import { parseSettings } from '#shared/settings';
import settingsFile from '../../../../cordon.config.ts';
import { createTestTable, runHandlersOn, type TestTable } from '../../../support/store.ts';
import { context, KEY_2, mutatingCalls, openIncident, SEED, SERVICE_LINKED, T0 } from './helpers.ts';

type Handler = (event: ActionEvent, ctx: typeof context) => Promise<ActionResult>;

let table: TestTable;
let recorder: AuditRecorder;
let unregister: () => void;
const sandbox = Sandbox.create(SEED, { now: () => T0 });
const handlers: Record<string, Handler> = {};

beforeAll(async () => {
  table = await createTestTable('iam-handlers');
  recorder = table.recorder();
  process.env.CORDON_SETTINGS = JSON.stringify(parseSettings(settingsFile));
  unregister = runHandlersOn(table, sandbox);
  handlers.contain = (await import('../../../../functions/actions/iam-contain-user-key/handler.ts')).handler;
  handlers.revoke = (
    await import('../../../../functions/actions/iam-revoke-role-sessions/handler.ts')
  ).handler;
  handlers.root = (await import('../../../../functions/actions/iam-root-manual/handler.ts')).handler;
  handlers.deleteKey = (await import('../../../../functions/actions/iam-delete-key/handler.ts')).handler;
  handlers.release = (await import('../../../../functions/actions/iam-release/handler.ts')).handler;
});
afterAll(async () => {
  unregister();
  await table.drop();
});

function handler(name: string): Handler {
  const found = handlers[name];
  if (!found) throw new Error(`handler ${name} was not loaded`);
  return found;
}

const trail = async (incidentId: string) =>
  (await recorder.steps(incidentId)).map((s) => [s.phase, s.action, s.status] as const);

describe('the IAM action handlers', () => {
  it('iam-contain-user-key records started, then succeeded with the state before', async () => {
    const { id } = await openIncident(recorder);
    await handler('contain')(
      { incidentId: id, userName: 'bob', accessKeyId: 'AKIABOB0000000000001' },
      context,
    );
    expect(await trail(id)).toEqual([
      ['containment', 'iam-contain-user-key', 'started'],
      ['containment', 'iam-contain-user-key', 'succeeded'],
    ]);
    const finished = (await recorder.steps(id))[1];
    expect(finished?.before).toMatchObject({ userName: 'bob', accessKeys: [{ status: 'Active' }] });
    expect(sandbox.state().iam.accessKeys.AKIABOB0000000000001?.status).toBe('Inactive');
    expect(await recorder.verify(id)).toMatchObject({ ok: true, steps: 2 });
  });

  it('iam-contain-user-key records a failed step when IAM denies it, and rethrows the named error', async () => {
    const { id } = await openIncident(recorder);
    sandbox.failNext('UpdateAccessKey', 1, { code: 'AccessDenied' });
    await expect(
      handler('contain')({ incidentId: id, userName: 'alice', accessKeyId: KEY_2 }, context),
    ).rejects.toMatchObject({ name: 'AccessDeniedError' });
    const steps = await recorder.steps(id);
    expect(steps.map((s) => s.status)).toEqual(['started', 'failed']);
    expect(steps[1]?.error?.name).toBe('AccessDeniedError');
    expect(sandbox.state().iam.accessKeys[KEY_2]?.status).toBe('Active');
  });

  it('iam-revoke-role-sessions records started, then skipped for a service-linked role', async () => {
    const { id } = await openIncident(recorder);
    const result = await handler('revoke')({ incidentId: id, roleName: SERVICE_LINKED }, context);
    expect(result.status).toBe('skipped');
    expect(await trail(id)).toEqual([
      ['containment', 'iam-revoke-role-sessions', 'started'],
      ['containment', 'iam-revoke-role-sessions', 'skipped'],
    ]);
    expect((await recorder.steps(id))[1]?.note).toMatch(/^manual action required/);
  });

  it('iam-root-manual records started, then skipped with "manual action required", calling nothing', async () => {
    const { id } = await openIncident(recorder);
    const callsBefore = sandbox.calls.length;
    const result = await handler('root')({ incidentId: id, account: '123456789012' }, context);
    expect(result.output).toMatchObject({ manualActionRequired: true });
    expect(await trail(id)).toEqual([
      ['containment', 'iam-root-manual', 'started'],
      ['containment', 'iam-root-manual', 'skipped'],
    ]);
    expect(sandbox.calls.length).toBe(callsBefore);
  });

  it('iam-release restores, after a containment and a role revocation, what they recorded', async () => {
    const { id } = await openIncident(recorder);
    const before = sandbox.state().iam;
    await handler('contain')({ incidentId: id, userName: 'alice', accessKeyId: KEY_2 }, context);
    await handler('revoke')({ incidentId: id, roleName: 'app' }, context);
    const result = await handler('release')({ incidentId: id }, context);
    expect(result.status).toBe('succeeded');
    expect(sandbox.state().iam).toEqual(before);
    expect((await trail(id)).slice(-2)).toEqual([
      ['recovery', 'iam-release', 'started'],
      ['recovery', 'iam-release', 'succeeded'],
    ]);
  });

  it('iam-delete-key records started, then succeeded, then already-done on a repeat', async () => {
    const { id } = await openIncident(recorder);
    const event = { incidentId: id, userName: 'alice', accessKeyId: KEY_2 };
    const callsBefore = sandbox.calls.length;
    await handler('deleteKey')(event, context);
    await handler('deleteKey')(event, context);
    expect(await trail(id)).toEqual([
      ['eradication', 'iam-delete-key', 'started'],
      ['eradication', 'iam-delete-key', 'succeeded'],
      ['eradication', 'iam-delete-key', 'started'],
      ['eradication', 'iam-delete-key', 'already-done'],
    ]);
    expect(mutatingCalls(sandbox.calls.slice(callsBefore))).toEqual(['DeleteAccessKey']);
    expect(sandbox.state().iam.accessKeys[KEY_2]).toBeUndefined();
  });
});
