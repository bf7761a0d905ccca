/**
 * `npm run bench:load`: N concurrent runs (default 50, --n) of the six-stage arrow-dag pipeline
 * (test/fixtures/pipelines/arrow-dag.ts: Arrow tables through the artifact store, two parallel branches) against a
 * dev server of its own and ONE worker (in-process, workers/worker.ts runWorkers on the `broadloom` queue).
 *   phase 1  --no-cache runs: every stage executes (6·N activity tasks)
 *   phase 2  the same N runs with the cache on: every stage is a cache hit (0 activity tasks)
 * Reports completion time, stages/s, stage latency p50/p95/max (stage states), workflow end-to-end p50/p95
 * (server start→close), queue waits from history, and errors; exits non-zero if any run or stage failed.
 * Flags: --n 50, --activity-slots 8 (maxConcurrentActivityTaskExecutions, `broadloom` queue),
 *        --wft-slots 40 (maxConcurrentWorkflowTaskExecutions), --phase nocache|cached|both, --timeout-s 240.
 */
import { NativeConnection } from '@temporalio/worker';
import { rmSync } from 'node:fs';
import type { WorkflowHandle } from '@temporalio/client';
import { connectClient, startRun, type BroadloomClient } from '../cli/runs.ts';
import { runWorkers } from '../workers/worker.ts';
import { DATA_QUEUE } from '../pipelines/compile.ts';
import type { PipelineRunResult } from '../workflows/definitions.ts';
import arrowDag, { executions } from '../test/fixtures/pipelines/arrow-dag.ts';
import {
  activityTimings, benchServer, machineLine, parseArgs, quietRuntime, serverConfigArg, statLine, stats, table, workflowTaskWaits, ms,
} from './common.ts';

const args = parseArgs();
const N = Number(args.get('n') ?? 50);
const activitySlots = Number(args.get('activity-slots') ?? 8);
const wftSlots = Number(args.get('wft-slots') ?? 40);
const phase = args.get('phase') ?? 'both';
const timeoutMs = Number(args.get('timeout-s') ?? 240) * 1000;
if (!(N > 0) || !(activitySlots > 0) || !(wftSlots > 1)) throw new Error('--n and --activity-slots must be > 0, --wft-slots > 1');

const spec = arrowDag.spec;
const STAGES = spec.stages.length;
console.log(`=== load: ${N} concurrent runs of "${spec.name}" (${STAGES} stages, maxParallel ${spec.maxParallel}), one worker process`);
console.log(`worker: queue "${DATA_QUEUE}" only (workflows + activities), maxConcurrentActivityTaskExecutions=${activitySlots}, maxConcurrentWorkflowTaskExecutions=${wftSlots}, workflow cache/pollers: SDK defaults`);

console.log(`machine: ${machineLine()}`);
quietRuntime();
const { dir, server } = await benchServer('bench-load', serverConfigArg(args.get('server-config')));
const connection = await NativeConnection.connect({ address: server.address });
const c = await connectClient(server.address, server.namespace);
const workers = await runWorkers({
  connection, namespace: server.namespace, queues: [DATA_QUEUE], activities: { ...arrowDag.activities },
  maxConcurrentActivities: { [DATA_QUEUE]: activitySlots }, maxConcurrentWorkflowTasks: wftSlots,
});

interface PhaseReport { name: string; ok: number; errors: string[]; totalS: number; stagesPerS: number; row: string[] }
const reports: PhaseReport[] = [];

