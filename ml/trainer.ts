/**
 * Multi-task trainer: one shared BERT encoder, one head per project.
 *
 * Batches MIX projects: for each of the `batchSize` slots a project is drawn from the sampling
 * distribution (proportional to train-set size, or temperature sampling p ∝ n^(1/T)); the encoder runs
 * once over the whole (padded) batch, each project's head runs on its rows, and the loss is the SUM
 * over the projects present of each project's mean loss. Within a project, examples come from a
 * seeded per-epoch shuffle of its train set; with `replay` rows, each slot is a replay row with
 * probability `replayShare`.
 *
 * AdamW (decoupled weight decay, none on biases/LayerNorm), linear warm-up then linear decay to 0,
 * global-norm clipping, dev evaluation every `evalEvery` steps (all kept in `evalHistory`) with early stopping after
 * `patience` evaluations without improvement (0: never), and the best evaluation's weights restored at the end
 * unless `restoreBest` is off. Everything random comes from
 * seeded PRNGs whose state is checkpointed, so the same seed gives the same loss curve on the same
 * backend, and a resumed run continues exactly where the checkpoint was taken.
 */
import * as tf from '@tensorflow/tfjs';
import type { z } from 'zod';
import { EncoderSpec, TrainingSpec } from '../schemas/model.ts';
import { initBackend } from './backend.ts';
import type { BackendReport } from './backend.ts';
import { decodeSafetensors, encodeSafetensors, loadModel, saveModel } from './checkpoint.ts';
import type { ModelArtifacts, ModelManifestJSON } from './checkpoint.ts';
import { BertEncoder, assignHost, encoderConfigFromSpec, hostVariable } from './encoder.ts';
import type { EncoderConfig, HostTensor, NamedTensors } from './encoder.ts';
import { TaskHead, crossEntropy } from './heads.ts';
import type { HeadConfig } from './heads.ts';
import { namedVariables } from './model.ts';
import type { MultiTaskModel } from './model.ts';
import { evaluateTask } from './predict.ts';
import type { TaskEvaluation } from './predict.ts';
import { Rng, hashString } from './rng.ts';
import { IGNORE_INDEX, WordPieceTokenizer, padBatch } from './tokenizer.ts';
import type { TokenizerJSON } from './tokenizer.ts';
import { isTokenExample } from './types.ts';
import type { Example, TaskDefinition } from './types.ts';

export interface TrainTask extends TaskDefinition {
  train: Example[];
  dev: Example[];
  /** Earlier data of this project, mixed in at TrainingSpec.replayShare (continual learning). */
  replay?: Example[];
}

export interface TrainProgress {
  step: number;
  totalSteps: number;
  /** Summed loss of the last step. */
  loss: number;
  lossPerTask: Record<string, number>;
  learningRate: number;
  /** Non-padding tokens per second since this run (or resume) began. */
  tokensPerSecond: number;
  elapsedMs: number;
}

export interface TrainerCheckpoint {
  step: number;
  /** Opaque trainer state (safetensors bytes) — pass back as `resume` to continue at `step`. */
  state: Uint8Array;
}

export type ModelSource = MultiTaskModel | { encoder: Uint8Array; tokenizer: Uint8Array; heads: Record<string, Uint8Array>; manifest?: ModelManifestJSON };

export interface TrainOptions {
  encoder: z.input<typeof EncoderSpec>;
  training: z.input<typeof TrainingSpec>;
  tasks: TrainTask[];
  /** Start from an existing model: its tokenizer + encoder, its heads for known projects (same kind and labels), fresh heads otherwise. */
  warmStart?: ModelSource;
  /** Trainer state from `onCheckpoint` / a previous result: continue at that step (takes precedence over warmStart). */
  resume?: Uint8Array;
  onProgress?: (p: TrainProgress) => void | Promise<void>;
  /** Call onProgress every this many steps (default 10; always on the last step). */
  progressEvery?: number;
  /** Called every TrainingSpec.checkpointEvery steps (awaited). */
  onCheckpoint?: (c: TrainerCheckpoint) => void | Promise<void>;
  /** Checked between steps; an aborted run returns with stopReason 'aborted' and its current state. */
  signal?: AbortSignal;
  /** Overrides TrainingSpec.backend. */
  backend?: string;
}

