/**
 * Worker processes per task queue: `broadloom` runs the workflows and the data stages, `training` runs training
 * and evaluation (GPU workers take it). One process may serve both (the dev setup) or just one (a fleet).
 */
import { NativeConnection, Worker, bundleWorkflowCode, type WorkflowBundleOption } from '@temporalio/worker';
import { fileURLToPath } from 'node:url';
import { existsSync } from 'node:fs';
import { ApplicationFailure } from '@temporalio/common';
import { ArtifactCorruptError, ArtifactMissingError, ArtifactRefError } from '../data/artifact-store.ts';
import * as builtinActivities from '../activities/index.ts';
import { DATA_QUEUE, TRAINING_QUEUE } from '../pipelines/compile.ts';
import type { CustomActivity } from '../pipelines/dsl.ts';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

export type QueueName = typeof DATA_QUEUE | typeof TRAINING_QUEUE;

let bundlePromise: Promise<WorkflowBundleOption> | null = null;

/**
 * Bundle the workflow code once per process (webpack, ~1–2 s). `BROADLOOM_WORKFLOW_BUNDLE` points at a bundle
 * written earlier (the test runner bundles once per run).
 */
export function workflowBundle(): Promise<WorkflowBundleOption> {
  const prebuilt = process.env.BROADLOOM_WORKFLOW_BUNDLE;
  if (prebuilt && existsSync(prebuilt)) return Promise.resolve({ codePath: prebuilt });
  bundlePromise ??= bundleWorkflowCode({ workflowsPath, logger: quietBundlerLogger });
  return bundlePromise;
}

const quietBundlerLogger = {
  trace() {}, debug() {}, info() {}, log() {},
  warn: (m: string, meta?: unknown) => console.warn(m, meta ?? ''),
  error: (m: string, meta?: unknown) => console.error(m, meta ?? ''),
};

export interface WorkerOptions {
  connection: NativeConnection;
  namespace: string;
  queues?: QueueName[];
  /** Custom activities of the pipelines this worker serves (by activity name). */
  activities?: Record<string, CustomActivity>;
  /** How many activity tasks one queue runs at once. Training defaults to 1 (it uses every core). */
  maxConcurrentActivities?: Partial<Record<QueueName, number>>;
  maxConcurrentWorkflowTasks?: number;
  /** Where each queue's name comes from; tests and fleets can prefix them. */
  taskQueue?: (q: QueueName) => string;
  /** Workflow code to run instead of this checkout's (e.g. a new version being rolled out). */
  workflowBundle?: WorkflowBundleOption;
}

export interface RunningWorkers {
  workers: Worker[];
  /** Resolves when every worker has stopped. */
  done: Promise<void>;
  shutdown(): Promise<void>;
}

/**
 * A missing or corrupt artifact, or an unsafe reference (traversal in a name, bad uri), cannot heal by retrying
 * (ArtifactMissingError says so): fail the attempt non-retryably with the store's message (artifact name, sha,
 * what to do) instead of burning the retry policy.
 */
export function artifactErrorsNonRetryable<T extends Record<string, unknown>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      typeof fn !== 'function'
        ? fn
        : async (...args: unknown[]) => {
            try {
              return await (fn as (...a: unknown[]) => unknown)(...args);
            } catch (e) {
              if (e instanceof ArtifactMissingError || e instanceof ArtifactCorruptError) {
                throw ApplicationFailure.create({ message: e.message, type: e.name, nonRetryable: true, details: [{ sha256: e.sha256, path: e.path }] });
              }
              if (e instanceof ArtifactRefError) throw ApplicationFailure.create({ message: e.message, type: e.name, nonRetryable: true });
              throw e;
            }
          },
    ]),
  ) as T;
}

export async function createWorkers(opts: WorkerOptions): Promise<Worker[]> {
  const queues = opts.queues ?? [DATA_QUEUE, TRAINING_QUEUE];
  const activities = artifactErrorsNonRetryable({ ...builtinActivities, ...(opts.activities ?? {}) });
  const bundle = queues.includes(DATA_QUEUE) ? (opts.workflowBundle ?? (await workflowBundle())) : undefined;
  const name = opts.taskQueue ?? ((q) => q);
  return Promise.all(
    queues.map((q) =>
      Worker.create({
        connection: opts.connection,
        namespace: opts.namespace,
        taskQueue: name(q),
        activities,
        ...(q === DATA_QUEUE && bundle ? { workflowBundle: bundle } : {}),
        maxConcurrentActivityTaskExecutions: opts.maxConcurrentActivities?.[q] ?? (q === TRAINING_QUEUE ? 1 : 8),
        maxConcurrentWorkflowTaskExecutions: opts.maxConcurrentWorkflowTasks ?? 40,
        // Long stages heartbeat; let the SDK batch heartbeats to the server.
        maxHeartbeatThrottleInterval: '5s',
        shutdownGraceTime: '5s',
      }),
    ),
  );
}

export async function runWorkers(opts: WorkerOptions): Promise<RunningWorkers> {
  const workers = await createWorkers(opts);
  const done = Promise.all(workers.map((w) => w.run())).then(() => undefined);
  return {
    workers,
    done,
    async shutdown() {
      for (const w of workers) if (w.getState() === 'RUNNING') w.shutdown();
      await done;
    },
  };
}
