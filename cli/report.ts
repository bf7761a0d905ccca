/** Following a run in the terminal, and the end-of-run report: per-project metrics and the promotion decision. */
import type { PipelineRunResult } from '../workflows/definitions.ts';
import { temporalSettings, workflowUiUrl } from '../workers/connection.ts';
import { watchRun, type BroadloomClient } from './runs.ts';
import { stageLine } from './format.ts';

/** Print the run's Web UI link, then each stage as it changes, then the report; 0 when it completed, else 1. */
export async function followRun(c: BroadloomClient, workflowId: string, detach = false): Promise<number> {
  console.log(`▶ ${workflowId}\n  Web UI: ${workflowUiUrl(temporalSettings(), workflowId)}`);
  if (detach) return 0;
  const { result, error } = await watchRun(c.client.workflow.getHandle(workflowId), (st) => {
    if (st.status !== 'pending') console.log(stageLine(st));
  });
  if (error) {
    console.error(`✗ ${workflowId} failed: ${(error.cause as Error | undefined)?.message ?? error.message}`);
    return 1;
  }
  await printRunReport(result!);
  console.log(`✓ ${workflowId} completed`);
  return 0;
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
