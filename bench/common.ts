/** Shared helpers for bench/run.ts and bench/load.ts: own dev server, history timestamps, percentiles. */
import { DefaultLogger, Runtime } from '@temporalio/worker';
import type { temporal } from '@temporalio/proto';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevServer, type DevServer } from '../workers/dev-server.ts';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

export function parseArgs(argv = process.argv.slice(2)): Map<string, string> {
  const out = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) continue;
    const eq = a.indexOf('=');
    if (eq > 0) out.set(a.slice(2, eq), a.slice(eq + 1));
    else if (argv[i + 1] !== undefined && !argv[i + 1]!.startsWith('--')) out.set(a.slice(2), argv[++i]!);
    else out.set(a.slice(2), 'true');
  }
  return out;
}

let runtimeInstalled = false;
/** Quiet SDK logs (warnings and errors only), once per process, before any connection is made. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  runtimeInstalled = true;
}

export const quietBundlerLogger = {
  trace() {}, debug() {}, info() {}, log() {},
  warn: (m: string, meta?: unknown) => console.warn(m, meta ?? ''),
  error: (m: string, meta?: unknown) => console.error(m, meta ?? ''),
};

/** A temp dir with a headless dev server (SQLite) and BROADLOOM_HOME inside it. */
export async function benchServer(label: string, dynamicConfig?: Record<string, string | number | boolean>): Promise<{ dir: string; server: DevServer }> {
  const dir = mkdtempSync(join(tmpdir(), `broadloom-${label}-`));
  process.env.BROADLOOM_HOME = join(dir, 'home');
  const t0 = performance.now();
  const server = await startDevServer({ dbFile: join(dir, 'temporal.sqlite'), ui: false, ...(dynamicConfig ? { dynamicConfig } : {}) });
  if (dynamicConfig) console.log(`dev server dynamic config: ${JSON.stringify(dynamicConfig)}`);
  console.log(`dev server ${server.address} (headless, ${join(dir, 'temporal.sqlite')}) up in ${((performance.now() - t0) / 1000).toFixed(1)} s; BROADLOOM_HOME=${process.env.BROADLOOM_HOME}`);
  return { dir, server };
}

export function eventMs(e: HistoryEvent): number {
  const t = e.eventTime;
  if (!t) return NaN;
  const s = t.seconds as unknown;
  const sec = typeof s === 'number' ? s : typeof s === 'object' && s && 'toNumber' in s ? (s as { toNumber(): number }).toNumber() : Number(s);
  return sec * 1000 + (t.nanos ?? 0) / 1e6;
}

export interface ActivityTiming {
  activityId: string;
  scheduled: number;
  started: number;
  completed: number;
}

/** Activity tasks in a history: scheduled / started / completed times (ms since epoch), in scheduling order. */
export function activityTimings(events: HistoryEvent[]): ActivityTiming[] {
  const byScheduled = new Map<number, ActivityTiming>();
  for (const e of events) {
    const id = Number(e.eventId);
    if (e.activityTaskScheduledEventAttributes) {
      byScheduled.set(id, { activityId: e.activityTaskScheduledEventAttributes.activityId ?? '', scheduled: eventMs(e), started: NaN, completed: NaN });
    } else if (e.activityTaskStartedEventAttributes) {
      const a = byScheduled.get(Number(e.activityTaskStartedEventAttributes.scheduledEventId));
      if (a) a.started = eventMs(e);
    } else if (e.activityTaskCompletedEventAttributes) {
      const a = byScheduled.get(Number(e.activityTaskCompletedEventAttributes.scheduledEventId));
      if (a) a.completed = eventMs(e);
    }
  }
  return [...byScheduled.values()];
}

/** Workflow-task schedule-to-start waits (ms): how long workflow tasks waited for a worker slot/poller. */
export function workflowTaskWaits(events: HistoryEvent[]): number[] {
  const scheduled = new Map<number, number>();
  const out: number[] = [];
  for (const e of events) {
    if (e.workflowTaskScheduledEventAttributes) scheduled.set(Number(e.eventId), eventMs(e));
    else if (e.workflowTaskStartedEventAttributes) {
      const s = scheduled.get(Number(e.workflowTaskStartedEventAttributes.scheduledEventId));
      if (s !== undefined) out.push(eventMs(e) - s);
    }
  }
  return out;
}

