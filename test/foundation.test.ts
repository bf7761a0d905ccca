import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import { startRun, newRunKey } from '../cli/runs.ts';
import { findTemporalCli } from '../workers/temporal-cli.ts';
import hello from './fixtures/pipelines/hello.ts';
import type { PipelineRunResult } from '../workflows/definitions.ts';

let h: TestHarness;
before(async () => {
  freshHome('foundation');
  h = await harness();
  await h.startWorkers({ activities: hello.activities });
});
after(async () => h?.close());

test('a workflow runs on the real server: result, ActivityTaskCompleted in history, visible to the temporal CLI', async () => {
  const runKey = newRunKey();
  const handle = await startRun(h.client, hello.spec, { runKey });
  assert.equal(handle.workflowId, `hello/all/${runKey}`);
  const result = (await handle.result()) as PipelineRunResult;
  assert.equal(result.status, 'completed');
  assert.equal(result.stages[0]!.result!.facts.text, 'hello, broadloom');

  const history = await handle.fetchHistory();
  const scheduled = history.events!.find((e) => e.activityTaskScheduledEventAttributes)!.activityTaskScheduledEventAttributes!;
  assert.equal(scheduled.activityType!.name, 'greet');
  assert.equal(scheduled.activityId, 'greet');
  assert.equal(scheduled.taskQueue!.name, 'broadloom');
  assert.ok(history.events!.some((e) => e.activityTaskCompletedEventAttributes), 'ActivityTaskCompleted is in the history');

  // The real Temporal CLI, as a client, sees the completed workflow with its search attributes.
  const cli = findTemporalCli();
  assert.ok(cli, 'the Temporal CLI is provisioned');
  const out = execFileSync(cli.path, [
    'workflow', 'list', '--address', h.server.address, '--query', `BroadloomPipeline = 'hello' AND BroadloomStatus = 'completed'`, '-o', 'json',
  ]).toString();
  const listed = JSON.parse(out) as Array<{ execution: { workflowId: string }; status: string }>;
  const mine = listed.find((w) => w.execution.workflowId === handle.workflowId);
  assert.ok(mine, `temporal workflow list shows ${handle.workflowId}`);
  assert.match(String(mine.status), /COMPLETED/);
});

test('the Web UI of the test server answers', { skip: !process.env.TEMPORAL_UI_URL && 'no Web UI (run through test/run.ts)' }, async () => {
  const res = await fetch(process.env.TEMPORAL_UI_URL!);
  assert.equal(res.status, 200);
  assert.match(await res.text(), /<html/i);
});
