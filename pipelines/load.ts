/** Loads a pipeline module (the file a user wrote) and returns its pipeline with the module path recorded. */
import { pathToFileURL } from 'node:url';
import { resolve } from 'node:path';
import { existsSync } from 'node:fs';
import type { Pipeline } from './dsl.ts';

export interface LoadedPipeline extends Pipeline {
  readonly file: string;
}

export async function loadPipeline(file: string): Promise<LoadedPipeline> {
  const abs = resolve(file);
  if (!existsSync(abs)) throw new Error(`pipeline file not found: ${abs}`);
  const mod = (await import(pathToFileURL(abs).href)) as { default?: Pipeline; pipeline?: Pipeline };
  const p = mod.default ?? mod.pipeline;
  if (!p || typeof p !== 'object' || !('spec' in p))
    throw new Error(`${abs}: expected \`export default definePipeline({...})\` (or an export named \`pipeline\`)`);
  return { ...p, spec: { ...p.spec, module: abs }, file: abs };
}
