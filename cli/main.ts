/**
 * The `broadloom` command. Client commands talk to the Temporal server at $TEMPORAL_ADDRESS (default
 * localhost:7233); `dev` starts one (embedded dev server + Web UI) with workers when none is listening.
 */
import { Command, Option } from 'commander';
import { temporalSettings, workflowUiUrl } from '../workers/connection.ts';
import { connectClient, startRun, retryRun, replayHistories, type BroadloomClient } from './runs.ts';
import { loadPipeline } from '../pipelines/load.ts';
import { stageTable } from './format.ts';
import { followRun } from './report.ts';
import { stagesQuery } from '../workflows/definitions.ts';
import { PipelineSpecError } from '../pipelines/errors.ts';
import { readFileSync } from 'node:fs';

const program = new Command('broadloom')
  .description('Declarative pipeline DAGs for ML projects that keep learning, on Temporal')
  .showHelpAfterError();

async function withClient<T>(fn: (c: BroadloomClient) => Promise<T>): Promise<T> {
  const s = temporalSettings();
  let c: BroadloomClient;
  try {
    c = await connectClient(s.address, s.namespace);
  } catch (e) {
    throw new Error(`cannot reach Temporal at ${s.address} (${(e as Error).message}). Start it with \`broadloom dev\` or set TEMPORAL_ADDRESS.`);
  }
  try { return await fn(c); } finally { await c.close(); }
}

program
  .command('dev')
  .description('start the embedded Temporal server + Web UI (or connect to $TEMPORAL_ADDRESS) and the workers')
  .option('--example', 'run the example pipeline (pipelines/examples/broad.ts) once everything is up')
  .option('-p, --pipeline <file...>', 'pipeline modules whose custom activities the workers serve')
  .option('--port <n>', 'gRPC port of the embedded server', '7233')
  .option('--ui-port <n>', 'Web UI port', '8233')
  .option('--exit', 'stop everything after the example run ends (for scripts)')
  .action(async (o) => {
    const { runDev } = await import('./dev.ts');
    process.exitCode = await runDev({ example: !!o.example, pipelines: o.pipeline ?? [], port: Number(o.port), uiPort: Number(o.uiPort), exitAfterRun: !!o.exit });
  });

program
  .command('worker')
  .description('run workers against $TEMPORAL_ADDRESS (a fleet member)')
  .addOption(new Option('-q, --queues <names>', 'task queues to serve').default('broadloom,training'))
  .option('-p, --pipeline <file...>', 'pipeline modules whose custom activities this worker serves')
  .action(async (o) => {
    const { runWorkerProcess } = await import('./dev.ts');
    await runWorkerProcess({ queues: String(o.queues).split(','), pipelines: o.pipeline ?? [] });
  });

program
  .command('run <pipeline>')
  .description('run a pipeline file: progress per stage, exit code 1 if a stage fails')
  .option('--no-cache', 'run every stage even when a cached result exists')
  .option('--from <stage...>', 're-execute these stages and everything after them')
  .option('--until <stage...>', 'run only these stages and the stages they need')
  .option('--detach', 'start the run and return')
  .action(async (file: string, o) => {
    const pipeline = await loadPipeline(file);
    const { withCodeVersions } = await import('./code-versions.ts');
    const spec = await withCodeVersions(pipeline.spec, pipeline.file);
    await withClient(async (c) => {
      for (const id of [...(o.from ?? []), ...(o.until ?? [])]) {
        if (!spec.stages.some((st) => st.id === id)) throw new Error(`no stage "${id}" in ${spec.name} (stages: ${spec.stages.map((st) => st.id).join(', ')})`);
      }
      const handle = await startRun(c, spec, { noCache: o.cache === false, force: o.from ?? [], targets: o.until ?? [] });
      process.exitCode = await followRun(c, handle.workflowId, !!o.detach);
    });
  });

