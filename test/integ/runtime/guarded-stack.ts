/**
 * A small stack for the table guard: the audit table, and one function granted what every recording
 * function is (infra/table-access.ts `RECORDS`, through `AuditTable.grantRecord`), whose handler
 * (./fixtures/read-outside-grant.ts) notes in its incident's partition and then reads an approval's task
 * token.
 */
import { App, Duration, Stack } from 'aws-cdk-lib';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import * as tasks from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { ENV } from '#shared/config';
import { AuditTable } from '../../../infra/constructs/audit-table.ts';
import { RECORDS } from '../../../infra/table-access.ts';

/** The handler module of the guarded function. */
export const GUARDED_ENTRY = 'test/integ/runtime/fixtures/read-outside-grant.ts';

/** A playbook `guarded`: `Note` (allowed), then `ReadToken` (outside the function's grant). */
export function guardedStack(): Stack {
  const stack = new Stack(new App(), 'Guarded', { env: { account: '123456789012', region: 'us-east-1' } });
  const audit = new AuditTable(stack, 'Audit');
  const fn = new lambda.Function(stack, 'Guarded', {
    runtime: lambda.Runtime.NODEJS_22_X,
    handler: 'index.handler',
    code: lambda.Code.fromInline('exports.handler = async () => ({})'),
    environment: { [ENV.tableName]: audit.tableName },
  });
  (fn.node.defaultChild as lambda.CfnFunction).addMetadata('cordon:entry', GUARDED_ENTRY);
  audit.grantRecord(fn, [RECORDS]);
  const step = (id: string, name: 'note' | 'read-token') =>
    new tasks.LambdaInvoke(stack, id, {
      lambdaFunction: fn,
      payload: sfn.TaskInput.fromObject({
        step: name,
        incidentId: sfn.JsonPath.stringAt('$.incidentId'),
        requestId: sfn.JsonPath.stringAt('$.requestId'),
      }),
      payloadResponseOnly: true,
      resultPath: `$.${id}`,
      taskTimeout: sfn.Timeout.duration(Duration.seconds(30)),
    });
  const machine = new sfn.StateMachine(stack, 'Machine', {
    definitionBody: sfn.DefinitionBody.fromChainable(
      step('Note', 'note').next(step('ReadToken', 'read-token')),
    ),
  });
  (machine.node.defaultChild as sfn.CfnStateMachine).addMetadata('cordon:playbook', 'guarded');
  return stack;
}
