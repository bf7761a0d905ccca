/** The end-of-run report: per-project metrics and the promotion decision. */
import type { PipelineRunResult } from '../workflows/definitions.ts';

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
