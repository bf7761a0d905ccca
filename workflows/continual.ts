/**
 * One long-running workflow per pipeline (`<pipeline>/continual`) owns retraining. It counts new records per project
 * as arrivals are signalled (ingest, watched directories), and starts a retraining — a child DAG run warm-started
 * from the champion — when a project's threshold is reached, when arrivals have waited `maxWait`, or on request
 * (schedules, `retrain`). Never two retrainings at once: what arrives meanwhile waits for the next one. Before its
 * history grows large it continues as new with its state.
 */
import {
  ParentClosePolicy, condition, continueAsNew, defineQuery, defineSignal, executeChild, log, proxyActivities,
  setHandler, upsertMemo, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time.js';
import type * as activities from '../activities/index.ts';
import type { ArtifactRef } from '../schemas/artifact.ts';
import type { PipelineSpec } from '../schemas/pipeline.ts';
import { BroadloomChampion, BroadloomPipeline, BroadloomProject, BroadloomStatus } from '../schemas/search-attributes.ts';
import { pipelineWorkflow } from './pipeline.ts';
import { pipelineWorkflowId, type PipelineRunResult } from './definitions.ts';

/** New data for one project: a dataset artifact written by `ingest` or a watched-directory scan. */
export interface Arrival {
  project: string;
  dataset: ArtifactRef;
  records: number;
  /** Where it came from (a file path), for the Web UI and the CLI. */
  origin: string;
}

export interface Decision {
  at: string;
  runId: string;
  decision: 'promoted' | 'rejected' | 'failed';
  version: string | null;
  reason: string;
  /** New records per project that the retraining used. */
  records: Record<string, number>;
}

export interface ContinualState {
  pending: Arrival[];
  /** Arrivals already used by a retraining: part of the project's data from then on. */
  absorbed: Record<string, ArtifactRef[]>;
  champion: string | null;
  lastDecision: Decision | null;
  retrainings: number;
  /** Workflow time of the oldest pending arrival (ms since epoch), for `maxWait`. */
  oldestPendingAt: number | null;
  retrainRequested: string | null;
  generation: number;
  /** Origins already seen per project (dedup of repeated signals for one file). */
  seen: string[];
}

export interface ContinualInput {
  spec: PipelineSpec;
  state?: ContinualState;
}

export interface ContinualView extends ContinualState {
  pipeline: string;
  pendingRecords: Record<string, number>;
  running: string | null;
  handledThisRun: number;
}

export const arrivalSignal = defineSignal<[Arrival]>('arrival');
export const retrainSignal = defineSignal<[{ reason: string }]>('retrain');
/** Replace the spec (e.g. a project was added); the next retraining uses it. Adding projects requests one. */
export const updateSpecSignal = defineSignal<[PipelineSpec]>('updateSpec');
export const continualQuery = defineQuery<ContinualView>('continual');

export function continualWorkflowId(pipeline: string): string {
  return `${pipeline}/continual`;
}

const { scanWatchedSources } = proxyActivities<typeof activities>({
  startToCloseTimeout: '10m',
  heartbeatTimeout: '1m',
  retry: { maximumAttempts: 3 },
});

function emptyState(): ContinualState {
  return { pending: [], absorbed: {}, champion: null, lastDecision: null, retrainings: 0, oldestPendingAt: null, retrainRequested: null, generation: 0, seen: [] };
}

export async function continualWorkflow(input: ContinualInput): Promise<void> {
  let spec = input.spec;
  const state: ContinualState = input.state ?? emptyState();
  const cfg = { threshold: 500, maxWait: '1d', continueAsNewAfter: 500, watchEvery: '1m', ...spec.continual };
  let running: string | null = null;
  let handled = 0;

  const pendingRecords = () => {
    const out: Record<string, number> = {};
    for (const a of state.pending) out[a.project] = (out[a.project] ?? 0) + a.records;
    return out;
  };
  const publish = () => {
    upsertSearchAttributes([
      { key: BroadloomPipeline, value: spec.name },
      { key: BroadloomProject, value: 'all' },
      { key: BroadloomStatus, value: running ? 'retraining' : 'waiting' },
      { key: BroadloomChampion, value: state.champion ?? 'none' },
    ]);
    upsertMemo({ champion: state.champion, pendingRecords: pendingRecords(), lastDecision: state.lastDecision, retrainings: state.retrainings, running });
  };

  const accept = (a: Arrival) => {
    handled++;
    const key = `${a.project}:${a.dataset.sha256}`;
    if (state.seen.includes(key)) return;
    if (!spec.projects.some((p) => p.name === a.project)) {
      log.warn('arrival for an unknown project ignored', { project: a.project, origin: a.origin });
      return;
    }
    state.seen.push(key);
    if (a.records === 0) return;
    state.pending.push(a);
    state.oldestPendingAt ??= Date.now();
  };
  setHandler(arrivalSignal, (a) => { accept(a); publish(); });
  setHandler(retrainSignal, ({ reason }) => { handled++; state.retrainRequested = reason; });
  setHandler(updateSpecSignal, (next) => {
    handled++;
    const added = next.projects.filter((p) => !spec.projects.some((q) => q.name === p.name)).map((p) => p.name);
    spec = next;
    if (added.length) state.retrainRequested = `project(s) added: ${added.join(', ')}`;
  });
  setHandler(continualQuery, () => ({ ...state, pipeline: spec.name, pendingRecords: pendingRecords(), running, handledThisRun: handled }));

  const due = (): string | null => {
    if (state.retrainRequested) return state.retrainRequested;
    for (const [p, n] of Object.entries(pendingRecords())) if (n >= cfg.threshold) return `${p}: ${n} new records ≥ threshold ${cfg.threshold}`;
    if (state.oldestPendingAt !== null && Date.now() - state.oldestPendingAt >= msToNumber(cfg.maxWait as never)) return `arrivals waited ${cfg.maxWait}`;
    return null;
  };
  const watching = spec.projects.some((p) => p.sources.some((s) => s.format === 'directory' && s.watch));
  let nextScan = Date.now();

  publish();
  for (;;) {
    const timers = [
      ...(state.oldestPendingAt !== null ? [state.oldestPendingAt + msToNumber(cfg.maxWait as never)] : []),
      ...(watching ? [nextScan] : []),
    ];
    const wake = timers.length ? Math.max(0, Math.min(...timers) - Date.now()) : undefined;
    const tooLong = () => handled >= cfg.continueAsNewAfter || workflowInfo().continueAsNewSuggested;
    if (wake === undefined) await condition(() => due() !== null || tooLong());
    else if (wake > 0) await condition(() => due() !== null || tooLong(), wake);

    if (watching && Date.now() >= nextScan) {
      const found = await scanWatchedSources({ pipeline: spec.name, spec });
      for (const a of found) accept(a);
      nextScan = Date.now() + msToNumber(cfg.watchEvery as never);
      publish();
    }

    const reason = due();
    if (reason) await retrain(reason);

    if (tooLong()) {
      // Signals that arrived in this workflow task are already in `state`: nothing is lost across the boundary.
      log.info('continuing as new', { handled, generation: state.generation });
      await continueAsNew<typeof continualWorkflow>({ spec, state: { ...state, generation: state.generation + 1 } });
    }
  }

  async function retrain(reason: string): Promise<void> {
    const batch = state.pending;
    state.pending = [];
    state.oldestPendingAt = null;
    state.retrainRequested = null;
    state.retrainings++;
    const arrivals: Record<string, ArtifactRef[]> = {};
    const records: Record<string, number> = {};
    for (const a of batch) {
      (arrivals[a.project] ??= []).push(a.dataset);
      records[a.project] = (records[a.project] ?? 0) + a.records;
    }
    const runKey = `retrain-${String(state.retrainings).padStart(4, '0')}-g${state.generation}`;
    const workflowId = pipelineWorkflowId(spec.name, `${runKey}-${workflowInfo().runId.slice(0, 8)}`);
    running = workflowId;
    publish();
    log.info('retraining', { reason, workflowId, records });
    let result: PipelineRunResult | null = null;
    try {
      result = await executeChild(pipelineWorkflow, {
        workflowId,
        args: [{ spec, runKey, noCache: false, force: [], targets: [], warmStart: 'champion', arrivals, absorbed: state.absorbed }],
        parentClosePolicy: ParentClosePolicy.ABANDON,
        typedSearchAttributes: [
          { key: BroadloomPipeline, value: spec.name },
          { key: BroadloomProject, value: 'all' },
          { key: BroadloomStatus, value: 'pending' },
        ],
        memo: { pipeline: spec.name, version: spec.version, trigger: reason },
        staticSummary: `retraining of ${spec.name}: ${reason}`,
      });
    } catch (err) {
      // Nothing is lost: the batch waits for the next retraining (after the fault is fixed).
      state.pending = [...batch, ...state.pending];
      state.oldestPendingAt = Date.now();
      state.lastDecision = { at: new Date().toISOString(), runId: workflowId, decision: 'failed', version: null, reason: (err as Error).message, records };
    }
    if (result) {
      for (const [p, refs] of Object.entries(arrivals)) (state.absorbed[p] ??= []).push(...refs);
      const p = (result.promotion ?? {}) as { decision?: 'promoted' | 'rejected'; version?: string; reason?: string };
      if (p.decision === 'promoted' && p.version) state.champion = p.version;
      state.lastDecision = {
        at: new Date().toISOString(), runId: workflowId, decision: p.decision ?? 'rejected', version: p.version ?? null,
        reason: p.reason ?? 'the pipeline has no promote stage', records,
      };
    }
    running = null;
    publish();
  }
}
