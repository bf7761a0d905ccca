import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import { disposeModel, evaluateTask, initBackend, inspectTrainerState, trainMultiTask } from '../../ml/index.ts';
import type { TrainOptions, TrainTask } from '../../ml/index.ts';
import { UNIVERSAL_TAGS, loadBrown, loadSentiment, split } from './fixtures.ts';

const BACKEND = (process.env.BROADLOOM_BACKEND ?? 'wasm') as 'wasm' | 'cpu';
const sentiment = split([...loadSentiment('amazon'), ...loadSentiment('yelp')], 5);
const brown = split(loadBrown(8, 700), 5);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

function tasks(n = Infinity): TrainTask[] {
  const sTrain = sentiment.train.slice(0, n);
  const pTrain = brown.train.slice(0, n);
  return [
    { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'], train: sTrain, dev: sentiment.test.slice(0, 100) },
    { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS], train: pTrain, dev: brown.test.slice(0, 40) },
  ];
}

const tiny = (over: Partial<TrainOptions> = {}): TrainOptions => ({
  encoder: { layers: 1, hidden: 32, heads: 2, maxLength: 32, tokenizer: { vocabSize: 400 } },
  training: { steps: 12, batchSize: 8, learningRate: 2e-3, warmupSteps: 2, evalEvery: 6, checkpointEvery: 6, patience: 5, seed: 3, backend: BACKEND },
  tasks: tasks(150),
  ...over,
});

