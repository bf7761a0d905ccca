/**
 * Hostile input on the real server and real files: a source path escaping the pipeline directory, artifact names
 * with path traversal, ingested files with huge lines / invalid UTF-8 / 10k-deep JSON / NaN and Infinity, corrupted
 * artifact bytes, and stage configs JSON cannot carry. Each is refused with an error naming the problem, nothing is
 * written outside the store, and the worker keeps running (each test ends by running a good pipeline on it).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, readFileSync, rmSync, existsSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { harness, freshHome, scheduledActivities, type TestHarness } from './support/temporal.ts';
import { waitFor } from './support/wait.ts';
import { startRun, watchRun, retryRun } from '../cli/runs.ts';
import { DATA_QUEUE } from '../pipelines/compile.ts';
import { definePipeline, task, sources } from '../pipelines/index.ts';
import { PipelineSpecError } from '../pipelines/errors.ts';
import { broadloomContext } from '../activities/context.ts';
import { ArtifactRefError, ArtifactCorruptError, artifactUri } from '../data/artifact-store.ts';
import { ingestFile, DataQualityError } from '../data/collect.ts';
import { resolveSourcePath, SourceError } from '../data/readers/index.ts';
import { tableToRows } from '../data/arrow-rows.ts';
import { stagesQuery, pipelineWorkflowId } from '../workflows/definitions.ts';
import { activities, starts, filesUnder } from './fixtures/faults/activities.ts';
import { ProjectSpec, type PipelineSpec } from '../schemas/index.ts';

let h: TestHarness;
let home: string;
before(async () => {
  home = freshHome('hostile');
  h = await harness();
  await h.startWorkers({ activities, queues: [DATA_QUEUE] });
});
after(async () => h?.close());

const causeOf = (e: Error | undefined) => String((e?.cause as Error | undefined)?.message ?? e?.message ?? e);

let good = 0;
/** The worker is alive and well: a fresh two-stage pipeline completes with the right answer. */
async function assertWorkerAlive() {
  const { spec } = definePipeline({
    name: `hostile-good-${++good}`,
    stages: [
      { id: 'source', activity: 'slow', config: { ms: 0, rows: 10 } },
      { id: 'step', activity: 'slow', after: ['source'], config: { ms: 0, add: 1000 } },
    ],
    activities,
  });
  const { result, error } = await watchRun(await startRun(h.client, spec, { noCache: true }), () => {}, 200);
  assert.equal(error, undefined, `the worker still runs a good pipeline: ${causeOf(error)}`);
  assert.equal(result!.stages.find((s) => s.id === 'step')!.result!.metrics.total, 45 + 10 * 1000);
}

const LABELS = ['negative', 'positive'];
function projectPipeline(name: string, source: string, o: { maxBadShare?: number; module?: string } = {}): PipelineSpec {
  const { spec } = definePipeline({
    name,
    projects: [{ name: 'p', task: task.sequence(LABELS), sources: [sources.jsonl(source, { labelField: 'label' })], ...(o.maxBadShare !== undefined ? { maxBadShare: o.maxBadShare } : {}) }],
  });
  return o.module ? { ...spec, module: o.module } : spec;
}

test('a source path escaping the pipeline directory (../../etc/passwd) fails the define stage naming the source; nothing is written', async () => {
  const pipeDir = join(home, 'pipelines', 'a');
  mkdirSync(pipeDir, { recursive: true });
  const spec = projectPipeline('hostile-source', '../../etc/passwd', { module: join(pipeDir, 'pipeline.ts') });
  const beforeFiles = filesUnder(home);
  const run = await startRun(h.client, spec, { targets: ['p.collect'] });
  const { error } = await watchRun(run, () => {});
  assert.ok(error, 'the run failed');
  const msg = causeOf(error);
  assert.match(msg, /stage p\.define failed: project p: sources\[0\]\.path: source projects\.p\.sources\[0\]: path traversal: "\.\.\/\.\.\/etc\/passwd" escapes the base directory/, msg);
  const states = await run.query(stagesQuery);
  assert.deepEqual(Object.fromEntries(states.map((s) => [s.id, s.status])), { 'p.define': 'failed', 'p.collect': 'skipped' });
  assert.deepEqual((await scheduledActivities(h.client, run.workflowId)).map((a) => a.activityId), ['p.define'], 'one attempt: bad input is not retried');
  assert.deepEqual(filesUnder(home), beforeFiles, 'nothing was written');
  // The same rule for a relative path that really reaches /etc/passwd from the pipeline's directory.
  const real = relative(pipeDir, '/etc/passwd');
  assert.throws(() => resolveSourcePath(real, pipeDir), (e: Error) => e instanceof SourceError && /path traversal/.test(e.message));
  await assertWorkerAlive();
});

