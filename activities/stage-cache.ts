/**
 * Local activities the DAG workflow uses around every stage: look a stage's result up in the cache before
 * scheduling it, and record it after it succeeds. Local activities leave a marker in history, not an activity
 * task, so a cache hit shows up as "no ActivityTaskScheduled" for that stage.
 */
import { cacheKey } from '../data/stage-cache.ts';
import type { StageResult } from '../schemas/stage.ts';
import { broadloomContext } from './context.ts';

export interface StageCacheLookupInput {
  pipeline: string;
  stageId: string;
  config: unknown;
  inputHashes: string[];
  codeVersion: string;
  /** Compute the key but do not read the cache (`--no-cache`, `cache: false`, `--from`). */
  skipRead: boolean;
}

export interface StageCacheLookupOutput {
  key: string;
  hit: StageResult | null;
  /** Why it missed, for the stage's history and the CLI. */
  reason: string;
}

export async function lookupStageCache(input: StageCacheLookupInput): Promise<StageCacheLookupOutput> {
  const key = cacheKey({
    stageId: `${input.pipeline}/${input.stageId}`,
    config: input.config,
    inputHashes: input.inputHashes,
    codeVersion: input.codeVersion,
  });
  if (input.skipRead) return { key, hit: null, reason: 'cache bypassed' };
  const found = await broadloomContext().cache.get(key);
  return found.hit ? { key, hit: found.result, reason: 'cache hit' } : { key, hit: null, reason: found.reason };
}

export async function recordStageCache(input: { key: string; result: StageResult }): Promise<void> {
  await broadloomContext().cache.put(input.key, input.result);
}

/**
 * The champion when a run starts, recorded once in history: every stage that compares with or warm-starts from
 * the champion uses this version (and it is part of their cache keys), even if another run promotes meanwhile.
 */
export async function currentChampion(input: { pipeline: string }): Promise<string | null> {
  const { ModelRegistry } = await import('../data/registry.ts');
  const champion = await new ModelRegistry(input.pipeline, { home: broadloomContext().home }).champion();
  return champion?.version ?? null;
}