export interface DataReport {
  train: number;
  dev: number;
  replay: number;
  /** Empty texts / empty token lists skipped (all splits). */
  emptySkipped: number;
  /** Examples cut to maxLength (all splits). */
  truncated: number;
}

export interface TrainResult {
  model: MultiTaskModel;
  backend: BackendReport;
  /** Steps done in total (including steps before a resume). */
  steps: number;
  stopReason: 'completed' | 'early-stopped' | 'aborted';
  bestStep: number | null;
  bestScore: number | null;
  /** Dev metrics of the returned weights (the best evaluation's, or the last step's without restoreBest) per project. */
  devMetrics: Record<string, TaskEvaluation>;
  lossCurve: { step: number; loss: number; lossPerTask: Record<string, number> }[];
  /** Every dev evaluation: the mean dev metric (the selection score) and each project's. */
  evalHistory: { step: number; score: number; metrics: Record<string, number> }[];
  data: Record<string, DataReport>;
  /** Projects whose head was created fresh (vs. reused from warmStart / resume). */
  newHeads: string[];
  tokensPerSecond: number;
  elapsedMs: number;
  /** Final trainer state (resume bytes). */
  state: Uint8Array;
  /** Serialise the returned model (encoder, tokenizer, heads, manifest with dev metrics). */
  save(): ModelArtifacts;
}

/* ------------------------------------------------------------------ data preparation */

interface Prepared {
  ids: number[];
  tokenTypeIds: number[];
  /** [y] for sequence tasks; per-position labels (IGNORE_INDEX elsewhere) for token tasks. */
  labels: number[];
}

interface PreparedTask {
  def: TrainTask;
  train: Prepared[];
  replay: Prepared[];
  dev: Example[];
  report: DataReport;
}

function isEmpty(e: Example): boolean {
  return isTokenExample(e) ? e.tokens.length === 0 : e.text.trim() === '';
}

/** Validate labels/shapes; throws naming task, split, row and label. */
export function validateTask(t: TrainTask): void {
  if (!t.name) throw new Error('a task needs a name');
  if (t.kind !== 'sequence-classification' && t.kind !== 'token-classification') throw new Error(`task "${t.name}": unknown kind ${String(t.kind)}`);
  if (t.labels.length < 2) throw new Error(`task "${t.name}": needs at least 2 labels`);
  if (new Set(t.labels).size !== t.labels.length) throw new Error(`task "${t.name}": duplicate labels`);
  const known = new Set(t.labels);
  const splits: [string, Example[] | undefined][] = [['train', t.train], ['dev', t.dev], ['replay', t.replay]];
  for (const [split, rows] of splits) {
    (rows ?? []).forEach((e, i) => {
      const where = `task "${t.name}": ${split} row ${i}`;
      if (t.kind === 'sequence-classification') {
        if (isTokenExample(e) || typeof (e as { text?: unknown }).text !== 'string') throw new Error(`${where}: expected { text, label }`);
        if (!known.has(e.label)) throw new Error(`${where}: unknown label "${e.label}" (labels: ${t.labels.join(', ')})`);
      } else {
        if (!isTokenExample(e) || !Array.isArray(e.tags)) throw new Error(`${where}: expected { tokens, tags }`);
        if (e.tokens.length !== e.tags.length) throw new Error(`${where}: ${e.tokens.length} tokens but ${e.tags.length} tags`);
        e.tags.forEach((tag, k) => {
          if (!known.has(tag)) throw new Error(`${where}: unknown label "${tag}" at token ${k} (labels: ${t.labels.join(', ')})`);
        });
      }
    });
  }
  if (!t.train.some((e) => !isEmpty(e))) throw new Error(`task "${t.name}": no non-empty training examples`);
}

