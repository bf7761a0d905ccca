import type { z } from 'zod';
import type { CsvSource } from '../../schemas/source.ts';
import { assertSourceFile, clip, limitsOf, normaliseLabel, readLines, resolveSourcePath, SourceError } from './common.ts';
import type { ReadContext, ReaderLimits, ReadItem } from './common.ts';

/** Accepts the schema input (defaults optional) as well as parsed specs. */
export type CsvSourceSpec = z.input<typeof CsvSource>;

export interface CsvOptions {
  textColumn: string;
  labelColumn?: string | undefined;
  delimiter: string;
  labelMap?: Record<string, string> | undefined;
  /** Directory sources: the label from the folder wins over any label column. */
  fixedLabel?: string | null | undefined;
}

type FeedResult = { kind: 'fields'; fields: string[] } | { kind: 'more' } | { kind: 'error'; reason: string };

/** Incremental RFC 4180 record parser, fed one line at a time (quoted fields may span lines). */
class CsvRecordParser {
  private fields: string[] = [];
  private cur = '';
  private inQuotes = false;
  private afterQuote = false;
  private fieldStart = true;
  constructor(private readonly delim: string) {}

  reset(): void {
    this.fields = [];
    this.cur = '';
    this.inQuotes = false;
    this.afterQuote = false;
    this.fieldStart = true;
  }

  feed(line: string): FeedResult {
    const d = this.delim;
    for (let i = 0; i < line.length; i++) {
      const c = line[i]!;
      if (this.inQuotes) {
        if (c === '"') {
          if (line[i + 1] === '"') {
            this.cur += '"';
            i++;
          } else {
            this.inQuotes = false;
            this.afterQuote = true;
          }
        } else this.cur += c;
      } else if (c === d) {
        this.fields.push(this.cur);
        this.cur = '';
        this.afterQuote = false;
        this.fieldStart = true;
      } else if (this.afterQuote) {
        return { kind: 'error', reason: `unexpected ${JSON.stringify(c)} after a closing quote in field ${this.fields.length + 1}` };
      } else if (c === '"') {
        if (!this.fieldStart) return { kind: 'error', reason: `stray quote inside unquoted field ${this.fields.length + 1}` };
        this.inQuotes = true;
        this.fieldStart = false;
      } else {
        this.cur += c;
        this.fieldStart = false;
      }
    }
    if (this.inQuotes) {
      this.cur += '\n';
      return { kind: 'more' };
    }
    this.fields.push(this.cur);
    const fields = this.fields;
    this.reset();
    return { kind: 'fields', fields };
  }
}

/**
 * Read one CSV file (RFC 4180: header row, quoted fields, `""` escapes, embedded newlines). `row` = the line number
 * where the record starts (the header is line 1). A broken record is one error item; parsing resumes at the next line,
 * so an unbalanced quote costs one record, not the rest of the file.
 */
export async function* readCsvFile(file: string, display: string, opts: CsvOptions, limits: ReaderLimits): AsyncGenerator<ReadItem> {
  const parser = new CsvRecordParser(opts.delimiter);
  let header: string[] | null = null;
  let textIdx = -1;
  let labelIdx = -1;
  // Lines of the record being assembled, so a broken multi-line record can be re-read from its second line.
  type PendingLine = { line: number; text: string; latin1?: true | undefined };
  let pending: PendingLine[] = [];
  let pendingBytes = 0;
  const replay: PendingLine[] = [];

  const onFields = function* (startLine: number, fields: string[], raw: string, latin1: boolean): Generator<ReadItem> {
    if (header === null) {
      header = fields.map((h) => h.trim());
      textIdx = header.indexOf(opts.textColumn);
      if (textIdx < 0) throw new SourceError(`${display}: text column "${opts.textColumn}" is not in the header (${header.join(', ')})`);
      if (opts.labelColumn !== undefined && opts.fixedLabel === undefined) {
        labelIdx = header.indexOf(opts.labelColumn);
        if (labelIdx < 0) throw new SourceError(`${display}: label column "${opts.labelColumn}" is not in the header (${header.join(', ')})`);
      }
      return;
    }
    if (fields.length === 1 && fields[0] === '' ) return; // blank line
    if (fields.length !== header.length) {
      yield { row: startLine, file: display, error: { field: '(record)', reason: `expected ${header.length} fields, found ${fields.length}`, raw: clip(raw) } };
      return;
    }
    let label: string | null = null;
    if (opts.fixedLabel !== undefined) label = opts.fixedLabel;
    else if (labelIdx >= 0) {
      const l = normaliseLabel(fields[labelIdx], opts.labelMap);
      if ('error' in l) {
        yield { row: startLine, file: display, error: { field: opts.labelColumn ?? 'label', reason: l.error, raw: clip(raw) } };
        return;
      }
      label = l.label;
    }
    const item: ReadItem = { row: startLine, file: display, record: { text: fields[textIdx]!, label } };
    if (latin1) item.latin1 = true;
    yield item;
  };

  const process = function* (ln: PendingLine): Generator<ReadItem> {
    pending.push(ln);
    pendingBytes += ln.text.length;
    const r = parser.feed(ln.text);
    if (r.kind === 'more') {
      if (pendingBytes > limits.maxRecordBytes) yield* broken(`quoted field runs past the ${limits.maxRecordBytes}-byte record limit`);
      return;
    }
    const startLine = pending[0]!.line;
    const raw = pending.map((p) => p.text).join('\n');
    const latin1 = pending.some((p) => p.latin1);
    if (r.kind === 'error') {
      yield* broken(r.reason);
      return;
    }
    pending = [];
    pendingBytes = 0;
    yield* onFields(startLine, r.fields, raw, latin1);
  };

  /** Report the record starting at pending[0] as broken and queue its later lines to be parsed again. */
  const broken = function* (reason: string): Generator<ReadItem> {
    const first = pending[0]!;
    parser.reset();
    replay.unshift(...pending.slice(1));
    pending = [];
    pendingBytes = 0;
    if (header === null) throw new SourceError(`${display}: header row (line ${first.line}) is malformed: ${reason}`);
    yield { row: first.line, file: display, error: { field: '(record)', reason: `malformed CSV at line ${first.line}: ${reason}`, raw: clip(first.text) } };
  };

  const drain = function* (): Generator<ReadItem> {
    while (replay.length > 0) yield* process(replay.shift()!);
  };

  for await (const ln of readLines(file, limits.maxLineBytes, limits.encoding)) {
    if (ln.error) {
      if (pending.length > 0) yield* broken(`record interrupted by a bad line ${ln.line}`);
      yield* drain();
      parser.reset();
      pending = [];
      pendingBytes = 0;
      if (header === null) throw new SourceError(`${display}: header row: ${ln.error.reason}`);
      yield { row: ln.line, file: display, error: ln.error };
      continue;
    }
    yield* process({ line: ln.line, text: ln.text!, latin1: ln.latin1 });
    yield* drain();
  }
  while (pending.length > 0) {
    yield* broken('unterminated quoted field at end of file');
    yield* drain();
  }
  // An empty file (no header) simply has no records.
}

export async function* readCsv(spec: CsvSourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  const file = resolveSourcePath(spec.path, ctx.baseDir, `csv:${spec.path}`);
  await assertSourceFile(file, `csv:${spec.path}`);
  yield* readCsvFile(
    file,
    spec.path,
    { textColumn: spec.textColumn ?? 'text', labelColumn: spec.labelColumn, delimiter: spec.delimiter ?? ',', labelMap: spec.labelMap },
    limitsOf(ctx),
  );
}
