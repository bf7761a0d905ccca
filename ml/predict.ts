/**
 * Batched inference and evaluation with a MultiTaskModel (encoder + tokenizer + heads).
 */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from './backend.ts';
import type { BackendRequest } from './backend.ts';
import { loadModel } from './checkpoint.ts';
import type { ModelManifestJSON } from './checkpoint.ts';
import type { TaskHead } from './heads.ts';
import { classificationReport, binaryF1, spanF1, tokenAccuracy } from './metrics.ts';
import type { ClassificationReport, SpanReport } from './metrics.ts';
import type { MultiTaskModel } from './model.ts';
import { padBatch } from './tokenizer.ts';
import type { Encoding, WordEncoding } from './tokenizer.ts';
import { isTokenExample } from './types.ts';
import type { Example, TaskDefinition } from './types.ts';

export interface SequencePrediction {
  label: string;
  /** Softmax probabilities in the head's label order. */
  probabilities: number[];
  /** max probability (low = uncertain). */
  confidence: number;
  truncated: boolean;
}

export interface TokenPrediction {
  /** One label per input word; null only for a word too long for the encoder's window. */
  labels: (string | null)[];
  /** Per word: softmax probabilities in the head's label order ([] for an unlabelled word). */
  probabilities: number[][];
  /** Least-confident word's max probability (1 when no word was scored). */
  confidence: number;
  /** Some word could not be labelled (a single word longer than the encoder's window). */
  truncated: boolean;
  /** Encoder windows the sentence took (more than 1 for sentences longer than the window). */
  windows: number;
}

export interface PredictOptions {
  batchSize?: number;
  /** Defaults to the encoder's maxLength. */
  maxLength?: number;
}

function head(model: MultiTaskModel, project: string): TaskHead {
  const h = model.heads.get(project);
  if (!h) throw new Error(`model has no head for project "${project}" (heads: ${[...model.heads.keys()].join(', ') || 'none'})`);
  return h;
}

/** Run the head over encodings in length-sorted batches; returns per-input probability rows. */
function runBatches(model: MultiTaskModel, h: TaskHead, encs: Encoding[], batchSize: number): Float32Array[][] {
  const L = h.config.labels.length;
  const order = encs.map((_, i) => i).sort((a, b) => encs[a]!.ids.length - encs[b]!.ids.length || a - b);
  const out: Float32Array[][] = new Array(encs.length);
  for (let s = 0; s < order.length; s += batchSize) {
    const idx = order.slice(s, s + batchSize);
    const batch = padBatch(idx.map((i) => encs[i]!));
    const probs = tf.tidy(() => {
      const enc = model.encoder.forward(batch, { training: false });
      return tf.softmax(h.logits(enc, 0, batch.batch, 0));
    });
    const data = probs.dataSync() as Float32Array;
    probs.dispose();
    const rowsPer = h.config.kind === 'sequence-classification' ? 1 : batch.length;
    idx.forEach((orig, b) => {
      const rows: Float32Array[] = [];
      for (let r = 0; r < rowsPer; r++) rows.push(data.slice((b * rowsPer + r) * L, (b * rowsPer + r + 1) * L));
      out[orig] = rows;
    });
  }
  return out;
}

const argmax = (p: ArrayLike<number>) => {
  let best = 0;
  for (let i = 1; i < p.length; i++) if (p[i]! > p[best]!) best = i;
  return best;
};

export function predictSequences(model: MultiTaskModel, project: string, texts: readonly string[], opts: PredictOptions = {}): SequencePrediction[] {
  const h = head(model, project);
  if (h.config.kind !== 'sequence-classification') throw new Error(`project "${project}" is a ${h.config.kind} task; use predictTokens`);
  const maxLength = opts.maxLength ?? model.encoder.config.maxLength;
  const encs = texts.map((t) => model.tokenizer.encode(t, maxLength));
  const rows = runBatches(model, h, encs, opts.batchSize ?? 64);
  return rows.map((r, i) => {
    const p = Array.from(r[0]!);
    const k = argmax(p);
    return { label: h.config.labels[k]!, probabilities: p, confidence: p[k]!, truncated: encs[i]!.truncated };
  });
}

/**
 * Token predictions for word sequences. A sentence longer than the encoder's window is tagged in consecutive windows
 * (each as many whole words as fit), so every word gets a label; words after the first window lose the context
 * before them, which `windows` > 1 records. Only a single word too long for a window on its own stays unlabelled.
 */
