/** Reading pipeline code without running it: the DAG, pre-run checks and code-aware cache keys. */
export { pipelineGraph, graphOf, renderGraph, renderMermaid, renderDot, runGraph } from './graph.ts';
export type { PipelineGraph, GraphNodeData, GraphFormat, Output } from './graph.ts';
export { checkFiles, checkPipeline, checkWorkflowFile, runCheck } from './check.ts';
export type { CheckOptions } from './check.ts';
export { stageCodeVersions, stageCodeDetails } from './code-version.ts';
export { defineActivity } from './define-activity.ts';
export type { ActivitySchemas, DeclaredActivity } from './define-activity.ts';
export type { StageCodeInfo, CodeVersionOptions } from './code-version.ts';
export { extractPipeline, extractPipelines } from './extract.ts';
export type { StaticPipeline, StaticStage, StaticProject } from './extract.ts';
export { clearProjectCache, findRepoRoot, formatDiagnostic } from './project.ts';
export type { Diagnostic, Severity } from './project.ts';