program
  .command('status <workflowId>')
  .description("each stage's state, timings and outputs")
  .option('--json', 'print JSON')
  .action(async (id: string, o) => withClient(async (c) => {
    const handle = c.client.workflow.getHandle(id);
    const d = await handle.describe();
    const states = await handle.query(stagesQuery);
    if (o.json) return void console.log(JSON.stringify({ status: d.status.name, stages: states }, null, 2));
    console.log(`${id}  ${d.status.name}  started ${d.startTime.toISOString()}\n${stageTable(states)}`);
  }));

program
  .command('list')
  .description('recent pipeline runs')
  .option('--pipeline <name>')
  .option('--status <status>', 'running | completed | failed')
  .option('-n, --limit <n>', 'how many', '20')
  .action(async (o) => withClient(async (c) => {
    const clauses = ["WorkflowType = 'pipelineWorkflow'"];
    if (o.pipeline) clauses.push(`BroadloomPipeline = '${String(o.pipeline).replace(/'/g, '')}'`);
    if (o.status) clauses.push(`BroadloomStatus = '${String(o.status).replace(/'/g, '')}'`);
    let n = 0;
    for await (const w of c.client.workflow.list({ query: clauses.join(' AND ') })) {
      console.log(`${w.workflowId.padEnd(48)} ${w.status.name.padEnd(11)} ${w.startTime.toISOString()}`);
      if (++n >= Number(o.limit)) break;
    }
    if (!n) console.log('no runs');
  }));

program
  .command('retry <workflowId>')
  .description('start a new run of the same spec: finished stages are reused, the failed stage and what follows re-run')
  .option('--from <stage...>', 'force re-execution from these stages on')
  .option('--detach')
  .action(async (id: string, o) => withClient(async (c) => {
    const handle = await retryRun(c, id, { from: o.from });
    process.exitCode = await followRun(c, handle.workflowId, !!o.detach);
  }));

program
  .command('replay [workflowIds...]')
  .description('replay histories against the current workflow code and report non-determinism')
  .option('-f, --file <history.json...>', 'history files (as exported by the Web UI or `temporal workflow show -o json`)')
  .action(async (ids: string[], o) => {
    const histories: Array<{ workflowId: string; history: unknown }> = [];
    for (const f of o.file ?? []) histories.push({ workflowId: f, history: JSON.parse(readFileSync(f, 'utf8')) });
    if (ids.length) {
      await withClient(async (c) => {
        for (const id of ids) histories.push({ workflowId: id, history: await c.client.workflow.getHandle(id).fetchHistory() });
      });
    }
    if (!histories.length) throw new Error('nothing to replay: give workflow ids or --file');
    const results = await replayHistories(histories);
    for (const r of results) console.log(`${r.ok ? '✓' : '✗'} ${r.workflowId}${r.error ? `: ${r.error}` : ''}`);
    process.exitCode = results.every((r) => r.ok) ? 0 : 1;
  });

program
  .command('graph <pipeline>')
  .description('print the DAG of a pipeline file without running it (Mermaid, or DOT)')
  .addOption(new Option('--format <format>').choices(['mermaid', 'dot']).default('mermaid'))
  .action(async (file: string, o) => {
    const { runGraph } = await import('../pipelines/static/index.ts');
    process.exitCode = await runGraph(file, o.format, process.stdout);
  });

program
  .command('check <files...>')
  .description('static checks before anything runs: DAG, activities, schemas, workflow determinism')
  .action(async (files: string[]) => {
    const { runCheck } = await import('../pipelines/static/index.ts');
    process.exitCode = await runCheck(files, process.stdout);
  });

