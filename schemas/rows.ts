import { z } from 'zod';

export const Split = z.enum(['train', 'dev', 'test']);
export type Split = z.infer<typeof Split>;

/** A record of a sequence-classification project (one text, one label). `id` is the sha256 of the content. */
export const TextRow = z.object({
  id: z.string(),
  text: z.string().min(1, 'empty text'),
  label: z.string().nullable(),
  source: z.string(),
  split: Split,
});
export type TextRow = z.infer<typeof TextRow>;

/** A record of a token-classification project (tokens with one tag each). */
export const TokenRow = z
  .object({
    id: z.string(),
    tokens: z.array(z.string().min(1, 'empty token')).min(1, 'no tokens'),
    tags: z.array(z.string()).nullable(),
    source: z.string(),
    split: Split,
  })
  .refine((r) => r.tags === null || r.tags.length === r.tokens.length, {
    message: 'token/tag count mismatch',
    path: ['tags'],
  });
export type TokenRow = z.infer<typeof TokenRow>;

/** A record of either kind, as stored in a project's datasets. */
export type DatasetRow = TextRow | TokenRow;

/** A row that failed validation, kept with its position and reason — never silently dropped. */
export const QuarantineRow = z.object({
  source: z.string(),
  row: z.number().int(),
  field: z.string(),
  reason: z.string(),
  raw: z.string(),
});
export type QuarantineRow = z.infer<typeof QuarantineRow>;
