/**
 * `broadloom dev` and `broadloom worker`: the long-running processes. `dev` brings up the embedded Temporal server
 * (SQLite under .broadloom/, Web UI on 8233) unless one already listens at the address, then the workers, then
 * optionally runs the example pipeline. The `training` queue's worker runs as a child process. Ctrl-C stops workers
 * first, then the server.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startDevServer, isListening, type DevServer } from '../workers/dev-server.ts';
import { runWorkers, type QueueName, type RunningWorkers } from '../workers/worker.ts';
import { startTrainingProcess } from '../workers/training-process.ts';
import { temporalSettings } from '../workers/connection.ts';
import { broadloomHome } from '../data/home.ts';
import { loadPipeline, type LoadedPipeline } from '../pipelines/load.ts';
import type { CustomActivity } from '../pipelines/dsl.ts';
import { connectClient, startRun } from './runs.ts';
import { followRun } from './report.ts';

export const EXAMPLE_PIPELINE = fileURLToPath(new URL('../pipelines/examples/broad.ts', import.meta.url));

/** Worker lifecycle chatter at INFO drowns the run's progress; BROADLOOM_LOG_LEVEL=INFO brings it back. */
function installRuntime(): void {
  Runtime.install({ logger: new DefaultLogger((process.env.BROADLOOM_LOG_LEVEL ?? 'WARN') as 'WARN') });
}

/** Say which tfjs backend training uses here, and why better ones did not load. */
async function reportBackend(): Promise<void> {
  const { initBackend } = await import('../ml/backend.ts');
  const b = await initBackend(process.env.BROADLOOM_BACKEND);
  const skipped = b.skipped.map((x) => `${x.name}: ${x.reason.split('\n')[0]}`).join('; ');
  console.log(`broadloom: training backend ${b.name}${skipped ? ` (skipped ${skipped})` : ''}`);
}

async function customActivities(files: string[]): Promise<{ pipelines: LoadedPipeline[]; activities: Record<string, CustomActivity> }> {
  const pipelines = await Promise.all(files.map((f) => loadPipeline(f)));
  const activities: Record<string, CustomActivity> = {};
  for (const p of pipelines) {
    for (const [name, fn] of Object.entries(p.activities)) {
      if (activities[name] && activities[name] !== fn) throw new Error(`activity "${name}" is defined by two pipelines (${p.file})`);
      activities[name] = fn;
    }
  }
  return { pipelines, activities };
}

export interface DevOptions {
  example: boolean;
  pipelines: string[];
  port: number;
  uiPort: number;
  exitAfterRun: boolean;
}

export async function runDev(o: DevOptions): Promise<number> {
  const settings = temporalSettings();
  const address = process.env.TEMPORAL_ADDRESS ?? `localhost:${o.port}`;
  let server: DevServer | null = null;
  let uiUrl = settings.uiUrl;
  if (await isListening(address)) {
    console.log(`broadloom: a Temporal server is already listening at ${address}; connecting to it.`);
  } else if (process.env.TEMPORAL_ADDRESS) {
    throw new Error(`TEMPORAL_ADDRESS=${address} is set but nothing answers there; unset it to start the embedded server`);
  } else {
    const home = broadloomHome();
    server = await startDevServer({
      dbFile: join(home, 'temporal.sqlite'), port: o.port, uiPort: o.uiPort, ip: '127.0.0.1',
      log: (l) => console.log(l),
    });
    uiUrl = server.uiUrl!.replace('127.0.0.1', 'localhost');
    process.env.TEMPORAL_ADDRESS = server.address;
    process.env.TEMPORAL_UI_URL = uiUrl;
  }

  installRuntime();
  const files = [...(o.example ? [EXAMPLE_PIPELINE] : []), ...o.pipelines.map((f) => resolve(f))];
  const { pipelines, activities } = await customActivities(files);
  const connection = await NativeConnection.connect({ address: server?.address ?? address });
  const workers: RunningWorkers = await runWorkers({ connection, namespace: settings.namespace, activities, queues: ['broadloom'] });
  // Training in its own process (workers/training-process.ts says why); it reports its backend when it starts.
  const training = startTrainingProcess({ pipelines: files, env: { ...process.env, TEMPORAL_ADDRESS: server?.address ?? address }, log: (l) => console.log(l) });
  console.log(`broadloom: workers running on task queues broadloom (this process) and training (a child process)`);
  console.log(`\n  Temporal Web UI: ${uiUrl}\n  Temporal address: ${server?.address ?? address}\n`);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    console.log('broadloom: stopping workers…');
    await Promise.all([workers.shutdown().catch(() => {}), training.stop()]);
    await connection.close().catch(() => {});
    if (server) { console.log('broadloom: stopping the Temporal server…'); await server.stop(); }
  };
  process.once('SIGINT', () => void stop().then(() => process.exit(130)));
  process.once('SIGTERM', () => void stop().then(() => process.exit(143)));

  let code = 0;
  for (const p of pipelines.filter((x) => x.file === EXAMPLE_PIPELINE)) {
    const { withCodeVersions } = await import('./code-versions.ts');
    const spec = await withCodeVersions(p.spec, p.file);
    const client = await connectClient(server?.address ?? address, settings.namespace);
    const handle = await startRun(client, spec);
    code = Math.max(code, await followRun(client, handle.workflowId));
    await client.close();
  }
  if (o.exitAfterRun) {
    await stop();
    return code;
  }
  console.log(`\nbroadloom dev is running. Web UI: ${uiUrl} — press Ctrl-C to stop.`);
  await workers.done;
  return code;
}

export async function runWorkerProcess(o: { queues: string[]; pipelines: string[] }): Promise<void> {
  const settings = temporalSettings();
  const known = ['broadloom', 'training'];
  for (const q of o.queues) if (!known.includes(q)) throw new Error(`unknown task queue "${q}": expected ${known.join(' or ')}`);
  installRuntime();
  if (o.queues.includes('training')) await reportBackend();
  const { activities } = await customActivities(o.pipelines.map((f) => resolve(f)));
  const connection = await NativeConnection.connect({ address: settings.address });
  const workers = await runWorkers({ connection, namespace: settings.namespace, activities, queues: o.queues as QueueName[] });
  console.log(`broadloom worker: serving ${o.queues.join(', ')} at ${settings.address} (pid ${process.pid})`);
  // Started by `broadloom dev` (workers/training-process.ts): shut down gracefully when that process is gone.
  if (process.send) process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
  await workers.done;
}
