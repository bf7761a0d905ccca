import { z } from 'zod';
import { ArtifactRef } from './artifact.ts';

export const TokenizerSpec = z.object({
  /** `wordpiece`: a WordPiece vocabulary trained on the projects' own training text. */
  kind: z.literal('wordpiece').default('wordpiece'),
  vocabSize: z.number().int().min(50).max(100_000).default(8000),
  lowercase: z.boolean().default(true),
});

/** BERT-shaped encoder configuration (names follow Hugging Face `BertConfig`). */
export const EncoderSpec = z
  .object({
    layers: z.number().int().min(1).max(48).default(2),
    hidden: z.number().int().min(8).max(4096).default(128),
    heads: z.number().int().min(1).max(64).default(2),
    intermediate: z.number().int().min(8).optional(),
    maxLength: z.number().int().min(8).max(2048).default(64),
    dropout: z.number().min(0).max(0.9).default(0.1),
    pooling: z.enum(['cls', 'mean']).default('mean'),
    tokenizer: TokenizerSpec.default({ kind: 'wordpiece', vocabSize: 8000, lowercase: true }),
  })
  .refine((e) => e.hidden % e.heads === 0, { message: 'hidden must be divisible by heads', path: ['heads'] });
export type EncoderSpec = z.infer<typeof EncoderSpec>;

export const TrainingSpec = z.object({
  steps: z.number().int().positive().default(300),
  batchSize: z.number().int().positive().default(32),
  learningRate: z.number().positive().default(1e-3),
  warmupSteps: z.number().int().nonnegative().default(30),
  weightDecay: z.number().min(0).default(0.01),
  clipNorm: z.number().positive().default(1),
  seed: z.number().int().default(42),
  sampling: z.enum(['proportional', 'temperature']).default('temperature'),
  temperature: z.number().positive().default(2),
  evalEvery: z.number().int().positive().default(100),
  /** Stop after this many dev evaluations without a better mean dev metric; 0 never stops early. */
  patience: z.number().int().nonnegative().default(3),
  /**
   * Return the weights of the best dev evaluation (true) or the last step's (false). Small dev sets make the mean
   * dev metric noisy, so with a schedule that decays to zero the last weights are often the better pick.
   */
  restoreBest: z.boolean().default(true),
  checkpointEvery: z.number().int().positive().default(50),
  /** Continual learning: share of each batch drawn from earlier data of every project (no forgetting). */
  replayShare: z.number().min(0).max(1).default(0.5),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
});
export type TrainingSpec = z.infer<typeof TrainingSpec>;

export const ProjectMetrics = z.object({
  metric: z.string(),
  value: z.number(),
  accuracy: z.number().optional(),
  macroF1: z.number().optional(),
  examples: z.number().int().nonnegative(),
});
export type ProjectMetrics = z.infer<typeof ProjectMetrics>;

/** A registered model version: shared encoder + one head per project + lineage. */
export const ModelManifest = z.object({
  version: z.string(),
  pipeline: z.string(),
  createdAt: z.string(),
  encoder: ArtifactRef,
  heads: z.record(z.string(), ArtifactRef),
  /** vocab.txt of the WordPiece tokenizer the encoder was trained with. */
  tokenizer: ArtifactRef.optional(),
  /** The trainer's own manifest (encoder config, head label sets, hashes), as JSON. */
  modelManifest: ArtifactRef.optional(),
  tokenizerSha256: z.string(),
  backend: z.string(),
  parent: z.string().nullable(),
  lineage: z.object({
    data: z.record(z.string(), z.array(z.string())),
    codeVersion: z.string(),
    config: z.unknown(),
    runId: z.string(),
  }),
  metrics: z.record(z.string(), ProjectMetrics),
});
export type ModelManifest = z.infer<typeof ModelManifest>;
