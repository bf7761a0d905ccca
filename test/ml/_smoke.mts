import { trainMultiTask } from '../../ml/trainer.ts';
import { loadBrown, loadSentiment, split, UNIVERSAL_TAGS } from './fixtures.ts';
const sent = [...loadSentiment('amazon'), ...loadSentiment('yelp')];
const s = split(sent, 5);
const pos = split(loadBrown(6, 600), 5);
const t0 = Date.now();
const r = await trainMultiTask({
  encoder: { layers: 1, hidden: 64, heads: 2, maxLength: 48, dropout: 0.1, tokenizer: { vocabSize: 2000 } },
  training: { steps: 200, batchSize: 16, learningRate: 2e-3, warmupSteps: 20, evalEvery: 50, patience: 3, seed: 1, backend: process.env.B ?? 'wasm' },
  tasks: [
    { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'], train: s.train, dev: s.test },
    { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS], train: pos.train, dev: pos.test },
  ],
  onProgress: (p) => console.log(p.step, p.loss.toFixed(3), JSON.stringify(p.lossPerTask), Math.round(p.tokensPerSecond)),
  progressEvery: 25,
});
console.log(Date.now() - t0, 'ms', r.stopReason, r.bestStep, r.bestScore, Object.fromEntries(Object.entries(r.devMetrics).map(([k, v]) => [k, v.value])), r.data, r.model.tokenizer.size);
