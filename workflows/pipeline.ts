/**
 * The DAG interpreter: one generic workflow runs any PipelineSpec. Stages run as activities in dependency order,
 * independent stages in parallel (at most `maxParallel`), each with the retry policy, timeouts, heartbeat timeout
 * and task queue its spec gives. Before a stage is scheduled its cache key is looked up (a local activity); a hit
 * reuses the stored outputs and schedules no activity task.
 *
 * Deterministic: only @temporalio/workflow, schema types and activity *types* are imported.
 */
import {
  ActivityFailure, ApplicationFailure, condition, log, proxyActivities, proxyLocalActivities, setHandler,
  upsertSearchAttributes, workflowInfo, type ActivityOptions,
} from '@temporalio/workflow';
import type * as activities from '../activities/index.ts';
import type { PipelineRunInput } from '../schemas/pipeline.ts';
import type { StageInput, StageResult, StageSpec, StageState } from '../schemas/stage.ts';
import { ancestors, descendants } from '../schemas/dag.ts';
import { BroadloomStage, BroadloomStatus } from '../schemas/search-attributes.ts';
import { STAGE_FAILED, stagesQuery, type PipelineRunResult } from './definitions.ts';

const cacheActivities = proxyLocalActivities<typeof activities>({
  startToCloseTimeout: '1m',
  retry: { maximumAttempts: 5, initialInterval: '200ms' },
});

type StageActivity = (input: StageInput) => Promise<StageResult>;

function activityOptions(stage: StageSpec): ActivityOptions {
  const o = stage.options;
  return {
    taskQueue: o.taskQueue,
    startToCloseTimeout: o.startToCloseTimeout as ActivityOptions['startToCloseTimeout'],
    ...(o.heartbeatTimeout ? { heartbeatTimeout: o.heartbeatTimeout as ActivityOptions['heartbeatTimeout'] } : {}),
    retry: {
      maximumAttempts: o.retry.maximumAttempts,
      initialInterval: o.retry.initialInterval as ActivityOptions['startToCloseTimeout'],
      backoffCoefficient: o.retry.backoffCoefficient,
      maximumInterval: o.retry.maximumInterval as ActivityOptions['startToCloseTimeout'],
      nonRetryableErrorTypes: o.retry.nonRetryableErrorTypes,
    },
    activityId: stage.id,
    summary: `${stage.id} · ${stage.activity}${stage.project ? ` · project ${stage.project}` : ''}`,
  };
}

/** Stages whose work depends on the champion model: they get its version (and it is part of their cache key). */
const CHAMPION_AWARE = new Set(['label', 'evaluate', 'promote']);

/** Config as the stage (and its cache key) sees it: run-level inputs that change its work are folded in. */
function effectiveConfig(stage: StageSpec, input: PipelineRunInput, champion: string | null): Record<string, unknown> {
  const config: Record<string, unknown> = { ...stage.config };
  if (CHAMPION_AWARE.has(stage.activity)) config.champion = champion;
  if (stage.activity === 'train' && input.warmStart) {
    const version = input.warmStart === 'champion' ? champion : input.warmStart;
    if (version) config.warmStart = version;
  }
  if (stage.activity === 'collect' && stage.project) {
    if (input.arrivals[stage.project]?.length) config.arrivals = input.arrivals[stage.project];
    if (input.absorbed[stage.project]?.length) config.absorbed = input.absorbed[stage.project];
  }
  return config;
}

function errorMessage(err: unknown): string {
  if (err instanceof ActivityFailure && err.cause) return err.cause.message;
  return err instanceof Error ? err.message : String(err);
}

