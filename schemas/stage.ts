import { z } from 'zod';
import { ArtifactRef } from './artifact.ts';

export const StageId = z
  .string()
  .regex(/^[a-zA-Z][a-zA-Z0-9_.:-]{0,119}$/, 'expected a stage id of letters, digits and . _ : -');

export const RetrySpec = z.object({
  maximumAttempts: z.number().int().nonnegative().default(3),
  initialInterval: z.string().default('1s'),
  backoffCoefficient: z.number().min(1).default(2),
  maximumInterval: z.string().default('30s'),
  nonRetryableErrorTypes: z.array(z.string()).default([]),
});

export const StageOptions = z.object({
  taskQueue: z.string().min(1).default('broadloom'),
  retry: RetrySpec.prefault({}),
  startToCloseTimeout: z.string().default('10m'),
  heartbeatTimeout: z.string().optional(),
  /** `false`: always run, never reuse outputs from an earlier run. */
  cache: z.boolean().default(true),
});
export type StageOptions = z.infer<typeof StageOptions>;

/** One node of the pipeline DAG, as the workflow interprets it. Plain JSON. */
export const StageSpec = z.object({
  id: StageId,
  activity: z.string().min(1),
  after: z.array(StageId).default([]),
  project: z.string().optional(),
  options: StageOptions.prefault({}),
  /** Everything the activity needs besides its inputs' outputs; part of the cache key. */
  config: z.record(z.string(), z.unknown()).default({}),
  /** Hash of the activity's code and what it reaches (filled by the static reader); part of the cache key. */
  codeVersion: z.string().default('unversioned'),
});
export type StageSpec = z.infer<typeof StageSpec>;
export type StageSpecInput = z.input<typeof StageSpec>;

/** What every stage activity returns: references to its artifacts, a one-line summary and a few numbers. */
export const StageResult = z.object({
  outputs: z.record(z.string(), ArtifactRef),
  summary: z.string(),
  metrics: z.record(z.string(), z.number()).default({}),
  /** Small JSON facts a downstream stage or the workflow needs (e.g. the promotion decision). */
  facts: z.record(z.string(), z.unknown()).default({}),
});
export type StageResult = z.infer<typeof StageResult>;

/** What every stage activity receives. */
export const StageInput = z.object({
  pipeline: z.string(),
  runId: z.string(),
  stage: StageSpec,
  /** Results of the stages this one runs after, by stage id. */
  upstream: z.record(z.string(), StageResult),
  cacheKey: z.string(),
  /** Absolute path of the pipeline module, for stages that need its functions (labelers, custom activities). */
  module: z.string().optional(),
});
export type StageInput = z.infer<typeof StageInput>;

export const StageStatus = z.enum(['pending', 'running', 'cached', 'done', 'failed', 'skipped']);
export type StageStatus = z.infer<typeof StageStatus>;

export const StageState = z.object({
  id: StageId,
  activity: z.string(),
  project: z.string().optional(),
  status: StageStatus,
  attempt: z.number().int().nonnegative().default(0),
  startedAt: z.string().optional(),
  endedAt: z.string().optional(),
  cacheKey: z.string().optional(),
  result: StageResult.optional(),
  error: z.string().optional(),
});
export type StageState = z.infer<typeof StageState>;
