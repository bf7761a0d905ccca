/**
 * The embedded Temporal server: `temporal server start-dev` with a persistent SQLite file, the Web UI, and
 * broadloom's search attributes registered. Used by `broadloom dev`, the test suite and the fault tests
 * (which stop and restart it on the same file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { dirname } from 'node:path';
import { Connection } from '@temporalio/client';
import { SEARCH_ATTRIBUTES } from '../schemas/search-attributes.ts';
import { ensureTemporalCli, findTemporalCli, goAvailable, type TemporalCli } from './temporal-cli.ts';

export interface DevServerOptions {
  /** SQLite file; the server's state survives restarts. */
  dbFile: string;
  port?: number;
  uiPort?: number;
  /** `false`: no Web UI (faster start in tests that do not look at it). */
  ui?: boolean;
  namespace?: string;
  ip?: string;
  /** Server log lines go here (default: a file next to the database). */
  logFile?: string;
  /** Extra dynamic config, e.g. `{ 'limit.maxIDLength': 1000 }`. */
  dynamicConfig?: Record<string, string | number | boolean>;
  log?: (line: string) => void;
}

export interface DevServer {
  address: string;
  uiUrl: string | null;
  namespace: string;
  dbFile: string;
  cli: TemporalCli | { path: string; via: 'sdk-download' };
  stop(): Promise<void>;
}

/** A free TCP port on loopback, chosen by the OS. */
export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.unref();
    srv.on('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (addr && typeof addr === 'object' ? res(addr.port) : rej(new Error('no port'))));
    });
  });
}

/** True when something accepts TCP connections at host:port. */
export async function isListening(address: string, timeoutMs = 500): Promise<boolean> {
  const [host, portStr] = splitAddress(address);
  return new Promise((res) => {
    const sock = tcpConnect({ host, port: Number(portStr) });
    const done = (ok: boolean) => { sock.destroy(); res(ok); };
    sock.setTimeout(timeoutMs, () => done(false));
    sock.once('connect', () => done(true));
    sock.once('error', () => done(false));
  });
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i) || 'localhost', address.slice(i + 1)];
}

/** Wait until the frontend answers a real RPC (not just TCP): namespace describe succeeds. */
export async function waitForFrontend(address: string, namespace: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  while (Date.now() < deadline) {
    if (await isListening(address)) {
      try {
        const conn = await Connection.connect({ address, connectTimeout: 2000 });
        try {
          await conn.workflowService.describeNamespace({ namespace });
          return;
        } finally {
          await conn.close();
        }
      } catch (e) {
        lastError = e;
      }
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`Temporal frontend at ${address} did not answer within ${timeoutMs} ms: ${String(lastError ?? 'port closed')}`);
}

export async function startDevServer(opts: DevServerOptions): Promise<DevServer> {
  const log = opts.log ?? (() => {});
  const namespace = opts.namespace ?? 'default';
  const ip = opts.ip ?? '127.0.0.1';
  const port = opts.port ?? (await freePort());
  const ui = opts.ui ?? true;
  const uiPort = ui ? (opts.uiPort ?? (await freePort())) : undefined;
  mkdirSync(dirname(opts.dbFile), { recursive: true });

  const found = findTemporalCli();
  if (!found && !goAvailable()) return startWithSdkDownload(opts, { namespace, ip, port, uiPort, log });
  const cli = found ?? (await ensureTemporalCli(log));

  const args = [
    'server', 'start-dev',
    '--db-filename', opts.dbFile,
    '--ip', ip,
    '--port', String(port),
    '--namespace', namespace,
    '--log-level', 'warn',
    ...SEARCH_ATTRIBUTES.flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    ...Object.entries(opts.dynamicConfig ?? {}).flatMap(([k, v]) => ['--dynamic-config-value', `${k}=${JSON.stringify(v)}`]),
    ...(ui ? ['--ui-port', String(uiPort), '--ui-ip', ip] : ['--headless']),
  ];
  const logFile = opts.logFile ?? `${opts.dbFile}.server.log`;
  const out = openSync(logFile, 'a');
  log(`broadloom: starting Temporal dev server (${cli.path}, found via ${cli.via}) on ${ip}:${port}, db ${opts.dbFile}`);
  const child: ChildProcess = spawn(cli.path, args, { stdio: ['ignore', out, out], detached: false });
  closeSync(out);
  let exited: number | null | undefined;
  child.once('exit', (code) => { exited = code; });

  const address = `${ip}:${port}`;
  try {
    await Promise.race([
      waitForFrontend(address, namespace),
      new Promise((_, rej) => child.once('exit', (code) => rej(new Error(`temporal server exited with code ${code}; see ${logFile}`)))),
    ]);
  } catch (e) {
    child.kill('SIGKILL');
    throw e;
  }
  const uiUrl = ui ? `http://${ip === '0.0.0.0' ? 'localhost' : ip}:${uiPort}` : null;
  return {
    address, uiUrl, namespace, dbFile: opts.dbFile, cli,
    async stop() {
      if (exited !== undefined) return;
      const gone = new Promise<void>((res) => child.once('exit', () => res()));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    },
  };
}

/**
 * No CLI and no Go (a user's machine with internet): let the SDK download the dev server, as a last resort.
 * Fails on machines without internet — the message says what to install instead.
 */
async function startWithSdkDownload(
  opts: DevServerOptions,
  o: { namespace: string; ip: string; port: number; uiPort: number | undefined; log: (l: string) => void },
): Promise<DevServer> {
  o.log('broadloom: no Temporal CLI and no Go found; downloading the dev server through the Temporal SDK…');
  const { TestWorkflowEnvironment } = await import('@temporalio/testing');
  try {
    const env = await TestWorkflowEnvironment.createLocal({
      server: {
        dbFilename: opts.dbFile, ip: o.ip, port: o.port, namespace: o.namespace,
        ...(o.uiPort ? { ui: true, uiPort: o.uiPort } : {}),
        extraArgs: SEARCH_ATTRIBUTES.flatMap(([n, t]) => ['--search-attribute', `${n}=${t}`]),
      },
    });
    return {
      address: `${o.ip}:${o.port}`, uiUrl: o.uiPort ? `http://${o.ip}:${o.uiPort}` : null, namespace: o.namespace,
      dbFile: opts.dbFile, cli: { path: '(downloaded by @temporalio/testing)', via: 'sdk-download' },
      stop: () => env.teardown(),
    };
  } catch (e) {
    throw new Error(
      `Could not download the Temporal dev server (${(e as Error).message}).\n` +
        '  Install Go so broadloom can build the Temporal CLI, or set TEMPORAL_CLI, or TEMPORAL_ADDRESS for an existing server.',
    );
  }
}
