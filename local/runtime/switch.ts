/**
 * The one switch plugin every SDK client of the process gets: handlers make their clients at module scope,
 * once per process, so each call is forwarded to what is attached now: the record's trust (key and
 * anchor), the current organization's sandboxes, or with `aws` the real endpoint (the local engine's own
 * Step Functions calls excepted). The table guard sees every DynamoDB call first.
 *
 * Which sandbox of the organization answers is decided per client and per call (the plugin is made from
 * each client's facts): a client made with credentials reaches the account they were issued for (an
 * `AssumeRole` through the organization), in the client's region; a client without reaches the hub, in its
 * region, as the function whose invocation runs (its own role, local/runtime/identities.ts). A region the
 * account does not have is refused as AWS refuses a region not enabled for the account
 * (local/sandbox/organization/errors.ts). Step Functions calls (the engine's task tokens) go to the hub's
 * home sandbox whatever the client, and DynamoDB calls to the local store.
 */
import { type ClientFacts, registerClientPlugin } from '#shared/clients';
import { CordonError } from '#shared/errors';
import { currentFunction, type LocalEngine } from '../engine/index.ts';
import { serviceOf } from '../sandbox/errors.ts';
import { type Caller, sandboxPlugin } from '../sandbox/index.ts';
import type { LocalOrganization } from '../sandbox/organization.ts';
import { sfnCall } from '../sandbox/sfn.ts';
import { type TableGuard, tableGuardPlugin } from '../table-guard.ts';
import type { LocalTrust } from '../trust.ts';

/** A call was about to reach AWS from a sandboxed run with no account attached. */
export class NoSandboxError extends CordonError {
  override readonly name: string = 'NoSandboxError';
}

/** What the switch forwards to: set by the running `LocalRuntime`, cleared on its close. */
export const attached: {
  organization: LocalOrganization | undefined;
  /** The caller a function's calls are made as (its role's session), by logical id. */
  callerOf: ((logicalId: string) => Caller | undefined) | undefined;
  trust: LocalTrust | undefined;
  guard: TableGuard | undefined;
  /** With `aws`, the engine that runs the playbooks: the Step Functions calls meant for it go to it. */
  engine: LocalEngine | undefined;
  allowReal: boolean;
} = {
  organization: undefined,
  callerOf: undefined,
  trust: undefined,
  guard: undefined,
  engine: undefined,
  allowReal: false,
};

let installed = false;

/** The access key a client signs with, when it was made with credentials; resolved at call time. */
async function accessKeyOf(facts: ClientFacts): Promise<string | undefined> {
  if (!facts.credentials) return undefined;
  return (await facts.credentials()).accessKeyId;
}

export function installSwitch(): void {
  if (installed) return;
  installed = true;
  // First, so that it sees every DynamoDB call before the switch forwards it.
  registerClientPlugin(tableGuardPlugin(() => attached.guard));
  registerClientPlugin((facts: ClientFacts) =>
    sandboxPlugin((next, context) => async (args) => {
      // The record key and the anchor are the security account's: they outlive the scenario's account.
      if (attached.trust?.owns(context.clientName, args.input)) {
        return attached.trust.sandbox.middleware()(next, context)(args);
      }
      const organization = attached.organization;
      if (organization) {
        const service = serviceOf(context.clientName);
        // The record (DynamoDB Local), the engine's task tokens and unknown clients: the hub's home sandbox.
        if (service === undefined || service === 'SFN') {
          return organization.hubSandbox.middleware()(next, context)(args);
        }
        const routed = organization.route({
          service,
          region: facts.region,
          accessKeyId: await accessKeyOf(facts),
        });
        const fn = currentFunction();
        const caller = routed.caller ?? (fn === undefined ? undefined : attached.callerOf?.(fn));
        return routed.sandbox.middleware(caller)(next, context)(args);
      }
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
