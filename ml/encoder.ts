/**
 * BERT encoder in raw tfjs ops (no tf.layers), parameter names as Hugging Face `BertModel`.
 *
 * Weight layout: HF `nn.Linear` weights are [out, in]. In memory we keep every Linear weight as
 * [in, out] (so the forward pass is a plain `matMul(x, W)`), and transpose at the checkpoint
 * boundary: `exportTensors()` / `BertEncoder.fromTensors()` speak HF shapes, so a real BERT /
 * MiniLM safetensors checkpoint maps 1:1 (names without the `bert.` prefix).
 *
 * Speed: on wasm only plain 2-D matMul without transpose flags is fast, so every dense layer is a
 * `tf.customGrad` op whose gradients are computed with explicitly transposed operands.
 */
import * as tf from '@tensorflow/tfjs';
import type { EncoderSpec } from '../schemas/model.ts';
import type { PaddedBatch } from './tokenizer.ts';
import type { Rng } from './rng.ts';

export interface EncoderConfig {
  vocabSize: number;
  hidden: number;
  layers: number;
  heads: number;
  intermediate: number;
  /** max_position_embeddings (= max sequence length incl. [CLS]/[SEP]). */
  maxLength: number;
  typeVocabSize: number;
  dropout: number;
  pooling: 'cls' | 'mean';
  layerNormEps: number;
}

export function encoderConfigFromSpec(spec: EncoderSpec, vocabSize: number): EncoderConfig {
  return {
    vocabSize,
    hidden: spec.hidden,
    layers: spec.layers,
    heads: spec.heads,
    intermediate: spec.intermediate ?? spec.hidden * 4,
    maxLength: spec.maxLength,
    typeVocabSize: 2,
    dropout: spec.dropout,
    pooling: spec.pooling,
    layerNormEps: 1e-12,
  };
}

/** A plain host tensor (row-major float32), in Hugging Face shape. */
export interface HostTensor {
  shape: number[];
  data: Float32Array;
}
export type NamedTensors = Record<string, HostTensor>;

/** Linear weights are stored transposed in memory ([in,out]) vs. HF/checkpoints ([out,in]). */
export function isLinearWeight(name: string, shape: readonly number[]): boolean {
  return shape.length === 2 && name.endsWith('.weight') && !name.includes('embeddings.');
}

export function transpose2d(t: HostTensor): HostTensor {
  const [r, c] = t.shape as [number, number];
  const out = new Float32Array(r * c);
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = t.data[i * c + j]!;
  return { shape: [c, r], data: out };
}

/* ------------------------------------------------------------------ ops */

type Save = tf.GradSaveFunc;

/** y = x·W + b with gradients dX = dY·Wᵀ, dW = Xᵀ·dY, db = Σ dY — all plain 2-D matMuls. */
const denseOp = tf.customGrad(((x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D, save: Save) => {
  save([x, w]);
  return {
    value: tf.add(tf.matMul(x, w), b),
    gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
      const [sx, sw] = saved as [tf.Tensor2D, tf.Tensor2D];
      // db = 1ᵀ·dY as a plain matMul: a column sum (`sum(dy, 0)`) transposes internally on wasm.
      const db = tf.reshape(tf.matMul(tf.ones([1, dy.shape[0]]) as tf.Tensor2D, dy), [dy.shape[1]]);
      return [tf.matMul(dy, tf.transpose(sw)), tf.matMul(tf.transpose(sx), dy), db];
    },
  };
}) as unknown as Parameters<typeof tf.customGrad>[0]) as unknown as (x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor1D) => tf.Tensor2D;

export function dense(x: tf.Tensor2D, w: tf.Tensor, b: tf.Tensor): tf.Tensor2D {
  return denseOp(x, w as tf.Tensor2D, b as tf.Tensor1D);
}

export function layerNorm(x: tf.Tensor2D, gamma: tf.Tensor, beta: tf.Tensor, eps: number): tf.Tensor2D {
  const mean = tf.mean(x, -1, true);
  const xc = tf.sub(x, mean);
  const variance = tf.mean(tf.square(xc), -1, true);
  return tf.add(tf.mul(tf.mul(xc, tf.rsqrt(tf.add(variance, eps))), gamma), beta) as tf.Tensor2D;
}

