/**
 * `npm run bench`: broadloom's benchmarks on a dev server of their own.
 *   dag     per-stage overhead of the DAG workflow (cache lookup local activity → activity → cache record local
 *           activity, stage bookkeeping, search-attribute upsert) vs. a bare workflow calling the same no-op activity
 *           in sequence, on the same server and worker; linear chain of --stages (200) stages, cold and all-cached.
 *   ml      bench/ml.ts (speed mode; --ml-args passes flags through, e.g. --ml-args="--backends=wasm --steps=2")
 *   static  bench/static.ts
 *   data    bench/data-collect.ts
 * Flags: --only dag|ml|static|data (comma list), --stages N (default 200, split over --rounds 4 interleaved rounds),
 *        --quick (ml in its quick mode: wasm only, 2 steps).
 */
import { NativeConnection, Worker, bundleWorkflowCode } from '@temporalio/worker';
import { spawn } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { lookupStageCache, recordStageCache, currentChampion } from '../activities/stage-cache.ts';
import { connectClient, startRun } from '../cli/runs.ts';
import { definePipeline } from '../pipelines/dsl.ts';
import type { StageInput, StageResult, StageState } from '../schemas/stage.ts';
import type { PipelineRunResult } from '../workflows/definitions.ts';
import {
  activityTimings, benchServer, countEvents, diffs, eventMs, gapBreakdown, ms, parseArgs, quietBundlerLogger, machineLine, quietRuntime, serverConfigArg, statLine,
  stats, table,
} from './common.ts';

const args = parseArgs();
const ALL = ['dag', 'ml', 'static', 'data'] as const;
const only = new Set((args.get('only') ?? ALL.join(',')).split(',').map((s) => s.trim()));
for (const o of only) {
  if (!(ALL as readonly string[]).includes(o)) {
    console.error(`--only ${o}: expected one of ${ALL.join(', ')} (comma list)`);
    process.exit(2);
  }
}

const summary: string[][] = [['benchmark', 'result', 'time']];

// ---------------------------------------------------------------------------------------------------------------
// DAG overhead

const TQ = 'bench-dag';
const noop = async (_input: StageInput): Promise<StageResult> => ({ outputs: {}, summary: 'noop', metrics: {}, facts: {} });

function chainSpec(name: string, n: number) {
  const id = (i: number) => `s${String(i).padStart(3, '0')}`;
  return definePipeline({
    name,
    maxParallel: 1,
    stages: Array.from({ length: n }, (_, i) => ({
      id: id(i), activity: 'noop', after: i ? [id(i - 1)] : [], config: { i }, options: { taskQueue: TQ },
    })),
  }).spec;
}

/** One kind of run (bare / DAG cold / DAG cached), samples pooled over its rounds. */
interface Kind {
  label: string;
  runs: number;
  stages: number;
  wallMs: number;
  events: number;
  activities: number;
  markers: number;
  /** ActivityTaskScheduled → ActivityTaskCompleted. */
  activityLatency: number[];
  /** Interval between consecutive ActivityTaskScheduled events in one run: the chain's real cost per step. */
  activityStep: number[];
  /** Stage states: endedAt − startedAt (workflow clock). */
  stageWall: number[];
  /** Stage states: startedAt[i+1] − startedAt[i] (workflow clock). */
  stageStep: number[];
  /** Server WorkflowExecutionStarted → closed, summed over runs. */
  spanMs: number;
  histories: Parameters<typeof gapBreakdown>[0];
}

const newKind = (label: string): Kind => ({
  label, runs: 0, stages: 0, wallMs: 0, events: 0, activities: 0, markers: 0, activityLatency: [], activityStep: [],
  stageWall: [], stageStep: [], spanMs: 0, histories: [],
});

