/**
 * Stage 5 — evaluate: the project's metric on its full test split, for the candidate and for the current champion,
 * with a report artifact (metrics, confusion matrix, per-class precision/recall/F1) and the gate's verdict.
 */
import { GateSpec } from '../schemas/project.ts';
import type { DatasetRow, StageInput, StageResult, TaskSpec } from '../schemas/index.ts';
import { initBackend } from '../ml/backend.ts';
import { exampleFromRow as toExample, taskDefinition, type TaskDefinition } from '../ml/types.ts';
import type { TaskEvaluation } from '../ml/predict.ts';
import { broadloomContext } from './context.ts';
import { badInput, heartbeat, outputOf, readRows, upstreamOf } from './stage-kit.ts';
import { loadPredictor, modelRefsFromManifest, modelRefsFromOutputs, registryFor, type ModelRefs } from './model-store.ts';

type Row = DatasetRow;

export interface GateVerdict {
  passes: boolean;
  reason: string;
}

export interface SliceScore {
  slice: string;
  examples: number;
  candidate: number;
  champion: number | null;
}

/**
 * Pass only if the candidate reaches the minimum and did not drop more than allowed below the champion — overall,
 * and (with `gate.slices`) on every source's slice of the test split.
 */
export function applyGate(project: string, metric: string, candidate: number, champion: number | null, gate: GateSpec, slices: SliceScore[] = []): GateVerdict {
  const c = candidate.toFixed(4);
  if (candidate < gate.min) return { passes: false, reason: `${project}: ${metric} ${c} is below the minimum ${gate.min}` };
  if (champion !== null && candidate < champion - gate.maxRegression - 1e-12) {
    return { passes: false, reason: `${project}: ${metric} dropped from ${champion.toFixed(4)} to ${c} (allowed regression ${gate.maxRegression})` };
  }
  if (gate.slices) {
    for (const s of slices) {
      if (s.champion !== null && s.candidate < s.champion - gate.maxRegression - 1e-12) {
        return { passes: false, reason: `${project}: ${metric} on ${s.slice} dropped from ${s.champion.toFixed(4)} to ${s.candidate.toFixed(4)} (allowed regression ${gate.maxRegression})` };
      }
    }
  }
  return { passes: true, reason: `${project}: ${metric} ${c}${champion !== null ? ` vs champion ${champion.toFixed(4)}` : ' (no champion yet)'} passes` };
}

/** Split test rows by their source, for sliced evaluation. */
function bySource(rows: Row[]): Map<string, Row[]> {
  const out = new Map<string, Row[]>();
  for (const r of rows) {
    const list = out.get(r.source) ?? [];
    list.push(r);
    out.set(r.source, list);
  }
  return out;
}


interface ModelScores {
  overall: TaskEvaluation;
  slices: Record<string, TaskEvaluation>;
}

async function evaluateModel(refs: ModelRefs, task: TaskDefinition, rows: Row[]): Promise<ModelScores | null> {
  if (!refs.heads[task.name]) return null;
  const predictor = await loadPredictor(refs, [task.name]);
  try {
    const slices: Record<string, TaskEvaluation> = {};
    for (const [source, part] of bySource(rows)) slices[source] = predictor.evaluate(task, part.map(toExample));
    return { overall: predictor.evaluate(task, rows.map(toExample)), slices };
  } finally {
    predictor.dispose();
  }
}

export async function evaluate(input: StageInput): Promise<StageResult> {
  const cfg = input.stage.config as { project: string; task: TaskSpec; gate: GateSpec; champion?: string | null };
  await initBackend(process.env.BROADLOOM_BACKEND);
  const labelled = upstreamOf(input, `${cfg.project}.label`);
  const testRef = outputOf(labelled, 'test', `${cfg.project}.label`);
  const test = await readRows<Row>(testRef);
  if (!test.length) throw badInput(`project ${cfg.project}: the test split is empty; add data or raise split.test`);
  const task = taskDefinition(cfg.project, cfg.task);
  heartbeat({ evaluating: 'candidate', examples: test.length });
  const candidateScores = await evaluateModel(modelRefsFromOutputs(upstreamOf(input, 'train').outputs), task, test);
  if (!candidateScores) throw badInput(`the trained model has no head for project ${cfg.project}`);
  const candidate = candidateScores.overall;
  const championManifest = cfg.champion ? await registryFor(input.pipeline).get(cfg.champion) : null;
  heartbeat({ evaluating: 'champion', version: championManifest?.version ?? null });
  // A champion trained before this project joined has no head for it: nothing to regress from.
  const championScores = championManifest ? await evaluateModel(modelRefsFromManifest(championManifest), task, test) : null;
  const champion = championScores?.overall ?? null;
  const slices: SliceScore[] = Object.entries(candidateScores.slices).map(([slice, e]) => ({
    slice, examples: e.examples, candidate: e.value, champion: championScores?.slices[slice]?.value ?? null,
  }));
  const gate = GateSpec.parse(cfg.gate ?? {});
  const verdict = applyGate(cfg.project, candidate.metric, candidate.value, champion?.value ?? null, gate, slices);
  const report = await broadloomContext().store.putJson(
    { project: cfg.project, testExamples: test.length, metric: candidate.metric, candidate, champion, championVersion: championManifest?.version ?? null, gate, slices, verdict },
    { kind: 'report', name: `${cfg.project}/evaluation` },
  );
  return {
    outputs: { report },
    summary: `${candidate.metric} ${candidate.value.toFixed(4)} on ${test.length} test examples${champion ? ` (champion ${championManifest!.version}: ${champion.value.toFixed(4)})` : ''} — ${verdict.passes ? 'passes' : 'fails'} the gate`,
    metrics: { candidate: candidate.value, accuracy: candidate.accuracy, ...(champion ? { champion: champion.value } : {}), examples: test.length },
    facts: {
      project: cfg.project, metric: candidate.metric, candidate: candidate.value, accuracy: candidate.accuracy,
      ...(candidate.macroF1 !== undefined ? { macroF1: candidate.macroF1 } : {}),
      champion: champion?.value ?? null, championVersion: championManifest?.version ?? null, examples: test.length, testSha256: testRef.sha256,
      passes: verdict.passes, reason: verdict.reason, slices,
    },
  };
}
