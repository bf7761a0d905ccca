import type * as tf from '@tensorflow/tfjs';
import type { BertEncoder } from './encoder.ts';
import type { TaskHead } from './heads.ts';
import type { WordPieceTokenizer } from './tokenizer.ts';

/** A shared encoder + tokenizer with one head per project. */
export interface MultiTaskModel {
  tokenizer: WordPieceTokenizer;
  encoder: BertEncoder;
  heads: Map<string, TaskHead>;
}

/** All parameters by name (HF names; head params as `heads.<project>.classifier.*`). */
export function namedVariables(model: MultiTaskModel): Map<string, tf.Variable> {
  const out = new Map<string, tf.Variable>(model.encoder.params);
  for (const h of model.heads.values()) {
    out.set(`${h.prefix}.weight`, h.weight);
    out.set(`${h.prefix}.bias`, h.bias);
  }
  return out;
}

export function disposeModel(model: MultiTaskModel): void {
  model.encoder.dispose();
  for (const h of model.heads.values()) h.dispose();
}
