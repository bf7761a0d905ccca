/**
 * `broadloom worker` as a separate process (the real CLI), for tests that kill it with SIGKILL. Every process started
 * here is killed by `killWorkerProcesses()`, so a failed assertion cannot leave a test file hanging on it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../..', import.meta.url));
const children = new Set<ChildProcess>();

export function startWorkerProcess(o: { queues: string; home: string; pipelines?: string[] }): ChildProcess {
  const args = ['--import', 'tsx', 'cli/main.ts', 'worker', '--queues', o.queues, ...(o.pipelines?.length ? ['--pipeline', ...o.pipelines] : [])];
  const child = spawn(process.execPath, args, { cwd: repo, env: { ...process.env, BROADLOOM_HOME: o.home }, stdio: ['ignore', 'pipe', 'pipe'] });
  // DEBUG_WORKER=1 shows the worker's output; otherwise it is drained so the pipes never fill.
  const relay = (d: Buffer) => process.env.DEBUG_WORKER && process.stderr.write(`[worker] ${d}`);
  child.stderr!.on('data', relay);
  child.stdout!.on('data', relay);
  children.add(child);
  child.once('exit', () => children.delete(child));
  return child;
}

export function killWorkerProcesses(): void {
  for (const c of children) c.kill('SIGKILL');
}