async function dagBench(): Promise<void> {
  const n = Number(args.get('stages') ?? 200);
  const rounds = Number(args.get('rounds') ?? 4);
  const per = Math.ceil(n / rounds);
  console.log(`\n=== DAG overhead: ${rounds} rounds × (bare workflow, ${per} no-op activities | DAG linear chain, ${per} no-op stages), interleaved; same server, worker, queue`);
  console.log(`machine: ${machineLine()}`);
  quietRuntime();
  const { dir, server } = await benchServer('bench-dag', serverConfigArg(args.get('server-config')));
  const connection = await NativeConnection.connect({ address: server.address });
  const c = await connectClient(server.address, server.namespace);
  const t0 = performance.now();
  const bundle = await bundleWorkflowCode({ workflowsPath: fileURLToPath(new URL('./workflows.ts', import.meta.url)), logger: quietBundlerLogger });
  console.log(`workflow bundle (bench/workflows.ts: pipelineWorkflow + bareWorkflow) in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  const worker = await Worker.create({
    connection, namespace: server.namespace, taskQueue: TQ, workflowBundle: bundle,
    activities: { noop, lookupStageCache, recordStageCache, currentChampion },
    // Same slots as workers/worker.ts gives the data queue.
    maxConcurrentActivityTaskExecutions: 8, maxConcurrentWorkflowTaskExecutions: 40,
  });
  const bare = newKind(`bare workflow`), cold = newKind(`DAG, cache on, cold (misses)`), cached = newKind(`DAG, all cached (hits)`);
  const cachedStatus = new Map<string, number>();
  try {
    await worker.runUntil(async () => {
      const record = async (k: Kind, workflowId: string, wallMs: number, stages: number, states?: StageState[]) => {
        const ev = (await c.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
        const acts = activityTimings(ev);
        k.runs++; k.stages += stages; k.wallMs += wallMs; k.events += ev.length; k.activities += acts.length;
        k.markers += countEvents(ev, 'markerRecordedEventAttributes');
        k.activityLatency.push(...acts.map((x) => x.completed - x.scheduled));
        k.activityStep.push(...diffs(acts.map((x) => x.scheduled)));
        k.spanMs += eventMs(ev[ev.length - 1]!) - eventMs(ev[0]!);
        k.histories.push(ev);
        if (states) {
          const st = states.map((x) => ({ a: Date.parse(x.startedAt ?? ''), b: Date.parse(x.endedAt ?? '') }));
          k.stageWall.push(...st.map((x) => x.b - x.a));
          k.stageStep.push(...diffs(st.map((x) => x.a)));
        }
      };
      const runBare = async (k: number, id: string) => {
        const t = performance.now();
        await c.client.workflow.execute('bareWorkflow', { taskQueue: TQ, workflowId: id, args: [{ n: k, taskQueue: TQ }] });
        return performance.now() - t;
      };
      const runDag = async (spec: ReturnType<typeof chainSpec>, runKey: string) => {
        const t = performance.now();
        const h = await startRun(c, spec, { taskQueue: TQ, runKey });
        const r = (await h.result()) as PipelineRunResult;
        return { wall: performance.now() - t, id: h.workflowId, r };
      };

      // Warm-up (not measured): workflow VM, connections, sqlite, the cache directory.
      await runBare(5, 'bare-warmup');
      await runDag(chainSpec('bench-warmup', 5), 'warmup');

      const specs = Array.from({ length: rounds }, (_, r) => chainSpec(`bench-chain-${r}`, per));
      for (let r = 0; r < rounds; r++) {
        await record(bare, `bare-${r}`, await runBare(per, `bare-${r}`), per);
        const x = await runDag(specs[r]!, 'cold');
        await record(cold, x.id, x.wall, per, x.r.stages);
      }
      for (let r = 0; r < rounds; r++) {
        const x = await runDag(specs[r]!, 'cached');
        await record(cached, x.id, x.wall, per, x.r.stages);
        for (const st of x.r.stages) cachedStatus.set(st.status, (cachedStatus.get(st.status) ?? 0) + 1);
      }
    });
  } finally {
    await c.close();
    await connection.close();
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }

  console.log(`machine after: ${machineLine()}`);
  for (const k of [bare, cold, cached]) {
    console.log(`\n-- ${k.label}: ${k.runs} runs × ${per} = ${k.stages} stages; client wall ${(k.wallMs / 1000).toFixed(2)} s; ${k.events} history events, ${k.activities} activity tasks, ${k.markers} local-activity markers; server start→close per stage ${ms(k.spanMs / k.stages)}`);
    if (k.activities) {
      console.log('   ' + statLine('activity ActivityTaskScheduled→Completed', stats(k.activityLatency)));
      console.log('   ' + statLine('per step (ActivityTaskScheduled[i]→[i+1])', stats(k.activityStep)));
    }
    if (k.stageWall.length) console.log('   ' + statLine('stage state endedAt−startedAt (workflow clock)', stats(k.stageWall)));
    if (k.stageStep.length) console.log('   ' + statLine('per stage (startedAt[i]→[i+1], workflow clock)', stats(k.stageStep)));
    console.log('   where the time goes (consecutive history events, pooled; top 6 by total):');
    for (const g of gapBreakdown(k.histories).slice(0, 6)) {
      console.log(`     ${g.transition.padEnd(62)} n=${String(g.n).padStart(4)}  p50 ${ms(g.p50).padStart(9)}  total ${(g.totalMs / 1000).toFixed(2).padStart(6)} s  ${(g.share * 100).toFixed(0).padStart(3)}%`);
    }
  }
  console.log(`\n   all-cached runs: ${cached.activities} activity tasks scheduled (want 0); stage statuses ${[...cachedStatus].map(([a, b]) => `${a}=${b}`).join(' ')}`);
  if (cached.activities !== 0) process.exitCode = 1;

  const bs = stats(bare.activityStep), cs = stats(cold.stageStep), ws = stats(cached.stageStep);
  const bl = stats(bare.activityLatency), cl = stats(cold.activityLatency), cw = stats(cold.stageWall), ww = stats(cached.stageWall);
  const f = (x: { p50: number; p95: number }) => `${ms(x.p50)} (${ms(x.p95)})`;
  const perBare = bare.spanMs / bare.stages, perCold = cold.spanMs / cold.stages, perCached = cached.spanMs / cached.stages;
  console.log('\n' + table([
    ['per stage, median (p95)', 'bare', 'DAG cold', 'DAG cached', 'DAG cold / bare'],
    ['activity Scheduled→Completed', f(bl), f(cl), '— (no activities)', (cl.p50 / bl.p50).toFixed(2) + '×'],
    ['step to next stage', f(bs), f(cs), f(ws) + ' *', (cs.p50 / bs.p50).toFixed(2) + '×'],
    ['stage state endedAt−startedAt', '—', f(cw), f(ww) + ' *', ''],
    ['workflow start→close / stages', ms(perBare), ms(perCold), ms(perCached), (perCold / perBare).toFixed(2) + '×'],
  ]));
  console.log('* workflow clock: cache hits resolve local activities inside one long workflow task, so per-stage timestamps\n  understate; "workflow start→close / stages" is the real cost of a cached stage.');
  summary.push(['dag: bare, per activity step p50 / p95', `${ms(bs.p50)} / ${ms(bs.p95)}`, '']);
  summary.push(['dag: DAG cold, per stage p50 / p95', `${ms(cs.p50)} / ${ms(cs.p95)}`, `${(cs.p50 / bs.p50).toFixed(2)}× bare (+${ms(cs.p50 - bs.p50)})`]);
  summary.push(['dag: DAG all cached, per stage (start→close / n)', ms(perCached), `${cached.activities} activity tasks`]);
}

// ---------------------------------------------------------------------------------------------------------------
// Sub-benchmarks as child processes

const repo = fileURLToPath(new URL('..', import.meta.url));
const quick = args.has('quick');
const subs: Record<string, { file: string; args: string[]; note?: string }> = {
  // ml.ts speed mode takes ~2–3 min on 2 cores (mostly the cpu backend's training steps); --quick: wasm only, 2 steps (~15 s).
  ml: { file: 'bench/ml.ts', args: args.get('ml-args')?.split(' ').filter(Boolean) ?? (quick ? ['--backends=wasm', '--steps=2'] : []) },
  static: { file: 'bench/static.ts', args: [] },
  data: { file: 'bench/data-collect.ts', args: [] },
};

async function runSub(name: string): Promise<void> {
  const s = subs[name]!;
  if (!existsSync(`${repo}/${s.file}`)) {
    console.log(`\n=== ${name}: ${s.file} not present, skipped`);
    summary.push([name, 'skipped (absent)', '']);
    return;
  }
  console.log(`\n=== ${name}: node --import tsx ${s.file} ${s.args.join(' ')}`);
  const t = performance.now();
  const tail: string[] = [];
  const rc = await new Promise<number>((res) => {
    const child = spawn(process.execPath, ['--import', 'tsx', s.file, ...s.args], { cwd: repo, stdio: ['ignore', 'pipe', 'pipe'] });
    const onData = (chunk: Buffer, out: NodeJS.WriteStream) => {
      out.write(chunk);
      tail.push(...chunk.toString().split('\n').filter((l) => l.trim()));
      tail.splice(0, Math.max(0, tail.length - 3));
    };
    child.stdout.on('data', (d: Buffer) => onData(d, process.stdout));
    child.stderr.on('data', (d: Buffer) => onData(d, process.stderr));
    child.on('exit', (code) => res(code ?? 1));
  });
  const secs = ((performance.now() - t) / 1000).toFixed(1) + ' s';
  summary.push([name, rc === 0 ? `ok (${s.args.join(' ') || 'default mode'})` : `FAILED rc=${rc}`, secs]);
  if (rc !== 0) process.exitCode = 1;
}

if (only.has('dag')) await dagBench();
for (const name of ['ml', 'static', 'data']) if (only.has(name)) await runSub(name);

console.log('\n=== summary\n' + table(summary));
