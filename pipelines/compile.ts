/**
 * From a pipeline definition to a PipelineSpec: expands each project into its six stages, appends custom stages,
 * validates everything with zod and checks the DAG (duplicates, unknown references, cycles). Every problem is
 * reported with its path before anything runs.
 */
import { PipelineSpec, type ProjectSpec, type StageSpecInput } from '../schemas/index.ts';
import { PipelineSpecError, zodIssues, type SpecIssue } from './errors.ts';
import { duplicateIds, findCycle, unknownReferences } from './graph.ts';
import type { PipelineDefinition } from './dsl.ts';
import { z } from 'zod';

/** Task queues: data stages and training stages are taken by different workers (GPU workers take `training`). */
export const DATA_QUEUE = 'broadloom';
export const TRAINING_QUEUE = 'training';

/** Built-in stage activities, in project order. */
export const BUILTIN_ACTIVITIES = ['defineProblem', 'collect', 'label', 'train', 'evaluate', 'promote'] as const;

export const stageIds = {
  define: (p: string) => `${p}.define`,
  collect: (p: string) => `${p}.collect`,
  label: (p: string) => `${p}.label`,
  train: 'train',
  evaluate: (p: string) => `${p}.evaluate`,
  promote: 'promote',
};

/** The six stages of every project; projects join at the shared `train` stage and the pipeline-wide `promote`. */
export function projectStages(projects: ProjectSpec[], spec: Pick<PipelineSpec, 'encoder' | 'training'>): StageSpecInput[] {
  if (!projects.length) return [];
  const stages: StageSpecInput[] = [];
  for (const p of projects) {
    stages.push(
      { id: stageIds.define(p.name), activity: 'defineProblem', project: p.name, config: { project: p }, options: { retry: { maximumAttempts: 1 } } },
      {
        id: stageIds.collect(p.name), activity: 'collect', project: p.name, after: [stageIds.define(p.name)],
        config: { project: p }, options: { startToCloseTimeout: '30m', heartbeatTimeout: '2m' },
      },
      {
        id: stageIds.label(p.name), activity: 'label', project: p.name, after: [stageIds.collect(p.name)],
        config: { project: p.name, task: p.task, labelling: p.labelling }, options: { startToCloseTimeout: '30m', heartbeatTimeout: '2m' },
      },
    );
  }
  stages.push({
    id: stageIds.train, activity: 'train', after: projects.map((p) => stageIds.label(p.name)),
    config: { encoder: spec.encoder, training: spec.training, projects: projects.map((p) => ({ name: p.name, task: p.task })) },
    options: { taskQueue: TRAINING_QUEUE, startToCloseTimeout: '6h', heartbeatTimeout: '2m', retry: { maximumAttempts: 5 } },
  });
  for (const p of projects) {
    stages.push({
      id: stageIds.evaluate(p.name), activity: 'evaluate', project: p.name, after: [stageIds.train, stageIds.label(p.name)],
      config: { project: p.name, task: p.task, gate: p.gate }, options: { taskQueue: TRAINING_QUEUE, startToCloseTimeout: '1h', heartbeatTimeout: '2m' },
    });
  }
  stages.push({
    id: stageIds.promote, activity: 'promote', after: [stageIds.train, ...projects.map((p) => stageIds.evaluate(p.name))],
    config: { gates: Object.fromEntries(projects.map((p) => [p.name, p.gate])) }, options: { retry: { maximumAttempts: 3 } },
  });
  return stages;
}

/** Parse just enough of the definition to expand projects; collect zod issues with their paths. */
const Head = z.object({
  name: z.unknown(),
  encoder: PipelineSpec.shape.encoder,
  training: PipelineSpec.shape.training,
  projects: PipelineSpec.shape.projects,
});

export function compilePipeline(def: PipelineDefinition): PipelineSpec {
  const name = typeof def.name === 'string' ? def.name : '(unnamed)';
  const head = Head.safeParse(def);
  if (!head.success) throw new PipelineSpecError(name, zodIssues(head.error));

  const issues: SpecIssue[] = [];
  const projectNames = head.data.projects.map((p) => p.name);
  duplicateIds(projectNames.map((id) => ({ id, after: [] }))).forEach((d) =>
    issues.push({ path: `projects[${projectNames.lastIndexOf(d)}].name`, message: `duplicate project name "${d}"` }));

  const custom = def.stages ?? [];
  const builtin = projectStages(head.data.projects, head.data);
  const raw = {
    name: def.name, version: def.version, encoder: head.data.encoder, training: head.data.training,
    projects: head.data.projects, stages: [...builtin, ...custom], schedule: def.schedule, continual: def.continual,
    maxParallel: def.maxParallel,
  };
  const parsed = PipelineSpec.safeParse(raw);
  if (!parsed.success) {
    // Custom stages are reported by their index in the user's `stages` array, not the expanded one.
    throw new PipelineSpecError(name, zodIssues(parsed.error).map((i) => ({ ...i, path: relocateStagePath(i.path, builtin.length) })));
  }
  const spec = parsed.data;
  issues.push(...checkStageGraph(spec, builtin.length));
  issues.push(...jsonSafetyIssues(spec).map((i) => ({ ...i, path: relocateStagePath(i.path, builtin.length) })));
  if (issues.length) throw new PipelineSpecError(name, issues);
  return spec;
}

