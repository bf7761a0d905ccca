/**
 * What a pipeline's Temporal Schedule starts: a short workflow that asks the pipeline's continual workflow for a
 * retraining (starting it if needed), so scheduled and data-driven retrainings never run at the same time.
 */
import { proxyActivities } from '@temporalio/workflow';
import type * as activities from '../activities/index.ts';
import type { PipelineSpec } from '../schemas/pipeline.ts';

const { requestRetrain } = proxyActivities<typeof activities>({ startToCloseTimeout: '1m', retry: { maximumAttempts: 5 } });

export async function scheduledRetrainWorkflow(input: { spec: PipelineSpec; reason?: string }): Promise<string> {
  return requestRetrain({ spec: input.spec, reason: input.reason ?? 'scheduled re-fine-tuning' });
}
