import { z } from 'zod';
import { ProjectSpec, Slug } from './project.ts';
import { EncoderSpec, TrainingSpec } from './model.ts';
import { StageSpec } from './stage.ts';
import { ArtifactRef } from './artifact.ts';

export const ScheduleSpec = z.object({
  /** Cron expression (`0 3 * * *`) or an interval (`6h`, `30m`); exactly one. */
  cron: z.string().optional(),
  every: z.string().optional(),
  overlap: z.enum(['skip', 'buffer-one', 'buffer-all', 'cancel-other', 'terminate-other', 'allow-all']).default('skip'),
  catchupWindow: z.string().default('1h'),
  pauseOnFailure: z.boolean().default(true),
}).refine((s) => (s.cron ? 1 : 0) + (s.every ? 1 : 0) === 1, 'a schedule needs exactly one of `cron` or `every`');
export type ScheduleSpec = z.infer<typeof ScheduleSpec>;

export const ContinualSpec = z.object({
  /** New records per project that trigger a retraining. */
  threshold: z.number().int().positive().default(500),
  /** Retrain anyway once arrivals have waited this long (e.g. `1d`). */
  maxWait: z.string().default('1d'),
  /** Continue-as-new after this many handled events, so history stays small. */
  continueAsNewAfter: z.number().int().positive().default(500),
  /** How often directory sources marked `watch` are scanned for new files. */
  watchEvery: z.string().default('1m'),
});
export type ContinualSpec = z.infer<typeof ContinualSpec>;

export const PipelineSpec = z.object({
  name: Slug,
  version: z.string().default('1'),
  encoder: EncoderSpec.prefault({}),
  training: TrainingSpec.prefault({}),
  projects: z.array(ProjectSpec).default([]),
  stages: z.array(StageSpec).min(1, 'a pipeline needs at least one stage (a project or a custom stage)'),
  schedule: ScheduleSpec.optional(),
  continual: ContinualSpec.optional(),
  /** At most this many stages run at once. */
  maxParallel: z.number().int().positive().default(4),
  /** Absolute path of the module that defined the pipeline (labelers, custom activities live there). */
  module: z.string().optional(),
});
export type PipelineSpec = z.infer<typeof PipelineSpec>;

/** The DAG workflow's input. */
export const PipelineRunInput = z.object({
  spec: PipelineSpec,
  runKey: z.string(),
  /** Ignore cached results for every stage. */
  noCache: z.boolean().default(false),
  /** Re-execute these stages and everything after them even if cached. */
  force: z.array(z.string()).default([]),
  /** Run only these stages and what they need (empty: every stage). */
  targets: z.array(z.string()).default([]),
  /** Model version to warm-start from (continual retraining); `champion` resolves at run time. */
  warmStart: z.string().nullable().default(null),
  /** Dataset artifacts per project that arrived since the champion: new data, trained on (continual learning). */
  arrivals: z.record(z.string(), z.array(ArtifactRef)).default({}),
  /** Dataset artifacts per project that arrived before and are part of the data now (replayed, evaluated on). */
  absorbed: z.record(z.string(), z.array(ArtifactRef)).default({}),
});
export type PipelineRunInput = z.infer<typeof PipelineRunInput>;
