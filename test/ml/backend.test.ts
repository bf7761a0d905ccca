import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { currentBackend, initBackend } from '../../ml/backend.ts';
import { BertEncoder, dense } from '../../ml/encoder.ts';
import type { EncoderConfig } from '../../ml/encoder.ts';
import { TaskHead, crossEntropy } from '../../ml/heads.ts';
import { Rng } from '../../ml/rng.ts';
import { padBatch } from '../../ml/tokenizer.ts';

const cfg: EncoderConfig = { vocabSize: 60, hidden: 32, layers: 2, heads: 4, intermediate: 64, maxLength: 16, typeVocabSize: 2, dropout: 0.1, pooling: 'mean', layerNormEps: 1e-12 };

function forwardAndGrads(pooling: 'cls' | 'mean') {
  const enc = BertEncoder.create({ ...cfg, pooling }, new Rng(7));
  const seqHead = TaskHead.create({ project: 'seq', kind: 'sequence-classification', labels: ['a', 'b', 'c'], hidden: cfg.hidden }, new Rng(8));
  const tokHead = TaskHead.create({ project: 'tok', kind: 'token-classification', labels: ['x', 'y'], hidden: cfg.hidden }, new Rng(9));
  const batch = padBatch([
    { ids: [2, 10, 11, 12, 13, 3], tokenTypeIds: [0, 0, 0, 0, 0, 0] },
    { ids: [2, 20, 21, 3], tokenTypeIds: [0, 0, 1, 1] },
    { ids: [2, 30, 30, 31, 3], tokenTypeIds: [0, 0, 0, 0, 0] },
  ]);
  const vars = [...enc.trainableVariables(), ...seqHead.variables(), ...tokHead.variables()];
  let out: number[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const o = enc.forward(batch, { training: false });
    out = Array.from(o.sequence.dataSync()).concat(Array.from(o.pooled.dataSync()));
    const l1 = crossEntropy(seqHead.logits(o, 0, 2, 0), [0, 2]);
    const tokLabels = Array(1 * batch.length).fill(-100);
    tokLabels[1] = 1;
    tokLabels[2] = 0;
    const l2 = crossEntropy(tokHead.logits(o, 2, 1, 0), tokLabels);
    return tf.add(l1, l2) as tf.Scalar;
  }, vars);
  const g = vars.map((v) => Array.from(grads[v.name]!.dataSync()));
  const res = { loss: value.dataSync()[0]!, out, grads: g };
  tf.dispose([value, ...Object.values(grads)]);
  enc.dispose();
  seqHead.dispose();
  tokHead.dispose();
  return res;
}

function maxAbsDiff(a: number[], b: number[]) {
  assert.equal(a.length, b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

describe('backend ladder', () => {
  it('auto picks the best backend that loads and says why better ones were skipped', async () => {
    const r = await initBackend('auto');
    assert.ok(['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'].includes(r.name));
    if (r.name === 'wasm') {
      assert.deepEqual(r.skipped.map((s) => s.name), ['tensorflow-gpu', 'tensorflow']);
      assert.ok(r.skipped.every((s) => s.reason.length > 0));
      assert.deepEqual(r.customKernels, ['UnsortedSegmentSum']);
    }
    assert.equal(await initBackend('auto'), r, 'idempotent');
    assert.equal(currentBackend(), r);
    await assert.rejects(initBackend('tpu'), /unknown backend/);
  });

  for (const pooling of ['mean', 'cls'] as const) {
    it(`wasm and cpu give the same forward outputs and gradients (${pooling} pooling)`, async () => {
      await initBackend('wasm');
      assert.equal(tf.getBackend(), 'wasm');
      const w = forwardAndGrads(pooling);
      await initBackend('cpu');
      assert.equal(tf.getBackend(), 'cpu');
      const c = forwardAndGrads(pooling);
      assert.ok(Math.abs(w.loss - c.loss) < 1e-4, `loss ${w.loss} vs ${c.loss}`);
      assert.ok(maxAbsDiff(w.out, c.out) < 1e-4, 'forward outputs differ');
      w.grads.forEach((g, i) => {
        const d = maxAbsDiff(g, c.grads[i]!);
        const scale = Math.max(1e-3, ...g.map(Math.abs));
        assert.ok(d / scale < 1e-3, `gradient ${i} differs: ${d} (scale ${scale})`);
      });
      assert.ok(w.grads.every((g) => g.some((x) => x !== 0)), 'every parameter should receive a gradient');
    });
  }

  for (const be of ['wasm', 'cpu']) {
    it(`custom kernels and dense gradients are right on ${be}`, async () => {
      await initBackend(be);
      // UnsortedSegmentSum (gather gradient) vs one-hot reference
      const table = tf.variable(tf.randomNormal([5, 3], 0, 1, 'float32', 1));
      const ids = tf.tensor1d([4, 0, 4, 2], 'int32');
      const up = tf.tensor2d([[1, 2, 3], [4, 5, 6], [7, 8, 9], [1, 1, 1]]);
      const g = tf.grad((t: tf.Tensor) => tf.sum(tf.mul(tf.gather(t, ids), up)))(table);
      assert.deepEqual(Array.from(g.dataSync()), [4, 5, 6, 0, 0, 0, 1, 1, 1, 0, 0, 0, 8, 10, 12]);
      // dense customGrad vs autodiff of plain ops
      const x = tf.randomNormal([6, 4], 0, 1, 'float32', 2) as tf.Tensor2D;
      const W = tf.randomNormal([4, 5], 0, 1, 'float32', 3) as tf.Tensor2D;
      const b = tf.randomNormal([5], 0, 1, 'float32', 4) as tf.Tensor1D;
      const f1 = (a: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.sin(dense(a as tf.Tensor2D, w, c)));
      const f2 = (a: tf.Tensor, w: tf.Tensor, c: tf.Tensor) => tf.sum(tf.sin(tf.add(tf.matMul(a as tf.Tensor2D, w as tf.Tensor2D), c)));
      const g1 = tf.grads(f1)([x, W, b]);
      const g2 = tf.grads(f2)([x, W, b]);
      g1.forEach((t, i) => assert.ok(maxAbsDiff(Array.from(t.dataSync()), Array.from(g2[i]!.dataSync())) < 1e-5));
      tf.dispose([table, ids, up, g, x, W, b, ...g1, ...g2]);
    });
  }
});
