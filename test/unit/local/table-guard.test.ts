import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { makeClient, registerClientPlugin } from '#shared/clients';
import type { CfnTemplate } from '../../../local/engine/index.ts';
import { runAsFunction } from '../../../local/engine/index.ts';
import { TableGuard, TableGuardError, tableGuardPlugin } from '../../../local/table-guard.ts';

const TABLE_ARN = 'arn:aws:dynamodb:us-east-1:123456789012:table/local-audit';
const TABLE = { 'Fn::GetAtt': ['AuditTable', 'Arn'] };

/** What `AuditTable.grantRecord` writes for one prefix: its actions on the table, on that partition prefix. */
function grant(prefix: string, actions: readonly string[], effect = 'Allow'): Record<string, unknown> {
  return {
    Effect: effect,
    Action: actions.map((action) => `dynamodb:${action}`),
    Resource: TABLE,
    Condition: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [`${prefix}*`] } },
  };
}

/** A template with the audit table and one function whose role has `statements`. */
function templateWith(statements: readonly unknown[]): CfnTemplate {
  return {
    Resources: {
      AuditTable: {
        Type: 'AWS::DynamoDB::Table',
        Properties: {
          TableName: 'cordon-audit',
          KeySchema: [
            { AttributeName: 'pk', KeyType: 'HASH' },
            { AttributeName: 'sk', KeyType: 'RANGE' },
          ],
        },
      },
      RecordRole: { Type: 'AWS::IAM::Role', Properties: {} },
      RecordRoleDefaultPolicy: {
        Type: 'AWS::IAM::Policy',
        Properties: {
          PolicyName: 'RecordRoleDefaultPolicy',
          Roles: [{ Ref: 'RecordRole' }],
          PolicyDocument: {
            Version: '2012-10-17',
            Statement: [
              { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: '*' },
              ...statements,
            ],
          },
        },
      },
      Record: {
        Type: 'AWS::Lambda::Function',
        Properties: { Role: { 'Fn::GetAtt': ['RecordRole', 'Arn'] } },
        Metadata: { 'cordon:entry': 'functions/actions/record-note/handler.ts' },
      },
    },
  };
}

function guardOf(statements: readonly unknown[]): TableGuard {
  return TableGuard.fromTemplate(templateWith(statements), {
    region: 'us-east-1',
    accountId: '123456789012',
    tableNames: { 'cordon-audit': 'local-audit' },
  });
}

/** The error a call of the function `Record` throws, or undefined when the guard allows it. */
function refusal(guard: TableGuard, command: string, input: unknown): Error | undefined {
  try {
    guard.authorize('Record', command, input);
    return undefined;
  } catch (error) {
    if (error instanceof Error) return error;
    throw error;
  }
}

const RECORDS = grant('INCIDENT#', ['GetItem', 'Query', 'PutItem', 'UpdateItem']);

