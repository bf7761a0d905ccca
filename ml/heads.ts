/**
 * Task heads, one per project, with their own named parameters:
 *   heads.<project>.classifier.weight  [numLabels, hidden]  (HF Linear layout; [hidden, numLabels] in memory)
 *   heads.<project>.classifier.bias    [numLabels]
 * Sequence classification reads the encoder's pooled output (cls pooler or masked mean, per
 * EncoderSpec.pooling); token classification reads every token's hidden state.
 */
import * as tf from '@tensorflow/tfjs';
import { dense, dropout, fromVariable, initTensor, toVariable } from './encoder.ts';
import type { EncoderOutput, NamedTensors } from './encoder.ts';
import type { Rng } from './rng.ts';
import { IGNORE_INDEX } from './tokenizer.ts';

export type HeadKind = 'sequence-classification' | 'token-classification';

export interface HeadConfig {
  project: string;
  kind: HeadKind;
  labels: string[];
  hidden: number;
}

const PROJECT_RE = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

export class TaskHead {
  readonly config: HeadConfig;
  readonly weight: tf.Variable; // [hidden, numLabels]
  readonly bias: tf.Variable;

  private constructor(config: HeadConfig, weight: tf.Variable, bias: tf.Variable) {
    this.config = config;
    this.weight = weight;
    this.bias = bias;
  }

  get prefix(): string {
    return `heads.${this.config.project}.classifier`;
  }

  static paramNames(project: string): { weight: string; bias: string } {
    return { weight: `heads.${project}.classifier.weight`, bias: `heads.${project}.classifier.bias` };
  }

  static create(config: HeadConfig, rng: Rng): TaskHead {
    if (!PROJECT_RE.test(config.project)) throw new Error(`invalid project name for a head: ${JSON.stringify(config.project)}`);
    if (config.labels.length < 2) throw new Error(`head ${config.project}: needs at least 2 labels`);
    const n = TaskHead.paramNames(config.project);
    const shape = [config.labels.length, config.hidden];
    return new TaskHead(config, toVariable(n.weight, initTensor(n.weight, shape, rng)), toVariable(n.bias, initTensor(n.bias, [config.labels.length], rng)));
  }

  static fromTensors(config: HeadConfig, tensors: NamedTensors): TaskHead {
    const n = TaskHead.paramNames(config.project);
    const w = tensors[n.weight];
    const b = tensors[n.bias];
    if (!w || !b) throw new Error(`head checkpoint for ${config.project} lacks ${!w ? n.weight : n.bias}`);
    const L = config.labels.length;
    if (w.shape.join() !== `${L},${config.hidden}` || b.shape.join() !== `${L}`)
      throw new Error(`head ${config.project}: tensor shapes [${w.shape}]/[${b.shape}] do not fit ${L} labels × hidden ${config.hidden}`);
    return new TaskHead(config, toVariable(n.weight, w), toVariable(n.bias, b));
  }

  exportTensors(): NamedTensors {
    const n = TaskHead.paramNames(this.config.project);
    return { [n.weight]: fromVariable(n.weight, this.weight), [n.bias]: fromVariable(n.bias, this.bias) };
  }

  variables(): tf.Variable[] {
    return [this.weight, this.bias];
  }

  /**
   * Logits for rows [start, start+count) of the batch: [count, L] for sequence heads,
   * [count*T, L] for token heads (row-major over batch then position).
   */
  logits(enc: EncoderOutput, start: number, count: number, dropoutRate: number, rng?: Rng): tf.Tensor2D {
    const H = this.config.hidden;
    let feats: tf.Tensor2D;
    if (this.config.kind === 'sequence-classification') {
      feats = start === 0 && count === enc.batch ? enc.pooled : tf.slice(enc.pooled, [start, 0], [count, H]);
    } else {
      const T = enc.length;
      feats = start === 0 && count === enc.batch ? enc.sequence : tf.slice(enc.sequence, [start * T, 0], [count * T, H]);
    }
    feats = dropout(feats, dropoutRate, rng);
    return dense(feats, this.weight, this.bias);
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

/**
 * Mean softmax cross-entropy over rows whose label is not IGNORE_INDEX (targets given as label ids).
 * Returns a scalar; 0 when no row counts.
 */
export function crossEntropy(logits: tf.Tensor2D, labels: ArrayLike<number>): tf.Scalar {
  const [n, L] = logits.shape;
  const onehot = new Float32Array(n * L);
  let count = 0;
  for (let i = 0; i < n; i++) {
    const y = labels[i]!;
    if (y === IGNORE_INDEX) continue;
    if (y < 0 || y >= L) throw new Error(`label id ${y} out of range [0, ${L})`);
    onehot[i * L + y] = 1;
    count++;
  }
  if (count === 0) return tf.scalar(0);
  const t = tf.tensor2d(onehot, [n, L]);
  return tf.div(tf.neg(tf.sum(tf.mul(t, tf.logSoftmax(logits)))), count) as tf.Scalar;
}
