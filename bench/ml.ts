/**
 * ML benchmarks.
 *   node --import tsx bench/ml.ts                 matMul GFLOP/s + training tokens/s and peak memory per backend
 *   node --import tsx bench/ml.ts --quality       joint training UCI sentiment (amazon+yelp) + Brown POS, held-out scores
 * Options: --backends=wasm,cpu  --steps=N (speed mode)  --quality-steps=N
 */
import * as tf from '@tensorflow/tfjs';
import { evaluateTask, initBackend, trainMultiTask } from '../ml/index.ts';
import type { BackendName, TrainTask } from '../ml/index.ts';
import { UNIVERSAL_TAGS, loadBrown, loadSentiment, split } from '../test/ml/fixtures.ts';

const args = new Map(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=') as [string, string | undefined]));
const MB = (b: number) => (b / 2 ** 20).toFixed(0) + ' MiB';

function timeIt(fn: () => tf.Tensor, minMs: number, maxReps: number): number {
  fn().dataSync(); // warm-up
  let reps = 0;
  const t0 = performance.now();
  while (reps < maxReps && (reps === 0 || performance.now() - t0 < minMs)) {
    const r = fn();
    r.dataSync();
    r.dispose();
    reps++;
  }
  return (performance.now() - t0) / reps;
}

async function matmulBench(be: string) {
  const n = 512;
  const a = tf.randomNormal([n, n]) as tf.Tensor2D;
  const b = tf.randomNormal([n, n]) as tf.Tensor2D;
  const flop = 2 * n ** 3;
  const maxReps = be === 'cpu' ? 3 : 20;
  const plain = timeIt(() => tf.matMul(a, b), 500, maxReps);
  const transB = timeIt(() => tf.matMul(a, b, false, true), 500, maxReps);
  const transA = timeIt(() => tf.matMul(a, b, true, false), 500, maxReps);
  // attention-shaped batched matmul: [B*heads, T, dh] x [B*heads, dh, T]
  const q = tf.randomNormal([32, 128, 64]) as tf.Tensor3D;
  const k = tf.randomNormal([32, 64, 128]) as tf.Tensor3D;
  const bflop = 2 * 32 * 128 * 64 * 128;
  const batched = timeIt(() => tf.matMul(q, k), 500, maxReps);
  const g = (f: number, ms: number) => (f / (ms / 1000) / 1e9).toFixed(2);
  console.log(`  matMul ${n}x${n}x${n}: plain ${g(flop, plain)} GFLOP/s | transposeB ${g(flop, transB)} | transposeA ${g(flop, transA)} | batched [32,128,64]x[32,64,128] ${g(bflop, batched)} GFLOP/s`);
  tf.dispose([a, b, q, k]);
}

function longTexts(n: number): TrainTask['train'] {
  const src = [...loadSentiment('imdb'), ...loadSentiment('amazon'), ...loadSentiment('yelp')];
  const out: { text: string; label: string }[] = [];
  for (let i = 0; i < n; i++) {
    const parts: string[] = [];
    for (let j = 0; j < 12; j++) parts.push(src[(i * 12 + j) % src.length]!.text);
    out.push({ text: parts.join(' '), label: src[(i * 12) % src.length]!.label });
  }
  return out;
}

async function trainBench(be: string, steps: number) {
  const cfg = { layers: 4, hidden: 256, heads: 4, intermediate: 1024, maxLength: 128, dropout: 0.1, tokenizer: { vocabSize: 8000 } };
  const batchSize = 8;
  let peakRss = 0;
  let peakHeap = 0;
  let peakTf = 0;
  let peakTensors = 0;
  const sample = () => {
    const m = process.memoryUsage();
    peakRss = Math.max(peakRss, m.rss);
    peakHeap = Math.max(peakHeap, m.heapUsed);
    const t = tf.memory();
    peakTf = Math.max(peakTf, t.numBytes);
    peakTensors = Math.max(peakTensors, t.numTensors);
  };
  const stamps: number[] = [];
  const r = await trainMultiTask({
    encoder: cfg,
    training: { steps, batchSize, learningRate: 1e-4, warmupSteps: 1, evalEvery: 10_000, checkpointEvery: 10_000, seed: 1, backend: be as BackendName },
    tasks: [{ name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'], train: longTexts(64), dev: [] }],
    progressEvery: 1,
    onProgress: () => {
      stamps.push(performance.now());
      sample();
    },
  });
  const params = r.model.encoder.parameterCount();
  // tokens/s excluding the first (warm-up) step
  const steady = stamps.length > 1 ? (stamps[stamps.length - 1]! - stamps[0]!) / (stamps.length - 1) : r.elapsedMs / steps;
  const tokPerStep = batchSize * cfg.maxLength;
  console.log(
    `  train (4 layers, hidden 256, heads 4, ffn 1024, seq 128, batch ${batchSize}, vocab ${r.model.tokenizer.size}, ${(params / 1e6).toFixed(2)}M params, ${steps} steps):` +
      ` ${(tokPerStep / (steady / 1000)).toFixed(0)} tokens/s steady (${(steady / 1000).toFixed(2)} s/step; ${r.tokensPerSecond.toFixed(0)} tokens/s incl. warm-up)`,
  );
  console.log(`  peak memory: rss ${MB(peakRss)}, JS heap ${MB(peakHeap)}, tf ${MB(peakTf)} in ${peakTensors} tensors`);
  r.model.encoder.dispose();
  for (const h of r.model.heads.values()) h.dispose();
}

async function speed() {
  const wanted = (args.get('backends') ?? 'tensorflow-gpu,tensorflow,wasm,cpu').split(',');
  const steps = Number(args.get('steps') ?? 3);
  for (const be of wanted) {
    let report;
    try {
      report = await initBackend(be);
    } catch (e) {
      console.log(`${be}: not available (${(e as Error).message.split('\n')[0]})`);
      continue;
    }
    console.log(`${be}: tf backend ${report.tfBackend}, custom kernels [${report.customKernels.join(', ')}]`);
    await matmulBench(be);
    await trainBench(be, be === 'cpu' ? Math.min(steps, 2) : steps);
  }
}

async function quality() {
  const be = await initBackend(args.get('backend') ?? 'auto');
  const sent = split([...loadSentiment('amazon'), ...loadSentiment('yelp')], 5);
  const sDev = split(sent.train, 8);
  const brown = split(loadBrown(60, 6000), 5);
  const bDev = split(brown.train, 10);
  const steps = Number(args.get('quality-steps') ?? 600);
  const encoder = { layers: 2, hidden: 128, heads: 2, intermediate: 256, maxLength: 128, dropout: 0.1, pooling: 'mean' as const, tokenizer: { vocabSize: 8000 } };
  const training = { steps, batchSize: 32, learningRate: 2e-3, warmupSteps: 40, evalEvery: 100, patience: 3, seed: 42, sampling: 'proportional' as const };
  console.log(`quality: backend ${be.name}; sentiment train ${sDev.train.length} / dev ${sDev.test.length} / test ${sent.test.length}; POS sentences train ${bDev.train.length} / dev ${bDev.test.length} / test ${brown.test.length}`);
  console.log(`config: ${JSON.stringify(encoder)} ${JSON.stringify(training)}`);
  const t0 = performance.now();
  const r = await trainMultiTask({
    encoder,
    training,
    backend: be.name,
    tasks: [
      { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'], train: sDev.train, dev: sDev.test },
      { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS], train: bDev.train, dev: bDev.test },
    ],
    progressEvery: 50,
    onProgress: (p) =>
      console.log(`  step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${JSON.stringify(Object.fromEntries(Object.entries(p.lossPerTask).map(([k, v]) => [k, +v.toFixed(3)])))} ${p.tokensPerSecond.toFixed(0)} tok/s`),
  });
  const trainMs = performance.now() - t0;
  const s = evaluateTask(r.model, { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'] }, sent.test);
  const p = evaluateTask(r.model, { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS] }, brown.test);
  const bytes = r.save();
  const size = bytes.encoder.length + Object.values(bytes.heads).reduce((a, b) => a + b.length, 0);
  console.log(`stopped: ${r.stopReason} after ${r.steps} steps, best dev step ${r.bestStep} (dev score ${r.bestScore?.toFixed(4)})`);
  console.log(`model: ${(r.model.encoder.parameterCount() / 1e6).toFixed(2)}M encoder params, vocab ${r.model.tokenizer.size}, checkpoint ${MB(size)}`);
  console.log(`time: ${(trainMs / 1000).toFixed(1)} s training+eval, ${r.tokensPerSecond.toFixed(0)} tokens/s`);
  console.log(`held-out sentiment accuracy: ${s.accuracy.toFixed(4)} (macro-F1 ${s.macroF1?.toFixed(4)}, n=${s.examples}) target >= 0.75 ${s.accuracy >= 0.75 ? 'OK' : 'MISSED'}`);
  console.log(`held-out POS token accuracy: ${p.accuracy.toFixed(4)} (n=${p.examples} sentences, truncated ${p.truncated}) target >= 0.85 ${p.accuracy >= 0.85 ? 'OK' : 'MISSED'}`);
  const m = process.memoryUsage();
  console.log(`memory: rss ${MB(m.rss)}, tf ${MB(tf.memory().numBytes)}`);
}

if (args.has('quality')) await quality();
else await speed();