describe('joint multi-task training on real data (UCI sentiment + Brown POS)', () => {
  let result: Awaited<ReturnType<typeof trainMultiTask>>;
  before(async () => {
    // Dev = a slice of the held-out data for early stopping; the rest of the held-out data is the test set.
    result = await trainMultiTask({
      encoder: { layers: 1, hidden: 64, heads: 2, maxLength: 64, dropout: 0.1, tokenizer: { vocabSize: 2000 } },
      training: { steps: 180, batchSize: 16, learningRate: 2e-3, warmupSteps: 20, evalEvery: 60, patience: 3, seed: 1, backend: BACKEND },
      tasks: tasks(),
    });
  });
  it('loss falls', () => {
    const losses = result.lossCurve.map((p) => p.loss);
    assert.equal(losses.length, 180);
    const first = mean(losses.slice(0, 20));
    const last = mean(losses.slice(-20));
    assert.ok(last < first * 0.6, `loss did not fall enough: ${first.toFixed(3)} → ${last.toFixed(3)}`);
  });
  it('beats the majority-class baseline on held-out data for both projects', () => {
    const sTest = sentiment.test.slice(100);
    const s = evaluateTask(result.model, { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'] }, sTest);
    const pos = sTest.filter((r) => r.label === 'pos').length / sTest.length;
    const sMajority = Math.max(pos, 1 - pos);
    assert.ok(s.accuracy > sMajority + 0.1, `sentiment accuracy ${s.accuracy} vs majority ${sMajority}`);

    const pTest = brown.test.slice(40);
    const p = evaluateTask(result.model, { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS] }, pTest);
    const counts = new Map<string, number>();
    for (const r of pTest) for (const t of r.tags) counts.set(t, (counts.get(t) ?? 0) + 1);
    const pMajority = Math.max(...counts.values()) / [...counts.values()].reduce((a, b) => a + b, 0);
    assert.ok(p.accuracy > pMajority + 0.3, `POS token accuracy ${p.accuracy} vs majority ${pMajority}`);
    assert.ok(result.devMetrics.sentiment && result.devMetrics.pos);
  });
  it('reports data statistics (empty texts skipped, truncation counted)', () => {
    const empties = [...sentiment.train, ...sentiment.test.slice(0, 100)].filter((r) => r.text.trim() === '').length;
    assert.equal(result.data.sentiment!.emptySkipped, empties);
    assert.ok(result.data.pos!.truncated > 0);
    assert.deepEqual(result.newHeads, ['sentiment', 'pos']);
  });
});

describe('determinism and resume', () => {
  it('same seed gives exactly the same loss curve; another seed does not', async () => {
    const a = await trainMultiTask(tiny());
    const b = await trainMultiTask(tiny());
    assert.deepEqual(a.lossCurve, b.lossCurve);
    const c = await trainMultiTask(tiny({ training: { ...tiny().training, seed: 4 } }));
    assert.notDeepEqual(a.lossCurve, c.lossCurve);
  });

  it('a run resumed from a mid-training checkpoint continues exactly (step N, not 0)', async () => {
    const checkpoints: { step: number; state: Uint8Array }[] = [];
    const full = await trainMultiTask(tiny({ onCheckpoint: (c) => void checkpoints.push(c) }));
    assert.deepEqual(checkpoints.map((c) => c.step), [6, 12]);
    const mid = checkpoints[0]!;
    assert.equal(inspectTrainerState(mid.state).step, 6);
    const steps: number[] = [];
    const resumed = await trainMultiTask(tiny({ resume: mid.state, onProgress: (p) => void steps.push(p.step), progressEvery: 1 }));
    assert.deepEqual(steps, [7, 8, 9, 10, 11, 12]);
    assert.deepEqual(resumed.lossCurve, full.lossCurve);
    assert.equal(resumed.bestStep, full.bestStep);
    const fa = full.save();
    const ra = resumed.save();
    assert.deepEqual(ra.encoder, fa.encoder);
    assert.deepEqual(ra.heads, fa.heads);
  });

  it('stops on abort with a resumable state, leaking no tensors', async () => {
    await initBackend(BACKEND);
    const tensorsBefore = tf.memory().numTensors;
    const ac = new AbortController();
    const r = await trainMultiTask(tiny({ signal: ac.signal, progressEvery: 1, onProgress: (p) => void (p.step === 4 && ac.abort()) }));
    assert.equal(r.stopReason, 'aborted');
    assert.equal(r.steps, 4);
    assert.equal(inspectTrainerState(r.state).step, 4);
    disposeModel(r.model);
    assert.equal(tf.memory().numTensors, tensorsBefore);
  });

  it('early-stops after `patience` evaluations without improvement and keeps the best weights', async () => {
    const r = await trainMultiTask(tiny({ training: { ...tiny().training, steps: 60, evalEvery: 2, patience: 1, learningRate: 1e-5, warmupSteps: 0 } }));
    assert.equal(r.stopReason, 'early-stopped');
    assert.ok(r.steps < 60);
    assert.ok(r.bestStep !== null && r.bestStep < r.steps);
    const mean = (Object.values(r.devMetrics).reduce((a, m) => a + m.value, 0)) / 2;
    assert.ok(Math.abs(mean - r.bestScore!) < 1e-9, 'returned weights are the best ones');
    assert.deepEqual(r.evalHistory.map((e) => e.step), Array.from({ length: r.steps / 2 }, (_, i) => 2 * (i + 1)));
    assert.equal(Math.max(...r.evalHistory.map((e) => e.score)), r.bestScore);
    disposeModel(r.model);
  });

  it('patience 0 never stops early; restoreBest off returns the last weights, with every evaluation in evalHistory', async () => {
    const r = await trainMultiTask(tiny({ training: { ...tiny().training, steps: 24, evalEvery: 2, patience: 0, restoreBest: false, learningRate: 1e-5, warmupSteps: 0 } }));
    assert.equal(r.stopReason, 'completed');
    assert.equal(r.steps, 24);
    assert.equal(r.evalHistory.length, 12);
    const last = r.evalHistory.at(-1)!;
    assert.equal(last.step, 24);
    for (const [p, m] of Object.entries(r.devMetrics)) assert.equal(m.value, last.metrics[p], `${p}: returned weights are the last step's`);
    assert.equal(r.bestScore, Math.max(...r.evalHistory.map((e) => e.score)));
    disposeModel(r.model);
  });
});

describe('continual learning', () => {
  it('warm-starts from a model: reuses known heads, creates heads for new projects, mixes replay', async () => {
    const base = await trainMultiTask(tiny({ tasks: tasks(150).slice(0, 1) }));
    const bytes = base.save();
    const next = await trainMultiTask(
      tiny({
        warmStart: bytes,
        tasks: [
          { ...tasks(150)[0]!, train: sentiment.train.slice(150, 300), replay: sentiment.train.slice(0, 150) },
          tasks(150)[1]!,
        ],
      }),
    );
    assert.deepEqual(next.newHeads, ['pos']);
    assert.equal(next.data.sentiment!.replay, 150);
    assert.equal(next.model.tokenizer.sha256, base.model.tokenizer.sha256);
    const saved = next.save();
    assert.deepEqual(Object.keys(saved.heads).sort(), ['pos', 'sentiment']);
    assert.equal(saved.manifest.tokenizer.vocabSha256, bytes.manifest.tokenizer.vocabSha256);
  });
});

describe('bad input', () => {
  it('names the task, row and label for unknown labels', async () => {
    const t = tasks(20);
    t[0]!.train[7] = { text: 'meh', label: 'neutral' };
    await assert.rejects(trainMultiTask(tiny({ tasks: t })), /task "sentiment": train row 7: unknown label "neutral"/);
    const u = tasks(20);
    u[1]!.dev[3] = { tokens: ['a', 'b'], tags: ['NOUN', 'FOO'] };
    await assert.rejects(trainMultiTask(tiny({ tasks: u })), /task "pos": dev row 3: unknown label "FOO"/);
  });
  it('names the row for token/tag count mismatches', async () => {
    const t = tasks(20);
    t[1]!.train[5] = { tokens: ['a', 'b', 'c'], tags: ['NOUN', 'NOUN'] };
    await assert.rejects(trainMultiTask(tiny({ tasks: t })), /task "pos": train row 5: 3 tokens but 2 tags/);
  });
  it('skips empty texts and counts truncated ones', async () => {
    const t = tasks(40).slice(0, 1);
    t[0]!.train.push({ text: '   ', label: 'pos' }, { text: 'good '.repeat(200), label: 'pos' });
    const r = await trainMultiTask(tiny({ tasks: t, training: { ...tiny().training, steps: 2 } }));
    assert.equal(r.data.sentiment!.emptySkipped, 1);
    assert.ok(r.data.sentiment!.truncated >= 1);
  });
});
