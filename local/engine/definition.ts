/**
 * Turns a playbook's plain ASL into what aws-local-stepfunctions runs locally: every Task classified
 * (which function or SDK call it is), Wait states turned into engine-run tasks (so the engine can
 * shorten them and report their nominal seconds), task timeouts taken over by the engine (so they
 * scale), and `$$.State.Name` made static (the interpreter's context object is per execution).
 */
import { UnsupportedResourceError } from './errors.ts';

/** How the engine runs one Task (or former Wait) state. */
export type TaskSpec =
  | { readonly kind: 'wait'; readonly stateName: string }
  | {
      readonly kind: 'lambda';
      readonly stateName: string;
      readonly resource: string;
      /** `arn`: `Resource` is the function ARN (payload response only); `invoke`: `lambda:invoke`. */
      readonly style: 'arn' | 'invoke';
      /** Function name from the ARN for `arn` style; `invoke` reads `FunctionName` at run time. */
      readonly functionName: string | undefined;
      readonly waitForTaskToken: boolean;
      readonly timeoutSeconds: number | undefined;
    }
  | {
      readonly kind: 'sdk';
      readonly stateName: string;
      readonly resource: string;
      /** Service id as in the resource, e.g. `ec2`, `dynamodb`. */
      readonly service: string;
      /** Action as in the resource, e.g. `describeInstances`, `putItem`. */
      readonly action: string;
      /** `true` for an optimized integration (`arn:aws:states:::dynamodb:putItem`), `false` for `aws-sdk:`. */
      readonly optimized: boolean;
      readonly waitForTaskToken: boolean;
      readonly timeoutSeconds: number | undefined;
    };

/** The result of {@link compileDefinition}. */
export interface CompiledDefinition {
  /** The definition to hand to the interpreter (validated separately, in its plain form). */
  readonly definition: Record<string, unknown>;
  /** Every engine-run state by name (names are unique across a whole state machine, as in AWS). */
  readonly tasks: ReadonlyMap<string, TaskSpec>;
  /** Names of the states that were Wait states, so the history shows them as such. */
  readonly waits: ReadonlySet<string>;
  /** Retry intervals per state and retrier, in nominal seconds. */
  readonly retryIntervals: ReadonlyMap<string, readonly number[]>;
  /** Top-level `TimeoutSeconds`, which the engine enforces itself (scaled). */
  readonly timeoutSeconds: number | undefined;
}

/** The interpreter's own timer must never fire first: below setTimeout's 2^31 ms ceiling. */
const ENGINE_OWNS_TIMEOUT = 2_000_000;
/** Resource of a former Wait state (never called: the engine runs it). */
const WAIT_RESOURCE = 'arn:aws:lambda:us-east-1:000000000000:function:cordon-local-wait';

const LAMBDA_ARN = /^arn:aws[\w-]*:lambda:[^:]*:[^:]*:function:([^:]+)(?::[^:]+)?$/;
const LAMBDA_INVOKE = /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/;
const AWS_SDK = /^arn:aws[\w-]*:states:::aws-sdk:([\w-]+):(\w+)(\.waitForTaskToken)?$/;
const OPTIMIZED = /^arn:aws[\w-]*:states:::(dynamodb|sqs|sns|events):(\w+)(\.waitForTaskToken)?$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Replaces `"X.$": "$$.State.Name"` with `"X": "<state name>"` in a payload template. */
function staticStateName(template: unknown, stateName: string): unknown {
  if (Array.isArray(template)) return template.map((item) => staticStateName(item, stateName));
  if (!isRecord(template)) return template;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(template)) {
    if (key.endsWith('.$') && value === '$$.State.Name') out[key.slice(0, -2)] = stateName;
    else out[key] = staticStateName(value, stateName);
  }
  return out;
}

