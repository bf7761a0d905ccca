// Every activity the workers register, by name. Workflows import only the *types* of this module.
export { lookupStageCache, recordStageCache } from './stage-cache.ts';
