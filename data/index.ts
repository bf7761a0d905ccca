export { broadloomHome } from './home.ts';
export { sha256Hex, canonicalJson } from './hash.ts';
export { atomicWrite } from './atomic.ts';
export type { WriteHook, AtomicWriteOptions } from './atomic.ts';
export {
  ArtifactStore,
  ArtifactRefError,
  ArtifactMissingError,
  ArtifactCorruptError,
  artifactUri,
  parseArtifactUri,
  validateArtifactName,
  ARTIFACT_URI_PREFIX,
} from './artifact-store.ts';
export type { PutMeta, ArtifactStoreOptions } from './artifact-store.ts';
export { StageCache, cacheKey, referencedArtifacts } from './stage-cache.ts';
export type { CacheKeyInput, CacheLookup } from './stage-cache.ts';
export { rowsToTable, tableToRows, arrowSchemaFor, tableSchemaName, SCHEMA_METADATA_KEY } from './arrow-rows.ts';
export type { RowSchemaName, FlatRecord, FlatValue } from './arrow-rows.ts';
export { collectProject, ingestFile, recordId, splitFor, DataQualityError } from './collect.ts';
export type { CollectOptions, CollectResult, CollectStats, CollectProgress, SourceStats, IngestOptions, IngestResult } from './collect.ts';
export { ModelRegistry, formatVersion, VERSION_RE } from './registry.ts';
export type { VersionStatus, VersionState, PromotionDecision, RegistryEntry } from './registry.ts';
export * from './readers/index.ts';
