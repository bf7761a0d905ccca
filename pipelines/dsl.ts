/**
 * The pipeline DSL: what users write. `definePipeline` turns a pipeline definition into a validated, plain-JSON
 * PipelineSpec (see compile.ts) and keeps the functions that cannot travel as JSON (labelling functions, custom
 * activities) beside it, for the worker that runs the pipeline's module.
 */
import type { z } from 'zod';
import type { ProjectSpecInput, StageSpecInput, SourceSpec, StageInput, StageResult } from '../schemas/index.ts';
import type { EncoderSpec, TrainingSpec, ScheduleSpec, ContinualSpec } from '../schemas/index.ts';
import { compilePipeline } from './compile.ts';
import type { PipelineSpec } from '../schemas/index.ts';

/** A labelling function: votes a label for a record, or abstains with `null`. */
export type Labeler = (record: { text?: string; tokens?: string[] }) => string | null;

/** A custom stage's implementation: gets its upstream results, returns artifact references. */
export type CustomActivity = (input: StageInput) => Promise<StageResult>;

export interface PipelineDefinition {
  name: string;
  version?: string;
  encoder?: z.input<typeof EncoderSpec>;
  training?: z.input<typeof TrainingSpec>;
  projects?: ProjectSpecInput[];
  /** Custom stages; `after` may name built-in stages (`sentiment.collect`, `train`, `promote`) or other custom ones. */
  stages?: StageSpecInput[];
  schedule?: z.input<typeof ScheduleSpec>;
  continual?: z.input<typeof ContinualSpec>;
  maxParallel?: number;
  labelers?: Record<string, Labeler>;
  activities?: Record<string, CustomActivity>;
}

export interface Pipeline {
  readonly spec: PipelineSpec;
  readonly labelers: Readonly<Record<string, Labeler>>;
  readonly activities: Readonly<Record<string, CustomActivity>>;
}

/** Define a pipeline. Throws PipelineSpecError (every problem, each with its path) if the definition is invalid. */
export function definePipeline(def: PipelineDefinition): Pipeline {
  const spec = compilePipeline(def);
  return Object.freeze({ spec, labelers: def.labelers ?? {}, activities: def.activities ?? {} });
}

/** Identity helpers: they exist for type inference and readability in pipeline files. */
export const project = (p: ProjectSpecInput): ProjectSpecInput => p;
export const stage = (s: StageSpecInput): StageSpecInput => s;

export const task = {
  sequence: (labels: string[], opts: { metric?: 'accuracy' | 'macro-f1' | 'f1'; positiveLabel?: string } = {}) =>
    ({ kind: 'sequence-classification', labels, ...opts }) as const,
  tokens: (labels: string[], opts: { metric?: 'token-accuracy' | 'span-f1' } = {}) =>
    ({ kind: 'token-classification', labels, ...opts }) as const,
};

type Without<T, K extends keyof T> = Omit<T, K>;
type SourceOf<F extends SourceSpec['format']> = SourceSpec extends infer S ? (S extends { format: infer G } ? (F extends G ? S : never) : never) : never;
type SourceOpts<F extends SourceSpec['format']> = Partial<Without<SourceOf<F>, 'format' | 'path'>>;

export const sources = {
  csv: (path: string, o: SourceOpts<'csv'> = {}) => ({ format: 'csv' as const, path, ...o }),
  json: (path: string, o: SourceOpts<'json'> = {}) => ({ format: 'json' as const, path, ...o }),
  jsonl: (path: string, o: SourceOpts<'json'> = {}) => ({ format: 'jsonl' as const, path, ...o }),
  conll: (path: string, o: SourceOpts<'conll'> = {}) => ({ format: 'conll' as const, path, ...o }),
  brown: (path: string, o: SourceOpts<'brown'> = {}) => ({ format: 'brown' as const, path, ...o }),
  directory: (path: string, o: SourceOpts<'directory'> = {}) => ({ format: 'directory' as const, path, ...o }),
};
