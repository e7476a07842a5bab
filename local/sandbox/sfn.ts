/** Step Functions task tokens: forwarded to the local engine's sink. */
import { awsError, SandboxUnsupportedCommandError } from './errors.ts';

/** What the SFN simulation needs of a task token sink. */
interface Sink {
  success(token: string, output: string): Promise<void> | void;
  failure(token: string, error?: string, cause?: string): Promise<void> | void;
  heartbeat?(token: string): void;
  /** StartExecution, when the sink is an engine that runs state machines. */
  startExecution?(
    stateMachineArn: string,
    name: string | undefined,
    input: string,
  ): { executionArn: string; startDate: Date };
}

/** Error names of the sink that become the SDK's own exceptions. */
const KNOWN = new Set([
  'TaskTimedOut',
  'InvalidToken',
  'TaskDoesNotExist',
  'InvalidOutput',
  'ExecutionAlreadyExists',
  'StateMachineDoesNotExist',
  'InvalidExecutionInput',
  'InvalidName',
]);

/** Runs one SFN command against the sink. Without a sink, every token is unknown (`TaskDoesNotExist`). */
export async function sfnCall(sink: Sink | undefined, command: string, input: object): Promise<unknown> {
  const field = (name: string): string | undefined => {
    const value: unknown = (input as Record<string, unknown>)[name];
    return typeof value === 'string' ? value : undefined;
  };
  if (command === 'StartExecution') return startExecution(sink, field);
  const token = field('taskToken');
  if (!['SendTaskSuccess', 'SendTaskFailure', 'SendTaskHeartbeat'].includes(command)) {
    throw new SandboxUnsupportedCommandError('SFN', command);
  }
  if (token === undefined || token === '') throw awsError('SFN', 'InvalidToken', 'Invalid Token: empty');
  if (!sink) throw awsError('SFN', 'TaskDoesNotExist', 'Task Timed Out: the sandbox has no task token sink');
  try {
    if (command === 'SendTaskSuccess') {
      const output = field('output') ?? '';
      try {
        JSON.parse(output);
      } catch {
        throw awsError('SFN', 'InvalidOutput', 'Invalid Output: the output is not valid JSON');
      }
      await sink.success(token, output);
    } else if (command === 'SendTaskFailure') {
      await sink.failure(token, field('error'), field('cause'));
    } else {
      sink.heartbeat?.(token);
    }
  } catch (error) {
    if (error instanceof Error && KNOWN.has(error.name) && !('$metadata' in error)) {
      throw awsError('SFN', error.name, error.message);
    }
    throw error;
  }
  return {};
}

function startExecution(sink: Sink | undefined, field: (name: string) => string | undefined): unknown {
  const arn = field('stateMachineArn');
  if (!arn) throw awsError('SFN', 'InvalidArn', 'Invalid Arn: stateMachineArn is required');
  if (!sink?.startExecution) {
    throw awsError(
      'SFN',
      'StateMachineDoesNotExist',
      `State Machine Does Not Exist: '${arn}' (no engine attached)`,
    );
  }
  try {
    const started = sink.startExecution(arn, field('name'), field('input') ?? '{}');
    return { executionArn: started.executionArn, startDate: started.startDate };
  } catch (error) {
    if (error instanceof Error && KNOWN.has(error.name) && !('$metadata' in error)) {
      throw awsError('SFN', error.name, error.message);
    }
    throw error;
  }
}
