import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { ArtifactStore } from '../../data/artifact-store.ts';
import type { ReadItem } from '../../data/readers/common.ts';

/** A fresh temp dir, removed when the test file finishes. */
export function tmpDir(prefix = 'broadloom-data-'): string {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  after(() => fs.rmSync(d, { recursive: true, force: true }));
  return d;
}

export function tmpStore(): { dir: string; store: ArtifactStore } {
  const dir = tmpDir();
  return { dir, store: new ArtifactStore({ root: path.join(dir, 'artifacts') }) };
}

export function write(dir: string, rel: string, content: string | Uint8Array): string {
  const p = path.join(dir, rel);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, content);
  return p;
}

export async function collectItems(gen: AsyncIterable<ReadItem>): Promise<ReadItem[]> {
  const out: ReadItem[] = [];
  for await (const x of gen) out.push(x);
  return out;
}

/** Every file under dir (recursive, relative). */
export function listAll(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
}

export const REPO = fileURLToPath(new URL('../..', import.meta.url)).replace(/\/$/, '');
