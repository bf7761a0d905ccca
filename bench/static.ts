/**
 * Timing of the static reader on the repository's own pipelines: graph, check and code versions, cold (fresh
 * ts-morph Project) and warm (cached Project, files unchanged), plus a warm run after touching one helper.
 *   node --import tsx bench/static.ts
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pipelineGraph } from '../pipelines/static/graph.ts';
import { checkFiles } from '../pipelines/static/check.ts';
import { stageCodeDetails } from '../pipelines/static/code-version.ts';
import { clearProjectCache, projectFor } from '../pipelines/static/project.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const pipelines = readdirSync(join(repo, 'pipelines/examples')).filter((f) => f.endsWith('.ts')).map((f) => join(repo, 'pipelines/examples', f));
const targets = [...pipelines, join(repo, 'workflows')];

function time<T>(label: string, fn: () => T): T {
  const t = performance.now();
  const out = fn();
  console.log(`${label.padEnd(34)} ${(performance.now() - t).toFixed(1).padStart(8)} ms`);
  return out;
}

for (const round of ['cold', 'warm', 'warm']) {
  if (round === 'cold') clearProjectCache();
  console.log(`-- ${round}`);
  for (const p of pipelines) time(`graph ${p.slice(repo.length)}`, () => pipelineGraph(p));
  const diags = time(`check ${targets.length} paths`, () => checkFiles(targets));
  if (round === 'cold') console.log(`   ${diags.filter((d) => d.severity === 'error').length} errors, ${diags.length} diagnostics`);
  for (const p of pipelines) {
    const d = time(`codeVersions ${p.slice(repo.length)}`, () => stageCodeDetails(p));
    if (round === 'cold') {
      for (const [id, info] of Object.entries(d))
        console.log(`   ${id.padEnd(20)} ${info.codeVersion.slice(0, 16)} ${info.from.padEnd(10)} ${String(info.units.length).padStart(3)} units  ${info.packages.join(' ')}`);
    }
  }
}

// After an edit: one file the label stage reaches changes (in memory only; nothing on disk is touched), so the
// program is rebuilt and every dependency edge resolved again.
for (const p of pipelines) {
  const before = stageCodeDetails(p);
  const label = Object.entries(before).find(([, d]) => d.activity === 'label');
  const unit = label?.[1].units.find((u) => u.startsWith('activities/'));
  if (!label || !unit) continue;
  const file = join(repo, unit.split('#')[0]!);
  const sf = projectFor(repo, 'code').getSourceFileOrThrow(file);
  const text = sf.getFullText();
  sf.replaceWithText(`${text}\nexport const __benchEdit = 1;\n`);
  const after = time(`codeVersions after editing ${unit.split('#')[0]}`, () => stageCodeDetails(p));
  const changed = Object.keys(after).filter((k) => after[k]!.codeVersion !== before[k]!.codeVersion);
  console.log(`   changed: ${changed.join(', ') || '(none: the new export is reached by nothing)'}`);
  sf.replaceWithText(text);
  time('codeVersions after restoring it', () => stageCodeDetails(p));
}
