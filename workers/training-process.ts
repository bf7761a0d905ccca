/**
 * The `training` queue's worker as a child process of `broadloom dev`.
 *
 * Why a process: training is CPU-bound for minutes at a time and yields to the event loop about once a second. In the
 * process that also runs workflow tasks and answers queries, that starved them (query timeouts, 13-second workflow
 * tasks while the tokenizer trained). Production fleets run training on their own (GPU) workers anyway; dev now has
 * the same shape. A training process that dies is restarted (up to `maxRestarts`), and the train activity resumes
 * from its last heartbeated checkpoint.
 */
import { spawn, type ChildProcess } from 'node:child_process';

/** The SDK warns that an activity-only worker polls no workflow tasks: that is this worker's design. */
const EXPECTED_NOISE = /No workflows registered, not polling for workflow tasks/;

export interface TrainingProcess {
  stop(): Promise<void>;
}

export interface TrainingProcessOptions {
  /** Pipeline modules whose custom activities the worker serves (as `broadloom worker --pipeline`). */
  pipelines: string[];
  env: NodeJS.ProcessEnv;
  log: (line: string) => void;
  maxRestarts?: number;
}

export function startTrainingProcess(o: TrainingProcessOptions): TrainingProcess {
  // The same node, loader flags (tsx) and CLI entry point as this process.
  const args = [...process.execArgv, process.argv[1]!, 'worker', '--queues', 'training', ...(o.pipelines.length ? ['--pipeline', ...o.pipelines] : [])];
  const maxRestarts = o.maxRestarts ?? 3;
  let restarts = 0;
  let stopping = false;
  let child: ChildProcess;

  const relay = (stream: NodeJS.ReadableStream) => {
    let pending = '';
    stream.on('data', (d: Buffer) => {
      const lines = (pending + d.toString()).split('\n');
      pending = lines.pop()!;
      for (const l of lines) if (l.trim() && !EXPECTED_NOISE.test(l)) o.log(`[training] ${l}`);
    });
  };
  const launch = () => {
    // The IPC channel only tells the child when this process is gone (even by SIGKILL), so it never outlives dev.
    child = spawn(process.execPath, args, { env: o.env, stdio: ['ignore', 'pipe', 'pipe', 'ipc'] });
    relay(child.stdout!);
    relay(child.stderr!);
    child.once('exit', (code, signal) => {
      if (stopping) return;
      if (restarts >= maxRestarts) {
        o.log(`broadloom: the training worker exited (${signal ?? `code ${code}`}) ${restarts + 1} times; not restarting it. Training stages wait on the 'training' queue: start one with \`broadloom worker --queues training\`.`);
        return;
      }
      restarts++;
      o.log(`broadloom: the training worker exited (${signal ?? `code ${code}`}); restarting it (${restarts}/${maxRestarts}) — training resumes from its last checkpoint`);
      setTimeout(launch, 1000);
    });
  };
  launch();

  return {
    stop: () =>
      new Promise<void>((resolve) => {
        stopping = true;
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
        child.once('exit', () => {
          clearTimeout(kill);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}
