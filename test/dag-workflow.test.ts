import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { harness, freshHome, scheduledActivities, type TestHarness } from './support/temporal.ts';
import { startRun, watchRun, retryRun } from '../cli/runs.ts';
import { stagesQuery } from '../workflows/definitions.ts';
import { broadloomContext } from '../activities/context.ts';
import pipeline, { executions } from './fixtures/pipelines/arrow-dag.ts';
import { tableToRows } from '../data/arrow-rows.ts';

let h: TestHarness;
let home: string;
before(async () => {
  home = freshHome('dag');
  h = await harness();
  await h.startWorkers({ activities: pipeline.activities });
});
after(async () => h?.close());

const spec = { ...pipeline.spec, name: 'arrow-dag' };

test('a 6-stage DAG with two parallel branches runs; the query shows every stage; outputs are Arrow files matching their refs', async () => {
  executions.clear();
  const handle = await startRun(h.client, spec);
  const transitions: string[] = [];
  const { result, error } = await watchRun(handle, (s) => transitions.push(`${s.id}:${s.status}`), 100);
  assert.equal(error, undefined, String(error));
  assert.ok(result);
  assert.equal(result.status, 'completed');
  const states = await handle.query(stagesQuery);
  assert.deepEqual(states.map((s) => s.id), ['source', 'evens', 'odds', 'squares', 'merge', 'summary']);
  assert.ok(states.every((s) => s.status === 'done'), JSON.stringify(states.map((s) => s.status)));
  // Parallel branches really overlapped: evens and odds both started before either ended.
  const evens = states.find((s) => s.id === 'evens')!;
  const odds = states.find((s) => s.id === 'odds')!;
  assert.ok(evens.startedAt! <= odds.endedAt! && odds.startedAt! <= evens.endedAt!, 'evens and odds ran concurrently');
  // Every output is an Arrow IPC file in the store whose bytes hash to the reference.
  const { store } = broadloomContext();
  for (const s of states) {
    const ref = s.result!.outputs.table!;
    const bytes = readFileSync(store.pathOf(ref));
    assert.equal(createHash('sha256').update(bytes).digest('hex'), ref.sha256);
    assert.equal(bytes.subarray(0, 6).toString(), 'ARROW1');
  }
  const summary = states.find((s) => s.id === 'summary')!;
  const total = tableToRows<{ n: number }>(await store.getTable(summary.result!.outputs.table!))[0]!.n;
  const expected = Array.from({ length: 200 }, (_, i) => (i % 2 === 0 ? i * i : i)).reduce((a, b) => a + b, 0);
  assert.equal(total, expected);
  // Activity ids are the stage ids; each stage ran exactly once.
  const scheduled = await scheduledActivities(h.client, handle.workflowId);
  assert.deepEqual(scheduled.map((a) => a.activityId).sort(), ['evens', 'merge', 'odds', 'source', 'squares', 'summary']);
  assert.deepEqual([...executions.values()], [1, 1, 1, 1, 1, 1]);
});

test('a second run hits the cache for every stage: no activity task is scheduled', async () => {
  executions.clear();
  const handle = await startRun(h.client, spec);
  const { result } = await watchRun(handle, () => {});
  assert.ok(result);
  assert.ok(result.stages.every((s) => s.status === 'cached'), JSON.stringify(result.stages.map((s) => s.status)));
  assert.deepEqual(await scheduledActivities(h.client, handle.workflowId), []);
  assert.equal(executions.size, 0);
  // --no-cache runs everything again.
  const fresh = await startRun(h.client, spec, { noCache: true });
  const again = await watchRun(fresh, () => {});
  assert.ok(again.result?.stages.every((s) => s.status === 'done'));
  assert.equal((await scheduledActivities(h.client, fresh.workflowId)).length, 6);
});

test('a failing stage fails the run; retry re-executes only the failed stage and those after it', async () => {
  const marker = join(home, 'fail-summary');
  process.env.ARROW_DAG_FAIL_MARKER = marker;
  writeFileSync(marker, 'x');
  // Change the source config so nothing is cached from the earlier tests.
  const changed = { ...spec, stages: spec.stages.map((s) => (s.id === 'source' ? { ...s, config: { rows: 300 } } : s)) };
  executions.clear();
  const handle = await startRun(h.client, changed);
  const { error } = await watchRun(handle, () => {});
  assert.ok(error, 'the run failed');
  assert.match(String((error.cause as Error | undefined)?.message ?? error.message), /stage summary failed: fault injected/);
  assert.equal(executions.get('summary'), 1, 'non-retryable: one attempt only');
  assert.equal(executions.size, 6);

  rmSync(marker);
  executions.clear();
  const retried = await retryRun(h.client, handle.workflowId);
  const { result } = await watchRun(retried, () => {});
  assert.equal(result?.status, 'completed');
  assert.deepEqual([...executions.keys()], ['summary'], 'only the failed stage ran again');
  assert.deepEqual((await scheduledActivities(h.client, retried.workflowId)).map((a) => a.activityId), ['summary']);

  // --from merge forces merge and everything after it.
  executions.clear();
  const forced = await retryRun(h.client, handle.workflowId, { from: ['merge'] });
  await watchRun(forced, () => {});
  assert.deepEqual([...executions.keys()].sort(), ['merge', 'summary']);
});
