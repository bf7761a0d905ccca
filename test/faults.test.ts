/**
 * Fault injection on the real server and real files: the Temporal server stopped and restarted on its SQLite file
 * mid-run, an activity that stops heartbeating, an artifact file missing from the store, and a write that fails
 * half-way. Every run ends either completed with the right answer, or failed with a message naming the problem and
 * resumable with `retryRun` once the fault is gone.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { NativeConnection } from '@temporalio/worker';
import { startWorkerProcess } from './support/worker-process.ts';
import { harness, freshHome, scheduledActivities, type TestHarness } from './support/temporal.ts';
import { waitFor } from './support/wait.ts';
import { connectClient, startRun, watchRun, retryRun } from '../cli/runs.ts';
import { startDevServer, freePort, isListening, type DevServer } from '../workers/dev-server.ts';
import { runWorkers, type RunningWorkers } from '../workers/worker.ts';
import { DATA_QUEUE } from '../pipelines/compile.ts';
import { definePipeline } from '../pipelines/index.ts';
import { broadloomContext } from '../activities/context.ts';
import { stagesQuery } from '../workflows/definitions.ts';
import arrowDag, { executions } from './fixtures/pipelines/arrow-dag.ts';
import killPipeline from './fixtures/faults/kill-pipeline.ts';
import { activities, starts, releaseHangs, writeFault, bigPayload, filesUnder, slowPipeline } from './fixtures/faults/activities.ts';

const allActivities = { ...arrowDag.activities, ...activities };
let h: TestHarness;
let home: string;
before(async () => {
  home = freshHome('faults');
  h = await harness();
  await h.startWorkers({ activities: allActivities, queues: [DATA_QUEUE] });
});
after(async () => {
  releaseHangs();
  await h?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const causeOf = (e: Error | undefined) => String((e?.cause as Error | undefined)?.message ?? e?.message ?? e);

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, rej) => (timer = setTimeout(() => rej(new Error(`timed out after ${ms} ms: ${what}`)), ms))),
  ]);
}

test('the Temporal server stopped and restarted on the same SQLite file mid-run: the run completes', async () => {
  const dir = mkdtempSync(join(process.env.BROADLOOM_TEST_WORKDIR ?? tmpdir(), 'own-server-'));
  const dbFile = join(dir, 'own.sqlite');
  const port = await freePort();
  let server: DevServer = await startDevServer({ dbFile, port, ui: false });
  const client = await connectClient(server.address, server.namespace);
  const connection = await NativeConnection.connect({ address: server.address });
  let workers: RunningWorkers = await runWorkers({ connection, namespace: server.namespace, queues: [DATA_QUEUE], activities });
  let workerError: unknown = null;
  workers.done.catch((e) => (workerError = e));
  try {
    starts.length = 0;
    const { spec } = slowPipeline('fault-server', 3000);
    const handle = await startRun(client, spec);
    await waitFor('stage source to start', () => starts.some((s) => s.stage === 'source'), 30_000, 50);
    // Mid-run: `source` is sleeping inside its activity.
    await server.stop();
    const stoppedAt = Date.now();
    assert.equal(await isListening(server.address), false, 'the server is really down');
    await sleep(1000);
    const restartedAt = Date.now(); // the worker may get its next task before startDevServer has seen the frontend up
    server = await startDevServer({ dbFile, port, ui: false });
    // The same client connection and the same worker carry on by themselves.
    const result = await withTimeout(handle.result(), 60_000, 'the run to complete after the restart');
    assert.equal(workerError, null, `the worker survived the outage: ${String(workerError)}`);
    assert.equal(result.status, 'completed');
    const step = result.stages.find((s: { id: string }) => s.id === 'step');
    // source: n = 0..9 (sum 45); step adds 1000 to each of the 10 rows.
    assert.equal(step.result.metrics.total, 45 + 10 * 1000);
    assert.ok(starts.some((s) => s.stage === 'step' && s.at > restartedAt), `the next stage started after the restart: ${JSON.stringify({ starts, stoppedAt, restartedAt })}`);
    assert.ok(stoppedAt < restartedAt);
    // The history survived the restart: the workflow's whole life is in the SQLite file.
    const events = (await client.client.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? [];
    assert.ok(events.some((e) => e.workflowExecutionCompletedEventAttributes));
    assert.deepEqual((await scheduledActivities(client, handle.workflowId)).map((a) => a.activityId), ['source', 'step']);
  } finally {
    await withTimeout(workers.shutdown(), 20_000, 'worker shutdown').catch(() => {});
    await connection.close().catch(() => {});
    await client.close().catch(() => {});
    await server.stop();
  }
});

test('an activity that stops heartbeating: the heartbeat timeout fires and the retry succeeds', async () => {
  starts.length = 0;
  const { spec } = definePipeline({
    name: 'fault-hang',
    stages: [{ id: 'hang', activity: 'hang', options: { heartbeatTimeout: '2s', retry: { maximumAttempts: 3, initialInterval: '100ms' }, cache: false } }],
    activities,
  });
  const t0 = Date.now();
  const handle = await startRun(h.client, spec);
  const { result, error } = await watchRun(handle, () => {}, 200);
  assert.equal(error, undefined, causeOf(error));
  assert.equal(result!.status, 'completed');
  assert.equal(result!.stages[0]!.result!.metrics.total, 2, 'attempt 2 produced the result');
  assert.deepEqual(starts.map((s) => s.attempt), [1, 2]);
  assert.ok(starts[1]!.at - starts[0]!.at >= 1900, `the retry came after the 2 s heartbeat timeout (${starts[1]!.at - starts[0]!.at} ms)`);
  assert.ok(Date.now() - t0 < 30_000);
  // History: the (last) started event is attempt 2, and its lastFailure is the heartbeat timeout of attempt 1.
  const events = (await h.client.client.workflow.getHandle(handle.workflowId).fetchHistory()).events ?? [];
  const startedEv = events.map((e) => e.activityTaskStartedEventAttributes).filter((a) => !!a);
  assert.equal(startedEv.length, 1);
  assert.equal(startedEv[0]!.attempt, 2);
  const timeout = startedEv[0]!.lastFailure?.timeoutFailureInfo;
  assert.ok(timeout, `lastFailure is a timeout: ${JSON.stringify(startedEv[0]!.lastFailure)}`);
  assert.ok([4, 'TIMEOUT_TYPE_HEARTBEAT'].includes(timeout.timeoutType as never), `heartbeat timeout, got ${String(timeout.timeoutType)}`);
  assert.ok(events.some((e) => e.activityTaskCompletedEventAttributes));
});

const dagSpec = { ...arrowDag.spec, name: 'fault-missing' };

test('an artifact missing from the store: the cache misses and re-runs its stage; a reader fails naming it; retry completes', async () => {
  const { store } = broadloomContext();
  executions.clear();
  const first = await watchRun(await startRun(h.client, dagSpec), () => {});
  assert.equal(first.error, undefined, causeOf(first.error));
  const evens = first.result!.stages.find((s) => s.id === 'evens')!.result!.outputs.table!;

  // (a) evens' output is gone: its cached result references a missing artifact, so evens runs again; the rest is cached.
  rmSync(store.pathOf(evens));
  executions.clear();
  const secondRun = await startRun(h.client, dagSpec);
  const second = await watchRun(secondRun, () => {});
  assert.equal(second.error, undefined, causeOf(second.error));
  assert.deepEqual([...executions.keys()], ['evens'], 'only the stage whose artifact vanished ran again');
  assert.deepEqual(Object.fromEntries(second.result!.stages.map((s) => [s.id, s.status])), {
    source: 'cached', evens: 'done', odds: 'cached', squares: 'cached', merge: 'cached', summary: 'cached',
  });
  assert.ok(existsSync(store.pathOf(evens)), 'the same bytes are back under the same sha');

  // (b) an upstream artifact vanishes while the stage that reads it is running: the reader fails at once, naming the
  // artifact (name + sha) and what to do.
  const { spec: twoStep } = definePipeline({
    name: 'fault-missing-read',
    stages: [
      { id: 'made', activity: 'slow', config: { ms: 0, rows: 10 } },
      { id: 'reader', activity: 'slow', after: ['made'], config: { ms: 2500, add: 1 } },
    ],
    activities,
  });
  starts.length = 0;
  const run = await startRun(h.client, twoStep);
  await waitFor('stage reader to start', () => starts.some((s) => s.stage === 'reader'), 30_000, 50);
  const made = (await run.query(stagesQuery)).find((s) => s.id === 'made')!.result!.outputs.table!;
  rmSync(store.pathOf(made));
  const failed = await watchRun(run, () => {});
  assert.ok(failed.error, 'the run failed');
  const msg = causeOf(failed.error);
  assert.match(msg, /stage reader failed/);
  assert.ok(msg.includes(`artifact made (${made.sha256}) is missing`), msg);
  assert.match(msg, /restore it or re-run the stage that produced it/);
  assert.deepEqual(starts.filter((s) => s.stage === 'reader').map((s) => s.attempt), [1], 'a missing artifact is not retried: retrying cannot bring it back');

  // Retry: made's cached result now misses (its artifact is gone), so made runs again and then reader.
  starts.length = 0;
  const retried = await watchRun(await retryRun(h.client, run.workflowId), () => {});
  assert.equal(retried.error, undefined, causeOf(retried.error));
  assert.deepEqual(starts.map((s) => s.stage), ['made', 'reader']);
  assert.equal(retried.result!.stages.find((s) => s.id === 'reader')!.result!.metrics.total, 45 + 10);
  assert.ok(existsSync(store.pathOf(made)), 'the same bytes are back under the same sha');
});

test('a write failing half-way leaves no partial artifact and no temp file; the run fails cleanly and retry completes', async () => {
  const { store } = broadloomContext();
  const sha = createHash('sha256').update(bigPayload()).digest('hex');
  const { spec } = definePipeline({
    name: 'fault-write',
    stages: [{ id: 'blob', activity: 'bigWrite', options: { retry: { maximumAttempts: 2, initialInterval: '100ms' } } }],
    activities,
  });
  const before = filesUnder(store.root);
  writeFault.on = true;
  writeFault.hits = 0;
  const run = await startRun(h.client, spec);
  const failed = await watchRun(run, () => {});
  writeFault.on = false;
  assert.ok(failed.error, 'the run failed');
  assert.match(causeOf(failed.error), /stage blob failed: injected I\/O error after 1048576 bytes/);
  assert.equal(writeFault.hits, 2, 'both attempts hit the fault half-way (after the first 1 MiB chunk)');
  const afterFault = filesUnder(store.root);
  assert.deepEqual(afterFault, before, `nothing new in the store: ${afterFault.filter((f) => !before.includes(f)).join(', ')}`);
  assert.ok(!existsSync(store.pathOf(sha)), 'no file under the final sha name');
  assert.deepEqual(afterFault.filter((f) => f.includes('.tmp-') || f.startsWith('tmp/')), [], 'no temp file left');

  const retried = await watchRun(await retryRun(h.client, run.workflowId), () => {});
  assert.equal(retried.error, undefined, causeOf(retried.error));
  const ref = retried.result!.stages[0]!.result!.outputs.blob!;
  assert.equal(ref.sha256, sha);
  assert.equal(createHash('sha256').update(readFileSync(store.pathOf(ref))).digest('hex'), sha);
  assert.deepEqual(filesUnder(store.root).filter((f) => f.includes('.tmp-')), []);
});

const killFixture = fileURLToPath(new URL('./fixtures/faults/kill-pipeline.ts', import.meta.url));

const startKillWorker = () => startWorkerProcess({ queues: 'training', home, pipelines: [killFixture] });

test('a worker process killed with SIGKILL in the middle of a data stage: the stage is retried on a new worker and the run completes', async () => {
  let worker = startKillWorker();
  try {
    const handle = await startRun(h.client, killPipeline.spec, { noCache: true });
    // Wait until crunch runs in the child and has heartbeated (so it is really mid-stage), then kill the child.
    await waitFor('crunch to heartbeat in the worker process', async () => {
      const d = await handle.describe();
      const a = d.raw.pendingActivities?.find((x) => x.activityId === 'crunch');
      return a?.heartbeatDetails?.payloads?.length ? a : null;
    }, 60_000, 100);
    worker.kill('SIGKILL');
    await new Promise((r) => worker.once('exit', r));
    worker = startKillWorker();
    const { result, error } = await watchRun(handle, () => {});
    assert.equal(error, undefined, causeOf(error));
    // source: n = 0..9 (sum 45); crunch adds 7 to each row.
    assert.equal(result!.stages.find((s) => s.id === 'crunch')!.result!.metrics.total, 45 + 70);
    const startedEv = ((await handle.fetchHistory()).events ?? []).map((e) => e.activityTaskStartedEventAttributes).filter((a) => !!a);
    const crunch = startedEv.find((a) => (a.attempt ?? 0) > 1);
    assert.ok(crunch, 'crunch was retried after the kill');
    assert.ok(crunch.lastFailure?.timeoutFailureInfo, `the killed attempt ended by heartbeat timeout: ${JSON.stringify(crunch.lastFailure)}`);
  } finally {
    worker.kill('SIGKILL');
  }
});
