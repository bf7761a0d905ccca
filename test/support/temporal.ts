/**
 * Per-test-file access to the test run's Temporal server (started once by test/run.ts), a fresh BROADLOOM_HOME,
 * and in-process workers serving the real task queues.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { mkdtempSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { connectClient, type BroadloomClient } from '../../cli/runs.ts';
import { runWorkers, type RunningWorkers, type WorkerOptions } from '../../workers/worker.ts';
import { startDevServer, type DevServer } from '../../workers/dev-server.ts';

export interface TestServer {
  address: string;
  namespace: string;
  uiUrl: string | null;
  /** Our own server when the test was started without test/run.ts (e.g. `node --test` on one file). */
  own: DevServer | null;
}

let serverPromise: Promise<TestServer> | null = null;

export function testServer(): Promise<TestServer> {
  serverPromise ??= (async () => {
    if (process.env.TEMPORAL_ADDRESS) {
      return { address: process.env.TEMPORAL_ADDRESS, namespace: process.env.TEMPORAL_NAMESPACE ?? 'default', uiUrl: process.env.TEMPORAL_UI_URL || null, own: null };
    }
    const dir = mkdtempSync(join(tmpdir(), 'broadloom-test-'));
    const own = await startDevServer({ dbFile: join(dir, 'temporal.sqlite'), ui: false });
    return { address: own.address, namespace: own.namespace, uiUrl: own.uiUrl, own };
  })();
  return serverPromise;
}

/** A fresh BROADLOOM_HOME (artifact store, cache, registry) for this test file. */
export function freshHome(label = 'home'): string {
  const home = mkdtempSync(join(process.env.BROADLOOM_TEST_WORKDIR ?? tmpdir(), `${label}-`));
  process.env.BROADLOOM_HOME = home;
  return home;
}

export interface TestHarness {
  server: TestServer;
  client: BroadloomClient;
  workers: RunningWorkers | null;
  startWorkers(o?: Partial<Omit<WorkerOptions, 'connection' | 'namespace'>>): Promise<RunningWorkers>;
  stopWorkers(): Promise<void>;
  close(): Promise<void>;
}

let runtimeInstalled = false;

export async function harness(): Promise<TestHarness> {
  if (!runtimeInstalled) {
    // Worker lifecycle and workflow info logs drown the test report; keep warnings and errors.
    Runtime.install({ logger: new DefaultLogger((process.env.BROADLOOM_TEST_LOG_LEVEL as 'WARN') ?? 'WARN') });
    runtimeInstalled = true;
  }
  const server = await testServer();
  const client = await connectClient(server.address, server.namespace);
  const connection = await NativeConnection.connect({ address: server.address });
  const h: TestHarness = {
    server, client, workers: null,
    async startWorkers(o = {}) {
      if (h.workers) await h.stopWorkers();
      h.workers = await runWorkers({ connection, namespace: server.namespace, ...o });
      return h.workers;
    },
    async stopWorkers() {
      const w = h.workers;
      h.workers = null;
      await w?.shutdown();
    },
    async close() {
      await h.stopWorkers();
      await client.close();
      await connection.close();
      await server.own?.stop();
    },
  };
  return h;
}

/** Activity names scheduled in a workflow's history (ActivityTaskScheduled events), in order. */
export async function scheduledActivities(c: BroadloomClient, workflowId: string): Promise<Array<{ activityId: string; type: string }>> {
  const history = await c.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? [])
    .map((e) => e.activityTaskScheduledEventAttributes)
    .filter((a): a is NonNullable<typeof a> => !!a)
    .map((a) => ({ activityId: a.activityId ?? '', type: a.activityType?.name ?? '' }));
}

export async function completedActivityCount(c: BroadloomClient, workflowId: string): Promise<number> {
  const history = await c.client.workflow.getHandle(workflowId).fetchHistory();
  return (history.events ?? []).filter((e) => e.activityTaskCompletedEventAttributes).length;
}
