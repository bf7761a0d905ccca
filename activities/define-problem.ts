/**
 * Stage 1 — define the problem: validate a project's definition (task kind, labels, metric, gate, splits, sources)
 * and write it as an artifact. A wrong definition fails the run here, with the path of the mistake.
 */
import { existsSync } from 'node:fs';
import type { StageInput, StageResult } from '../schemas/index.ts';
import { resolveSourcePath } from '../data/readers/index.ts';
import { broadloomContext } from './context.ts';
import { badInput, baseDirOf, projectOf } from './stage-kit.ts';

export async function defineProblem(input: StageInput): Promise<StageResult> {
  const project = projectOf(input);
  const baseDir = baseDirOf(input);
  project.sources.forEach((s, i) => {
    let path: string;
    try {
      path = resolveSourcePath(s.path, baseDir, `projects.${project.name}.sources[${i}]`);
    } catch (e) {
      throw badInput(`project ${project.name}: sources[${i}].path: ${(e as Error).message}`);
    }
    if (!existsSync(path)) throw badInput(`project ${project.name}: sources[${i}].path: ${s.path} does not exist (resolved to ${path})`);
  });
  const problem = await broadloomContext().store.putJson(project, { kind: 'problem', name: `${project.name}/problem` });
  const t = project.task;
  return {
    outputs: { problem },
    summary: `${t.kind}, ${t.labels.length} labels, metric ${t.metric}, ${project.sources.length} source(s), gate ≥ ${project.gate.min} / −${project.gate.maxRegression}`,
    metrics: { labels: t.labels.length, sources: project.sources.length },
    facts: { task: t.kind, metric: t.metric },
  };
}
