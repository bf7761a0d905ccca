import { z } from 'zod';

/**
 * Where a project's records come from. Paths are relative to the pipeline file's directory (or absolute);
 * `package:<name>/<path>` resolves inside an installed npm package.
 */
const Path = z
  .string()
  .min(1)
  .refine((p) => !p.includes('\0'), 'path contains a NUL byte');

/** Map raw label values (e.g. 0/1) to the project's label names. */
const LabelMap = z.record(z.string(), z.string()).optional();

export const CsvSource = z.object({
  format: z.literal('csv'),
  path: Path,
  textColumn: z.string().default('text'),
  labelColumn: z.string().optional(),
  delimiter: z.string().length(1).default(','),
  labelMap: LabelMap,
});
export const JsonSource = z.object({
  format: z.enum(['json', 'jsonl']),
  path: Path,
  textField: z.string().default('text'),
  labelField: z.string().optional(),
  labelMap: LabelMap,
});
/** CoNLL-style: one `token<TAB or space>tag` per line, blank line between sentences. */
export const ConllSource = z.object({
  format: z.literal('conll'),
  path: Path,
  tokenColumn: z.number().int().nonnegative().default(0),
  tagColumn: z.number().int().default(-1),
});
/** Brown corpus `word/tag` files; a directory means every file in it. */
export const BrownSource = z.object({
  format: z.literal('brown'),
  path: Path,
  /** Only files whose name matches (e.g. `^c[a-r]\\d\\d$`). */
  filePattern: z.string().optional(),
  /** Map the full Brown tag to a coarse tag set; `universal` maps to the 12 universal POS tags. */
  tagset: z.enum(['brown', 'universal']).default('universal'),
  maxSentences: z.number().int().positive().optional(),
});
/**
 * A directory of text files, one record each (e.g. e-mails). The label comes from the first folder under `path`
 * mapped through `labelFromFolder` (regex → label). Each new file that appears is new data.
 */
export const DirectorySource = z.object({
  format: z.literal('directory'),
  path: Path,
  filePattern: z.string().optional(),
  labelFromFolder: z.record(z.string(), z.string()).optional(),
  /**
   * What each file holds. `text`: one record, the whole file. `email`: one record, an RFC 822 message reduced to its
   * Subject and body text (MIME parts decoded, HTML stripped, routing headers dropped). `csv`/`json`/`jsonl`/`conll`:
   * many records in that format.
   */
  inner: z.enum(['text', 'email', 'csv', 'json', 'jsonl', 'conll']).default('text'),
  maxBytesPerFile: z.number().int().positive().default(1_000_000),
  /**
   * Text encoding of the files. `utf-8` rejects invalid bytes (quarantine); `utf-8-or-latin1` decodes files that are
   * not valid UTF-8 as ISO-8859-1, as old e-mail is (each such file is counted). With `inner: 'email'` each MIME
   * part is decoded with its declared charset and this applies only to parts that declare none.
   */
  encoding: z.enum(['utf-8', 'latin1', 'utf-8-or-latin1']).default('utf-8'),
  /** Continual learning: new files appearing in this directory count as arrivals for the project. */
  watch: z.boolean().default(false),
});

export const SourceSpec = z.discriminatedUnion('format', [CsvSource, JsonSource, ConllSource, BrownSource, DirectorySource]);
export type SourceSpec = z.infer<typeof SourceSpec>;
