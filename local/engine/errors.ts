/**
 * Named errors of the local engine. Each sets `name` (what a caller or a `Catch` matches on) and keeps
 * `cause`. Errors that mirror an AWS Step Functions API exception carry AWS's exception name
 * (`TaskDoesNotExist`, `InvalidToken`, `ExecutionAlreadyExists`...) so that the sandbox account can
 * translate them into the SDK's own exception classes.
 */

/** Base class of every error the engine throws. */
export class EngineError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EngineError';
  }
}

/** A CloudFormation intrinsic (or an attribute of one) that the engine cannot resolve locally. */
export class UnsupportedIntrinsicError extends EngineError {
  /** The intrinsic, e.g. `Fn::ImportValue` or `Fn::GetAtt MyTable.StreamArn`. */
  readonly intrinsic: string;
  constructor(intrinsic: string, detail?: string, options?: { cause?: unknown }) {
    super(`Unsupported intrinsic ${intrinsic}${detail ? `: ${detail}` : ''}`, options);
    this.name = 'UnsupportedIntrinsicError';
    this.intrinsic = intrinsic;
  }
}

/** The template is not what the engine needs: a missing resource, a definition that is not JSON... */
export class TemplateError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'TemplateError';
  }
}

/** The rendered state machine definition is not valid Amazon States Language. */
export class DefinitionInvalidError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'DefinitionInvalidError';
  }
}

/** No state machine in the template carries this `cordon:playbook` id (or logical id / ARN). */
export class PlaybookNotFoundError extends EngineError {
  constructor(playbook: string, known: readonly string[]) {
    super(`No playbook "${playbook}"; known: ${known.length > 0 ? known.join(', ') : '(none)'}`);
    this.name = 'PlaybookNotFoundError';
  }
}

/** A Task's function has no `cordon:entry`, or its module has no `handler` export. */
export class HandlerNotFoundError extends EngineError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HandlerNotFoundError';
  }
}

/** A Task `Resource` the engine cannot run locally (activities, `.sync` integrations...). */
export class UnsupportedResourceError extends EngineError {
  constructor(stateName: string, resource: string, detail?: string) {
    super(`State "${stateName}": unsupported resource ${resource}${detail ? ` (${detail})` : ''}`);
    this.name = 'UnsupportedResourceError';
  }
}

/** StartExecution with a name in use (AWS's `ExecutionAlreadyExists`). */
export class ExecutionAlreadyExistsError extends EngineError {
  constructor(executionArn: string) {
    super(`Execution Already Exists: '${executionArn}'`);
    this.name = 'ExecutionAlreadyExists';
  }
}

/** An execution name AWS would refuse (AWS's `InvalidName`). */
export class InvalidNameError extends EngineError {
  constructor(name: string) {
    super(`Invalid Name: '${name}'`);
    this.name = 'InvalidName';
  }
}

/** No execution with this ARN (AWS's `ExecutionDoesNotExist`). */
export class ExecutionDoesNotExistError extends EngineError {
  constructor(executionArn: string) {
    super(`Execution Does Not Exist: '${executionArn}'`);
    this.name = 'ExecutionDoesNotExist';
  }
}

/** A well-formed task token that is unknown or already used (AWS's `TaskDoesNotExist`). */
export class TaskDoesNotExistError extends EngineError {
  constructor() {
    super('Task Does Not Exist');
    this.name = 'TaskDoesNotExist';
  }
}

/** A string that is not a task token this engine could have issued (AWS's `InvalidToken`). */
export class InvalidTokenError extends EngineError {
  constructor() {
    super('Invalid Token');
    this.name = 'InvalidToken';
  }
}

/** A task token whose task already timed out (AWS's `TaskTimedOut`). */
export class TaskTimedOutError extends EngineError {
  constructor() {
    super('Task Timed Out');
    this.name = 'TaskTimedOut';
  }
}

/** SendTaskSuccess output that is not JSON (AWS's `InvalidOutput`). */
export class InvalidOutputError extends EngineError {
  constructor(options?: { cause?: unknown }) {
    super('Invalid Output: the output is not valid JSON', options);
    this.name = 'InvalidOutput';
  }
}

/**
 * Fails a Task state inside the interpreter. Its `name` is the Step Functions error (what `Retry` and
 * `Catch` match with `ErrorEquals`, e.g. `ThrottlingException`, `DynamoDB.ConditionalCheckFailedException`,
 * `States.Timeout`) and its message is the error's `Cause`. The error that produced it is kept in
 * `source`, not in `cause`: aws-local-stepfunctions reports `cause ?? message` as the execution's Cause.
 */
export class TaskStateError extends EngineError {
  /** The handler's or SDK's own error, when there is one. */
  readonly source: unknown;
  constructor(error: string, cause: string, source?: unknown) {
    super(cause);
    this.name = error;
    this.source = source;
  }
}