async function phaseRun(name: string, noCache: boolean, expectStatus: 'done' | 'cached'): Promise<void> {
  const execBefore = [...executions.values()].reduce((a, b) => a + b, 0);
  const tag = `${name}-${Date.now().toString(36)}`;
  const t0 = performance.now();
  const handles: WorkflowHandle[] = await Promise.all(
    Array.from({ length: N }, (_, i) => startRun(c, spec, { noCache, runKey: `${tag}-${String(i).padStart(3, '0')}` })),
  );
  const startedAllS = (performance.now() - t0) / 1000;
  const deadline = new Promise<never>((_, rej) => setTimeout(() => rej(new Error(`phase ${name} did not finish within ${timeoutMs / 1000} s`)), timeoutMs).unref());
  const outcomes = await Promise.race([
    Promise.allSettled(handles.map(async (h) => ({ r: (await h.result()) as PipelineRunResult, doneAt: performance.now() }))),
    deadline,
  ]);
  const totalS = (performance.now() - t0) / 1000;
  const execAfter = [...executions.values()].reduce((a, b) => a + b, 0);

  const errors: string[] = [];
  const stageLat: number[] = [];
  const clientE2e: number[] = [];
  let stagesOk = 0;
  outcomes.forEach((o, i) => {
    if (o.status === 'rejected') { errors.push(`run ${i}: ${(o.reason as Error).message}`); return; }
    clientE2e.push(o.value.doneAt - t0);
    for (const s of o.value.r.stages) {
      if (s.status !== expectStatus) errors.push(`run ${i} stage ${s.id}: ${s.status}${s.error ? ` (${s.error})` : ''}`);
      else stagesOk++;
      stageLat.push(Date.parse(s.endedAt ?? '') - Date.parse(s.startedAt ?? ''));
    }
  });

  // Server-side view: end-to-end (start→close events), activity and workflow-task queue waits.
  const e2e: number[] = [], actQueue: number[] = [], actRun: number[] = [], wftWait: number[] = [];
  let activityTasks = 0, first = Infinity, last = -Infinity;
  const { eventMs } = await import('./common.ts');
  for (const h of handles) {
    const ev = (await h.fetchHistory()).events ?? [];
    const a = eventMs(ev[0]!), b = eventMs(ev[ev.length - 1]!);
    e2e.push(b - a); first = Math.min(first, a); last = Math.max(last, b);
    const acts = activityTimings(ev);
    activityTasks += acts.length;
    for (const t of acts) { actQueue.push(t.started - t.scheduled); actRun.push(t.completed - t.started); }
    wftWait.push(...workflowTaskWaits(ev));
  }
  const serverSpanS = (last - first) / 1000;
  const stageS = stats(stageLat), e2eS = stats(e2e), cE2e = stats(clientE2e);

  console.log(`\n-- phase ${name}: ${N} runs (${noCache ? '--no-cache: every stage executes' : 'cache on: every stage should hit'})`);
  console.log(`   started all ${N} in ${startedAllS.toFixed(2)} s; all finished after ${totalS.toFixed(2)} s (client); first start → last close ${serverSpanS.toFixed(2)} s (server)`);
  console.log(`   ${N * STAGES} stages, ${activityTasks} activity tasks, ${execAfter - execBefore} custom-activity executions; throughput ${(N * STAGES / totalS).toFixed(1)} stages/s, ${(N / totalS).toFixed(2)} runs/s`);
  console.log('   ' + statLine('stage latency (state endedAt−startedAt)', stageS));
  console.log('   ' + statLine('workflow end-to-end (server start→close)', e2eS));
  console.log('   ' + statLine('workflow completion since burst start (client)', cE2e));
  if (activityTasks) {
    console.log('   ' + statLine('activity queue wait (Scheduled→Started)', stats(actQueue)));
    console.log('   ' + statLine('activity run (Started→Completed)', stats(actRun)));
  }
  console.log('   ' + statLine('workflow task queue wait (Scheduled→Started)', stats(wftWait)));
  console.log(`   machine after the phase: ${machineLine()}`);
  console.log(`   errors: ${errors.length}${errors.length ? '\n     ' + errors.slice(0, 10).join('\n     ') : ''}`);
  reports.push({
    name, ok: stagesOk, errors, totalS, stagesPerS: N * STAGES / totalS,
    row: [name, String(N), totalS.toFixed(2) + ' s', (N * STAGES / totalS).toFixed(1), `${ms(stageS.p50)} / ${ms(stageS.p95)} / ${ms(stageS.max)}`, `${ms(e2eS.p50, 0)} / ${ms(e2eS.p95, 0)}`, String(errors.length)],
  });
}

let failed = false;
try {
  // Warm-up, not measured: first workflow task loads the bundle into a VM, first activity opens the store.
  const w = await startRun(c, spec, { noCache: true, runKey: 'warmup' });
  await w.result();
  if (phase === 'both' || phase === 'nocache') await phaseRun('nocache', true, 'done');
  if (phase === 'both' || phase === 'cached') {
    if (phase === 'cached') await phaseRun('prime', true, 'done');
    await phaseRun('cached', false, 'cached');
  }
} catch (e) {
  failed = true;
  console.error(`load bench failed: ${(e as Error).message}`);
} finally {
  await workers.shutdown();
  await c.close();
  await connection.close();
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}

console.log('\n=== summary (one worker: activity slots ' + activitySlots + ', workflow-task slots ' + wftSlots + ')');
console.log(table([
  ['phase', 'runs', 'total', 'stages/s', 'stage p50 / p95 / max', 'workflow e2e p50 / p95', 'errors'],
  ...reports.map((r) => r.row),
]));
const errorCount = reports.reduce((s, r) => s + r.errors.length, 0);
if (failed || errorCount) {
  console.error(`FAIL: ${errorCount} errors${failed ? ', a phase did not complete' : ''}`);
  process.exit(1);
}
process.exit(0);
