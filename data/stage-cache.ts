import fs from 'node:fs/promises';
import path from 'node:path';
import { StageResult } from '../schemas/stage.ts';
import type { ArtifactRef } from '../schemas/artifact.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { broadloomHome } from './home.ts';
import { atomicWrite } from './atomic.ts';
import { canonicalJson, sha256Hex } from './hash.ts';

export { canonicalJson, sha256Hex } from './hash.ts';

export interface CacheKeyInput {
  stageId: string;
  config: unknown;
  /** sha256 of every input artifact (order-insensitive when given as a record; arrays keep their order). */
  inputHashes: string[] | Record<string, string>;
  codeVersion: string;
}

/** sha256 over the canonical JSON (sorted keys) of the stage's identity. */
export function cacheKey(input: CacheKeyInput): string {
  return sha256Hex(
    canonicalJson({
      v: 1,
      stageId: input.stageId,
      config: input.config ?? null,
      inputHashes: input.inputHashes,
      codeVersion: input.codeVersion,
    }),
  );
}

export type CacheLookup =
  | { hit: true; result: StageResult }
  | { hit: false; reason: string };

const KEY_RE = /^[0-9a-f]{16,128}$/;

/** Every ArtifactRef reachable in a StageResult: `outputs` plus any refs nested inside `facts`. */
export function referencedArtifacts(result: StageResult): ArtifactRef[] {
  const out: ArtifactRef[] = Object.values(result.outputs);
  const walk = (v: unknown, depth: number) => {
    if (depth > 32 || v === null || typeof v !== 'object') return;
    const o = v as Record<string, unknown>;
    if (typeof o['uri'] === 'string' && typeof o['sha256'] === 'string' && (o['uri'] as string).startsWith('artifact://')) {
      out.push(o as unknown as ArtifactRef);
      return;
    }
    for (const x of Array.isArray(v) ? v : Object.values(o)) walk(x, depth + 1);
  };
  walk(result.facts, 0);
  return out;
}

/** Stage results by cache key under `<home>/cache/<key>.json`. A hit requires every referenced artifact to exist. */
export class StageCache {
  readonly dir: string;
  constructor(
    readonly store: ArtifactStore,
    opts: { home?: string; dir?: string } = {},
  ) {
    this.dir = path.resolve(opts.dir ?? path.join(opts.home ?? broadloomHome(), 'cache'));
  }

  private fileFor(key: string): string {
    if (typeof key !== 'string' || !KEY_RE.test(key)) throw new Error(`invalid cache key ${JSON.stringify(String(key).slice(0, 80))}: expected 16-128 lower-case hex characters`);
    return path.join(this.dir, `${key}.json`);
  }

  async get(key: string): Promise<CacheLookup> {
    const file = this.fileFor(key);
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { hit: false, reason: `no cached result for key ${key}` };
      throw e;
    }
    let result: StageResult;
    try {
      result = StageResult.parse(JSON.parse(text));
    } catch (e) {
      return { hit: false, reason: `cached result ${file} is unreadable (${(e as Error).message.split('\n')[0]}); ignoring it` };
    }
    for (const ref of referencedArtifacts(result)) {
      let ok = false;
      try {
        ok = await this.store.has(ref);
      } catch (e) {
        return { hit: false, reason: `cached result references an invalid artifact: ${(e as Error).message}` };
      }
      if (!ok) return { hit: false, reason: `artifact ${ref.name ?? ref.kind} (${ref.sha256}) referenced by the cached result is missing from the store` };
    }
    return { hit: true, result };
  }

  async put(key: string, result: StageResult): Promise<void> {
    const file = this.fileFor(key);
    const parsed = StageResult.parse(result);
    await atomicWrite(file, JSON.stringify(parsed, null, 2) + '\n');
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.fileFor(key), { force: true });
  }
}
