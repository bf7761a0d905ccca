/** Following a run in the terminal, and the end-of-run report: per-project metrics and the promotion decision. */
import type { WorkflowHandle } from '@temporalio/client';
import type { PipelineRunResult } from '../workflows/definitions.ts';
import { temporalSettings, workflowUiUrl } from '../workers/connection.ts';
import { watchRun, type BroadloomClient } from './runs.ts';
import { progressLine, stageLine } from './format.ts';

/** Print the run's Web UI link, then each stage as it changes, then the report; 0 when it completed, else 1. */
export async function followRun(c: BroadloomClient, workflowId: string, detach = false): Promise<number> {
  console.log(`▶ ${workflowId}\n  Web UI: ${workflowUiUrl(temporalSettings(), workflowId)}`);
  if (detach) return 0;
  const handle = c.client.workflow.getHandle(workflowId);
  const lastProgress = new Map<string, string>();
  const progress = setInterval(() => void printProgress(c, handle, lastProgress), PROGRESS_EVERY_MS);
  const { result, error } = await watchRun(handle, (st) => {
    if (st.status !== 'pending') console.log(stageLine(st));
  }).finally(() => clearInterval(progress));
  if (error) {
    console.error(`✗ ${workflowId} failed: ${(error.cause as Error | undefined)?.message ?? error.message}`);
    return 1;
  }
  await printRunReport(result!);
  console.log(`✓ ${workflowId} completed`);
  return 0;
}

const PROGRESS_EVERY_MS = 15_000;

/** Long stages show progress: the latest heartbeat of each running activity, when it changed since `lastProgress`. */
async function printProgress(c: BroadloomClient, handle: WorkflowHandle, lastProgress: Map<string, string>): Promise<void> {
  try {
    const d = await handle.describe();
    for (const a of d.raw.pendingActivities ?? []) {
      const payload = a.heartbeatDetails?.payloads?.[0];
      if (!payload || !a.activityId) continue;
      const details = c.client.options.loadedDataConverter.payloadConverter.fromPayload(payload);
      const line = progressLine(a.activityId, details, a.attempt ?? 1);
      if (line && lastProgress.get(a.activityId) !== line) {
        lastProgress.set(a.activityId, line);
        console.log(line);
      }
    }
  } catch {
    /* describe can fail while the server restarts; the next tick tries again */
  }
}

export async function printRunReport(result: PipelineRunResult): Promise<void> {
  const evals = result.stages.filter((s) => s.activity === 'evaluate' && s.result);
  if (evals.length) {
    console.log('\n  project        metric            candidate   champion');
    for (const s of evals) {
      const f = s.result!.facts as { metric?: string; candidate?: number; champion?: number | null };
      console.log(`  ${(s.project ?? '').padEnd(14)} ${(f.metric ?? '').padEnd(17)} ${fmt(f.candidate).padStart(9)}   ${fmt(f.champion).padStart(8)}`);
    }
  }
  const p = result.promotion as { decision?: string; version?: string; reason?: string } | null;
  if (p?.decision) console.log(`\n  promotion: ${p.decision}${p.version ? ` (${p.version})` : ''}${p.reason ? ` — ${p.reason}` : ''}\n`);
}

const fmt = (v: number | null | undefined) => (typeof v === 'number' ? v.toFixed(4) : '—');
