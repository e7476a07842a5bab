/**
 * The authorizations IAM makes for one DynamoDB call (an item's partition key, a Query's bound partition, a
 * transaction's items each as its own action), and DynamoDB's `AccessDeniedException` for a denied one.
 */
import { randomBytes } from 'node:crypto';
import { DynamoDBServiceException } from '@aws-sdk/client-dynamodb';
import { type Authorization, type GuardTable, isRecord, TableGuardError } from './policy.ts';

/** Finds a table by the ARN a request names. */
export type TableLookup = (arn: string) => GuardTable | undefined;

export interface RequestContext {
  readonly region: string;
  readonly accountId: string;
  readonly tables: TableLookup;
}

/** The partition key's string value, from a document-client (plain) or marshalled (`{ S }`) attribute. */
function stringValue(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (isRecord(value) && Object.keys(value).length === 1 && typeof value.S === 'string') return value.S;
  return undefined;
}

function tableArn(name: unknown, context: RequestContext, where: string): string {
  if (typeof name !== 'string' || name === '') throw new TableGuardError(`${where}: no TableName`);
  if (name.startsWith('arn:')) return name;
  return `arn:aws:dynamodb:${context.region}:${context.accountId}:table/${name}`;
}

function partitionKeyOf(arn: string, context: RequestContext, where: string): string {
  const table = context.tables(arn);
  if (!table) {
    throw new TableGuardError(
      `${where}: ${arn} is not a table of the template; its partition key is unknown`,
    );
  }
  return table.partitionKey;
}

/** An item access: the partition key of its `Key` (or `Item`). */
function itemAccess(
  action: string,
  input: Record<string, unknown>,
  field: 'Key' | 'Item',
  context: RequestContext,
  where: string,
): Authorization {
  const resource = tableArn(input.TableName, context, where);
  return {
    action: `dynamodb:${action}`,
    resource,
    leadingKeys: () => {
      const pk = partitionKeyOf(resource, context, where);
      const record = input[field];
      const value = isRecord(record) ? stringValue(record[pk]) : undefined;
      if (value === undefined)
        throw new TableGuardError(`${where}: cannot tell the partition key ${pk} of its ${field}`);
      return [value];
    },
  };
}

/**
 * The partition key value a Query binds: `pk = :v` or `#n = :v` in KeyConditionExpression (names and
 * values resolved), or an `EQ` in the legacy KeyConditions.
 */
function queriedPartition(input: Record<string, unknown>, pk: string, where: string): string {
  const names = isRecord(input.ExpressionAttributeNames) ? input.ExpressionAttributeNames : {};
  const values = isRecord(input.ExpressionAttributeValues) ? input.ExpressionAttributeValues : {};
  const expression = input.KeyConditionExpression;
  if (typeof expression === 'string') {
    const bound: unknown[] = [];
    for (const match of expression.matchAll(/(?<![\w#:])([#A-Za-z][\w]*)\s*=\s*(:[\w]+)/g)) {
      const [, operand = '', placeholder = ''] = match;
      const name = operand.startsWith('#') ? names[operand] : operand;
      if (name === pk) bound.push(values[placeholder]);
    }
    const [only] = bound;
    const value = bound.length === 1 ? stringValue(only) : undefined;
    if (value === undefined) {
      throw new TableGuardError(
        `${where}: cannot tell the partition key ${pk} bound by KeyConditionExpression "${expression}"`,
      );
    }
    return value;
  }
  const conditions = isRecord(input.KeyConditions) ? input.KeyConditions[pk] : undefined;
  if (
    isRecord(conditions) &&
    conditions.ComparisonOperator === 'EQ' &&
    Array.isArray(conditions.AttributeValueList)
  ) {
    const value = stringValue(conditions.AttributeValueList[0]);
    if (value !== undefined) return value;
  }
  throw new TableGuardError(`${where}: cannot tell the partition key ${pk} the Query binds`);
}

function queryAccess(input: Record<string, unknown>, context: RequestContext, where: string): Authorization {
  const table = tableArn(input.TableName, context, where);
  const index = input.IndexName;
  if (index !== undefined && typeof index !== 'string')
    throw new TableGuardError(`${where}: IndexName is not a string`);
  return {
    action: 'dynamodb:Query',
    resource: index === undefined ? table : `${table}/index/${index}`,
    leadingKeys: () => {
      if (index !== undefined) {
        throw new TableGuardError(
          `${where}: dynamodb:LeadingKeys of a Query on index ${index} is not evaluated by the table guard`,
        );
      }
      return [queriedPartition(input, partitionKeyOf(table, context, where), where)];
    },
  };
}

const TRANSACT_ACTIONS = [
  ['Put', 'PutItem', 'Item'],
  ['Update', 'UpdateItem', 'Key'],
  ['Delete', 'DeleteItem', 'Key'],
  ['ConditionCheck', 'ConditionCheckItem', 'Key'],
] as const;

/**
 * The authorizations IAM makes for one call of the DynamoDB client (`command` as the SDK names it, e.g.
 * `PutItemCommand`). The input may be the document client's (plain values) or marshalled.
 */
export function authorizationsOf(command: string, input: unknown, context: RequestContext): Authorization[] {
  const name = command.replace(/Command$/, '');
  const where = `dynamodb:${name}`;
  if (!isRecord(input)) throw new TableGuardError(`${where}: the input is not an object`);
  switch (name) {
    case 'GetItem':
    case 'UpdateItem':
    case 'DeleteItem':
      return [itemAccess(name, input, 'Key', context, where)];
    case 'PutItem':
      return [itemAccess(name, input, 'Item', context, where)];
    case 'Query':
      return [queryAccess(input, context, where)];
    case 'TransactWriteItems': {
      const items = Array.isArray(input.TransactItems) ? input.TransactItems : [];
      return items.map((item, i) => {
        const at = `${where} TransactItems[${i}]`;
        for (const [member, action, field] of TRANSACT_ACTIONS) {
          const part = isRecord(item) ? item[member] : undefined;
          if (isRecord(part)) return itemAccess(action, part, field, context, at);
        }
        throw new TableGuardError(`${at}: neither Put, Update, Delete nor ConditionCheck`);
      });
    }
    default:
      throw new TableGuardError(`${where} is not evaluated by the table guard`);
  }
}

/** DynamoDB's answer to a call IAM denies. */
export function accessDeniedException(
  principalArn: string,
  action: string,
  resource: string,
  explicit: boolean,
): DynamoDBServiceException {
  const why = explicit
    ? 'with an explicit deny in an identity-based policy'
    : `because no identity-based policy allows the ${action} action`;
  return new DynamoDBServiceException({
    name: 'AccessDeniedException',
    $fault: 'client',
    message: `User: ${principalArn} is not authorized to perform: ${action} on resource: ${resource} ${why}`,
    $metadata: {
      httpStatusCode: 400,
      requestId: randomBytes(26).toString('hex').toUpperCase(),
      attempts: 1,
      totalRetryDelay: 0,
    },
  });
}