/** Exact (erf) GELU, as HF BERT's `gelu`. */
export function gelu<T extends tf.Tensor>(x: T): T {
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1)) as T;
}

export function dropout<T extends tf.Tensor>(x: T, rate: number, rng: Rng | undefined): T {
  if (!rng || rate <= 0) return x;
  return tf.dropout(x, rate, undefined, rng.nextUint32()) as T;
}

/* ------------------------------------------------------------------ model */

export interface ForwardOptions {
  training: boolean;
  /** Dropout randomness; required when training with dropout > 0. */
  rng?: Rng;
}

export interface EncoderOutput {
  /** [B*T, H] last hidden states. */
  sequence: tf.Tensor2D;
  /** [B, H] pooled representation (pooler(tanh) over [CLS] or masked mean, per config.pooling). */
  pooled: tf.Tensor2D;
  batch: number;
  length: number;
}

export function encoderParamShapes(c: EncoderConfig): [string, number[]][] {
  const H = c.hidden;
  const I = c.intermediate;
  const shapes: [string, number[]][] = [
    ['embeddings.word_embeddings.weight', [c.vocabSize, H]],
    ['embeddings.position_embeddings.weight', [c.maxLength, H]],
    ['embeddings.token_type_embeddings.weight', [c.typeVocabSize, H]],
    ['embeddings.LayerNorm.weight', [H]],
    ['embeddings.LayerNorm.bias', [H]],
  ];
  for (let l = 0; l < c.layers; l++) {
    const p = `encoder.layer.${l}.`;
    for (const n of ['query', 'key', 'value']) shapes.push([`${p}attention.self.${n}.weight`, [H, H]], [`${p}attention.self.${n}.bias`, [H]]);
    shapes.push(
      [`${p}attention.output.dense.weight`, [H, H]],
      [`${p}attention.output.dense.bias`, [H]],
      [`${p}attention.output.LayerNorm.weight`, [H]],
      [`${p}attention.output.LayerNorm.bias`, [H]],
      [`${p}intermediate.dense.weight`, [I, H]],
      [`${p}intermediate.dense.bias`, [I]],
      [`${p}output.dense.weight`, [H, I]],
      [`${p}output.dense.bias`, [H]],
      [`${p}output.LayerNorm.weight`, [H]],
      [`${p}output.LayerNorm.bias`, [H]],
    );
  }
  shapes.push(['pooler.dense.weight', [H, H]], ['pooler.dense.bias', [H]]);
  return shapes;
}

/** BERT initialisation: N(0, 0.02) truncated for weights/embeddings, zero biases, LayerNorm γ=1 β=0, [PAD] row zero. */
export function initTensor(name: string, shape: number[], rng: Rng): HostTensor {
  const size = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(size);
  if (name.endsWith('LayerNorm.weight')) data.fill(1);
  else if (name.endsWith('.bias')) {
    /* zeros */
  } else for (let i = 0; i < size; i++) data[i] = rng.truncNormal(0.02);
  if (name === 'embeddings.word_embeddings.weight') data.fill(0, 0, shape[1]!);
  return { shape, data };
}

/** A tf.Variable holding a copy of host data (the temporary tensor is disposed, so nothing leaks). */
export function hostVariable(t: HostTensor, trainable: boolean): tf.Variable {
  const tmp = tf.tensor(t.data, t.shape, 'float32');
  const v = tf.variable(tmp, trainable);
  tmp.dispose();
  return v;
}

/** Overwrite a variable with host data without leaking the temporary tensor. */
export function assignHost(v: tf.Variable, t: HostTensor): void {
  tf.tidy(() => v.assign(tf.tensor(t.data, v.shape, 'float32')));
}

/** Wrap an HF-shaped host tensor into a tf.Variable in our in-memory layout. */
export function toVariable(name: string, t: HostTensor): tf.Variable {
  const m = isLinearWeight(name, t.shape) ? transpose2d(t) : t;
  return hostVariable(m, true);
}