function prepare(t: TrainTask, tok: WordPieceTokenizer, maxLength: number): PreparedTask {
  const li = new Map(t.labels.map((l, i) => [l, i]));
  const report: DataReport = { train: 0, dev: 0, replay: 0, emptySkipped: 0, truncated: 0 };
  const enc = (rows: Example[]): Prepared[] => {
    const out: Prepared[] = [];
    for (const e of rows) {
      if (isEmpty(e)) {
        report.emptySkipped++;
        continue;
      }
      if (isTokenExample(e)) {
        const w = tok.encodeWords(e.tokens, maxLength, e.tags.map((g) => li.get(g)!));
        if (w.truncated) report.truncated++;
        out.push({ ids: w.ids, tokenTypeIds: w.tokenTypeIds, labels: w.labels });
      } else {
        const s = tok.encode(e.text, maxLength);
        if (s.truncated) report.truncated++;
        out.push({ ids: s.ids, tokenTypeIds: s.tokenTypeIds, labels: [li.get(e.label)!] });
      }
    }
    return out;
  };
  const train = enc(t.train);
  const replay = enc(t.replay ?? []);
  const dev = t.dev.filter((e) => {
    if (isEmpty(e)) {
      report.emptySkipped++;
      return false;
    }
    if (isTokenExample(e) ? tok.encodeWords(e.tokens, maxLength).truncated : tok.encode(e.text, maxLength).truncated) report.truncated++;
    return true;
  });
  report.train = train.length;
  report.replay = replay.length;
  report.dev = dev.length;
  return { def: t, train, replay, dev, report };
}

/**
 * The tokenizer's training corpus: what the model will read, balanced across projects.
 * Each text is cut to its first `maxLength` words (the model never sees more subwords than that, and a subword is
 * never longer than a word), and no project contributes more characters than the median project does (an even
 * stride through its texts). Without this, one project of long documents (e-mails: 11M characters against 0.9M of
 * POS sentences) took most of the vocabulary, and the other projects' words split into more, rarer pieces.
 */
export function tokenizerCorpus(tasks: TrainTask[], maxLength: number): string[] {
  const perTask = tasks.map((t) =>
    [...t.train, ...(t.replay ?? [])].map((e) => {
      const words = isTokenExample(e) ? e.tokens : e.text.split(/\s+/);
      return (words.length > maxLength ? words.slice(0, maxLength) : words).join(' ');
    }),
  );
  const totals = perTask.map((texts) => texts.reduce((a, t) => a + t.length, 0));
  const sorted = [...totals].sort((a, b) => a - b);
  const budget = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const out: string[] = [];
  perTask.forEach((texts, i) => {
    if (totals[i]! <= budget) return void out.push(...texts);
    const keep = Math.max(1, Math.round((texts.length * budget) / totals[i]!));
    for (let k = 0; k < keep; k++) out.push(texts[Math.floor((k * texts.length) / keep)]!);
  });
  return out;
}

/* ------------------------------------------------------------------ trainer state */

interface StateJSON {
  version: 1;
  step: number;
  rng: number;
  cursors: Record<string, { epoch: number; pos: number }>;
  best: { score: number; step: number } | null;
  badEvals: number;
  lossCurve: TrainResult['lossCurve'];
  /** Absent in states written before it existed. */
  evalHistory?: TrainResult['evalHistory'];
  encoder: EncoderConfig;
  tokenizer: TokenizerJSON;
  heads: HeadConfig[];
  adamSteps: Record<string, number>;
  elapsedMs: number;
  tokens: number;
}

/** Read the step and bookkeeping of a trainer state without loading tensors. */
export function inspectTrainerState(state: Uint8Array): { step: number; bestScore: number | null; bestStep: number | null; heads: string[] } {
  const n = Number(new DataView(state.buffer, state.byteOffset, 8).getBigUint64(0, true));
  const meta = (JSON.parse(new TextDecoder().decode(state.subarray(8, 8 + n))) as { __metadata__?: { trainer?: string } }).__metadata__;
  if (!meta?.trainer) throw new Error('not a broadloom trainer state');
  const s = JSON.parse(meta.trainer) as StateJSON;
  return { step: s.step, bestScore: s.best?.score ?? null, bestStep: s.best?.step ?? null, heads: s.heads.map((h) => h.project) };
}

const hostOf = (v: tf.Tensor): HostTensor => ({ shape: [...v.shape], data: new Float32Array(v.dataSync()) });

/* ------------------------------------------------------------------ training */

