/**
 * The one switch plugin every SDK client of the process gets: handlers make their clients at module scope,
 * once per process, so each call is forwarded to what is attached now: the record's trust (key and
 * anchor), the current sandbox account, or with `aws` the real endpoint (the local engine's own Step
 * Functions calls excepted). The table guard sees every DynamoDB call first.
 */
import { registerClientPlugin } from '#shared/clients';
import { CordonError } from '#shared/errors';
import type { LocalEngine } from '../engine/index.ts';
import { type Sandbox, sandboxPlugin } from '../sandbox/index.ts';
import { sfnCall } from '../sandbox/sfn.ts';
import { type TableGuard, tableGuardPlugin } from '../table-guard.ts';
import type { LocalTrust } from '../trust.ts';

/** A call was about to reach AWS from a sandboxed run with no account attached. */
export class NoSandboxError extends CordonError {
  override readonly name: string = 'NoSandboxError';
}

/** What the switch forwards to: set by the running `LocalRuntime`, cleared on its close. */
export const attached: {
  sandbox: Sandbox | undefined;
  trust: LocalTrust | undefined;
  guard: TableGuard | undefined;
  /** With `aws`, the engine that runs the playbooks: the Step Functions calls meant for it go to it. */
  engine: LocalEngine | undefined;
  allowReal: boolean;
} = { sandbox: undefined, trust: undefined, guard: undefined, engine: undefined, allowReal: false };

let installed = false;

export function installSwitch(): void {
  if (installed) return;
  installed = true;
  // First, so that it sees every DynamoDB call before the switch forwards it.
  registerClientPlugin(tableGuardPlugin(() => attached.guard));
  registerClientPlugin(
    sandboxPlugin((next, context) => async (args) => {
      // The record key and the anchor are the security account's: they outlive the scenario's account.
      if (attached.trust?.owns(context.clientName, args.input)) {
        return attached.trust.sandbox.middleware()(next, context)(args);
      }
      if (attached.sandbox) return attached.sandbox.middleware()(next, context)(args);
      if (attached.allowReal && attached.engine && context.clientName === 'SFNClient') {
        const routed = await toLocalEngine(attached.engine, context.commandName, args.input as object);
        if (routed) return { output: routed as object, response: {} };
      }
      if (attached.allowReal || context.clientName === 'DynamoDBClient') return next(args);
      throw new NoSandboxError(
        `${context.clientName}:${context.commandName} called with no sandbox account attached`,
      );
    }),
  );
}

/** The Step Functions commands whose task tokens only the local engine issued. */
const TASK_TOKEN_COMMANDS = new Set(['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat']);

/**
 * With `aws`, the playbooks run on the local engine, not in Step Functions: the calls that answer one of
 * its task tokens, or start or describe one of its own state machines' executions, go to it (else the
 * decision reaches the real endpoint, which knows no such token, and the gate waits out its timeout).
 * Returns undefined for every other call, which goes on to the real endpoint.
 */
async function toLocalEngine(
  engine: LocalEngine,
  commandName: string | undefined,
  input: object,
): Promise<unknown> {
  const command = (commandName ?? '').replace(/Command$/, '');
  const field = (name: string): string | undefined => {
    const value: unknown = (input as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  const metadata = {
    $metadata: { httpStatusCode: 200, requestId: 'local-engine', attempts: 1, totalRetryDelay: 0 },
  };
  const ours = (stateMachineArn: string | undefined) =>
    stateMachineArn !== undefined && engine.playbooks().some((p) => p.arn === stateMachineArn);
  if (TASK_TOKEN_COMMANDS.has(command) || (command === 'StartExecution' && ours(field('stateMachineArn')))) {
    return { ...((await sfnCall(engine, command, input)) as object), ...metadata };
  }
  if (command === 'DescribeExecution') {
    const arn = field('executionArn') ?? '';
    const execution = engine.executionList().find((e) => e.arn === arn);
    if (!execution) return undefined;
    return {
      executionArn: execution.arn,
      stateMachineArn: execution.stateMachineArn,
      name: execution.name,
      status: execution.status,
      startDate: execution.startDate,
      input: JSON.stringify(execution.input),
      ...metadata,
    };
  }
  return undefined;
}
