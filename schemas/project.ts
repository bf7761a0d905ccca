import { z } from 'zod';
import { TaskSpec } from './task.ts';
import { SourceSpec } from './source.ts';

export const Slug = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,62}$/, 'expected a lower-case name of letters, digits and dashes, starting with a letter');

/** Promotion gate: a candidate passes only if its metric is ≥ `min` and did not drop more than `maxRegression`. */
export const GateSpec = z.object({
  min: z.number().min(0).max(1).default(0),
  maxRegression: z.number().min(0).max(1).default(0),
  /**
   * Also hold `maxRegression` on every source's slice of the test split (e.g. amazon vs yelp sentences), so new
   * data from one source cannot hide forgetting on another.
   */
  slices: z.boolean().default(false),
});
export type GateSpec = z.infer<typeof GateSpec>;

export const SplitSpec = z
  .object({ dev: z.number().min(0).max(0.5).default(0.1), test: z.number().min(0).max(0.5).default(0.2) })
  .refine((s) => s.dev + s.test < 1, 'dev + test must leave some training data');

export const LabellingSpec = z.object({
  /** Names of labelling functions exported by the pipeline module (`labelers`). */
  functions: z.array(z.string()).default([]),
  combine: z.enum(['majority', 'weighted']).default('majority'),
  weights: z.record(z.string(), z.number().positive()).optional(),
  /** How many of the least-certain examples go to the human labelling queue. */
  uncertaintyQueueSize: z.number().int().nonnegative().default(50),
  /** Artifacts/files of human labels to import back (`id,label` CSV or JSONL). */
  humanLabels: z.array(z.string()).default([]),
});

export const ProjectSpec = z.object({
  name: Slug,
  description: z.string().default(''),
  task: TaskSpec,
  sources: z.array(SourceSpec).min(1, 'a project needs at least one source'),
  gate: GateSpec.prefault({}),
  split: SplitSpec.default({ dev: 0.1, test: 0.2 }),
  labelling: LabellingSpec.default({ functions: [], combine: 'majority', uncertaintyQueueSize: 50, humanLabels: [] }),
  /** Stage `collect` fails when more than this share of rows is bad. */
  maxBadShare: z.number().min(0).max(1).default(0.05),
  /** Cap on records kept (after dedup), chosen deterministically by hash; for small/fast configs. */
  maxRecords: z.number().int().positive().optional(),
});
export type ProjectSpec = z.infer<typeof ProjectSpec>;
export type ProjectSpecInput = z.input<typeof ProjectSpec>;