program
  .command('ingest <pipeline> <project> <file>')
  .description('validate a file of new records, store it as Arrow, and signal the continual workflow')
  .action(async (file: string, project: string, data: string) => {
    const pipeline = await loadPipeline(file);
    const { ingest } = await import('./continual.ts');
    await withClient(async (c) => {
      const r = await ingest(c, pipeline.spec, project, data);
      console.log(`ingested ${data} into ${pipeline.spec.name}/${project}: ${r.accepted} accepted, ${r.quarantined} quarantined, ${r.duplicates} duplicates`);
      if (r.quarantined) console.log(`  quarantine: ${r.quarantine}`);
      console.log(`  dataset: ${r.arrival.dataset.uri}\n  signalled ${r.workflowId} — Web UI: ${workflowUiUrl(temporalSettings(), r.workflowId)}`);
    });
  });

const continual = program.command('continual').description('the long-running workflow that retrains a pipeline as data arrives');
continual
  .command('start <pipeline>')
  .description('start it, or hand the running one the current spec (e.g. a project was added)')
  .action(async (file: string) => {
    const pipeline = await loadPipeline(file);
    const { signalContinual } = await import('./continual.ts');
    await withClient(async (c) => {
      const id = await signalContinual(c, pipeline.spec, 'updateSpec', [pipeline.spec]);
      console.log(`${id} is running with ${pipeline.spec.projects.length} project(s) — Web UI: ${workflowUiUrl(temporalSettings(), id)}`);
    });
  });
continual
  .command('status <pipelineName>')
  .description('champion, pending arrivals per project, last decision')
  .action(async (name: string) => withClient(async (c) => {
    const { continualQuery, continualWorkflowId } = await import('../workflows/continual.ts');
    const v = await c.client.workflow.getHandle(continualWorkflowId(name)).query(continualQuery);
    console.log(JSON.stringify({ champion: v.champion, pendingRecords: v.pendingRecords, running: v.running, retrainings: v.retrainings, lastDecision: v.lastDecision, generation: v.generation }, null, 2));
  }));
continual
  .command('retrain <pipeline>')
  .description('ask for a retraining now (queued if one is running)')
  .option('--reason <text>', 'why', 'requested from the CLI')
  .action(async (file: string, o) => {
    const pipeline = await loadPipeline(file);
    const { signalContinual } = await import('./continual.ts');
    await withClient(async (c) => console.log(`requested: ${await signalContinual(c, pipeline.spec, 'retrain', [{ reason: o.reason }])}`));
  });

const schedule = program.command('schedule').description("the pipeline's Temporal Schedule (periodic re-fine-tuning)");
schedule
  .command('apply <pipeline>')
  .description('create or update the schedule from `schedule` in the pipeline definition')
  .action(async (file: string) => {
    const pipeline = await loadPipeline(file);
    const { applySchedule } = await import('./continual.ts');
    await withClient(async (c) => {
      const r = await applySchedule(c, pipeline.spec);
      const s = pipeline.spec.schedule!;
      console.log(`${r.created ? 'created' : 'updated'} schedule ${r.id}: ${s.cron ? `cron ${s.cron}` : `every ${s.every}`}, catch-up window ${s.catchupWindow}, pause on failure ${s.pauseOnFailure}`);
      console.log(`  overlap policy: ${r.overlap}`);
    });
  });
schedule
  .command('list')
  .action(async () => withClient(async (c) => {
    let n = 0;
    for await (const s of c.client.schedule.list()) {
      n++;
      console.log(`${s.scheduleId.padEnd(32)} ${s.state.paused ? 'paused ' : 'active '} next ${s.info.nextActionTimes[0]?.toISOString() ?? '—'}`);
    }
    if (!n) console.log('no schedules');
  }));
schedule
  .command('pause <pipelineName>')
  .option('--resume', 'unpause instead')
  .option('--note <text>', 'why', 'paused from the CLI')
  .action(async (name: string, o) => withClient(async (c) => {
    const { scheduleId } = await import('./continual.ts');
    const h = c.client.schedule.getHandle(scheduleId(name));
    if (o.resume) await h.unpause(o.note); else await h.pause(o.note);
    console.log(`${scheduleId(name)} ${o.resume ? 'resumed' : 'paused'}`);
  }));
