/** The local engine's public surface. */

export { LocalEngine } from './engine.ts';
export * from './errors.ts';
export type { HistoryDetails, HistoryEvent } from './history.ts';
export { currentFunction, runAsFunction, runOutsideFunctions } from './invocation.ts';
export { TemplateResolver } from './template.ts';
export { renderDefinition } from './template-contents.ts';
export type { CfnResource, CfnTemplate, ResolveOptions, TemplateFunction } from './template-types.ts';
export type {
  EngineOptions,
  ExecutionResult,
  ExecutionStatus,
  LocalExecution,
  PendingTask,
  PlaybookInfo,
  TaskTokenSink,
  WaitInfo,
} from './types.ts';
