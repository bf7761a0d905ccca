import { z } from 'zod';

/** What an artifact holds. Datasets and reports are Arrow IPC files; models and checkpoints are binary bundles. */
export const ArtifactKind = z.enum([
  'dataset',
  'quarantine',
  'problem',
  'labelQueue',
  'model',
  'checkpoint',
  'report',
  'blob',
]);
export type ArtifactKind = z.infer<typeof ArtifactKind>;

export const Sha256 = z.string().regex(/^[0-9a-f]{64}$/, 'expected a lower-case hex sha256');

/** One column of an Arrow table, as carried in a reference (the full Arrow schema lives in the file). */
export const ColumnRef = z.object({ name: z.string(), type: z.string() });
export type ColumnRef = z.infer<typeof ColumnRef>;

/**
 * A small, durable pointer to bytes in the content-addressed artifact store. This — never the data — is what
 * workflow history carries between stages.
 */
export const ArtifactRef = z.object({
  uri: z.string().min(1),
  sha256: Sha256,
  kind: ArtifactKind,
  bytes: z.number().int().nonnegative(),
  rows: z.number().int().nonnegative().optional(),
  columns: z.array(ColumnRef).optional(),
  /** Human label, e.g. `sentiment/train`; not part of the identity. */
  name: z.string().optional(),
});
export type ArtifactRef = z.infer<typeof ArtifactRef>;
