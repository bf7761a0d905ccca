/** Kernel-level profile of one encoder training step: node --import tsx bench/ml-profile.ts (env B=wasm|cpu, H=hidden). */
import * as tf from '@tensorflow/tfjs';
import { initBackend } from '../ml/backend.ts';
import { BertEncoder } from '../ml/encoder.ts';
import { Rng } from '../ml/rng.ts';
await initBackend(process.env.B ?? 'wasm');
const H = Number(process.env.H ?? 128), L = 2, B = 32, T = 64;
const enc = BertEncoder.create({ vocabSize: 4000, hidden: H, layers: L, heads: 4, intermediate: 4 * H, maxLength: 64, typeVocabSize: 2, dropout: 0.1, pooling: 'mean', layerNormEps: 1e-12 }, new Rng(1));
const ids = new Int32Array(B * T).map((_, i) => 5 + (i * 7919) % 3990);
const batch = { batch: B, length: T, ids, attentionMask: new Int32Array(B * T).fill(1), tokenTypeIds: new Int32Array(B * T) };
const rng = new Rng(2);
const run = (train: boolean) => {
  const t0 = performance.now();
  if (train) {
    const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(enc.forward(batch, { training: true, rng }).pooled)) as tf.Scalar, enc.trainableVariables());
    value.dataSync(); tf.dispose([value, ...Object.values(grads)]);
  } else tf.tidy(() => { enc.forward(batch, { training: true, rng }).pooled.dataSync(); });
  return performance.now() - t0;
};
run(true); run(false);
console.log('fwd', run(false).toFixed(0), 'ms; fwd+bwd', run(true).toFixed(0), 'ms');
const prof = await tf.profile(() => { const { value, grads } = tf.variableGrads(() => tf.mean(tf.square(enc.forward(batch, { training: true, rng }).pooled)) as tf.Scalar, enc.trainableVariables()); value.dataSync(); tf.dispose([value, ...Object.values(grads)]); });
const by = new Map<string, [number, number]>();
for (const k of prof.kernels) { const v = by.get(k.name) ?? [0, 0]; v[0] += Number(k.kernelTimeMs) || 0; v[1]++; by.set(k.name, v); }
console.log([...by].sort((a, b) => b[1][0] - a[1][0]).slice(0, 18).map(([k, [ms, n]]) => `${k}:${ms.toFixed(0)}ms/${n}`).join('  '));