describe('the table guard', () => {
  it('allows a call on an item whose partition key has a granted prefix', () => {
    const guard = guardOf([RECORDS]);
    expect(
      refusal(guard, 'PutItemCommand', {
        TableName: 'local-audit',
        Item: { pk: 'INCIDENT#i-1', sk: 'STEP#1' },
      }),
    ).toBeUndefined();
    expect(
      refusal(guard, 'QueryCommand', {
        TableName: 'local-audit',
        KeyConditionExpression: '#pk = :pk AND begins_with(sk, :step)',
        ExpressionAttributeNames: { '#pk': 'pk' },
        ExpressionAttributeValues: { ':pk': 'INCIDENT#i-1', ':step': 'STEP#' },
      }),
    ).toBeUndefined();
  });

  it("refuses a prefix outside the condition with DynamoDB's AccessDeniedException", () => {
    const guard = guardOf([RECORDS, grant('APPROVAL#', ['GetItem'])]);
    const error = refusal(guard, 'GetItemCommand', {
      TableName: 'local-audit',
      Key: { pk: 'APPROVAL-TOKEN#r-1', sk: 'TOKEN' },
    });
    expect(error).toMatchObject({ name: 'AccessDeniedException', $fault: 'client' });
    expect((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode).toBe(400);
    expect(error?.message).toBe(
      `User: arn:aws:sts::123456789012:assumed-role/RecordRole/Record is not authorized to perform: dynamodb:GetItem on resource: ${TABLE_ARN} because no identity-based policy allows the dynamodb:GetItem action`,
    );
    expect(guard.denials).toEqual([
      {
        function: 'Record',
        command: 'GetItemCommand',
        action: 'dynamodb:GetItem',
        resource: TABLE_ARN,
        leadingKeys: ['APPROVAL-TOKEN#r-1'],
        explicit: false,
      },
    ]);
  });

  it('refuses an action the prefix is not granted', () => {
    const guard = guardOf([RECORDS]);
    const error = refusal(guard, 'DeleteItemCommand', {
      TableName: 'local-audit',
      Key: { pk: 'INCIDENT#i-1', sk: 'INCIDENT' },
    });
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.message).toContain('dynamodb:DeleteItem');
  });

  it('refuses a Query on an index when only the table is granted', () => {
    const guard = guardOf([RECORDS]);
    const error = refusal(guard, 'QueryCommand', {
      TableName: 'local-audit',
      IndexName: 'by-time',
      KeyConditionExpression: 'gsi1pk = :month',
      ExpressionAttributeValues: { ':month': 'INCIDENT#2026-11' },
    });
    expect(error?.name).toBe('AccessDeniedException');
    expect(error?.message).toContain(`on resource: ${TABLE_ARN}/index/by-time`);
  });

  it('lets an explicit Deny win over an Allow of the same call', () => {
    const guard = guardOf([
      RECORDS,
      { Effect: 'Deny', Action: 'dynamodb:Put*', Resource: TABLE, Condition: RECORDS.Condition },
    ]);
    expect(
      refusal(guard, 'GetItemCommand', {
        TableName: 'local-audit',
        Key: { pk: 'INCIDENT#i-1', sk: 'INCIDENT' },
      }),
    ).toBeUndefined();
    const error = refusal(guard, 'PutItemCommand', {
      TableName: 'local-audit',
      Item: { pk: 'INCIDENT#i-1', sk: 'STEP#1' },
    });
    expect(error?.message).toMatch(
      /dynamodb:PutItem on resource: .* with an explicit deny in an identity-based policy$/,
    );
    expect(guard.denials.map((d) => d.explicit)).toEqual([true]);
  });

  it('refuses a whole transaction when one of its items is denied', () => {
    const guard = guardOf([RECORDS, grant('OPEN#', ['DeleteItem'])]);
    const transaction = (openMarkerAction: 'Delete' | 'ConditionCheck') => ({
      TransactItems: [
        { Put: { TableName: 'local-audit', Item: { pk: 'INCIDENT#i-1', sk: 'STEP#2' } } },
        { Update: { TableName: 'local-audit', Key: { pk: 'INCIDENT#i-1', sk: 'INCIDENT' } } },
        { [openMarkerAction]: { TableName: 'local-audit', Key: { pk: 'OPEN#i-0abc', sk: 'OPEN' } } },
      ],
    });
    expect(refusal(guard, 'TransactWriteItemsCommand', transaction('Delete'))).toBeUndefined();
    const error = refusal(guard, 'TransactWriteItemsCommand', transaction('ConditionCheck'));
    expect(error?.name).toBe('AccessDeniedException');
    expect(guard.denials).toMatchObject([
      { action: 'dynamodb:ConditionCheckItem', leadingKeys: ['OPEN#i-0abc'] },
    ]);
  });

  it('reads the partition key of a marshalled request as of a document-client one', () => {
    const guard = guardOf([RECORDS]);
    expect(
      refusal(guard, 'GetItemCommand', {
        TableName: 'local-audit',
        Key: { pk: { S: 'INCIDENT#i-1' }, sk: { S: 'INCIDENT' } },
      }),
    ).toBeUndefined();
    expect(
      refusal(guard, 'QueryCommand', {
        TableName: 'local-audit',
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'FINDING#f-1' } },
      })?.name,
    ).toBe('AccessDeniedException');
  });

  it('matches action wildcards and an equality on the leading keys', () => {
    const guard = guardOf([
      {
        Effect: 'Allow',
        Action: 'dynamodb:Get*',
        Resource: TABLE,
        Condition: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['COUNTER#automatic#1'] } },
      },
    ]);
    const get = (pk: string) => ({ TableName: 'local-audit', Key: { pk, sk: 'COUNTER' } });
    expect(refusal(guard, 'GetItemCommand', get('COUNTER#automatic#1'))).toBeUndefined();
    expect(refusal(guard, 'GetItemCommand', get('COUNTER#automatic#2'))?.name).toBe('AccessDeniedException');
    expect(refusal(guard, 'UpdateItemCommand', get('COUNTER#automatic#1'))?.name).toBe(
      'AccessDeniedException',
    );
  });

  it('fails loudly on a condition operator it does not evaluate', () => {
    const statement = {
      ...RECORDS,
      Condition: { 'ForAnyValue:StringLike': { 'dynamodb:LeadingKeys': ['INCIDENT#*'] } },
    };
    expect(() => guardOf([statement])).toThrow(TableGuardError);
    expect(() => guardOf([statement])).toThrow(/ForAnyValue:StringLike is not evaluated/);
  });

  it('fails loudly on a condition key it does not evaluate', () => {
    const statement = {
      ...RECORDS,
      Condition: { 'ForAllValues:StringEquals': { 'dynamodb:Attributes': ['pk', 'sk'] } },
    };
    expect(() => guardOf([statement])).toThrow(/dynamodb:Attributes is not evaluated/);
  });

  it('refuses a command it does not evaluate rather than allow it', () => {
    const guard = guardOf([RECORDS, { Effect: 'Allow', Action: 'dynamodb:*', Resource: '*' }]);
    const error = refusal(guard, 'ScanCommand', { TableName: 'local-audit' });
    expect(error).toBeInstanceOf(TableGuardError);
    expect(guard.denials).toEqual([]);
  });

  it('refuses a function whose policy it does not know', () => {
    const guard = guardOf([RECORDS]);
    expect(() =>
      guard.authorize('Other', 'GetItemCommand', {
        TableName: 'local-audit',
        Key: { pk: 'INCIDENT#i-1', sk: 'INCIDENT' },
      }),
    ).toThrow(TableGuardError);
  });
});

