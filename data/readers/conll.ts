import type { z } from 'zod';
import type { ConllSource } from '../../schemas/source.ts';
import { assertSourceFile, clip, limitsOf, readLines, resolveSourcePath } from './common.ts';
import type { ReadContext, ReaderLimits, ReadItem } from './common.ts';

/** Accepts the schema input (defaults optional) as well as parsed specs. */
export type ConllSourceSpec = z.input<typeof ConllSource>;

export interface ConllOptions {
  tokenColumn: number;
  /** Negative counts from the end (-1 = last column). */
  tagColumn: number;
}

/**
 * CoNLL-style files: one `token<TAB or spaces>tag` per line (tab-separated when the line has a tab, else whitespace),
 * blank line between sentences, `-DOCSTART-` lines skipped. `row` = line number of the sentence's first token.
 * A line without a tag column makes the sentence one error (token/tag count mismatch).
 */
export async function* readConllFile(file: string, display: string, opts: ConllOptions, limits: ReaderLimits): AsyncGenerator<ReadItem> {
  let tokens: string[] = [];
  let tags: string[] = [];
  let start = 0;
  let bytes = 0;
  let problem: { field: string; reason: string } | null = null;
  let rawLines: string[] = [];
  let latin1 = false;

  const flush = function* (): Generator<ReadItem> {
    if (tokens.length === 0 && problem === null) return;
    const raw = clip(rawLines.join('\n'));
    const item: ReadItem = problem ? { row: start, file: display, error: { ...problem, raw } } : { row: start, file: display, record: { tokens, tags } };
    if (latin1) item.latin1 = true;
    yield item;
    latin1 = false;
    tokens = [];
    tags = [];
    rawLines = [];
    bytes = 0;
    problem = null;
  };

  for await (const ln of readLines(file, limits.maxLineBytes, limits.encoding)) {
    if (ln.error) {
      if (tokens.length === 0 && problem === null) start = ln.line;
      problem ??= { field: ln.error.field, reason: ln.error.reason };
      rawLines.push(ln.error.raw);
      continue;
    }
    const line = ln.text!;
    if (line.trim() === '') {
      yield* flush();
      continue;
    }
    const cols = line.includes('\t') ? line.split('\t').map((c) => c.trim()) : line.trim().split(/\s+/);
    if (cols[0] === '-DOCSTART-') continue;
    if (ln.latin1) latin1 = true;
    if (tokens.length === 0 && problem === null) start = ln.line;
    if (rawLines.length < 200) rawLines.push(line);
    bytes += line.length;
    if (problem) continue;
    if (bytes > limits.maxRecordBytes) {
      problem = { field: '(record)', reason: `sentence starting at line ${start} is over the ${limits.maxRecordBytes}-byte record limit` };
      continue;
    }
    const at = (i: number) => (i < 0 ? cols[cols.length + i] : cols[i]);
    const tok = at(opts.tokenColumn);
    const tagIdx = opts.tagColumn < 0 ? cols.length + opts.tagColumn : opts.tagColumn;
    const tag = at(opts.tagColumn);
    if (tok === undefined || tok === '') {
      problem = { field: 'tokens', reason: `line ${ln.line} has no token in column ${opts.tokenColumn}` };
      continue;
    }
    const tokIdx = opts.tokenColumn < 0 ? cols.length + opts.tokenColumn : opts.tokenColumn;
    if (cols.length < 2 || tag === undefined || tag === '' || tagIdx === tokIdx) {
      problem = {
        field: 'tags',
        reason: `token/tag count mismatch: line ${ln.line} has ${cols.length} column(s), no tag (sentence has ${tokens.length + 1} tokens, ${tags.length} tags)`,
      };
      continue;
    }
    tokens.push(tok);
    tags.push(tag);
  }
  yield* flush();
}

export async function* readConll(spec: ConllSourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  const file = resolveSourcePath(spec.path, ctx.baseDir, `conll:${spec.path}`);
  await assertSourceFile(file, `conll:${spec.path}`);
  yield* readConllFile(file, spec.path, { tokenColumn: spec.tokenColumn ?? 0, tagColumn: spec.tagColumn ?? -1 }, limitsOf(ctx));
}
