/**
 * Stage 4 — train: one shared encoder fine-tuned on every project at once (Σ of per-project losses, one head per
 * project), on the `training` task queue. Heartbeats carry progress (step, losses, tokens/s) and a reference to the
 * last checkpoint; a retry after a crash resumes from that checkpoint, not from step 0. A continual run warm-starts
 * from the champion and mixes the new data with a replay sample of the earlier data (no forgetting).
 */
import { rm } from 'node:fs/promises';
import { CancelledFailure } from '@temporalio/common';
import type { ArtifactRef, DatasetRow, EncoderSpec, StageInput, StageResult, TaskSpec, TrainingSpec } from '../schemas/index.ts';
import { trainMultiTask, inspectTrainerState, type TrainTask } from '../ml/trainer.ts';
import { initBackend } from '../ml/backend.ts';
import { exampleFromRow as toExample, taskDefinition } from '../ml/types.ts';
import { broadloomContext } from './context.ts';
import { activityContext, badInput, outputOf, readRows, throttledHeartbeat, upstreamOf } from './stage-kit.ts';
import { modelOutputs, modelRefsFromManifest, readModelBytes, resolveModelVersion, storeModel } from './model-store.ts';

type Row = DatasetRow;

export interface TrainConfig {
  encoder: EncoderSpec;
  training: TrainingSpec;
  projects: Array<{ name: string; task: TaskSpec }>;
  /** `champion` or a version: warm start (continual retraining). */
  warmStart?: string;
}

/** What the train activity heartbeats; `checkpoint` is how a retried attempt resumes. */
export interface TrainHeartbeat {
  cacheKey: string;
  step: number;
  totalSteps?: number;
  lossPerTask?: Record<string, number>;
  tokensPerSecond?: number;
  checkpoint?: ArtifactRef;
}