test('an artifact name with traversal (../../evil) is refused by the store and fails a stage at once; nothing appears outside the root', async () => {
  const { store } = broadloomContext();
  const outside = dirname(store.root);
  const beforeFiles = filesUnder(outside);
  const bytes = Buffer.from('evil payload');
  for (const name of ['../../evil', 'a/../../evil', '..\\..\\evil', '/tmp/evil', 'x\0y']) {
    await assert.rejects(store.putBytes(bytes, { kind: 'blob', name }), (e: Error) => e instanceof ArtifactRefError && /traversal|absolute|NUL/.test(e.message), name);
  }
  const ok = await store.putBytes(bytes, { kind: 'blob', name: 'fine' });
  await assert.rejects(store.getBytes({ ...ok, name: '../../evil' }), ArtifactRefError);
  await assert.rejects(store.getBytes({ ...ok, uri: 'artifact://sha256/../../evil' }), /invalid artifact uri/);
  assert.throws(() => store.pathOf('../../evil'), ArtifactRefError);
  assert.throws(() => store.pathOf(`${artifactUri(ok.sha256)}/../../../evil`), ArtifactRefError);
  assert.deepEqual(filesUnder(outside).filter((f) => !beforeFiles.includes(f)), [`artifacts/${ok.sha256.slice(0, 2)}/${ok.sha256}`], 'only the good artifact was written');
  assert.ok(!existsSync(join(store.root, '../../evil')) && !existsSync(join(store.root, '..', 'evil')));

  // Inside a stage: refused non-retryably (one attempt), the message names the name and the problem.
  starts.length = 0;
  const { spec } = definePipeline({ name: 'hostile-name', stages: [{ id: 'evil', activity: 'named', config: { name: '../../evil' } }], activities });
  const { error } = await watchRun(await startRun(h.client, spec), () => {});
  assert.ok(error, 'the run failed');
  assert.match(causeOf(error), /stage evil failed: artifact name "\.\.\/\.\.\/evil" contains a path traversal segment/);
  assert.deepEqual(starts.map((s) => s.attempt), [1]);
  assert.deepEqual(filesUnder(outside).filter((f) => !beforeFiles.includes(f) && !f.startsWith('cache/')), [`artifacts/${ok.sha256.slice(0, 2)}/${ok.sha256}`]);
  await assertWorkerAlive();
});

/** 20 good lines and 7 hostile ones, each with the reason it must be quarantined for. */
function hostileJsonl(file: string): Array<{ line: number; reason: RegExp }> {
  const parts: Buffer[] = [];
  const bad: Array<{ line: number; reason: RegExp }> = [];
  let line = 0;
  const add = (b: Buffer | string, reason?: RegExp) => {
    parts.push(Buffer.isBuffer(b) ? b : Buffer.from(b), Buffer.from('\n'));
    line++;
    if (reason) bad.push({ line, reason });
  };
  for (let i = 0; i < 10; i++) add(JSON.stringify({ text: `good review number ${i}`, label: LABELS[i % 2] }));
  add(JSON.stringify({ text: 'x'.repeat(3 << 20), label: 'positive' }), /line \d+ is longer than the 1048576-byte limit/);
  add(Buffer.concat([Buffer.from('{"text": "bad bytes '), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from('", "label": "positive"}')]), /line \d+ is not valid UTF-8/);
  add(`{"text": "deep", "label": "positive", "x": ${'['.repeat(10_000)}${']'.repeat(10_000)}}`, /JSON nested deeper than 64 levels/);
  add('{"text": NaN, "label": "positive"}', /invalid JSON/);
  add('{"text": "infinite label", "label": 1e999}', /label is a non-finite number \(Infinity\)/);
  add('{"text": "literal infinity", "label": Infinity}', /invalid JSON/);
  add('{"text": 1e999, "label": "negative"}', /text must be a string, got non-finite number \(Infinity\)/);
  for (let i = 10; i < 20; i++) add(JSON.stringify({ text: `good review number ${i}`, label: LABELS[i % 2] }));
  writeFileSync(file, Buffer.concat(parts));
  return bad;
}

