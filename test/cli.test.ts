/**
 * The `broadloom` command as a user runs it, against the test server: run (progress, Web UI link, exit codes),
 * a second run served from the cache, status, list, retry after a failure, replay, graph and check.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import pipeline from './fixtures/pipelines/arrow-dag.ts';

const repo = fileURLToPath(new URL('..', import.meta.url));
const dagFile = fileURLToPath(new URL('./fixtures/pipelines/arrow-dag.ts', import.meta.url));
let h: TestHarness;
let home: string;

function broadloom(args: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  return new Promise((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'cli/main.ts', ...args], {
      cwd: repo, env: { ...process.env, BROADLOOM_HOME: home, ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('exit', (code) => res({ code: code ?? 1, out }));
  });
}

before(async () => {
  home = freshHome('cli');
  h = await harness();
  await h.startWorkers({ activities: pipeline.activities });
});
after(async () => h?.close());

test('run shows progress per stage and the Web UI link; a second run is all cache hits', async () => {
  const first = await broadloom(['run', dagFile]);
  assert.equal(first.code, 0, first.out);
  assert.match(first.out, /▶ arrow-dag\/all\/\S+\n\s+Web UI: http/);
  for (const id of ['source', 'evens', 'odds', 'squares', 'merge', 'summary']) assert.match(first.out, new RegExp(`✓ ${id}\\s+done`));
  assert.match(first.out, /summary\s+done.*sum of 200 rows/);
  const second = await broadloom(['run', dagFile]);
  assert.equal(second.code, 0, second.out);
  assert.equal((second.out.match(/cached\s+.*cache hit/g) ?? []).length, 6, second.out);
  const runId = /▶ (\S+)/.exec(second.out)![1]!;
  const status = await broadloom(['status', runId]);
  assert.match(status.out, /COMPLETED/);
  assert.match(status.out, /merge\s+cached/);
  const list = await broadloom(['list', '--pipeline', 'arrow-dag']);
  assert.ok(list.out.includes(runId), list.out);
});

test('a failing stage exits non-zero and names the stage; retry completes it; replay checks the histories', async () => {
  const marker = join(home, 'fail');
  writeFileSync(marker, 'x');
  process.env.ARROW_DAG_FAIL_MARKER = marker; // the in-process worker runs the activity
  const failed = await broadloom(['run', dagFile, '--no-cache']);
  assert.equal(failed.code, 1, failed.out);
  assert.match(failed.out, /✗ summary\s+failed/);
  assert.match(failed.out, /failed: stage summary failed: fault injected/);
  const runId = /▶ (\S+)/.exec(failed.out)![1]!;
  rmSync(marker);
  const retried = await broadloom(['retry', runId]);
  assert.equal(retried.code, 0, retried.out);
  assert.match(retried.out, /summary\s+done/);
  const replay = await broadloom(['replay', runId, /▶ (\S+)/.exec(retried.out)![1]!]);
  assert.equal(replay.code, 0, replay.out);
  assert.equal((replay.out.match(/^✓ /gm) ?? []).length, 2, replay.out);
  delete process.env.ARROW_DAG_FAIL_MARKER;
});

test('graph prints the DAG without running it; check reports problems with file:line and exits non-zero', async () => {
  const graph = await broadloom(['graph', 'pipelines/examples/broad.ts']);
  assert.equal(graph.code, 0, graph.out);
  assert.match(graph.out, /^flowchart TD/m);
  assert.match(graph.out, /train/);
  const dot = await broadloom(['graph', 'pipelines/examples/broad.ts', '--format', 'dot']);
  assert.match(dot.out, /^digraph/m);
  const bad = join(home, 'bad-pipeline.ts');
  writeFileSync(bad, [
    `import { definePipeline } from '${join(repo, 'pipelines/index.ts')}';`,
    `export default definePipeline({`,
    `  name: 'bad',`,
    `  stages: [`,
    `    { id: 'a', activity: 'nowhere', after: ['b'] },`,
    `    { id: 'b', activity: 'nowhere', after: ['a'] },`,
    `  ],`,
    `});`,
  ].join('\n'));
  const check = await broadloom(['check', bad]);
  assert.notEqual(check.code, 0, check.out);
  assert.match(check.out, /bad-pipeline\.ts:5:\d+/);
  assert.match(check.out, /cycle/i);
  assert.match(check.out, /nowhere/);
  const ok = await broadloom(['check', 'pipelines/examples/broad.ts', 'workflows']);
  assert.equal(ok.code, 0, ok.out);
});

test('invalid specs are rejected before any workflow starts, naming the path', async () => {
  const bad = join(home, 'labels.ts');
  writeFileSync(bad, [
    `import { definePipeline, task, sources } from '${join(repo, 'pipelines/index.ts')}';`,
    `export default definePipeline({ name: 'labels', projects: [`,
    `  { name: 'a', task: task.sequence(['x', 'y']), sources: [sources.csv('a.csv')] },`,
    `  { name: 'b', task: task.sequence(['only']), sources: [sources.csv('b.csv')] },`,
    `] });`,
  ].join('\n'));
  const r = await broadloom(['run', bad]);
  assert.equal(r.code, 1);
  assert.match(r.out, /projects\[1\]\.task\.labels: expected at least 2 labels/);
  let n = 0;
  for await (const _ of h.client.client.workflow.list({ query: `BroadloomPipeline = 'labels'` })) n++;
  assert.equal(n, 0, 'no workflow was started');
});

test('dev --example --exit (the quickstart): embedded server and Web UI, training in a child process, a promotion', async () => {
  // Its own embedded server on free ports, not the suite's: this is the path a fresh machine takes.
  const { freePort } = await import('../workers/dev-server.ts');
  const [port, uiPort] = [await freePort(), await freePort()];
  const devHome = freshHome('dev');
  const env: Record<string, string> = { BROADLOOM_SIZE: 'test', BROADLOOM_HOME: devHome };
  const saved = process.env.TEMPORAL_ADDRESS;
  delete process.env.TEMPORAL_ADDRESS; // the child inherits process.env; dev must start its own server
  try {
    const r = await broadloom(['dev', '--example', '--exit', '--port', String(port), '--ui-port', String(uiPort)], env);
    assert.equal(r.code, 0, r.out);
    assert.match(r.out, new RegExp(`Temporal Web UI: http://localhost:${uiPort}`));
    assert.match(r.out, /\[training\] broadloom worker: serving training at 127\.0\.0\.1:\d+ \(pid \d+\)/);
    assert.match(r.out, /\[training\] broadloom: training backend \w+/);
    assert.match(r.out, /promoted/);
    assert.doesNotMatch(r.out, /restarting it/);
  } finally {
    if (saved !== undefined) process.env.TEMPORAL_ADDRESS = saved;
  }
});
