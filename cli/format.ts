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
