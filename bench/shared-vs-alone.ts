/**
 * The shared encoder against each project trained alone, with the same budget, on the example's data.
 *
 * Budget: the joint run trains `steps` batches in which each project fills a share of the slots (temperature
 * sampling, as the trainer does). Each alone run trains that project for round(steps × share) batches of the same
 * size: the same number of examples of that project, and together the same compute as the joint run.
 *   node --import tsx bench/shared-vs-alone.ts [--size=full|small|test] [--only=joint|alone] [--steps=N]
 *     [--max-length=N] [--sampling=proportional|temperature] [--max-records=project:N,…]
 *     [--vocab=N] [--cased=true|false] [--encoder='{"layers":3}'] [--training='{"learningRate":0.003}'] [--tag=name]
 * Results go to stdout and bench/results/shared-vs-alone-<tag>.json (tag defaults to the size).
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { broadPipeline, type ExampleSize } from '../pipelines/examples/broad.ts';
import { collectProject } from '../data/collect.ts';
import { ArtifactStore } from '../data/artifact-store.ts';
import { tableToRows } from '../data/arrow-rows.ts';
import { trainMultiTask, type TrainResult, type TrainTask } from '../ml/trainer.ts';
import { evaluateTask } from '../ml/predict.ts';
import { disposeModel } from '../ml/model.ts';
import { initBackend } from '../ml/backend.ts';
import { exampleFromRow as toExample, taskDefinition, type Example } from '../ml/types.ts';
import type { DatasetRow, ProjectSpec } from '../schemas/index.ts';

const arg = (name: string, dflt: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split('=')[1] ?? dflt;
const size = arg('size', 'full') as ExampleSize;
const only = arg('only', 'both');
const base = broadPipeline(size).spec;
// Overrides for trying a configuration before making it the example's (e.g. --steps=1500 --max-length=128).
// --max-records=pos:20000,spam:3000 caps (or uncaps) a project's records.
const maxRecords = Object.fromEntries(arg('max-records', '').split(',').filter(Boolean).map((kv) => [kv.split(':')[0]!, Number(kv.split(':')[1])]));
const spec = {
  ...base,
  projects: base.projects.map((p) => (p.name in maxRecords ? { ...p, maxRecords: maxRecords[p.name] } : p)),
  encoder: {
    ...base.encoder,
    ...(arg('max-length', '') ? { maxLength: Number(arg('max-length', '')) } : {}),
    ...JSON.parse(arg('encoder', '{}')),
    tokenizer: {
      ...base.encoder.tokenizer,
      ...(arg('vocab', '') ? { vocabSize: Number(arg('vocab', '')) } : {}),
      ...(arg('cased', '') ? { lowercase: arg('cased', '') !== 'true' } : {}),
    },
  },
  training: {
    ...base.training,
    ...(arg('steps', '') ? { steps: Number(arg('steps', '')) } : {}),
    ...(arg('sampling', '') ? { sampling: arg('sampling', '') as 'proportional' | 'temperature' } : {}),
    ...JSON.parse(arg('training', '{}')),
  },
};
const tag = arg('tag', size);
const here = dirname(fileURLToPath(import.meta.url));
const store = new ArtifactStore({ root: mkdtempSync(join(tmpdir(), 'broadloom-bench-')) });
const backend = await initBackend(process.env.BROADLOOM_BACKEND);
console.log(`shared encoder vs alone — example size ${size}, backend ${backend.name}`);

type Row = DatasetRow;

interface Data { task: TrainTask; test: Example[] }
const data: Data[] = [];
for (const p of spec.projects as ProjectSpec[]) {
  const c = await collectProject(p, { baseDir: dirname(fileURLToPath(new URL('../pipelines/examples/broad.ts', import.meta.url))), store });
  const rows = async (ref: typeof c.train) => tableToRows<Row>(await store.getTable(ref)).filter((r) => ('tokens' in r ? r.tags : r.label) !== null).map(toExample);
  data.push({
    task: { ...taskDefinition(p.name, p.task), train: await rows(c.train), dev: await rows(c.dev) },
    test: await rows(c.test),
  });
  console.log(`  ${p.name}: train ${data.at(-1)!.task.train.length}, dev ${data.at(-1)!.task.dev.length}, test ${data.at(-1)!.test.length}`);
}

const T = spec.training.temperature;
const weights = data.map((d) => (spec.training.sampling === 'temperature' ? d.task.train.length ** (1 / T) : d.task.train.length));
const share = weights.map((w) => w / weights.reduce((a, b) => a + b, 0));

interface Outcome { metric: string; value: number; accuracy: number; steps: number; seconds: number; stopReason: string; evalHistory: TrainResult['evalHistory'] }
async function run(label: string, tasks: Data[], steps: number): Promise<Record<string, Outcome>> {
  const started = Date.now();
  let lastLog = 0;
  const r = await trainMultiTask({
    encoder: spec.encoder,
    training: { ...spec.training, steps, evalEvery: Math.max(10, Math.round(spec.training.evalEvery * (steps / spec.training.steps))) },
    tasks: tasks.map((d) => d.task),
    onProgress: (p) => {
      if (Date.now() - lastLog > 30_000) {
        lastLog = Date.now();
        console.log(`  [${label}] step ${p.step}/${p.totalSteps} loss ${p.loss.toFixed(3)} ${Math.round(p.tokensPerSecond)} tok/s`);
      }
    },
  });
  for (const e of r.evalHistory) console.log(`  [${label}] dev @${e.step}: mean ${e.score.toFixed(4)} (${Object.entries(e.metrics).map(([p, v]) => `${p} ${v.toFixed(4)}`).join(', ')})`);
  const out: Record<string, Outcome> = {};
  for (const d of tasks) {
    const e = evaluateTask(r.model, d.task, d.test);
    out[d.task.name] = { metric: e.metric, value: e.value, accuracy: e.accuracy, steps: r.steps, seconds: (Date.now() - started) / 1000, stopReason: r.stopReason, evalHistory: r.evalHistory };
  }
  disposeModel(r.model);
  console.log(`  [${label}] done in ${((Date.now() - started) / 1000).toFixed(0)} s (${r.stopReason} at step ${r.steps}): ${Object.entries(out).map(([p, o]) => `${p} ${o.metric} ${o.value.toFixed(4)}`).join(', ')}`);
  return out;
}

const steps = spec.training.steps;
const joint = only !== 'alone' ? await run('shared', data, steps) : {};
const alone: Record<string, Outcome> = {};
if (only !== 'joint') {
  for (const [i, d] of data.entries()) Object.assign(alone, await run(`${d.task.name} alone`, [d], Math.max(20, Math.round(steps * share[i]!))));
}

console.log(`\n| project | metric | shared encoder | alone (same budget) | alone steps |`);
console.log(`|---|---|---|---|---|`);
for (const [i, d] of data.entries()) {
  const j = joint[d.task.name];
  const a = alone[d.task.name];
  console.log(`| ${d.task.name} | ${(j ?? a)?.metric} | ${j ? j.value.toFixed(4) : '—'} | ${a ? a.value.toFixed(4) : '—'} | ${Math.max(20, Math.round(steps * share[i]!))} |`);
}
const j0 = Object.values(joint)[0];
console.log(`shared run: ${j0 ? `${j0.steps} steps, ${j0.seconds.toFixed(0)} s` : '—'}; encoder ${JSON.stringify(spec.encoder)}; backend ${backend.name}`);
mkdirSync(join(here, 'results'), { recursive: true });
writeFileSync(join(here, 'results', `shared-vs-alone-${tag}.json`), JSON.stringify({ size, backend: backend.name, encoder: spec.encoder, training: spec.training, share, joint, alone, at: new Date().toISOString() }, null, 2));