/** Classifies a Task's resource; throws {@link UnsupportedResourceError} for what cannot run locally. */
export function classifyTask(stateName: string, state: Record<string, unknown>): TaskSpec {
  const resource = state.Resource;
  if (typeof resource !== 'string')
    throw new UnsupportedResourceError(stateName, String(resource), 'not a string');
  const timeoutSeconds = typeof state.TimeoutSeconds === 'number' ? state.TimeoutSeconds : undefined;
  const arn = LAMBDA_ARN.exec(resource);
  if (arn) {
    return {
      kind: 'lambda',
      stateName,
      resource,
      style: 'arn',
      functionName: arn[1],
      waitForTaskToken: false,
      timeoutSeconds,
    };
  }
  const invoke = LAMBDA_INVOKE.exec(resource);
  if (invoke) {
    const waitForTaskToken = invoke[1] !== undefined;
    return {
      kind: 'lambda',
      stateName,
      resource,
      style: 'invoke',
      functionName: undefined,
      waitForTaskToken,
      timeoutSeconds,
    };
  }
  const sdk = AWS_SDK.exec(resource) ?? OPTIMIZED.exec(resource);
  if (sdk?.[1] !== undefined && sdk[2] !== undefined) {
    return {
      kind: 'sdk',
      stateName,
      resource,
      service: sdk[1],
      action: sdk[2],
      optimized: !resource.includes(':aws-sdk:'),
      waitForTaskToken: sdk[3] !== undefined,
      timeoutSeconds,
    };
  }
  throw new UnsupportedResourceError(
    stateName,
    resource,
    'the local engine runs Lambda functions and SDK integrations',
  );
}

/** Compiles a plain ASL definition for local execution. Does not change its input. */
export function compileDefinition(plain: Record<string, unknown>): CompiledDefinition {
  const tasks = new Map<string, TaskSpec>();
  const waits = new Set<string>();
  const retryIntervals = new Map<string, number[]>();

  const compileMachine = (machine: Record<string, unknown>): Record<string, unknown> => {
    const states = isRecord(machine.States) ? machine.States : {};
    const out: Record<string, unknown> = {};
    for (const [name, raw] of Object.entries(states)) {
      if (!isRecord(raw)) {
        out[name] = raw;
        continue;
      }
      let state: Record<string, unknown> = { ...raw };
      for (const field of ['Parameters', 'ItemSelector', 'ResultSelector']) {
        if (field in state) state[field] = staticStateName(state[field], name);
      }
      if (Array.isArray(state.Retry)) {
        retryIntervals.set(
          name,
          state.Retry.map((retrier) =>
            isRecord(retrier) && typeof retrier.IntervalSeconds === 'number' ? retrier.IntervalSeconds : 1,
          ),
        );
      }
      switch (state.Type) {
        case 'Task': {
          tasks.set(name, classifyTask(name, state));
          if (state.TimeoutSecondsPath === undefined) state.TimeoutSeconds = ENGINE_OWNS_TIMEOUT;
          break;
        }
        case 'Wait': {
          waits.add(name);
          tasks.set(name, { kind: 'wait', stateName: name });
          const parameters: Record<string, unknown> = { 'input.$': '$' };
          if (typeof state.Seconds === 'number') parameters.seconds = state.Seconds;
          if (typeof state.Timestamp === 'string') parameters.timestamp = state.Timestamp;
          if (typeof state.SecondsPath === 'string') parameters['seconds.$'] = state.SecondsPath;
          if (typeof state.TimestampPath === 'string') parameters['timestamp.$'] = state.TimestampPath;
          const { Seconds, Timestamp, SecondsPath, TimestampPath, ...rest } = state;
          state = {
            ...rest,
            Type: 'Task',
            Resource: WAIT_RESOURCE,
            Parameters: parameters,
            TimeoutSeconds: ENGINE_OWNS_TIMEOUT,
          };
          break;
        }
        case 'Parallel': {
          if (Array.isArray(state.Branches)) {
            state.Branches = state.Branches.map((branch) =>
              isRecord(branch) ? compileMachine(branch) : branch,
            );
          }
          break;
        }
        case 'Map': {
          if (isRecord(state.Iterator)) state.Iterator = compileMachine(state.Iterator);
          if (isRecord(state.ItemProcessor)) state.ItemProcessor = compileMachine(state.ItemProcessor);
          break;
        }
      }
      out[name] = state;
    }
    return { ...machine, States: out };
  };

  const { TimeoutSeconds, ...top } = plain;
  const definition = compileMachine(top);
  return {
    definition,
    tasks,
    waits,
    retryIntervals,
    timeoutSeconds: typeof TimeoutSeconds === 'number' ? TimeoutSeconds : undefined,
  };
}
