/**
 * Activities of the continual-learning workflow: scanning watched directories for new files (each one ingested as
 * an arrival), and asking a pipeline's continual workflow for a retraining (what a Schedule does).
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { Context } from '@temporalio/activity';
import type { PipelineSpec } from '../schemas/pipeline.ts';
import { ingestFile, DataQualityError } from '../data/collect.ts';
import { listFiles } from '../data/readers/directory.ts';
import { resolveSourcePath } from '../data/readers/common.ts';
import { atomicWrite } from '../data/atomic.ts';
import { broadloomContext } from './context.ts';
import { heartbeat } from './stage-kit.ts';
import type { Arrival } from '../workflows/continual.ts';
import { DATA_QUEUE } from '../pipelines/compile.ts';

/** Files of watched directories already turned into arrivals, per pipeline: path → size:mtime. */
async function seenFiles(file: string): Promise<Record<string, string>> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as Record<string, string>;
  } catch {
    return {};
  }
}

export async function scanWatchedSources(input: { pipeline: string; spec: PipelineSpec }): Promise<Arrival[]> {
  const { store, home } = broadloomContext();
  const ledger = join(home, 'watch', `${input.pipeline}.json`);
  const seen = await seenFiles(ledger);
  const baseDir = input.spec.module ? dirname(input.spec.module) : process.cwd();
  const arrivals: Arrival[] = [];
  for (const project of input.spec.projects) {
    for (const [i, source] of project.sources.entries()) {
      if (source.format !== 'directory' || !source.watch) continue;
      const root = resolveSourcePath(source.path, baseDir, `${project.name}.sources[${i}]`);
      const files = await listFiles(root, source.filePattern ? new RegExp(source.filePattern) : null).catch(() => []);
      for (const rel of files) {
        const abs = join(root, rel);
        const st = await stat(abs).catch(() => null);
        if (!st) continue;
        const stamp = `${st.size}:${st.mtimeMs}`;
        const key = `${project.name}:${abs}`;
        if (seen[key] === stamp) continue;
        heartbeat({ project: project.name, file: rel });
        try {
          const r = await ingestFile(project, abs, store, { baseDir, source: i });
          arrivals.push({ project: project.name, dataset: r.dataset, records: r.dataset.rows ?? 0, origin: relative(baseDir, abs) });
        } catch (e) {
          // A bad file is quarantined by ingestFile and reported; it must not block the others.
          if (!(e instanceof DataQualityError)) throw e;
          Context.current().log.warn(`watched file ${abs} rejected: ${e.message}`);
        }
        seen[key] = stamp;
      }
    }
  }
  await atomicWrite(ledger, JSON.stringify(seen, null, 1));
  return arrivals;
}

/** Signal-with-start the pipeline's continual workflow with a retraining request. */
export async function requestRetrain(input: { spec: PipelineSpec; reason: string }): Promise<string> {
  const { continualWorkflowId } = await import('../workflows/continual.ts');
  const client = Context.current().client;
  const handle = await client.workflow.signalWithStart('continualWorkflow', {
    workflowId: continualWorkflowId(input.spec.name),
    taskQueue: DATA_QUEUE,
    args: [{ spec: input.spec }],
    signal: 'retrain',
    signalArgs: [{ reason: input.reason }],
  });
  return handle.workflowId;
}
