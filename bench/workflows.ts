/**
 * Workflows for bench/run.ts, bundled on their own: the real DAG interpreter and a bare baseline that calls the
 * same no-op activity n times in sequence with the same options, no cache lookups, no stage bookkeeping.
 */
import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { StageInput, StageResult } from '../schemas/stage.ts';

export { pipelineWorkflow } from '../workflows/pipeline.ts';

export interface BareInput {
  n: number;
  taskQueue: string;
}

export async function bareWorkflow({ n, taskQueue }: BareInput): Promise<number> {
  const { noop } = proxyActivities<{ noop(input: StageInput): Promise<StageResult> }>({
    taskQueue,
    startToCloseTimeout: '10m',
    retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s' },
  });
  let prev: StageResult | null = null;
  for (let i = 0; i < n; i++) {
    const id = `s${String(i).padStart(3, '0')}`;
    const stage: StageInput['stage'] = {
      id, activity: 'noop', after: prev ? [`s${String(i - 1).padStart(3, '0')}`] : [], config: { i },
      codeVersion: 'unversioned',
      options: {
        taskQueue, startToCloseTimeout: '10m', cache: true,
        retry: { maximumAttempts: 3, initialInterval: '1s', backoffCoefficient: 2, maximumInterval: '30s', nonRetryableErrorTypes: [] },
      },
    };
    prev = await noop({
      pipeline: 'bare', runId: workflowInfo().workflowId, stage, upstream: prev ? { [stage.after[0]!]: prev } : {}, cacheKey: '',
    });
  }
  return n;
}
