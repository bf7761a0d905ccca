/**
 * Finds the Temporal CLI (which embeds the dev server and the Web UI), or builds it from the Go module proxy.
 * Order: $TEMPORAL_CLI, `temporal` on PATH, <repo>/.tools/temporal, then `go install`. Reports which path was taken.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { delimiter, join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const TEMPORAL_CLI_MODULE = 'github.com/temporalio/cli/cmd/temporal';
/** v1.6+ carries a replace directive and cannot be `go install`ed. */
export const TEMPORAL_CLI_VERSION = 'v1.5.1';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const toolsDir = join(repoRoot, '.tools');

export interface TemporalCli {
  path: string;
  /** How it was found: `env` ($TEMPORAL_CLI), `path` ($PATH), `tools` (.tools/, built earlier), `built` (just now). */
  via: 'env' | 'path' | 'tools' | 'built';
}

const isExecutable = (p: string) => existsSync(p) && statSync(p).isFile() && (statSync(p).mode & 0o111) !== 0;

export function findTemporalCli(): TemporalCli | null {
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    if (!isExecutable(fromEnv)) throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file`);
    return { path: fromEnv, via: 'env' };
  }
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir && isExecutable(join(dir, 'temporal'))) return { path: join(dir, 'temporal'), via: 'path' };
  }
  const local = join(toolsDir, 'temporal');
  if (isExecutable(local)) return { path: local, via: 'tools' };
  return null;
}

export function goAvailable(): boolean {
  return spawnSync('go', ['version'], { stdio: 'ignore' }).status === 0;
}

/** `go install` the CLI into .tools/, streaming Go's progress lines through `log`. Takes a few minutes, once. */
export async function buildTemporalCli(log: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Promise<TemporalCli> {
  if (!goAvailable()) {
    throw new Error(
      'The Temporal CLI was not found and Go is not installed to build it.\n' +
        '  Install Go (https://go.dev/dl, or `apt-get install golang`), or put a `temporal` binary on PATH,\n' +
        '  or set TEMPORAL_CLI=/path/to/temporal, or point broadloom at an existing server with TEMPORAL_ADDRESS.',
    );
  }
  mkdirSync(toolsDir, { recursive: true });
  log(`broadloom: building the Temporal CLI ${TEMPORAL_CLI_VERSION} into ${toolsDir} (go install; a few minutes, once)…`);
  const started = Date.now();
  const child = spawn('go', ['install', `${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION}`], {
    env: { ...process.env, CGO_ENABLED: '0', GOBIN: toolsDir, GOFLAGS: process.env.GOFLAGS ?? '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let downloads = 0;
  const tail: string[] = [];
  const onData = (buf: Buffer) => {
    for (const line of buf.toString().split('\n').filter(Boolean)) {
      tail.push(line);
      if (tail.length > 30) tail.shift();
      if (line.startsWith('go: downloading')) {
        downloads++;
        if (downloads % 25 === 0) log(`  … ${downloads} modules downloaded (${Math.round((Date.now() - started) / 1000)}s)`);
      } else log(`  ${line}`);
    }
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const heartbeat = setInterval(() => log(`  … still building (${Math.round((Date.now() - started) / 1000)}s)`), 30_000);
  const code = await new Promise<number | null>((res) => child.on('close', res));
  clearInterval(heartbeat);
  const path = join(toolsDir, 'temporal');
  if (code !== 0 || !isExecutable(path)) {
    throw new Error(`go install ${TEMPORAL_CLI_MODULE}@${TEMPORAL_CLI_VERSION} failed (exit ${code}):\n${tail.join('\n')}`);
  }
  log(`broadloom: Temporal CLI built in ${Math.round((Date.now() - started) / 1000)}s → ${path}`);
  return { path, via: 'built' };
}

/** Find the CLI, building it when missing. Returns null only when neither works and `allowMissing` is set. */
export async function ensureTemporalCli(log?: (line: string) => void): Promise<TemporalCli> {
  return findTemporalCli() ?? (await buildTemporalCli(log));
}

// `node --import tsx workers/temporal-cli.ts` (npm run setup): provision the CLI and say which path was taken.
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  ensureTemporalCli()
    .then((cli) => console.log(`Temporal CLI: ${cli.path} (found via ${cli.via})`))
    .catch((e: Error) => { console.error(e.message); process.exit(1); });
}
