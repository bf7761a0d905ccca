// Every workflow the workers register. Workflow code is bundled for Temporal's deterministic sandbox.
export { pipelineWorkflow } from './pipeline.ts';
export { continualWorkflow } from './continual.ts';
export { scheduledRetrainWorkflow } from './scheduled.ts';