function cloneModel(src: MultiTaskModel): MultiTaskModel {
  const encoder = BertEncoder.fromTensors(src.encoder.config, src.encoder.exportTensors());
  const heads = new Map<string, TaskHead>();
  for (const [k, h] of src.heads) heads.set(k, TaskHead.fromTensors(h.config, h.exportTensors()));
  return { tokenizer: src.tokenizer, encoder, heads };
}

export async function trainMultiTask(opts: TrainOptions): Promise<TrainResult> {
  const spec = TrainingSpec.parse(opts.training);
  const encSpec = EncoderSpec.parse(opts.encoder);
  const backend = await initBackend(opts.backend ?? spec.backend);
  const tasks = opts.tasks;
  if (!tasks.length) throw new Error('trainMultiTask: no tasks');
  if (new Set(tasks.map((t) => t.name)).size !== tasks.length) throw new Error('trainMultiTask: duplicate task names');
  tasks.forEach(validateTask);

  const seed = spec.seed;
  let rng = new Rng((Math.imul(seed, 7919) + 1) >>> 0);
  let step = 0;
  let best: StateJSON['best'] = null;
  let badEvals = 0;
  let lossCurve: TrainResult['lossCurve'] = [];
  let evalHistory: TrainResult['evalHistory'] = [];
  let cursors: StateJSON['cursors'] = {};
  let adamSteps: Record<string, number> = {};
  let priorElapsed = 0;
  let priorTokens = 0;
  const moments = new Map<string, { m: tf.Variable; v: tf.Variable }>();
  let bestWeights: Map<string, HostTensor> | null = null;
  const newHeads: string[] = [];

  // ---- model: resume > warm start > fresh
  let model: MultiTaskModel;
  if (opts.resume) {
    const { tensors, metadata } = decodeSafetensors(opts.resume);
    if (!metadata.trainer) throw new Error('resume: not a broadloom trainer state');
    const s = JSON.parse(metadata.trainer) as StateJSON;
    const tokenizer = WordPieceTokenizer.fromJSON(s.tokenizer);
    const take = (prefix: string): NamedTensors => {
      const o: NamedTensors = {};
      for (const [k, v] of Object.entries(tensors)) if (k.startsWith(prefix)) o[k.slice(prefix.length)] = v;
      return o;
    };
    const params = take('param/');
    // Params are stored in memory layout (Linear weights [in,out]).
    const enc = BertEncoder.fromMemoryLayout(s.encoder, params);
    const heads = new Map<string, TaskHead>();
    for (const hc of s.heads) {
      const h = TaskHead.create(hc, new Rng(0));
      assignHost(h.weight, params[`heads.${hc.project}.classifier.weight`]!);
      assignHost(h.bias, params[`heads.${hc.project}.classifier.bias`]!);
      heads.set(hc.project, h);
    }
    model = { tokenizer, encoder: enc, heads };
    for (const t of tasks) {
      const h = heads.get(t.name);
      if (!h || h.config.kind !== t.kind || h.config.labels.join('\u0000') !== t.labels.join('\u0000'))
        throw new Error(`resume: task "${t.name}" does not match the checkpointed heads (${s.heads.map((x) => x.project).join(', ')})`);
    }
    const m = take('m/');
    const v = take('v/');
    for (const [k, mv] of Object.entries(m)) moments.set(k, { m: hostVariable(mv, false), v: hostVariable(v[k]!, false) });
    const bw = take('best/');
    bestWeights = Object.keys(bw).length ? new Map(Object.entries(bw)) : null;
    step = s.step;
    rng = Rng.fromState(s.rng);
    best = s.best;
    badEvals = s.badEvals;
    lossCurve = s.lossCurve;
    evalHistory = s.evalHistory ?? [];
    cursors = s.cursors;
    adamSteps = s.adamSteps;
    priorElapsed = s.elapsedMs;
    priorTokens = s.tokens;
  } else {
    let base: MultiTaskModel | null = null;
    if (opts.warmStart) base = 'encoder' in opts.warmStart && opts.warmStart.encoder instanceof BertEncoder ? cloneModel(opts.warmStart as MultiTaskModel) : loadModel(opts.warmStart as Exclude<ModelSource, MultiTaskModel>);
    let tokenizer: WordPieceTokenizer;
    let encoder: BertEncoder;
    const heads = new Map<string, TaskHead>();
    if (base) {
      tokenizer = base.tokenizer;
      encoder = base.encoder;
      (encoder as { config: EncoderConfig }).config = { ...encoder.config, dropout: encSpec.dropout };
      for (const [k, h] of base.heads) heads.set(k, h);
    } else {
      tokenizer = WordPieceTokenizer.train(tokenizerCorpus(tasks, encSpec.maxLength), { vocabSize: encSpec.tokenizer.vocabSize, lowercase: encSpec.tokenizer.lowercase });
      encoder = BertEncoder.create(encoderConfigFromSpec(encSpec, tokenizer.size), new Rng(seed));
    }
    for (const t of tasks) {
      const h = heads.get(t.name);
      if (h && h.config.kind === t.kind && h.config.labels.join('\u0000') === t.labels.join('\u0000')) continue;
      h?.dispose();
      heads.set(t.name, TaskHead.create({ project: t.name, kind: t.kind, labels: [...t.labels], hidden: encoder.config.hidden }, new Rng(seed ^ hashString(t.name))));
      newHeads.push(t.name);
    }
    model = { tokenizer, encoder, heads };
  }

  const cfg = model.encoder.config;
  const maxLength = cfg.maxLength;
  const prepared = tasks.map((t) => prepare(t, model.tokenizer, maxLength));
  const data: Record<string, DataReport> = {};
  for (const p of prepared) data[p.def.name] = p.report;

  // ---- sampling
  const sizes = prepared.map((p) => p.train.length);
  const weights = sizes.map((n) => (spec.sampling === 'proportional' ? n : n ** (1 / spec.temperature)));
  const wsum = weights.reduce((a, b) => a + b, 0);
  const cum: number[] = [];
  weights.reduce((acc, w, i) => ((cum[i] = (acc + w) / wsum), acc + w), 0);
  const perm = new Map<string, number[]>();
  const permFor = (ti: number, epoch: number) => {
    const key = `${ti}:${epoch}`;
    let p = perm.get(key);
    if (!p) {
      perm.clear();
      const r = new Rng((seed ^ hashString(prepared[ti]!.def.name) ^ Math.imul(epoch + 1, 0x9e3779b1)) >>> 0);
      p = r.shuffle(prepared[ti]!.train.map((_, i) => i));
      perm.set(key, p);
    }
    return p;
  };
  const nextTrain = (ti: number): Prepared => {
    const name = prepared[ti]!.def.name;
    const c = (cursors[name] ??= { epoch: 0, pos: 0 });
    if (c.pos >= prepared[ti]!.train.length) {
      c.epoch++;
      c.pos = 0;
    }
    return prepared[ti]!.train[permFor(ti, c.epoch)[c.pos++]!]!;
  };
  const drawBatch = () => {
    const counts = prepared.map(() => 0);
    for (let b = 0; b < spec.batchSize; b++) {
      const u = rng.next();
      let ti = cum.findIndex((c) => u < c);
      if (ti < 0) ti = prepared.length - 1;
      counts[ti]!++;
    }
    const rows: Prepared[] = [];
    const segs: { ti: number; start: number; count: number }[] = [];
    counts.forEach((n, ti) => {
      if (!n) return;
      segs.push({ ti, start: rows.length, count: n });
      const p = prepared[ti]!;
      for (let k = 0; k < n; k++) {
        if (p.replay.length && rng.next() < spec.replayShare) rows.push(p.replay[rng.int(p.replay.length)]!);
        else rows.push(nextTrain(ti));
      }
    });
    return { rows, segs };
  };

  // ---- optimizer
  const b1 = 0.9;
  const b2 = 0.999;
  const eps = 1e-6;
  const totalSteps = spec.steps;
  const lrAt = (s: number) =>
    s <= spec.warmupSteps && spec.warmupSteps > 0 ? (spec.learningRate * s) / spec.warmupSteps : spec.learningRate * Math.max(0, (totalSteps - s) / Math.max(1, totalSteps - spec.warmupSteps));
  const noDecay = (name: string) => name.endsWith('.bias') || name.includes('LayerNorm');

  const allVars = () => namedVariables(model);
  const serialize = (): Uint8Array => {
    const tensors: NamedTensors = {};
    for (const [k, v] of allVars()) tensors['param/' + k] = hostOf(v);
    for (const [k, mv] of moments) {
      tensors['m/' + k] = hostOf(mv.m);
      tensors['v/' + k] = hostOf(mv.v);
    }
    if (bestWeights) for (const [k, v] of bestWeights) tensors['best/' + k] = v;
    const s: StateJSON = {
      version: 1,
      step,
      rng: rng.state,
      cursors,
      best,
      badEvals,
      lossCurve,
      evalHistory,
      encoder: model.encoder.config,
      tokenizer: model.tokenizer.toJSON(),
      heads: [...model.heads.values()].map((h) => h.config),
      adamSteps,
      elapsedMs: priorElapsed + (performance.now() - t0),
      tokens: priorTokens + tokens,
    };
    return encodeSafetensors(tensors, { trainer: JSON.stringify(s) });
  };

  const evaluateAll = (): { score: number | null; metrics: Record<string, TaskEvaluation> } => {
    const metrics: Record<string, TaskEvaluation> = {};
    const vals: number[] = [];
    for (const p of prepared) {
      if (!p.dev.length) continue;
      const m = evaluateTask(model, p.def, p.dev);
      metrics[p.def.name] = m;
      vals.push(m.value);
    }
    return { score: vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : null, metrics };
  };
  const snapshot = () => {
    const m = new Map<string, HostTensor>();
    for (const [k, v] of allVars()) m.set(k, hostOf(v));
    return m;
  };
  const restore = (w: Map<string, HostTensor>) => {
    for (const [k, v] of allVars()) {
      const h = w.get(k);
      if (h) assignHost(v, h);
    }
  };

  const t0 = performance.now();
  let tokens = 0;
  let stopReason: TrainResult['stopReason'] = 'completed';
  const progressEvery = opts.progressEvery ?? 10;
  let lastEvalStep = -1;
  const doEval = () => {
    lastEvalStep = step;
    const { score, metrics } = evaluateAll();
    if (score === null) return;
    evalHistory.push({ step, score, metrics: Object.fromEntries(Object.entries(metrics).map(([k, m]) => [k, m.value])) });
    if (!best || score > best.score) {
      best = { score, step };
      if (spec.restoreBest) bestWeights = snapshot();
      badEvals = 0;
    } else badEvals++;
  };

  while (step < totalSteps) {
    if (opts.signal?.aborted) {
      stopReason = 'aborted';
      break;
    }
    const { rows, segs } = drawBatch();
    // Each project's rows are padded and encoded on their own: a POS sentence of 30 pieces is not padded to the
    // length of the longest e-mail in the step (halves the work of a mixed step; attention is quadratic in length).
    const segBatches = segs.map((sg) => padBatch(rows.slice(sg.start, sg.start + sg.count)));
    for (const b of segBatches) for (let i = 0; i < b.attentionMask.length; i++) tokens += b.attentionMask[i]!;
    const segLabels = segs.map((sg, i) => {
      const kind = prepared[sg.ti]!.def.kind;
      if (kind === 'sequence-classification') return rows.slice(sg.start, sg.start + sg.count).map((r) => r.labels[0]!);
      const T = segBatches[i]!.length;
      const out = new Array<number>(sg.count * T).fill(IGNORE_INDEX);
      for (let k = 0; k < sg.count; k++) rows[sg.start + k]!.labels.forEach((y, t) => (out[k * T + t] = y));
      return out;
    });
    const activeHeads = segs.map((sg) => model.heads.get(prepared[sg.ti]!.def.name)!);
    const vars = [...model.encoder.trainableVariables(), ...activeHeads.flatMap((h) => h.variables())];
    const nameOf = new Map<string, string>();
    for (const [k, v] of allVars()) nameOf.set(v.name, k);
    const lossT: tf.Scalar[] = [];
    const { value, grads } = tf.variableGrads(() => {
      let total: tf.Scalar | null = null;
      segs.forEach((sg, i) => {
        const enc = model.encoder.forward(segBatches[i]!, { training: true, rng });
        const l = crossEntropy(activeHeads[i]!.logits(enc, 0, sg.count, cfg.dropout, rng), segLabels[i]!);
        lossT.push(tf.keep(l));
        total = total ? (tf.add(total, l) as tf.Scalar) : l;
      });
      return total!;
    }, vars);
    step++;
    const lr = lrAt(step);
    const gnormT = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))))));
    const gnorm = gnormT.dataSync()[0]!;
    gnormT.dispose();
    const scale = Number.isFinite(gnorm) && gnorm > spec.clipNorm ? spec.clipNorm / (gnorm + 1e-6) : 1;
    if (!Number.isFinite(gnorm)) throw new Error(`step ${step}: gradient norm is ${gnorm} (diverged; lower the learning rate)`);
    for (const [tfName, g] of Object.entries(grads)) {
      const name = nameOf.get(tfName)!;
      const p = vars.find((v) => v.name === tfName)!;
      let mv = moments.get(name);
      if (!mv) {
        const z = tf.zerosLike(p);
        moments.set(name, (mv = { m: tf.variable(z, false), v: tf.variable(z, false) }));
        z.dispose();
      }
      const t = (adamSteps[name] = (adamSteps[name] ?? 0) + 1);
      const bc1 = 1 - b1 ** t;
      const bc2 = 1 - b2 ** t;
      const wd = noDecay(name) ? 0 : spec.weightDecay;
      tf.tidy(() => {
        const gs = scale !== 1 ? tf.mul(g, scale) : g;
        const m1 = tf.add(tf.mul(mv.m, b1), tf.mul(gs, 1 - b1));
        const v1 = tf.add(tf.mul(mv.v, b2), tf.mul(tf.square(gs), 1 - b2));
        mv.m.assign(m1);
        mv.v.assign(v1);
        const upd = tf.div(tf.div(m1, bc1), tf.add(tf.sqrt(tf.div(v1, bc2)), eps));
        let np = tf.sub(p, tf.mul(upd, lr));
        if (wd > 0) np = tf.sub(np, tf.mul(p, lr * wd));
        p.assign(np);
      });
    }
    tf.dispose(Object.values(grads));
    const loss = value.dataSync()[0]!;
    const lossPerTask: Record<string, number> = {};
    segs.forEach((sg, i) => (lossPerTask[prepared[sg.ti]!.def.name] = lossT[i]!.dataSync()[0]!));
    tf.dispose(lossT.filter((t) => t !== value));
    value.dispose();
    lossCurve.push({ step, loss, lossPerTask });

    const elapsedMs = performance.now() - t0;
    if (opts.onProgress && (step % progressEvery === 0 || step === totalSteps))
      await opts.onProgress({ step, totalSteps, loss, lossPerTask, learningRate: lr, tokensPerSecond: (tokens / Math.max(elapsedMs, 1)) * 1000, elapsedMs: priorElapsed + elapsedMs });
    let stop = false;
    if (step % spec.evalEvery === 0) {
      doEval();
      if (best && spec.patience > 0 && badEvals >= spec.patience) stop = true;
    }
    if (opts.onCheckpoint && step % spec.checkpointEvery === 0) await opts.onCheckpoint({ step, state: serialize() });
    if (stop) {
      stopReason = 'early-stopped';
      break;
    }
    await new Promise((r) => setImmediate(r));
  }

  if (stopReason !== 'aborted' && lastEvalStep !== step) doEval();
  const state = serialize();
  if (stopReason !== 'aborted' && spec.restoreBest && bestWeights && best) restore(bestWeights);
  const { metrics } = evaluateAll();
  const elapsedMs = performance.now() - t0;
  const bestNow = best as StateJSON['best'];
  for (const mv of moments.values()) {
    mv.m.dispose();
    mv.v.dispose();
  }
  const result: TrainResult = {
    model,
    backend,
    steps: step,
    stopReason,
    bestStep: bestNow?.step ?? null,
    bestScore: bestNow?.score ?? null,
    devMetrics: metrics,
    lossCurve,
    evalHistory,
    data,
    newHeads,
    tokensPerSecond: (tokens / Math.max(elapsedMs, 1)) * 1000,
    elapsedMs: priorElapsed + elapsedMs,
    state,
    save: () => saveModel(model, { backend: backend.name, metrics: metrics as Record<string, unknown> }),
  };
  return result;
}