export function countEvents(events: HistoryEvent[], key: keyof HistoryEvent): number {
  return events.filter((e) => e[key] != null).length;
}

export function diffs(xs: number[]): number[] {
  return xs.slice(1).map((x, i) => x - xs[i]!);
}

export interface Stats { n: number; p50: number; p95: number; max: number; mean: number }

/** Nearest-rank percentiles. */
export function stats(xs: number[]): Stats {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return { n: 0, p50: NaN, p95: NaN, max: NaN, mean: NaN };
  const at = (p: number) => v[Math.min(v.length - 1, Math.max(0, Math.ceil((p / 100) * v.length) - 1))]!;
  return { n: v.length, p50: at(50), p95: at(95), max: v[v.length - 1]!, mean: v.reduce((s, x) => s + x, 0) / v.length };
}

export const ms = (x: number, digits = 1) => (Number.isFinite(x) ? `${x.toFixed(digits)} ms` : 'n/a');

export function statLine(label: string, s: Stats, width = 52): string {
  return `${label.padEnd(width)} n=${String(s.n).padStart(4)}  p50 ${ms(s.p50).padStart(10)}  p95 ${ms(s.p95).padStart(10)}  max ${ms(s.max).padStart(10)}`;
}

/** A plain text table: first row is the header. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length)));
  const line = (r: string[]) => r.map((x, c) => (c === 0 ? x.padEnd(widths[c]!) : x.padStart(widths[c]!))).join('  ');
  return [line(rows[0]!), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n');
}

/** An event's type, from which `…EventAttributes` field it carries: `ActivityTaskScheduled`. */
export function eventType(e: HistoryEvent): string {
  for (const [k, v] of Object.entries(e)) {
    if (v != null && k.endsWith('EventAttributes')) return k.slice(0, -'EventAttributes'.length).replace(/^./, (c) => c.toUpperCase());
  }
  return 'Unknown';
}

/**
 * Where a run's wall time goes: for each pair of consecutive event types (`A→B`), how often it occurs, its median
 * gap and its share of the run's start→close span. Sorted by total time.
 */
export function gapBreakdown(runs: HistoryEvent[][]): Array<{ transition: string; n: number; p50: number; totalMs: number; share: number }> {
  const gaps = new Map<string, number[]>();
  let span = 0;
  for (const events of runs) {
    for (let i = 1; i < events.length; i++) {
      const k = `${eventType(events[i - 1]!)}→${eventType(events[i]!)}`;
      const g = eventMs(events[i]!) - eventMs(events[i - 1]!);
      (gaps.get(k) ?? gaps.set(k, []).get(k)!).push(g);
    }
    span += eventMs(events[events.length - 1]!) - eventMs(events[0]!);
  }
  return [...gaps].map(([transition, xs]) => {
    const totalMs = xs.reduce((a, b) => a + b, 0);
    return { transition, n: xs.length, p50: stats(xs).p50, totalMs, share: totalMs / span };
  }).sort((a, b) => b.totalMs - a.totalMs);
}

/** `--server-config k=v,k=v` → dynamic config for the dev server (numbers and booleans parsed). */
export function serverConfigArg(v: string | undefined): Record<string, string | number | boolean> | undefined {
  if (!v) return undefined;
  return Object.fromEntries(v.split(',').filter(Boolean).map((kv) => {
    const [k, raw = ''] = kv.split('=');
    const val = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
    return [k!, val];
  }));
}

/** `2 CPUs, load average 1.23 0.98 0.75`: benchmarks on a shared box need this beside their numbers. */
export function machineLine(): string {
  return `${cpus().length} CPUs, load average ${loadavg().map((x) => x.toFixed(2)).join(' ')}`;
}