/** `stages[9].after[0]` → `stages[2].after[0]` when the first 7 stages were generated from projects. */
function relocateStagePath(path: string, builtinCount: number): string {
  return path.replace(/^stages\[(\d+)\]/, (_, i: string) => {
    const n = Number(i);
    return n >= builtinCount ? `stages[${n - builtinCount}]` : `stages[${n}] (generated)`;
  });
}

/** DAG checks on a parsed spec: duplicate ids, unknown references, cycles (naming the cycle). */
export function checkStageGraph(spec: PipelineSpec, builtinCount = 0): SpecIssue[] {
  const issues: SpecIssue[] = [];
  const where = (i: number) => (i >= builtinCount ? `stages[${i - builtinCount}]` : `stages[${i}] (generated)`);
  for (const d of duplicateIds(spec.stages)) {
    const i = spec.stages.map((s) => s.id).lastIndexOf(d);
    issues.push({ path: `${where(i)}.id`, message: `duplicate stage id "${d}"` });
  }
  for (const [i, j, dep] of unknownReferences(spec.stages)) {
    issues.push({ path: `${where(i)}.after[${j}]`, message: `stage "${spec.stages[i]!.id}" runs after unknown stage "${dep}"` });
  }
  const cycle = findCycle(spec.stages);
  if (cycle) issues.push({ path: 'stages', message: `cycle: ${cycle.join(' → ')}` });
  const projects = new Set(spec.projects.map((p) => p.name));
  spec.stages.forEach((s, i) => {
    if (s.project !== undefined && !projects.has(s.project))
      issues.push({ path: `${where(i)}.project`, message: `unknown project "${s.project}"` });
  });
  return issues;
}

/** Deepest stage config nesting a run accepts (the same bound the readers put on JSON records). */
export const MAX_CONFIG_DEPTH = 64;

/**
 * Stage configs are free-form (`z.unknown()`), but they travel as JSON in workflow history: NaN/±Infinity would
 * silently become `null` and very deep nesting overflows the payload encoder's stack. Refuse them before any
 * workflow starts, naming the path. Iterative: a 10k-deep config cannot overflow this check.
 */
export function jsonSafetyIssues(spec: PipelineSpec): SpecIssue[] {
  const issues: SpecIssue[] = [];
  spec.stages.forEach((stage, i) => {
    const stack: Array<[unknown, string, number]> = [[stage.config, `stages[${i}].config`, 1]];
    while (stack.length && issues.length < 20) {
      const [v, at, depth] = stack.pop()!;
      if (typeof v === 'number' && !Number.isFinite(v)) {
        issues.push({ path: at, message: `stage "${stage.id}": ${v} is not a finite number (JSON would turn it into null)` });
      } else if (typeof v === 'bigint' || typeof v === 'function' || typeof v === 'symbol') {
        issues.push({ path: at, message: `stage "${stage.id}": a ${typeof v} cannot be part of a stage config (plain JSON only)` });
      } else if (v !== null && typeof v === 'object') {
        if (depth > MAX_CONFIG_DEPTH) {
          issues.push({ path: at.length > 200 ? `${at.slice(0, 200)}…` : at, message: `stage "${stage.id}": config nested deeper than ${MAX_CONFIG_DEPTH} levels` });
          continue;
        }
        const entries = Array.isArray(v) ? v.map((x, j) => [`[${j}]`, x] as const) : Object.entries(v).map(([k, x]) => [`.${k}`, x] as const);
        for (const [k, x] of entries) stack.push([x, `${at}${k}`, depth + 1]);
      }
    }
  });
  return issues;
}

/** Throws PipelineSpecError when a stage config is not plain, finite, reasonably shallow JSON. */
export function assertJsonSafeSpec(spec: PipelineSpec): void {
  const issues = jsonSafetyIssues(spec);
  if (issues.length) throw new PipelineSpecError(spec.name, issues);
}
