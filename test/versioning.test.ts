/**
 * Changing the DAG workflow while runs are open: a run started under the current code is held open, the worker is
 * replaced by one running the patched "version 2", and the run completes; its history replays under both versions.
 * The same change without `patched()` is caught by replay.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, bundleWorkflowCode } from '@temporalio/worker';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import { waitFor } from './support/wait.ts';
import { startRun } from '../cli/runs.ts';
import { stagesQuery, type PipelineRunResult } from '../workflows/definitions.ts';
import { gatedPipeline } from './fixtures/pipelines/gated.ts';

const quiet = { trace() {}, debug() {}, info() {}, warn() {}, error() {}, log() {} };
const bundle = (rel: string) => bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL(rel, import.meta.url)), logger: quiet });

let h: TestHarness;
let home: string;
before(async () => {
  home = freshHome('versioning');
  h = await harness();
});
after(async () => h?.close());

test('an open run survives a patched change of the workflow code; an unpatched change is caught by replay', async () => {
  const marker = join(home, 'hold');
  writeFileSync(marker, 'hold');
  const pipeline = gatedPipeline(marker);
  await h.startWorkers({ activities: pipeline.activities });
  const handle = await startRun(h.client, pipeline.spec);
  await waitFor('the run to reach the blocking stage', async () =>
    (await handle.query(stagesQuery)).find((s) => s.id === 'wait')?.status === 'running');
  const openHistory = await handle.fetchHistory();

  const v2 = await bundle('./fixtures/versioned/workflows.ts');
  const unpatched = await bundle('./fixtures/nondeterministic/workflows.ts');
  // The open run's history so far replays under version 2 …
  await Worker.runReplayHistory({ workflowBundle: v2 }, openHistory, handle.workflowId);
  // … but not under the same change made without a patch.
  await assert.rejects(Worker.runReplayHistory({ workflowBundle: unpatched }, openHistory, handle.workflowId), /Nondeterminism|DeterminismViolation/);

  // Roll out version 2: the worker running the old code goes away, a new one takes the open run over.
  await h.stopWorkers();
  await h.startWorkers({ activities: pipeline.activities, workflowBundle: v2 });
  rmSync(marker);
  const result = (await handle.result()) as PipelineRunResult;
  assert.deepEqual(result.stages.map((s) => s.status), ['done', 'done', 'done']);
  const finished = await handle.fetchHistory();
  assert.ok(!finished.events!.some((e) => e.timerStartedEventAttributes), 'the old run never took the new branch (no timer)');

  // A run that starts under version 2 takes the new branch and records the patch marker.
  const fresh = await startRun(h.client, { ...pipeline.spec, stages: pipeline.spec.stages.map((s) => (s.id === 'first' ? { ...s, config: { n: 11 } } : s)) }, { noCache: true });
  await fresh.result();
  const freshHistory = await fresh.fetchHistory();
  assert.ok(freshHistory.events!.some((e) => e.markerRecordedEventAttributes?.markerName === 'core_patch'), 'patch markers recorded');
  assert.ok(freshHistory.events!.some((e) => e.timerStartedEventAttributes), 'the new timer ran');
  await Worker.runReplayHistory({ workflowBundle: v2 }, freshHistory, fresh.workflowId);
  await h.stopWorkers();
});
