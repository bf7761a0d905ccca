import type { SourceSpec } from '../../schemas/source.ts';
import type { ReadContext, ReadItem } from './common.ts';
import { readCsv } from './csv.ts';
import { readJson } from './json.ts';
import { readConll } from './conll.ts';
import { readBrown } from './brown.ts';
import { readDirectory } from './directory.ts';

export * from './common.ts';
export { readCsv, readCsvFile } from './csv.ts';
export type { CsvOptions } from './csv.ts';
export { readJson, readJsonlFile, readJsonArrayFile, jsonDepthExceeds } from './json.ts';
export type { JsonOptions } from './json.ts';
export { readConll, readConllFile } from './conll.ts';
export type { ConllOptions } from './conll.ts';
export { readBrown, readBrownFile, brownToUniversal, UNIVERSAL_TAGS } from './brown.ts';
export type { UniversalTag } from './brown.ts';
export { readDirectory, readDirectoryFile, listFiles, labelForFile } from './directory.ts';

/** A short, stable name for a source: `<format>:<path as written>`. */
export function sourceLabel(spec: SourceSpec): string {
  return `${spec.format}:${spec.path}`;
}

/** Read any source. Config problems (bad path, traversal, missing column) throw SourceError; bad records are items. */
export function readSource(spec: SourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  switch (spec.format) {
    case 'csv':
      return readCsv(spec, ctx);
    case 'json':
    case 'jsonl':
      return readJson(spec, ctx);
    case 'conll':
      return readConll(spec, ctx);
    case 'brown':
      return readBrown(spec, ctx);
    case 'directory':
      return readDirectory(spec, ctx);
  }
}