export async function pipelineWorkflow(input: PipelineRunInput): Promise<PipelineRunResult> {
  const { spec: fullSpec } = input;
  // `targets`: only those stages and what they need run; the rest are not part of this run.
  const wanted = input.targets?.length ? ancestors(fullSpec.stages, input.targets) : null;
  const spec = wanted ? { ...fullSpec, stages: fullSpec.stages.filter((s) => wanted.has(s.id)) } : fullSpec;
  const states = new Map<string, StageState>(
    spec.stages.map((s) => [s.id, { id: s.id, activity: s.activity, project: s.project, status: 'pending', attempt: 0 }]),
  );
  setHandler(stagesQuery, () => [...states.values()]);
  const forced = descendants(spec.stages, input.force);
  const byId = new Map(spec.stages.map((s) => [s.id, s]));
  const results = new Map<string, StageResult>();
  let running = 0;
  let changed = 0;
  /** Finished stage results waiting to be written to the cache, in the order their activities completed. */
  const toRecord: Array<{ key: string; result: StageResult }> = [];

  const publish = (status: string) => {
    const active = [...states.values()].filter((s) => s.status === 'running').map((s) => s.id);
    upsertSearchAttributes([
      { key: BroadloomStatus, value: status },
      { key: BroadloomStage, value: active },
    ]);
  };
  publish('running');
  const champion = spec.projects.length ? await cacheActivities.currentChampion({ pipeline: spec.name }) : null;

  /**
   * Look the stage up in the cache; on a hit it is done, otherwise its activity starts (not awaited: its completion
   * is picked up by the driver loop). Called only from the driver, one at a time.
   */
  const startStage = async (stage: StageSpec): Promise<void> => {
    const state = states.get(stage.id)!;
    state.status = 'running';
    state.startedAt = new Date().toISOString();
    const upstream = Object.fromEntries(stage.after.map((d) => [d, results.get(d)!]));
    const inputHashes = stage.after.flatMap((d) => Object.values(results.get(d)!.outputs).map((r) => r.sha256));
    const config = effectiveConfig(stage, input, champion);
    const cacheable = stage.options.cache;
    let key: string;
    try {
      const lookup = await cacheActivities.lookupStageCache({
        pipeline: spec.name, stageId: stage.id, config, inputHashes, codeVersion: stage.codeVersion,
        skipRead: input.noCache || !cacheable || forced.has(stage.id),
      });
      key = lookup.key;
      state.cacheKey = key;
      if (lookup.hit) {
        results.set(stage.id, lookup.hit);
        Object.assign(state, { status: 'cached', result: lookup.hit, endedAt: new Date().toISOString() });
        log.info('stage cached', { stage: stage.id, key });
        return;
      }
    } catch (err) {
      Object.assign(state, { status: 'failed', error: `cache lookup failed: ${errorMessage(err)}`, endedAt: new Date().toISOString() });
      return;
    }
    running++;
    publish('running');
    const act = proxyActivities<Record<string, StageActivity>>(activityOptions(stage))[stage.activity]!;
    state.attempt = 1;
    act({ pipeline: spec.name, runId: workflowInfo().workflowId, stage: { ...stage, config }, upstream, cacheKey: key, module: spec.module })
      .then(
        (result) => {
          results.set(stage.id, result);
          if (cacheable) toRecord.push({ key, result });
          Object.assign(state, { status: 'done', result, endedAt: new Date().toISOString() });
        },
        (err) => {
          Object.assign(state, { status: 'failed', error: errorMessage(err), endedAt: new Date().toISOString() });
          log.warn('stage failed', { stage: stage.id, error: state.error });
        },
      )
      .finally(() => {
        running--;
        changed++;
      });
  };

  // The driver. Every local activity (cache lookups and records) is issued from here and awaited before the next,
  // so the commands this workflow produces depend only on the order of events in its history — never on how
  // local-activity results happen to be batched into activations, which differs between a run and its replay.
  for (;;) {
    while (toRecord.length) await cacheActivities.recordStageCache(toRecord.shift()!);
    const failed = [...states.values()].some((s) => s.status === 'failed');
    const ready = failed
      ? []
      : [...states.values()].filter((s) => s.status === 'pending' && byId.get(s.id)!.after.every((d) => results.has(d)));
    let progressed = false;
    for (const s of ready) {
      if (running >= spec.maxParallel) break;
      await startStage(byId.get(s.id)!);
      progressed = true;
    }
    if (progressed) continue; // cache hits may have made more stages ready
    if (running === 0 && !toRecord.length) break;
    const seen = changed;
    await condition(() => changed !== seen);
  }

  const failedStages = [...states.values()].filter((s) => s.status === 'failed');
  if (failedStages.length) {
    for (const s of states.values()) if (s.status === 'pending') s.status = 'skipped';
    publish('failed');
    const first = failedStages[0]!;
    throw ApplicationFailure.create({
      type: STAGE_FAILED,
      nonRetryable: true,
      message: `stage ${first.id} failed: ${first.error}. Fix the cause, then \`broadloom retry ${workflowInfo().workflowId}\` re-runs it and what follows; finished stages are reused.`,
      details: [[...states.values()]],
    });
  }
  publish('completed');
  return {
    pipeline: spec.name,
    runKey: input.runKey,
    status: 'completed',
    stages: [...states.values()],
    promotion: results.get('promote')?.facts ?? null,
  };
}
