/** The local engine's public surface. */
export type {
  EngineOptions,
  ExecutionResult,
  ExecutionStatus,
  LocalExecution,
  PendingTask,
  PlaybookInfo,
  TaskTokenSink,
  WaitInfo,
} from './engine.ts';
export { LocalEngine } from './engine.ts';
export * from './errors.ts';
export type { HistoryDetails, HistoryEvent } from './history.ts';
export { currentFunction, runAsFunction, runOutsideFunctions } from './invocation.ts';
export type { CfnResource, CfnTemplate, ResolveOptions, TemplateFunction } from './template.ts';
export { renderDefinition, TemplateResolver } from './template.ts';
