/**
 * What every stage activity shares: Temporal context (heartbeat, cancellation, attempt) around the libraries,
 * turning "bad input" errors into non-retryable failures that name the problem.
 */
import { Context } from '@temporalio/activity';
import { ApplicationFailure } from '@temporalio/common';
import { dirname } from 'node:path';
import { ProjectSpec, type StageInput, type StageResult, type ArtifactRef } from '../schemas/index.ts';
import { tableToRows } from '../data/arrow-rows.ts';
import { broadloomContext } from './context.ts';

/** Failure type of a stage whose input is wrong: retrying cannot help, fixing the input can. */
export const BAD_INPUT = 'BroadloomBadInput';

export function badInput(message: string, details?: unknown): ApplicationFailure {
  return ApplicationFailure.create({ message, type: BAD_INPUT, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/** Heartbeat when running inside an activity; a no-op when a library is called from a test or script. */
export function heartbeat(details?: unknown): void {
  try {
    Context.current().heartbeat(details);
  } catch {
    /* not in an activity */
  }
}

/**
 * Heartbeat at most every `everyMs` (unless forced): the SDK's own batching starves when a tight loop heartbeats on
 * every iteration, and then the server sees no progress until the heartbeat timeout fires.
 */
export function throttledHeartbeat(everyMs = 1000): (details: unknown, force?: boolean) => Promise<void> | undefined {
  let last = 0;
  return (details, force = false) => {
    const now = Date.now();
    if (!force && now - last < everyMs) return undefined;
    last = now;
    heartbeat(details);
    // CPU-bound loops only yield microtasks between steps; give the SDK a turn of the event loop to send it.
    return new Promise((resolve) => setImmediate(resolve));
  };
}

export function activityContext(): Context | null {
  try {
    return Context.current();
  } catch {
    return null;
  }
}

/** Relative source paths in a pipeline resolve against the pipeline file's directory. */
export function baseDirOf(input: StageInput): string {
  return input.module ? dirname(input.module) : process.cwd();
}

export function projectOf(input: StageInput): ProjectSpec {
  const parsed = ProjectSpec.safeParse(input.stage.config.project);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `project.${i.path.join('.')}: ${i.message}`).join('; ');
    throw badInput(`stage ${input.stage.id}: invalid project definition: ${issues}`);
  }
  return parsed.data;
}

/** The result of the stage `id` that this stage runs after; a clear error when the DAG does not provide it. */
export function upstreamOf(input: StageInput, id: string): StageResult {
  const r = input.upstream[id];
  if (!r) throw badInput(`stage ${input.stage.id} needs the result of stage "${id}", but it does not run after it`);
  return r;
}

export function outputOf(result: StageResult, key: string, stage: string): ArtifactRef {
  const ref = result.outputs[key];
  if (!ref) throw badInput(`stage ${stage} produced no "${key}" output`);
  return ref;
}

export async function readRows<T>(ref: ArtifactRef): Promise<T[]> {
  return tableToRows<T>(await broadloomContext().store.getTable(ref));
}
