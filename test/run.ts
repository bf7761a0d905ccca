/**
 * The test command: starts one fresh Temporal dev server (own port, temp SQLite file, Web UI) and bundles the
 * workflow code once, then runs every test file with node's test runner against them, and stops the server.
 *   node --import tsx test/run.ts [files or name filters...]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, statSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startDevServer } from '../workers/dev-server.ts';
import { workflowsPath } from '../workers/worker.ts';
import { findTemporalCli } from '../workers/temporal-cli.ts';

const root = new URL('..', import.meta.url).pathname;

function testFiles(dir: string): string[] {
  return readdirSync(dir).sort().flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return name === 'fixtures' ? [] : testFiles(p);
    return name.endsWith('.test.ts') ? [p] : [];
  });
}

const filters = process.argv.slice(2);
const all = testFiles(join(root, 'test'));
const files = filters.length ? all.filter((f) => filters.some((x) => relative(root, f).includes(x))) : all;
if (!files.length) {
  console.error(`no test files match ${filters.join(' ')}`);
  process.exit(2);
}

const work = mkdtempSync(join(tmpdir(), 'broadloom-test-'));
const started = Date.now();
const server = await startDevServer({ dbFile: join(work, 'temporal.sqlite'), ui: true, log: (l) => console.log(l) });
console.log(`# Temporal test server ${server.address}, Web UI ${server.uiUrl} (${Date.now() - started} ms)`);
const bundle = await bundleWorkflowCode({ workflowsPath, logger: { trace() {}, debug() {}, info() {}, warn() {}, error: console.error, log() {} } });
const bundlePath = join(work, 'workflow-bundle.js');
writeFileSync(bundlePath, bundle.code);

const child = spawn(
  process.execPath,
  [
    '--import', 'tsx', '--test', '--test-concurrency=1', '--test-reporter=spec',
    ...(process.env.TEST_NAME_PATTERN ? ['--test-name-pattern', process.env.TEST_NAME_PATTERN] : []),
    ...files,
  ],
  {
    stdio: 'inherit',
    env: {
      ...process.env,
      TEMPORAL_ADDRESS: server.address,
      TEMPORAL_NAMESPACE: server.namespace,
      TEMPORAL_UI_URL: server.uiUrl ?? '',
      TEMPORAL_CLI: findTemporalCli()?.path ?? '',
      BROADLOOM_TEST_SERVER_DB: server.dbFile,
      BROADLOOM_WORKFLOW_BUNDLE: bundlePath,
      BROADLOOM_TEST_WORKDIR: work,
    },
  },
);
const code: number = await new Promise((res) => child.on('exit', (c, sig) => res(c ?? (sig ? 1 : 0))));
await server.stop();
if (!process.env.BROADLOOM_KEEP_TEST_DIR) rmSync(work, { recursive: true, force: true });
process.exit(code);