schedule
  .command('trigger <pipelineName>')
  .description('run the scheduled action now')
  .action(async (name: string) => withClient(async (c) => {
    const { scheduleId } = await import('./continual.ts');
    await c.client.schedule.getHandle(scheduleId(name)).trigger();
    console.log(`triggered ${scheduleId(name)}`);
  }));
schedule
  .command('backfill <pipelineName>')
  .requiredOption('--from <iso>', 'start time')
  .requiredOption('--to <iso>', 'end time')
  .action(async (name: string, o) => withClient(async (c) => {
    const { scheduleId } = await import('./continual.ts');
    const { ScheduleOverlapPolicy } = await import('@temporalio/client');
    await c.client.schedule.getHandle(scheduleId(name)).backfill({ start: new Date(o.from), end: new Date(o.to), overlap: ScheduleOverlapPolicy.BUFFER_ALL });
    console.log(`backfilled ${scheduleId(name)} from ${o.from} to ${o.to}`);
  }));

program
  .command('models <pipelineName>')
  .description('model versions in the registry: status, metrics, lineage')
  .option('--json')
  .action(async (name: string, o) => {
    const { ModelRegistry } = await import('../data/registry.ts');
    const entries = await new ModelRegistry(name).list();
    if (o.json) return void console.log(JSON.stringify(entries, null, 2));
    if (!entries.length) return void console.log(`no models registered for ${name}`);
    for (const e of entries) {
      const m = Object.entries(e.manifest.metrics).map(([p, v]) => `${p} ${v.metric} ${v.value.toFixed(4)}`).join(', ');
      console.log(`${e.version}  ${e.status.padEnd(10)} ${e.manifest.createdAt}  parent ${e.manifest.parent ?? '—'}  ${m}\n        ${e.reason}`);
    }
  });

program
  .command('predict <pipelineName> <project> [text...]')
  .description("run the champion model on text (token projects: words separated by spaces)")
  .option('--version <v>', 'a model version instead of the champion')
  .option('--email <file>', "an e-mail file instead of text, reduced to subject + body as directory sources with inner 'email' store it")
  .action(async (name: string, project: string, words: string[], o) => {
    const { predictWithModel, emailFileText } = await import('./predict.ts');
    if (!words.length && !o.email) throw new Error('predict: give the text, or --email <file>');
    const out = await predictWithModel(name, project, o.email ? await emailFileText(o.email) : words.join(' '), o.version);
    console.log(out);
  });

program
  .command('info')
  .description('which TensorFlow.js backend loads here (and why better ones did not), the Temporal CLI, settings')
  .action(async () => {
    const { initBackend } = await import('../ml/backend.ts');
    const { findTemporalCli } = await import('../workers/temporal-cli.ts');
    const { broadloomHome } = await import('../data/home.ts');
    const b = await initBackend(process.env.BROADLOOM_BACKEND);
    console.log(`tfjs backend: ${b.name} (requested ${b.requested}${b.customKernels.length ? `; custom kernels: ${b.customKernels.join(', ')}` : ''})`);
    for (const s of b.skipped) console.log(`  skipped ${s.name}: ${s.reason.split('\n')[0]}`);
    const cli = findTemporalCli();
    console.log(`Temporal CLI: ${cli ? `${cli.path} (via ${cli.via})` : 'not found — `npm run setup` builds it'}`);
    const s = temporalSettings();
    console.log(`Temporal: ${s.address}, namespace ${s.namespace}, Web UI ${s.uiUrl}\nBROADLOOM_HOME: ${broadloomHome()}`);
  });

export async function main(argv = process.argv): Promise<void> {
  try {
    await program.parseAsync(argv);
  } catch (e) {
    console.error(e instanceof PipelineSpecError ? e.message : `broadloom: ${(e as Error).message}`);
    process.exitCode = 1;
  }
}

await main();
