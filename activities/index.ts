// Every activity the workers register, by name. Workflows import only the *types* of this module.
export { lookupStageCache, recordStageCache, currentChampion } from './stage-cache.ts';
export { defineProblem } from './define-problem.ts';
export { collect } from './collect.ts';
export { label } from './label.ts';
export { train } from './train.ts';
export { evaluate } from './evaluate.ts';
export { promote } from './promote.ts';
export { scanWatchedSources, requestRetrain } from './continual.ts';
