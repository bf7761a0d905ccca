/**
 * Client side of continual learning: ingesting new data (validate, store as Arrow, signal the pipeline's continual
 * workflow), starting/updating that workflow, and the pipeline's Temporal Schedule.
 */
import { dirname, resolve } from 'node:path';
import { ScheduleOverlapPolicy, type ScheduleOptionsAction, type ScheduleSpec as TemporalScheduleSpec } from '@temporalio/client';
import type { PipelineSpec, ScheduleSpec } from '../schemas/pipeline.ts';
import { ingestFile } from '../data/collect.ts';
import { ArtifactStore } from '../data/artifact-store.ts';
import { broadloomHome } from '../data/home.ts';
import { assertJsonSafeSpec, DATA_QUEUE } from '../pipelines/compile.ts';
import { BroadloomPipeline, BroadloomProject } from '../schemas/search-attributes.ts';
import { continualWorkflowId, type Arrival } from '../workflows/continual.ts';
import type { BroadloomClient } from './runs.ts';

export interface IngestReport {
  arrival: Arrival;
  accepted: number;
  quarantined: number;
  duplicates: number;
  quarantine: string;
  workflowId: string;
}

/** Validate and store a file of new records for a project, then tell the continual workflow (starting it if needed). */
export async function ingest(c: BroadloomClient, spec: PipelineSpec, projectName: string, file: string): Promise<IngestReport> {
  const project = spec.projects.find((p) => p.name === projectName);
  if (!project) throw new Error(`pipeline ${spec.name} has no project "${projectName}" (projects: ${spec.projects.map((p) => p.name).join(', ')})`);
  const store = new ArtifactStore({ root: `${broadloomHome()}/artifacts` });
  const baseDir = spec.module ? dirname(spec.module) : process.cwd();
  const r = await ingestFile(project, resolve(file), store, { baseDir });
  const arrival: Arrival = { project: projectName, dataset: r.dataset, records: r.dataset.rows ?? 0, origin: resolve(file) };
  const workflowId = await signalContinual(c, spec, 'arrival', [arrival]);
  return { arrival, accepted: r.dataset.rows ?? 0, quarantined: r.stats.quarantined, duplicates: r.stats.duplicates, quarantine: r.quarantine.uri, workflowId };
}

/** Signal the pipeline's continual workflow, starting it with `spec` when it is not running. */
export async function signalContinual(c: BroadloomClient, spec: PipelineSpec, signal: string, args: unknown[]): Promise<string> {
  assertJsonSafeSpec(spec);
  const handle = await c.client.workflow.signalWithStart('continualWorkflow', {
    workflowId: continualWorkflowId(spec.name),
    taskQueue: DATA_QUEUE,
    args: [{ spec }],
    signal,
    signalArgs: args,
    typedSearchAttributes: [
      { key: BroadloomPipeline, value: spec.name },
      { key: BroadloomProject, value: 'all' },
    ],
    memo: { pipeline: spec.name, version: spec.version },
    staticSummary: `continual learning of ${spec.name}: retrains when new data arrives`,
  });
  return handle.workflowId;
}

export function scheduleId(pipeline: string): string {
  return `${pipeline}/schedule`;
}

const OVERLAP: Record<ScheduleSpec['overlap'], ScheduleOverlapPolicy> = {
  skip: ScheduleOverlapPolicy.SKIP,
  'buffer-one': ScheduleOverlapPolicy.BUFFER_ONE,
  'buffer-all': ScheduleOverlapPolicy.BUFFER_ALL,
  'cancel-other': ScheduleOverlapPolicy.CANCEL_OTHER,
  'terminate-other': ScheduleOverlapPolicy.TERMINATE_OTHER,
  'allow-all': ScheduleOverlapPolicy.ALLOW_ALL,
};

export function describeOverlap(o: ScheduleSpec['overlap']): string {
  return {
    skip: 'skip — a trigger while the previous scheduled run is still open is skipped',
    'buffer-one': 'buffer-one — one trigger waits for the running one',
    'buffer-all': 'buffer-all — every trigger waits its turn',
    'cancel-other': 'cancel-other — the running one is cancelled',
    'terminate-other': 'terminate-other — the running one is terminated',
    'allow-all': 'allow-all — runs may overlap (retrainings still never overlap: the continual workflow serialises them)',
  }[o];
}

/** Create or update the pipeline's Temporal Schedule from `schedule` in its DSL. */
export async function applySchedule(c: BroadloomClient, spec: PipelineSpec): Promise<{ id: string; created: boolean; overlap: string }> {
  const s = spec.schedule;
  assertJsonSafeSpec(spec);
  if (!s) throw new Error(`pipeline ${spec.name} has no \`schedule\` in its definition`);
  const when: TemporalScheduleSpec = s.cron ? { cronExpressions: [s.cron] } : { intervals: [{ every: s.every as never }] };
  const action: ScheduleOptionsAction = {
    type: 'startWorkflow',
    workflowType: 'scheduledRetrainWorkflow',
    workflowId: `${spec.name}/scheduled`,
    taskQueue: DATA_QUEUE,
    args: [{ spec, reason: `schedule ${s.cron ?? `every ${s.every}`}` }],
  };
  const policies = { overlap: OVERLAP[s.overlap], catchupWindow: s.catchupWindow as never, pauseOnFailure: s.pauseOnFailure };
  const id = scheduleId(spec.name);
  const handle = c.client.schedule.getHandle(id);
  try {
    await handle.describe();
    await handle.update((prev) => ({ ...prev, spec: when, action, policies }));
    return { id, created: false, overlap: describeOverlap(s.overlap) };
  } catch (e) {
    if ((e as Error).name !== 'ScheduleNotFoundError') throw e;
  }
  await c.client.schedule.create({
    scheduleId: id, spec: when, action, policies,
    memo: { pipeline: spec.name },
    state: { note: `broadloom: periodic re-fine-tuning of ${spec.name}` },
  });
  return { id, created: true, overlap: describeOverlap(s.overlap) };
}
