/** Queries, signals and ids shared by the workflows and their clients (CLI, tests). No I/O here. */
import { defineQuery } from '@temporalio/workflow';
import type { StageState, StageResult } from '../schemas/stage.ts';

export type RunStatus = 'running' | 'completed' | 'failed';

export interface PipelineRunResult {
  pipeline: string;
  runKey: string;
  status: RunStatus;
  stages: StageState[];
  /** The promote stage's facts (decision, version), when the pipeline has projects. */
  promotion: StageResult['facts'] | null;
}

/** Every stage's state: pending / running / cached / done / failed / skipped, with timings and output refs. */
export const stagesQuery = defineQuery<StageState[]>('stages');

/** `<pipeline>/<project or all>/<run key>`: readable in the Web UI and stable for `retry`. */
export function pipelineWorkflowId(pipeline: string, runKey: string, project = 'all'): string {
  return `${pipeline}/${project}/${runKey}`;
}

/** Error type of a failed pipeline run, so clients can tell it from infrastructure failures. */
export const STAGE_FAILED = 'BroadloomStageFailed';