/** Read a tf.Variable back into an HF-shaped host tensor. */
export function fromVariable(name: string, v: tf.Tensor): HostTensor {
  const t: HostTensor = { shape: [...v.shape], data: new Float32Array(v.dataSync()) };
  return isLinearWeight(name, t.shape) ? transpose2d(t) : t;
}

export class BertEncoder {
  readonly config: EncoderConfig;
  /** HF names → variables (Linear weights in [in,out] layout). */
  readonly params: Map<string, tf.Variable>;

  private constructor(config: EncoderConfig, params: Map<string, tf.Variable>) {
    this.config = config;
    this.params = params;
  }

  /** Fresh encoder, initialised from `rng` (JS-side, so identical on every backend). */
  static create(config: EncoderConfig, rng: Rng): BertEncoder {
    if (config.hidden % config.heads !== 0) throw new Error('hidden must be divisible by heads');
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of encoderParamShapes(config)) params.set(name, toVariable(name, initTensor(name, shape, rng)));
    return new BertEncoder(config, params);
  }

  /** From HF-shaped tensors (e.g. a checkpoint). Missing or mis-shaped tensors are errors; extras are ignored. */
  static fromTensors(config: EncoderConfig, tensors: NamedTensors): BertEncoder {
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of encoderParamShapes(config)) {
      const t = tensors[name] ?? tensors['bert.' + name];
      if (!t) throw new Error(`encoder checkpoint lacks tensor ${name}`);
      if (t.shape.join(',') !== shape.join(','))
        throw new Error(`encoder tensor ${name} has shape [${t.shape}] but config expects [${shape}]`);
      params.set(name, toVariable(name, t));
    }
    return new BertEncoder(config, params);
  }

  /** From tensors already in our in-memory layout (Linear weights [in,out]) — used by trainer state. */
  static fromMemoryLayout(config: EncoderConfig, tensors: NamedTensors): BertEncoder {
    const params = new Map<string, tf.Variable>();
    for (const [name, shape] of encoderParamShapes(config)) {
      const t = tensors[name];
      if (!t) throw new Error(`state lacks encoder tensor ${name}`);
      params.set(name, hostVariable(t, true));
      void shape;
    }
    return new BertEncoder(config, params);
  }

  /** HF-shaped copies of all parameters. */
  exportTensors(): NamedTensors {
    const out: NamedTensors = {};
    for (const [name, v] of this.params) out[name] = fromVariable(name, v);
    return out;
  }

  /** Parameters that receive gradients (the pooler only with `cls` pooling). */
  trainableVariables(): tf.Variable[] {
    return [...this.params.entries()].filter(([n]) => this.config.pooling === 'cls' || !n.startsWith('pooler.')).map(([, v]) => v);
  }

  private p(name: string): tf.Variable {
    const v = this.params.get(name);
    if (!v) throw new Error(`missing parameter ${name}`);
    return v;
  }

  /** Forward pass. Call inside tf.tidy / variableGrads. */
  forward(batch: PaddedBatch, opts: ForwardOptions): EncoderOutput {
    const c = this.config;
    const { batch: B, length: T } = batch;
    if (T > c.maxLength) throw new Error(`sequence length ${T} exceeds maxLength ${c.maxLength}`);
    const H = c.hidden;
    const nh = c.heads;
    const dh = H / nh;
    const rate = opts.training ? c.dropout : 0;
    const rng = opts.training ? opts.rng : undefined;
    const eps = c.layerNormEps;

    const ids = tf.tensor1d(batch.ids, 'int32');
    const types = tf.tensor1d(batch.tokenTypeIds, 'int32');
    const positions = tf.range(0, T, 1, 'int32');
    const word = tf.gather(this.p('embeddings.word_embeddings.weight'), ids);
    const pos = tf.gather(this.p('embeddings.position_embeddings.weight'), positions);
    const typ = tf.gather(this.p('embeddings.token_type_embeddings.weight'), types);
    let x = tf.reshape(tf.add(tf.reshape(tf.add(word, typ), [B, T, H]), pos), [B * T, H]) as tf.Tensor2D;
    x = layerNorm(x, this.p('embeddings.LayerNorm.weight'), this.p('embeddings.LayerNorm.bias'), eps);
    x = dropout(x, rate, rng);

    const maskF = tf.tensor(Float32Array.from(batch.attentionMask), [B, T], 'float32');
    const maskAdd = tf.reshape(tf.mul(tf.sub(1, maskF), -10000), [B, 1, 1, T]);
    const scale = 1 / Math.sqrt(dh);

    for (let l = 0; l < c.layers; l++) {
      const pre = `encoder.layer.${l}.`;
      const wqkv = tf.concat(
        [this.p(pre + 'attention.self.query.weight'), this.p(pre + 'attention.self.key.weight'), this.p(pre + 'attention.self.value.weight')],
        1,
      );
      const bqkv = tf.concat(
        [this.p(pre + 'attention.self.query.bias'), this.p(pre + 'attention.self.key.bias'), this.p(pre + 'attention.self.value.bias')],
        0,
      );
      const qkv = dense(x, wqkv, bqkv); // [B*T, 3H]
      // [B,T,3·nh,dh] → [B,3·nh,T,dh] (a 4-D transpose keeping dh contiguous is fast on wasm; a 5-D one is not)
      const heads = tf.transpose(tf.reshape(qkv, [B, T, 3 * nh, dh]), [0, 2, 1, 3]);
      const q = tf.slice(heads, [0, 0, 0, 0], [B, nh, T, dh]) as tf.Tensor4D;
      const k = tf.slice(heads, [0, nh, 0, 0], [B, nh, T, dh]) as tf.Tensor4D;
      const v = tf.slice(heads, [0, 2 * nh, 0, 0], [B, nh, T, dh]) as tf.Tensor4D;
      const kT = tf.transpose(k, [0, 1, 3, 2]);
      const scores = tf.add(tf.mul(tf.matMul(q, kT), scale), maskAdd) as tf.Tensor4D;
      let probs = tf.softmax(scores);
      probs = dropout(probs, rate, rng);
      const ctx = tf.reshape(tf.transpose(tf.matMul(probs, v), [0, 2, 1, 3]), [B * T, H]) as tf.Tensor2D;
      let attn = dense(ctx, this.p(pre + 'attention.output.dense.weight'), this.p(pre + 'attention.output.dense.bias'));
      attn = dropout(attn, rate, rng);
      x = layerNorm(tf.add(attn, x), this.p(pre + 'attention.output.LayerNorm.weight'), this.p(pre + 'attention.output.LayerNorm.bias'), eps);
      const inter = gelu(dense(x, this.p(pre + 'intermediate.dense.weight'), this.p(pre + 'intermediate.dense.bias')));
      let out = dense(inter, this.p(pre + 'output.dense.weight'), this.p(pre + 'output.dense.bias'));
      out = dropout(out, rate, rng);
      x = layerNorm(tf.add(out, x), this.p(pre + 'output.LayerNorm.weight'), this.p(pre + 'output.LayerNorm.bias'), eps);
    }

    let pooled: tf.Tensor2D;
    if (c.pooling === 'cls') {
      const first = tf.reshape(tf.slice(tf.reshape(x, [B, T, H]), [0, 0, 0], [B, 1, H]), [B, H]) as tf.Tensor2D;
      pooled = tf.tanh(dense(first, this.p('pooler.dense.weight'), this.p('pooler.dense.bias')));
    } else {
      const m = tf.reshape(maskF, [B, T, 1]);
      const summed = tf.sum(tf.mul(tf.reshape(x, [B, T, H]), m), 1);
      pooled = tf.div(summed, tf.maximum(tf.sum(m, 1), 1)) as tf.Tensor2D;
    }
    return { sequence: x, pooled, batch: B, length: T };
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
  }

  parameterCount(): number {
    let n = 0;
    for (const v of this.params.values()) n += v.size;
    return n;
  }
}
