/**
 * Stage 3 — label: labels come from the data's label column, from labelling functions written in TypeScript
 * (exported by the pipeline module as `labelers`; votes combined by majority or weight, abstain allowed), and from
 * human labels imported back from files. The examples the current champion is least sure of are written to a
 * labelling queue artifact for humans.
 */
import { pathToFileURL } from 'node:url';
import { readFile } from 'node:fs/promises';
import type { StageInput, StageResult, TextRow, TokenRow, TaskSpec, DatasetRow } from '../schemas/index.ts';
import { LabellingSpec } from '../schemas/project.ts';
import { rowsToTable } from '../data/arrow-rows.ts';
import { resolveSourcePath } from '../data/readers/common.ts';
import type { Labeler, Pipeline } from '../pipelines/dsl.ts';
import { leastConfident } from '../ml/metrics.ts';
import { broadloomContext } from './context.ts';
import { badInput, baseDirOf, heartbeat, outputOf, readRows, upstreamOf } from './stage-kit.ts';
import { loadPredictor, modelRefsFromManifest, registryFor } from './model-store.ts';

type Row = DatasetRow;
const isToken = (r: Row): r is TokenRow => Array.isArray((r as TokenRow).tokens);
const labelOf = (r: Row) => (isToken(r) ? r.tags : r.label);

async function labelersOf(input: StageInput, names: string[]): Promise<Array<[string, Labeler]>> {
  if (!names.length) return [];
  if (!input.module) throw badInput(`stage ${input.stage.id}: labelling functions ${names.join(', ')} need the pipeline module, but the run has none`);
  const mod = (await import(pathToFileURL(input.module).href)) as { default?: Pipeline; pipeline?: Pipeline };
  const labelers = (mod.default ?? mod.pipeline)?.labelers ?? {};
  return names.map((n) => {
    const fn = labelers[n];
    if (typeof fn !== 'function') throw badInput(`stage ${input.stage.id}: labelling function "${n}" is not in the pipeline's \`labelers\` (${input.module})`);
    return [n, fn];
  });
}

/** Combine votes; null when every function abstains or the vote is tied. */
export function combineVotes(votes: Array<[string, string | null]>, combine: 'majority' | 'weighted', weights: Record<string, number> = {}): string | null {
  const score = new Map<string, number>();
  for (const [fn, v] of votes) if (v !== null) score.set(v, (score.get(v) ?? 0) + (combine === 'weighted' ? (weights[fn] ?? 1) : 1));
  const ranked = [...score].sort((a, b) => b[1] - a[1]);
  if (!ranked.length || (ranked.length > 1 && ranked[0]![1] === ranked[1]![1])) return null;
  return ranked[0]![0];
}

/** Human labels: CSV `id,label` (header optional) or JSONL `{"id","label"}`; errors name the file and row. */
async function readHumanLabels(file: string, task: TaskSpec): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const text = await readFile(file, 'utf8');
  text.split(/\r?\n/).forEach((line, i) => {
    if (!line.trim() || (i === 0 && /^id,label$/i.test(line.trim()))) return;
    let id: unknown, label: unknown;
    if (line.trimStart().startsWith('{')) {
      try { ({ id, label } = JSON.parse(line) as { id: unknown; label: unknown }); } catch { throw badInput(`${file}:${i + 1}: not valid JSON`); }
    } else {
      const comma = line.indexOf(',');
      [id, label] = comma < 0 ? [line, undefined] : [line.slice(0, comma).trim(), line.slice(comma + 1).trim()];
    }
    if (typeof id !== 'string' || typeof label !== 'string' || !id || !label) throw badInput(`${file}:${i + 1}: expected an id and a label`);
    if (task.kind === 'sequence-classification' && !task.labels.includes(label))
      throw badInput(`${file}:${i + 1}: unknown label "${label}" (expected one of ${task.labels.join(', ')})`);
    out.set(id, label);
  });
  return out;
}

