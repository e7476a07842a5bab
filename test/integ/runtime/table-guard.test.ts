import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { approvalKeys } from '../../../functions/approval/keys.ts';
import { startTestRuntime, type TestRuntime } from '../../support/runtime.ts';
import { GUARDED_ENTRY, guardedStack } from './guarded-stack.ts';

/** Puts an approval's task token in the table, as the request function does (test code is not guarded). */
async function putToken(t: TestRuntime, requestId: string): Promise<void> {
  await t.table.doc.send(
    new PutCommand({
      TableName: t.table.tableName,
      Item: { ...approvalKeys.token(requestId), token: 'secret' },
    }),
  );
}

describe('the table guard on the local runtime', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ scope: guardedStack() });
  });
  afterAll(async () => {
    await t.close();
  });

  it("refuses a function's read of an item its grant does not cover, and lets its own writes through", async () => {
    await putToken(t, 'r-1');
    const result = await t.runtime.run(
      'guarded',
      { incidentId: 'guard-1', requestId: 'r-1' },
      { name: 'guard-1' },
    );

    expect(result.status).toBe('FAILED');
    expect(result.error).toBe('AccessDeniedException');
    const table = `arn:aws:dynamodb:us-east-1:123456789012:table/${t.table.tableName}`;
    expect(JSON.parse(result.cause ?? '{}').errorMessage).toMatch(
      new RegExp(
        `^User: arn:aws:sts::123456789012:assumed-role/\\w+/\\w+ is not authorized to perform: dynamodb:GetItem on resource: ${table} because no identity-based policy allows the dynamodb:GetItem action$`,
      ),
    );
    const states = result.history.map((e) => `${e.type}${e.stateName ? `:${e.stateName}` : ''}`);
    expect(states).toContain('LambdaFunctionSucceeded:Note');
    expect(states).toContain('LambdaFunctionFailed:ReadToken');
    // The INCIDENT# write the grant covers reached the table.
    const note = await t.table.doc.send(
      new GetCommand({ TableName: t.table.tableName, Key: { pk: 'INCIDENT#guard-1', sk: 'NOTE#guard' } }),
    );
    expect(note.Item).toMatchObject({ note: 'noted' });
    const guarded = t.runtime.engine.functions().find((fn) => fn.entry === GUARDED_ENTRY);
    expect(t.runtime.tableGuard?.denials).toEqual([
      {
        function: guarded?.logicalId,
        command: 'GetItemCommand',
        action: 'dynamodb:GetItem',
        resource: table,
        leadingKeys: ['APPROVAL-TOKEN#r-1'],
        explicit: false,
      },
    ]);
  });
});

describe('the local runtime with the table guard turned off', () => {
  let t: TestRuntime;
  beforeAll(async () => {
    t = await startTestRuntime({ scope: guardedStack(), tableGuard: false });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers the same read from DynamoDB Local, which enforces no IAM', async () => {
    await putToken(t, 'r-2');
    const result = await t.runtime.run(
      'guarded',
      { incidentId: 'guard-2', requestId: 'r-2' },
      { name: 'guard-2' },
    );

    expect(t.runtime.tableGuard).toBeUndefined();
    expect(result.status).toBe('SUCCEEDED');
    expect(result.output).toMatchObject({ ReadToken: { token: 'secret' } });
  });
});