describe('the table guard plugin', () => {
  /**
   * A document client made by the client factory with the guard registered, as the local runtime does,
   * on a DynamoDB client that answers every call itself, after the guard.
   */
  function clients(guard: TableGuard) {
    const seen: unknown[] = [];
    const unregister = registerClientPlugin(tableGuardPlugin(() => guard));
    const client = makeClient(DynamoDBClient, { service: 'DYNAMODB' });
    unregister();
    client.middlewareStack.add(
      () => async (args) => {
        seen.push(args.input);
        return { output: { $metadata: {} }, response: {} };
      },
      { step: 'initialize', priority: 'low', name: 'answerLocally' },
    );
    return { client, doc: DynamoDBDocumentClient.from(client), seen };
  }

  it("guards the calls made inside a function's invocation, and only those", async () => {
    const guard = guardOf([RECORDS]);
    const { client, doc, seen } = clients(guard);
    const token = new GetCommand({
      TableName: 'local-audit',
      Key: { pk: 'APPROVAL-TOKEN#r-1', sk: 'TOKEN' },
    });
    await expect(runAsFunction('Record', () => doc.send(token))).rejects.toMatchObject({
      name: 'AccessDeniedException',
    });
    await expect(
      runAsFunction('Record', () =>
        client.send(
          new GetItemCommand({
            TableName: 'local-audit',
            Key: { pk: { S: 'APPROVAL-TOKEN#r-1' }, sk: { S: 'TOKEN' } },
          }),
        ),
      ),
    ).rejects.toMatchObject({ name: 'AccessDeniedException' });
    expect(seen).toEqual([]);

    await runAsFunction('Record', () =>
      doc.send(new PutCommand({ TableName: 'local-audit', Item: { pk: 'INCIDENT#i-1', sk: 'STEP#1' } })),
    );
    // Test code, the console and the runtime's own recorder run outside any invocation.
    await doc.send(
      new GetCommand({ TableName: 'local-audit', Key: { pk: 'APPROVAL-TOKEN#r-1', sk: 'TOKEN' } }),
    );
    expect(seen).toHaveLength(2);
    expect(guard.denials.map((d) => d.leadingKeys)).toEqual([['APPROVAL-TOKEN#r-1'], ['APPROVAL-TOKEN#r-1']]);
  });
});