test('an ingested file with huge lines, invalid UTF-8, 10k-deep JSON, NaN/Infinity: each quarantined with its reason; counts add up; traversal refused', async () => {
  const { store } = broadloomContext();
  const dataDir = join(home, 'data');
  mkdirSync(dataDir, { recursive: true });
  const file = join(dataDir, 'hostile.jsonl');
  const bad = hostileJsonl(file);
  const projectInput = { name: 'p', task: task.sequence(LABELS), sources: [sources.jsonl('hostile.jsonl', { labelField: 'label' })] };
  const project = ProjectSpec.parse({ ...projectInput, maxBadShare: 0.5 });

  const r = await ingestFile(project, file, store, { baseDir: dataDir });
  assert.equal(r.stats.read, 27);
  assert.equal(r.stats.quarantined, 7);
  assert.equal(r.stats.good, 20);
  assert.equal(r.stats.read, r.stats.good + r.stats.quarantined);
  assert.equal(r.dataset.rows, 20);
  assert.equal(r.stats.train + r.stats.dev + r.stats.test, 20);
  const q = tableToRows<{ row: number; field: string; reason: string; raw: string }>(await store.getTable(r.quarantine));
  assert.deepEqual(q.map((x) => x.row), bad.map((b) => b.line));
  for (const b of bad) {
    const row = q.find((x) => x.row === b.line)!;
    assert.match(row.reason, b.reason, `line ${b.line}`);
    assert.ok(row.raw.length <= 2100, `raw is clipped (${row.raw.length} chars)`);
  }

  // With the default maxBadShare (5%) the same file is refused as a whole, naming the reasons; the quarantine is kept.
  await assert.rejects(ingestFile(ProjectSpec.parse(projectInput), file, store, { baseDir: dataDir }), (e: Error) => {
    assert.ok(e instanceof DataQualityError, String(e));
    assert.match(e.message, /7 of 27 rows are bad \(25\.9% > maxBadShare 5\.0%\)/);
    assert.match(e.message, /invalid JSON/);
    assert.equal(e.quarantine?.rows, 7);
    return true;
  });

  // A JSON array file: a 10k-deep element and a NaN-ish element are quarantined, the rest kept.
  const arr = join(dataDir, 'hostile.json');
  writeFileSync(arr, `[{"text":"fine one","label":"positive"},{"text":"deep","x":${'['.repeat(10_000)}${']'.repeat(10_000)}},{"text":"big","label":-1e999},{"text":"fine two","label":"negative"}]`);
  const ra = await ingestFile(project, arr, store, { baseDir: dataDir });
  assert.deepEqual([ra.stats.read, ra.stats.good, ra.stats.quarantined], [4, 2, 2]);
  const qa = tableToRows<{ reason: string }>(await store.getTable(ra.quarantine)).map((x) => x.reason);
  assert.match(qa[0]!, /nested deeper than 64/);
  assert.match(qa[1]!, /non-finite number \(-Infinity\)/);

  // Path traversal in the file argument: refused before anything is read.
  await assert.rejects(ingestFile(project, '../../etc/passwd', store, { baseDir: dataDir }), (e: Error) =>
    e instanceof SourceError && /path traversal: "\.\.\/\.\.\/etc\/passwd" escapes the base directory/.test(e.message));

  // The same file as a project source, collected by the worker: same counts, and the worker carries on.
  const spec = projectPipeline('hostile-collect', 'hostile.jsonl', { maxBadShare: 0.5, module: join(dataDir, 'pipeline.ts') });
  const { result, error } = await watchRun(await startRun(h.client, spec, { targets: ['p.collect'] }), () => {});
  assert.equal(error, undefined, causeOf(error));
  const m = result!.stages.find((s) => s.id === 'p.collect')!.result!.metrics;
  assert.deepEqual([m.read, m.good, m.quarantined], [27, 20, 7]);
  await assertWorkerAlive();
});