export function predictTokens(model: MultiTaskModel, project: string, sentences: readonly (readonly string[])[], opts: PredictOptions = {}): TokenPrediction[] {
  const h = head(model, project);
  if (h.config.kind !== 'token-classification') throw new Error(`project "${project}" is a ${h.config.kind} task; use predictSequences`);
  const maxLength = opts.maxLength ?? model.encoder.config.maxLength;
  const out: TokenPrediction[] = sentences.map((ws) => ({ labels: new Array(ws.length).fill(null), probabilities: Array.from({ length: ws.length }, () => []), confidence: 1, truncated: false, windows: 0 }));
  const windows: { sentence: number; offset: number; enc: WordEncoding }[] = [];
  sentences.forEach((ws, i) => {
    let offset = 0;
    do {
      const enc = model.tokenizer.encodeWords(ws.slice(offset), maxLength);
      windows.push({ sentence: i, offset, enc });
      out[i]!.windows++;
      offset += enc.wordsKept;
      if (enc.wordsKept === 0 && offset < ws.length) {
        out[i]!.truncated = true;
        offset++; // one word longer than a whole window: leave it unlabelled, go on after it
      }
    } while (offset < ws.length);
  });
  const rows = runBatches(model, h, windows.map((w) => w.enc), opts.batchSize ?? 64);
  windows.forEach(({ sentence, offset, enc }, wi) => {
    const o = out[sentence]!;
    const seen = new Set<number>();
    enc.wordIds.forEach((w, t) => {
      if (w === null || seen.has(w)) return;
      seen.add(w);
      const p = Array.from(rows[wi]![t]!);
      const k = argmax(p);
      o.labels[offset + w] = h.config.labels[k]!;
      o.probabilities[offset + w] = p;
      o.confidence = Math.min(o.confidence, p[k]!);
    });
  });
  return out;
}

/** Predict for texts (sequence tasks) or token lists (token tasks), by the head's kind. */
export function predict(model: MultiTaskModel, project: string, inputs: readonly string[] | readonly (readonly string[])[], opts: PredictOptions = {}): SequencePrediction[] | TokenPrediction[] {
  const h = head(model, project);
  return h.config.kind === 'sequence-classification'
    ? predictSequences(model, project, inputs as string[], opts)
    : predictTokens(model, project, inputs as string[][], opts);
}

export interface Predictor {
  model: MultiTaskModel;
  backend: string;
  predictSequences(project: string, texts: readonly string[], opts?: PredictOptions): SequencePrediction[];
  predictTokens(project: string, sentences: readonly (readonly string[])[], opts?: PredictOptions): TokenPrediction[];
  evaluate(task: TaskDefinition, examples: readonly Example[], opts?: PredictOptions): TaskEvaluation;
  dispose(): void;
}

/** Load a saved model (bytes from saveModel) on the best/requested backend, ready to predict. */
export async function createPredictor(
  artifacts: { encoder: Uint8Array; tokenizer: Uint8Array; heads: Record<string, Uint8Array>; manifest?: ModelManifestJSON },
  opts: { backend?: BackendRequest } = {},
): Promise<Predictor> {
  const be = await initBackend(opts.backend);
  const model = loadModel(artifacts);
  return {
    model,
    backend: be.name,
    predictSequences: (p, t, o) => predictSequences(model, p, t, o),
    predictTokens: (p, s, o) => predictTokens(model, p, s, o),
    evaluate: (t, e, o) => evaluateTask(model, t, e, o),
    dispose: () => {
      model.encoder.dispose();
      for (const h of model.heads.values()) h.dispose();
    },
  };
}

/* ------------------------------------------------------------------ evaluation */

export interface TaskEvaluation {
  /** Primary metric name and value (fits schemas/model.ts ProjectMetrics). */
  metric: string;
  value: number;
  accuracy: number;
  macroF1?: number;
  examples: number;
  report?: ClassificationReport;
  spans?: SpanReport;
  truncated: number;
}

/** Evaluate a head on labelled examples. Truncated words count as wrong (predicted "O"/null). */
export function evaluateTask(model: MultiTaskModel, task: TaskDefinition, examples: readonly Example[], opts: PredictOptions = {}): TaskEvaluation {
  if (task.kind === 'sequence-classification') {
    const rows = examples.map((e, i) => {
      if (isTokenExample(e)) throw new Error(`task "${task.name}": example ${i} has tokens but the task is sequence classification`);
      return e;
    });
    const preds = predictSequences(model, task.name, rows.map((r) => r.text), opts);
    const gold = rows.map((r) => r.label);
    const pred = preds.map((p) => p.label);
    const report = classificationReport(gold, pred, task.labels);
    const metric = task.metric ?? 'accuracy';
    let value = report.accuracy;
    if (metric === 'macro-f1') value = report.macroF1;
    else if (metric === 'f1') value = binaryF1(gold, pred, task.positiveLabel ?? task.labels[1]!).f1;
    return { metric, value, accuracy: report.accuracy, macroF1: report.macroF1, examples: rows.length, report, truncated: preds.filter((p) => p.truncated).length };
  }
  const rows = examples.map((e, i) => {
    if (!isTokenExample(e)) throw new Error(`task "${task.name}": example ${i} has text but the task is token classification`);
    return e;
  });
  const preds = predictTokens(model, task.name, rows.map((r) => r.tokens), opts);
  const gold = rows.map((r) => r.tags);
  const pred = preds.map((p) => p.labels.map((l) => l ?? 'O'));
  const acc = tokenAccuracy(gold, pred);
  const spans = spanF1(gold, pred);
  const metric = task.metric ?? 'token-accuracy';
  return { metric, value: metric === 'span-f1' ? spans.f1 : acc, accuracy: acc, examples: rows.length, spans, truncated: preds.filter((p) => p.truncated).length };
}