export async function label(input: StageInput): Promise<StageResult> {
  const cfg = input.stage.config as { project: string; task: TaskSpec; labelling: unknown; champion?: string | null };
  const labelling = LabellingSpec.parse(cfg.labelling ?? {});
  const { store } = broadloomContext();
  const collected = upstreamOf(input, `${cfg.project}.collect`);
  const lfs = await labelersOf(input, labelling.functions);
  const human = new Map<string, string>();
  for (const f of labelling.humanLabels) {
    for (const [id, l] of await readHumanLabels(resolveSourcePath(f, baseDirOf(input), `humanLabels ${f}`), cfg.task)) human.set(id, l);
  }
  const counts = { fromColumn: 0, byFunctions: 0, byHumans: 0, unlabelled: 0 };
  const outputs: StageResult['outputs'] = {};
  const unlabelled: Row[] = [];
  for (const split of ['train', 'dev', 'test'] as const) {
    const rows = await readRows<Row>(outputOf(collected, split, `${cfg.project}.collect`));
    const kept: Row[] = [];
    rows.forEach((r, i) => {
      if (i % 2000 === 0) heartbeat({ split, row: i });
      const h = human.get(r.id);
      if (h !== undefined && !isToken(r)) { kept.push({ ...r, label: h }); counts.byHumans++; return; }
      if (labelOf(r) !== null) { kept.push(r); counts.fromColumn++; return; }
      if (!isToken(r) && lfs.length) {
        const votes = lfs.map(([n, fn]): [string, string | null] => {
          const v = fn({ text: r.text });
          if (v !== null && !cfg.task.labels.includes(v))
            throw badInput(`labelling function "${n}" returned unknown label "${v}" for record ${r.id} (${split} row ${i + 1})`);
          return [n, v];
        });
        const l = combineVotes(votes, labelling.combine, labelling.weights);
        if (l !== null) { kept.push({ ...r, label: l }); counts.byFunctions++; return; }
      }
      counts.unlabelled++;
      unlabelled.push(r);
    });
    const schema = cfg.task.kind === 'token-classification' ? 'token' : 'text';
    outputs[split] = await store.putTable(rowsToTable(kept, schema), { kind: 'dataset', name: `${cfg.project}/${split}/labelled` });
  }
  // New data of a continual run travels on to training, which mixes it with a replay sample of the old.
  if (collected.outputs.arrivals) outputs.arrivals = collected.outputs.arrivals;
  outputs.queue = await store.putTable(rowsToTable(await uncertaintyQueue(input.pipeline, cfg.champion ?? null, cfg.project, unlabelled, labelling.uncertaintyQueueSize), 'generic'), {
    kind: 'labelQueue', name: `${cfg.project}/label-queue`,
  });
  return {
    outputs,
    summary: `${counts.fromColumn} from data, ${counts.byFunctions} by functions, ${counts.byHumans} by humans, ${counts.unlabelled} unlabelled; queue of ${outputs.queue.rows} for humans`,
    metrics: { ...counts, queue: outputs.queue.rows ?? 0 },
    facts: {},
  };
}

/** The unlabelled examples the champion is least sure of (or the first ones, when there is no champion yet). */
async function uncertaintyQueue(pipeline: string, championVersion: string | null, project: string, rows: Row[], size: number) {
  if (!rows.length || !size) return [];
  const champion = championVersion ? await registryFor(pipeline).get(championVersion) : null;
  let order = rows.map((_, i) => i);
  let predictions: Array<{ label: string | null; confidence: number | null }> = rows.map(() => ({ label: null, confidence: null }));
  if (champion?.heads[project]) {
    const predictor = await loadPredictor(modelRefsFromManifest(champion), [project]);
    try {
      const preds = isToken(rows[0]!)
        ? predictor.predictTokens(project, (rows as TokenRow[]).map((r) => r.tokens)).map((p) => ({ label: p.labels.join(' '), confidence: p.confidence }))
        : predictor.predictSequences(project, (rows as TextRow[]).map((r) => r.text)).map((p) => ({ label: p.label, confidence: p.confidence }));
      predictions = preds;
      order = leastConfident(preds.map((p) => p.confidence), size);
    } finally {
      predictor.dispose();
    }
  }
  return order.slice(0, size).map((i) => {
    const r = rows[i]!;
    return { id: r.id, input: isToken(r) ? r.tokens.join(' ') : r.text, predicted: predictions[i]!.label, confidence: predictions[i]!.confidence, champion: champion?.version ?? null };
  });
}