test('a corrupted artifact: reads fail with a sha256 mismatch naming it, in the store and in a stage; retry after deleting it completes', async () => {
  const { store } = broadloomContext();
  const { spec } = definePipeline({
    name: 'hostile-corrupt',
    stages: [
      { id: 'made', activity: 'slow', config: { ms: 0, rows: 10 } },
      { id: 'reader', activity: 'slow', after: ['made'], config: { ms: 0, add: 1 } },
    ],
    activities,
  });
  const first = await startRun(h.client, spec);
  assert.equal((await watchRun(first, () => {})).error, undefined);
  const made = (await first.query(stagesQuery)).find((s) => s.id === 'made')!.result!.outputs.table!;
  const file = store.pathOf(made);
  const bytes = readFileSync(file);
  const mid = bytes.length >> 1;
  bytes[mid] = bytes[mid]! ^ 0xff; // same size: the cache's cheap presence check still passes
  writeFileSync(file, bytes);

  await assert.rejects(store.getBytes(made), (e: Error) => {
    assert.ok(e instanceof ArtifactCorruptError);
    assert.ok(e.message.startsWith(`artifact made (${made.sha256}) is corrupt: sha256 mismatch`), e.message);
    return true;
  });
  assert.equal(await store.has(made, { verify: true }), false);

  starts.length = 0;
  const forced = await retryRun(h.client, first.workflowId, { from: ['reader'] });
  const { error } = await watchRun(forced, () => {});
  assert.ok(error, 'the run failed');
  const msg = causeOf(error);
  assert.ok(msg.includes(`stage reader failed: artifact made (${made.sha256}) is corrupt: sha256 mismatch`), msg);
  assert.match(msg, /delete it and re-run the stage that produced it/);
  assert.deepEqual(starts.map((s) => `${s.stage}#${s.attempt}`), ['reader#1'], 'corruption is not retried');

  // Do what the message says: delete it; the retry re-runs made (its cached result misses), which writes the same
  // bytes under the same sha, so reader's result from the first run is valid again and reused from the cache.
  rmSync(file);
  starts.length = 0;
  const { result, error: again } = await watchRun(await retryRun(h.client, forced.workflowId), () => {});
  assert.equal(again, undefined, causeOf(again));
  assert.deepEqual(starts.map((s) => s.stage), ['made']);
  assert.deepEqual(result!.stages.map((s) => s.status), ['done', 'cached']);
  assert.equal(result!.stages.find((s) => s.id === 'reader')!.result!.metrics.total, 55);
  assert.ok(await store.has(made, { verify: true }));
  await assertWorkerAlive();
});

test('a stage config holding NaN/Infinity or nested 10k deep is refused before any workflow starts, naming the path', async () => {
  const custom = (name: string, config: Record<string, unknown>) =>
    definePipeline({ name, stages: [{ id: 'only', activity: 'slow', config }], activities }).spec;
  let deep: unknown = 1;
  for (let i = 0; i < 10_000; i++) deep = { d: deep };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['hostile-nan', { ms: 0, x: NaN }, /stages\[0\]\.config\.x: stage "only": NaN is not a finite number/],
    ['hostile-inf', { ms: 0, nested: { list: [1, -Infinity] } }, /stages\[0\]\.config\.nested\.list\[1\]: stage "only": -Infinity is not a finite number/],
    ['hostile-deep', { ms: 0, deep }, /stages\[0\]\.config\.deep\.d\.d.*: stage "only": config nested deeper than 64 levels/],
  ];
  for (const [name, config, expected] of cases) {
    // The DSL refuses it …
    assert.throws(() => custom(name, config), (e: Error) => {
      assert.ok(e instanceof PipelineSpecError, `${name}: ${e.name}: ${e.message.slice(0, 300)}`);
      assert.match(e.message, expected);
      return true;
    });
    // … and so does starting a run from a spec built by hand, before any workflow exists.
    const good = custom(name, { ms: 0 });
    const spec = { ...good, stages: good.stages.map((s) => ({ ...s, config })) };
    const runKey = `${name}-never`;
    await assert.rejects(startRun(h.client, spec, { runKey }), (e: Error) => {
      assert.ok(e instanceof PipelineSpecError, `${name}: ${e.name}: ${e.message.slice(0, 300)}`);
      assert.match(e.message, expected);
      return true;
    });
    await assert.rejects(h.client.client.workflow.getHandle(pipelineWorkflowId(name, runKey)).describe(), /not found/i, `${name}: no workflow was started`);
  }
  await assertWorkerAlive();
});

test('the worker process is still the same healthy worker after all of the above', async () => {
  assert.ok(h.workers && h.workers.workers.every((w) => w.getState() === 'RUNNING'), 'every worker is RUNNING');
  await waitFor('a good run', async () => { await assertWorkerAlive(); return true; }, 30_000);
});
