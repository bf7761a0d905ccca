/** Terminal rendering of stage states and run summaries. */
import type { StageState } from '../schemas/stage.ts';

const ICON: Record<StageState['status'], string> = {
  pending: '·', running: '▶', cached: '↺', done: '✓', failed: '✗', skipped: '–',
};

function seconds(s: StageState): string {
  if (!s.startedAt || !s.endedAt) return '';
  return `${((Date.parse(s.endedAt) - Date.parse(s.startedAt)) / 1000).toFixed(1)}s`;
}

export function stageLine(s: StageState, width = 22): string {
  const detail = s.status === 'failed' ? s.error ?? '' : s.status === 'cached' ? `cache hit · ${s.result?.summary ?? ''}` : s.result?.summary ?? '';
  return `  ${ICON[s.status]} ${s.id.padEnd(width)} ${s.status.padEnd(8)} ${seconds(s).padStart(7)}  ${detail}`.trimEnd();
}

export function stageTable(states: StageState[]): string {
  const width = Math.max(10, ...states.map((s) => s.id.length));
  return states.map((s) => stageLine(s, width)).join('\n');
}

/**
 * One line for a running stage's latest heartbeat: training step, losses and speed; rows read while collecting;
 * otherwise the details' scalar fields. References (checkpoints, cache keys) are left out.
 */
export function progressLine(stageId: string, details: unknown, attempt = 1, width = 22): string | null {
  if (!details || typeof details !== 'object') return null;
  const d = details as Record<string, unknown>;
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
  const parts: string[] = [];
  if (num(d.step) !== null) {
    parts.push(`step ${d.step}${num(d.totalSteps) !== null ? `/${d.totalSteps}` : ''}`);
    const losses = d.lossPerTask && typeof d.lossPerTask === 'object' ? Object.entries(d.lossPerTask as Record<string, unknown>) : [];
    if (losses.length) parts.push(`loss ${losses.map(([p, l]) => `${p} ${num(l)?.toFixed(3) ?? '?'}`).join(', ')}`);
    if (num(d.tokensPerSecond) !== null) parts.push(`${Math.round(d.tokensPerSecond as number)} tokens/s`);
  } else {
    for (const [k, v] of Object.entries(d)) {
      if (k === 'cacheKey' || k === 'checkpoint') continue;
      if (typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') parts.push(`${k} ${v}`);
    }
  }
  if (!parts.length) return null;
  return `  … ${stageId.padEnd(width)} ${'running'.padEnd(8)} ${''.padStart(7)}  ${parts.join(' · ')}${attempt > 1 ? ` (attempt ${attempt})` : ''}`;
}