export async function train(input: StageInput): Promise<StageResult> {
  const cfg = input.stage.config as unknown as TrainConfig;
  const ctx = activityContext();
  const { store } = broadloomContext();
  const backend = await initBackend(process.env.BROADLOOM_BACKEND ?? cfg.training.backend);

  const warm = cfg.warmStart ? await resolveModelVersion(input.pipeline, cfg.warmStart) : null;
  const tasks: TrainTask[] = [];
  const dataHashes: Record<string, string[]> = {};
  for (const p of cfg.projects) {
    const labelled = upstreamOf(input, `${p.name}.label`);
    dataHashes[p.name] = ['train', 'dev', 'arrivals'].flatMap((k) => (labelled.outputs[k] ? [labelled.outputs[k]!.sha256] : []));
    const trainRows = await readRows<Row>(outputOf(labelled, 'train', `${p.name}.label`));
    const dev = (await readRows<Row>(outputOf(labelled, 'dev', `${p.name}.label`))).map(toExample);
    const arrivalsRef = input.upstream[`${p.name}.label`]?.outputs.arrivals ?? input.upstream[`${p.name}.collect`]?.outputs.arrivals;
    const arrivedIds = arrivalsRef ? new Set((await readRows<Row>(arrivalsRef)).map((r) => r.id)) : null;
    // Warm-started with new data: train on what arrived, replay a sample of what the champion already saw.
    const task: TrainTask = warm && arrivedIds?.size
      ? { ...taskDefinition(p.name, p.task), train: trainRows.filter((r) => arrivedIds.has(r.id)).map(toExample), dev, replay: trainRows.filter((r) => !arrivedIds.has(r.id)).map(toExample) }
      : { ...taskDefinition(p.name, p.task), train: trainRows.map(toExample), dev };
    if (!task.train.length) throw badInput(`project ${p.name}: no labelled training examples (see the ${p.name}.collect quarantine and ${p.name}.label counts)`);
    tasks.push(task);
  }

  // A retried attempt resumes from the checkpoint its predecessor heartbeated (same stage inputs only).
  const previous = ctx?.info.heartbeatDetails as TrainHeartbeat | undefined;
  let resume: Uint8Array | undefined;
  let resumedFromStep = 0;
  if (previous?.checkpoint && previous.cacheKey === input.cacheKey) {
    try {
      resume = await store.getBytes(previous.checkpoint);
      resumedFromStep = inspectTrainerState(resume).step;
    } catch (e) {
      ctx?.log.warn(`cannot resume from checkpoint ${previous.checkpoint.sha256}: ${(e as Error).message}; starting over`);
    }
  }
  if (resume) ctx?.log.info(`resuming training from step ${resumedFromStep} (attempt ${ctx.info.attempt})`);

  const beat = throttledHeartbeat(1000);
  // Checkpoints are scratch, removed once training succeeds — not before: the server records heartbeats at most
  // every 0.8 × heartbeatTimeout, so the checkpoint a retry will be handed can be several checkpoints old.
  const scratch: ArtifactRef[] = resume && previous?.checkpoint ? [previous.checkpoint] : [];
  let last: TrainHeartbeat = { cacheKey: input.cacheKey, step: resumedFromStep, ...(previous?.checkpoint && resume ? { checkpoint: previous.checkpoint } : {}) };
  const result = await trainMultiTask({
    encoder: cfg.encoder,
    training: cfg.training,
    tasks,
    ...(warm ? { warmStart: await readModelBytes(modelRefsFromManifest(warm)) } : {}),
    ...(resume ? { resume } : {}),
    backend: backend.name,
    signal: ctx?.cancellationSignal,
    // Every step, throttled to one heartbeat a second: a slow machine still proves liveness between checkpoints.
    progressEvery: 1,
    onProgress: (p) => {
      last = { ...last, step: p.step, totalSteps: p.totalSteps, lossPerTask: p.lossPerTask, tokensPerSecond: Math.round(p.tokensPerSecond) };
      return beat(last);
    },
    onCheckpoint: async (c) => {
      const ref = await store.putBytes(c.state, { kind: 'checkpoint', name: `${input.pipeline}/train/step-${c.step}` });
      scratch.push(ref);
      last = { ...last, step: c.step, checkpoint: ref };
      await beat(last, true);
    },
  });
  if (result.stopReason === 'aborted') throw new CancelledFailure('training cancelled');

  const devMetrics = Object.fromEntries(Object.entries(result.devMetrics).map(([p, m]) => [p, { metric: m.metric, value: m.value }]));
  const saved = result.save();
  const refs = await storeModel(saved, `${input.pipeline}/model`);
  const report = await store.putJson(
    {
      backend: result.backend, steps: result.steps, stopReason: result.stopReason, bestStep: result.bestStep,
      resumedFromStep, warmStart: warm?.version ?? null, data: result.data, devMetrics: result.devMetrics,
      lossCurve: result.lossCurve, evalHistory: result.evalHistory, tokensPerSecond: result.tokensPerSecond, elapsedMs: result.elapsedMs, newHeads: result.newHeads,
    },
    { kind: 'report', name: `${input.pipeline}/train-report` },
  );
  for (const ref of scratch) await rm(store.pathOf(ref), { force: true });
  const devLine = Object.entries(devMetrics).map(([p, m]) => `${p} ${m.metric} ${m.value.toFixed(3)}`).join(', ');
  return {
    outputs: { ...modelOutputs(refs), report },
    summary: `${result.steps} steps on ${result.backend.name}${resumedFromStep ? ` (resumed at step ${resumedFromStep})` : ''}${warm ? `, warm-started from ${warm.version}` : ''}, ${Math.round(result.tokensPerSecond)} tokens/s; dev: ${devLine}`,
    metrics: { steps: result.steps, tokensPerSecond: Math.round(result.tokensPerSecond), resumedFromStep, elapsedMs: Math.round(result.elapsedMs) },
    facts: {
      backend: result.backend.name, resumedFromStep, stopReason: result.stopReason, warmStart: warm?.version ?? null,
      devMetrics, codeVersion: input.stage.codeVersion, newHeads: result.newHeads, data: dataHashes,
    },
  };
}
