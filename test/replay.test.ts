import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { replayHistories, startRun } from '../cli/runs.ts';
import { harness, freshHome } from './support/temporal.ts';
import wide from './fixtures/pipelines/wide.ts';

const dir = fileURLToPath(new URL('./fixtures/histories', import.meta.url));
const histories = readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .map((f) => ({ workflowId: f, history: JSON.parse(readFileSync(join(dir, f), 'utf8')) as unknown }));

test('recorded histories replay cleanly against the current workflow code', async () => {
  assert.ok(histories.length >= 5, 'histories are checked in');
  assert.ok(histories.some((h) => h.workflowId.startsWith('continual')), 'the continual workflow is covered');
  const results = await replayHistories(histories);
  assert.equal(results.length, histories.length);
  for (const r of results) assert.ok(r.ok, `${r.workflowId}: ${r.error}`);
});

test('a non-deterministic change to the workflow is caught by replay', async () => {
  const bundle = await bundleWorkflowCode({
    workflowsPath: fileURLToPath(new URL('./fixtures/nondeterministic/workflows.ts', import.meta.url)),
    logger: { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} },
  });
  const typeOf = (h: unknown) =>
    (h as { events: Array<{ workflowExecutionStartedEventAttributes?: { workflowType?: { name?: string } } }> }).events[0]
      ?.workflowExecutionStartedEventAttributes?.workflowType?.name;
  const dag = histories.filter((h) => typeOf(h.history) === 'pipelineWorkflow');
  assert.ok(dag.length >= 4);
  const failures: string[] = [];
  for await (const r of Worker.runReplayHistories({ workflowBundle: bundle }, dag.map((h) => ({ ...h, history: h.history as never })))) {
    if (r.error) failures.push(`${r.workflowId}: ${r.error.name}`);
  }
  assert.equal(failures.length, dag.length, `every DAG history must fail to replay: ${failures.join('; ')}`);
  assert.ok(failures.every((f) => /DeterminismViolationError/.test(f)), failures.join('; '));
});

test('runs mixing cache hits and executed stages in a wide DAG replay deterministically, every time', async () => {
  freshHome('wide');
  const h = await harness();
  try {
    await h.startWorkers({ activities: wide.activities });
    const live: Array<{ workflowId: string; history: unknown }> = [];
    // fresh, all cached, two partly forced runs: stages finish in random order and cache hits interleave with them
    for (const force of [[], [], ['t3', 's7'], ['s0', 't11']]) {
      const handle = await startRun(h.client, wide.spec, { force });
      await handle.result();
      live.push({ workflowId: handle.workflowId, history: await handle.fetchHistory() });
    }
    for (let round = 0; round < 2; round++) {
      for (const r of await replayHistories(live)) assert.ok(r.ok, `${r.workflowId}: ${r.error}`);
    }
  } finally {
    await h.close();
  }
});
