/**
 * Client-side operations on pipeline runs: start, watch, retry, replay. Used by the CLI and by the tests.
 */
import { Client, Connection, WorkflowFailedError, type WorkflowHandle } from '@temporalio/client';
import { Worker } from '@temporalio/worker';
import { randomBytes } from 'node:crypto';
import { PipelineRunInput, type PipelineSpec } from '../schemas/pipeline.ts';
import type { StageState } from '../schemas/stage.ts';
import type { ArtifactRef } from '../schemas/artifact.ts';
import { BroadloomPipeline, BroadloomProject, BroadloomStatus, BroadloomStage } from '../schemas/search-attributes.ts';
import { pipelineWorkflowId, stagesQuery, type PipelineRunResult } from '../workflows/definitions.ts';
import { assertJsonSafeSpec, DATA_QUEUE } from '../pipelines/compile.ts';
import { workflowBundle } from '../workers/worker.ts';


export interface BroadloomClient {
  client: Client;
  connection: Connection;
  namespace: string;
  close(): Promise<void>;
}

export async function connectClient(address: string, namespace = 'default'): Promise<BroadloomClient> {
  const connection = await Connection.connect({ address });
  const client = new Client({ connection, namespace });
  return { client, connection, namespace, close: () => connection.close() };
}

/** A sortable, readable run key: `20261204-161502-3fa9`. */
export function newRunKey(now = new Date()): string {
  const t = now.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
  return `${t}-${randomBytes(2).toString('hex')}`;
}

export interface StartRunOptions {
  runKey?: string;
  noCache?: boolean;
  force?: string[];
  targets?: string[];
  warmStart?: string | null;
  arrivals?: Record<string, ArtifactRef[]>;
  taskQueue?: string;
}

export async function startRun(c: BroadloomClient, spec: PipelineSpec, o: StartRunOptions = {}): Promise<WorkflowHandle> {
  assertJsonSafeSpec(spec);
  const input = PipelineRunInput.parse({
    spec, runKey: o.runKey ?? newRunKey(), noCache: o.noCache ?? false, force: o.force ?? [], targets: o.targets ?? [],
    warmStart: o.warmStart ?? null, arrivals: o.arrivals ?? {},
  });
  const projects = spec.projects.map((p) => p.name);
  return c.client.workflow.start('pipelineWorkflow', {
    taskQueue: o.taskQueue ?? DATA_QUEUE,
    workflowId: pipelineWorkflowId(spec.name, input.runKey),
    args: [input],
    typedSearchAttributes: [
      { key: BroadloomPipeline, value: spec.name },
      { key: BroadloomProject, value: projects.length === 1 ? projects[0]! : 'all' },
      { key: BroadloomStatus, value: 'pending' },
      { key: BroadloomStage, value: [] },
    ],
    memo: { pipeline: spec.name, version: spec.version, projects, stages: spec.stages.length },
    staticSummary: `pipeline ${spec.name} v${spec.version}: ${spec.stages.length} stages, projects ${projects.join(', ') || '(none)'}`,
  });
}

/** Poll the stages query and report each stage's transitions until the run ends. */
export async function watchRun(
  handle: WorkflowHandle,
  onChange: (s: StageState) => void,
  intervalMs = 500,
): Promise<{ result?: PipelineRunResult; error?: Error }> {
  const seen = new Map<string, string>();
  const poll = async () => {
    try {
      for (const s of await handle.query(stagesQuery)) {
        if (seen.get(s.id) !== s.status) { seen.set(s.id, s.status); onChange(s); }
      }
    } catch { /* the run may not have had its first workflow task yet */ }
  };
  const timer = setInterval(() => void poll(), intervalMs);
  try {
    const result = (await handle.result()) as PipelineRunResult;
    clearInterval(timer);
    for (const s of result.stages) if (seen.get(s.id) !== s.status) onChange(s);
    return { result };
  } catch (e) {
    clearInterval(timer);
    if (e instanceof WorkflowFailedError) {
      const details = (e.cause as { details?: unknown[] } | undefined)?.details?.[0] as StageState[] | undefined;
      for (const s of details ?? []) if (seen.get(s.id) !== s.status) onChange(s);
    }
    return { error: e as Error };
  }
}

/** The input a run was started with, read from its first history event. */
export async function runInput(c: BroadloomClient, workflowId: string): Promise<PipelineRunInput> {
  const handle = c.client.workflow.getHandle(workflowId);
  const history = await handle.fetchHistory();
  const first = history.events?.[0]?.workflowExecutionStartedEventAttributes;
  const payloads = first?.input?.payloads;
  if (!payloads?.length) throw new Error(`workflow ${workflowId} has no input in its history`);
  const [input] = await Promise.all(payloads.map((p) => c.client.options.loadedDataConverter.payloadConverter.fromPayload(p)));
  return PipelineRunInput.parse(input);
}

/**
 * Start a new run of the same spec that reuses every stage that completed (through the stage cache) and
 * re-executes from the failed stage; `from` forces re-execution from those stages on.
 */
export async function retryRun(c: BroadloomClient, workflowId: string, o: { from?: string[]; spec?: PipelineSpec } = {}) {
  const input = await runInput(c, workflowId);
  for (const f of [...(o.from ?? []), ...input.targets]) {
    if (!input.spec.stages.some((s) => s.id === f)) throw new Error(`--from ${f}: no stage with that id in ${workflowId}`);
  }
  return startRun(c, o.spec ?? input.spec, {
    force: o.from ?? [], targets: input.targets, noCache: input.noCache, warmStart: input.warmStart, arrivals: input.arrivals,
  });
}

export interface ReplayOutcome {
  workflowId: string;
  ok: boolean;
  error?: string;
}

/** Replay histories against the current workflow code; non-determinism is reported, not thrown. */
export async function replayHistories(histories: Array<{ workflowId: string; history: unknown }>): Promise<ReplayOutcome[]> {
  const bundle = await workflowBundle();
  const out: ReplayOutcome[] = [];
  const iterable = histories.map((h) => ({ workflowId: h.workflowId, history: h.history as never }));
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle, replayName: 'broadloom-replay' }, iterable)) {
    out.push({ workflowId: r.workflowId, ok: !r.error, ...(r.error ? { error: r.error.message } : {}) });
  }
  return out;
}
