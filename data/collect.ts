import fs from 'node:fs/promises';
import path from 'node:path';
import { ProjectSpec } from '../schemas/project.ts';
import { TextRow, TokenRow } from '../schemas/rows.ts';
import type { QuarantineRow, Split } from '../schemas/rows.ts';
import type { ArtifactRef } from '../schemas/artifact.ts';
import type { SourceSpec } from '../schemas/source.ts';
import type { ArtifactStore } from './artifact-store.ts';
import { rowsToTable } from './arrow-rows.ts';
import { sha256Hex } from './hash.ts';
import { clip, limitsOf, resolveSourcePath, SourceError } from './readers/common.ts';
import type { ReaderLimits, ReadItem, ReadRecord } from './readers/common.ts';
import { readSource, sourceLabel } from './readers/index.ts';
import { readCsvFile } from './readers/csv.ts';
import { readJsonArrayFile, readJsonlFile } from './readers/json.ts';
import { readConllFile } from './readers/conll.ts';
import { readBrownFile } from './readers/brown.ts';
import { compileLabelRules, readDirectoryFile } from './readers/directory.ts';

/**
 * Counting rules (all invariants are tested):
 *   read        = every item the readers yielded (records + reader errors)
 *   quarantined = reader errors + records failing validation (schema, empty text, unknown label/tag)
 *   good        = read − quarantined  (valid records, duplicates included)
 *   duplicates  = good records whose content id was already seen (first occurrence wins)  ⊆ good
 *   unique      = good − duplicates
 *   capped      = unique records dropped by maxRecords (deterministic by hash)
 *   kept        = unique − capped = train + dev + test
 *   labelConflicts = duplicates whose label differs from the kept occurrence's (counted inside duplicates)
 *   badShare    = quarantined / read  (collect fails when > project.maxBadShare)
 *   latin1Fallbacks = items decoded as ISO-8859-1 because they were not UTF-8 (directory `encoding: utf-8-or-latin1`);
 *                 informational, counted inside read (and good/quarantined as they turned out)
 */
export interface CollectStats {
  read: number;
  good: number;
  quarantined: number;
  duplicates: number;
  unique: number;
  capped: number;
  kept: number;
  labelConflicts: number;
  latin1Fallbacks: number;
  train: number;
  dev: number;
  test: number;
  badShare: number;
}

export interface SourceStats {
  source: string;
  read: number;
  good: number;
  quarantined: number;
  duplicates: number;
  latin1Fallbacks: number;
}

export interface CollectProgress {
  project: string;
  source: string;
  read: number;
  good: number;
  quarantined: number;
}

export interface CollectOptions {
  /** Relative source paths resolve against this directory (the pipeline file's directory). */
  baseDir: string;
  store: ArtifactStore;
  /** Called every `progressEvery` items and at the end of each source (use it to heartbeat). */
  onProgress?: (p: CollectProgress) => void;
  progressEvery?: number;
  limits?: Partial<ReaderLimits>;
  /** Abort between records (e.g. a Temporal activity's cancellation signal); throws the signal's reason. */
  signal?: AbortSignal;
}

export interface CollectResult {
  train: ArtifactRef;
  dev: ArtifactRef;
  test: ArtifactRef;
  quarantine: ArtifactRef;
  stats: CollectStats;
  perSource: SourceStats[];
}

export interface IngestOptions {
  /** Default: process.cwd(). */
  baseDir?: string;
  /** Which project source's format/options apply (index into project.sources, or a spec). Default: inferred. */
  source?: number | SourceSpec;
  /** Ids already in the dataset: records with these ids count as duplicates. */
  knownIds?: Iterable<string>;
  limits?: Partial<ReaderLimits>;
}

export interface IngestResult {
  /** New rows (all splits, `split` column set) of the project's row schema. */
  dataset: ArtifactRef;
  quarantine: ArtifactRef;
  stats: CollectStats;
  /** Ids of the new rows (to pass as `knownIds` next time). */
  ids: string[];
}

/** Too many bad rows (or none at all). The quarantine artifact is already written: inspect it. */
export class DataQualityError extends Error {
  override name = 'DataQualityError';
  constructor(
    message: string,
    readonly stats: CollectStats,
    readonly quarantine: ArtifactRef | null,
  ) {
    super(message);
  }
}

type Row = TextRow | TokenRow;

/** Normalised content → id. Text: NFC, trimmed, whitespace runs collapsed. Tokens: NFC tokens joined by U+001F. */
export function recordId(record: ReadRecord): string {
  if ('text' in record) return sha256Hex(`text\u0000${record.text.normalize('NFC').trim().replace(/\s+/gu, ' ')}`);
  return sha256Hex(`tokens\u0000${record.tokens.map((t) => t.normalize('NFC')).join('\u001f')}`);
}

/** A uniform number in [0,1) from an id and a purpose, independent per purpose. */
function unit(purpose: string, id: string): number {
  return parseInt(sha256Hex(`${purpose}\u0000${id}`).slice(0, 13), 16) / 2 ** 52;
}

/** Deterministic split from the record id alone: adding data never moves an existing record. */
export function splitFor(id: string, split: { dev: number; test: number }): Split {
  const u = unit('split', id);
  if (u < split.test) return 'test';
  if (u < split.test + split.dev) return 'dev';
  return 'train';
}

function issuesOf(err: { issues: { path: PropertyKey[]; message: string }[] }): { field: string; reason: string } {
  const first = err.issues[0];
  return { field: first ? first.path.map(String).join('.') || '(record)' : '(record)', reason: err.issues.map((i) => i.message).join('; ') };
}

/** Validates, quarantines, dedups and counts; shared by collectProject and ingestFile. */
class Collector {
  readonly stats: CollectStats = { read: 0, good: 0, quarantined: 0, duplicates: 0, unique: 0, capped: 0, kept: 0, labelConflicts: 0, latin1Fallbacks: 0, train: 0, dev: 0, test: 0, badShare: 0 };
  readonly perSource = new Map<string, SourceStats>();
  readonly quarantine: QuarantineRow[] = [];
  readonly rows: Row[] = [];
  private readonly seen = new Map<string, string>();
  private readonly labels: Set<string>;
  private readonly kind: ProjectSpec['task']['kind'];

  constructor(
    readonly project: ProjectSpec,
    knownIds: Iterable<string> = [],
  ) {
    this.labels = new Set(project.task.labels);
    this.kind = project.task.kind;
    for (const id of knownIds) this.seen.set(id, '\u0000known');
  }

  private sourceStats(label: string): SourceStats {
    let s = this.perSource.get(label);
    if (!s) this.perSource.set(label, (s = { source: label, read: 0, good: 0, quarantined: 0, duplicates: 0, latin1Fallbacks: 0 }));
    return s;
  }

  private bad(ss: SourceStats, item: ReadItem, field: string, reason: string, raw: string): void {
    ss.quarantined++;
    this.stats.quarantined++;
    this.quarantine.push({ source: item.file, row: item.row, field, reason, raw: clip(raw) });
  }

  add(item: ReadItem, label: string): void {
    const ss = this.sourceStats(label);
    ss.read++;
    this.stats.read++;
    if (item.latin1) {
      ss.latin1Fallbacks++;
      this.stats.latin1Fallbacks++;
    }
    if (item.error || !item.record) {
      const e = item.error ?? { field: '(record)', reason: 'reader yielded neither record nor error', raw: '' };
      this.bad(ss, item, e.field, e.reason, e.raw);
      return;
    }
    const rec = item.record;
    const raw = () => JSON.stringify(rec);
    if (this.kind === 'sequence-classification') {
      if (!('text' in rec)) throw new SourceError(`source ${label} yields token records but project ${this.project.name} is sequence-classification`);
      if (rec.text.trim() === '') return this.bad(ss, item, 'text', 'empty text', raw());
      if (rec.label !== null && !this.labels.has(rec.label))
        return this.bad(ss, item, 'label', `unknown label "${rec.label}" (project ${this.project.name} has: ${[...this.labels].join(', ')})`, raw());
      const id = recordId(rec);
      const row = { id, text: rec.text, label: rec.label, source: item.file, split: splitFor(id, this.project.split) };
      const p = TextRow.safeParse(row);
      if (!p.success) {
        const { field, reason } = issuesOf(p.error);
        return this.bad(ss, item, field, reason, raw());
      }
      this.accept(ss, p.data, rec.label);
    } else {
      if (!('tokens' in rec)) throw new SourceError(`source ${label} yields text records but project ${this.project.name} is token-classification`);
      if (rec.tags !== null) {
        const i = rec.tags.findIndex((t) => !this.labels.has(t));
        if (i >= 0)
          return this.bad(ss, item, 'tags', `unknown tag "${rec.tags[i]}" at token ${i + 1} (project ${this.project.name} has: ${[...this.labels].join(', ')})`, raw());
      }
      const id = recordId(rec);
      const row = { id, tokens: rec.tokens, tags: rec.tags, source: item.file, split: splitFor(id, this.project.split) };
      const p = TokenRow.safeParse(row);
      if (!p.success) {
        const { field, reason } = issuesOf(p.error);
        return this.bad(ss, item, field, reason, raw());
      }
      this.accept(ss, p.data, rec.tags === null ? '' : rec.tags.join(' '));
    }
  }

  private accept(ss: SourceStats, row: Row, labelKey: string | null): void {
    ss.good++;
    this.stats.good++;
    const prev = this.seen.get(row.id);
    if (prev !== undefined) {
      ss.duplicates++;
      this.stats.duplicates++;
      if (prev !== '\u0000known' && prev !== String(labelKey)) this.stats.labelConflicts++;
      return;
    }
    this.seen.set(row.id, String(labelKey));
    this.rows.push(row);
  }

  /** Apply maxRecords, count splits; returns the kept rows in reading order. */
  finish(maxRecords: number | undefined): Row[] {
    const s = this.stats;
    s.unique = this.rows.length;
    let kept = this.rows;
    if (maxRecords !== undefined && kept.length > maxRecords) {
      const keep = new Set(
        kept
          .map((r) => ({ id: r.id, u: unit('keep', r.id) }))
          .sort((a, b) => a.u - b.u || (a.id < b.id ? -1 : 1))
          .slice(0, maxRecords)
          .map((x) => x.id),
      );
      kept = kept.filter((r) => keep.has(r.id));
    }
    s.kept = kept.length;
    s.capped = s.unique - s.kept;
    for (const r of kept) s[r.split]++;
    s.badShare = s.read === 0 ? 0 : s.quarantined / s.read;
    return kept;
  }
}

function schemaNameFor(project: ProjectSpec): 'text' | 'token' {
  return project.task.kind === 'sequence-classification' ? 'text' : 'token';
}

async function writeQuarantine(store: ArtifactStore, project: ProjectSpec, rows: QuarantineRow[], name: string): Promise<ArtifactRef> {
  return store.putTable(rowsToTable(rows, 'quarantine'), { kind: 'quarantine', name });
}

function qualityCheck(project: ProjectSpec, c: Collector, quarantine: ArtifactRef, what: string): void {
  const s = c.stats;
  if (s.read > 0 && s.badShare > project.maxBadShare) {
    const reasons = new Map<string, number>();
    for (const q of c.quarantine) {
      const k = `${q.field}: ${q.reason.replace(/\d+/g, 'N')}`;
      reasons.set(k, (reasons.get(k) ?? 0) + 1);
    }
    const top = [...reasons.entries()].sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, n]) => `${n}× ${k}`);
    const examples = c.quarantine.slice(0, 3).map((q) => `${q.source}:${q.row} ${q.field}: ${q.reason}`);
    throw new DataQualityError(
      `${what}: ${s.quarantined} of ${s.read} rows are bad (${(s.badShare * 100).toFixed(1)}% > maxBadShare ${(project.maxBadShare * 100).toFixed(1)}%). ` +
        `Most common: ${top.join('; ')}. First: ${examples.join(' | ')}. Quarantine artifact: ${quarantine.uri}`,
      { ...s },
      quarantine,
    );
  }
}

/** Records between two macrotask turns while reading sources (see collectProject). */
const YIELD_EVERY = 200;

/**
 * Read every source of a project, validate, quarantine, dedup, cap and split, and write four Arrow artifacts
 * (`<project>/train|dev|test` of TextRow/TokenRow, `<project>/quarantine` of QuarantineRow).
 * Throws DataQualityError when the bad share is over `project.maxBadShare` (after writing the quarantine artifact)
 * or when nothing at all was read; throws SourceError on configuration problems (path, traversal, missing column).
 */
export async function collectProject(projectInput: ProjectSpec, opts: CollectOptions): Promise<CollectResult> {
  const project = ProjectSpec.parse(projectInput);
  const c = new Collector(project);
  const ctx = { baseDir: opts.baseDir, limits: opts.limits };
  const every = opts.progressEvery ?? 1000;
  for (const spec of project.sources) {
    const label = sourceLabel(spec);
    let n = 0;
    const progress = () => {
      const s = c.perSource.get(label);
      opts.onProgress?.({ project: project.name, source: label, read: s?.read ?? 0, good: s?.good ?? 0, quarantined: s?.quarantined ?? 0 });
    };
    opts.signal?.throwIfAborted();
    for await (const item of readSource(spec, ctx)) {
      c.add(item, label);
      if (++n % every === 0) {
        opts.signal?.throwIfAborted();
        progress();
      }
      // Records already in memory come through `for await` as microtasks only; a macrotask turn now and then lets the
      // worker that runs this activity also answer queries and finish workflow tasks while a big source is read.
      if (n % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
    }
    if (!c.perSource.has(label)) c.perSource.set(label, { source: label, read: 0, good: 0, quarantined: 0, duplicates: 0, latin1Fallbacks: 0 });
    progress();
  }
  const kept = c.finish(project.maxRecords);
  await new Promise((r) => setImmediate(r));
  const quarantine = await writeQuarantine(opts.store, project, c.quarantine, `${project.name}/quarantine`);
  if (c.stats.read === 0)
    throw new DataQualityError(`project ${project.name}: its ${project.sources.length} source(s) yielded no records`, { ...c.stats }, quarantine);
  qualityCheck(project, c, quarantine, `project ${project.name}`);
  const schema = schemaNameFor(project);
  const bySplit = { train: [] as Row[], dev: [] as Row[], test: [] as Row[] };
  for (const r of kept) bySplit[r.split].push(r);
  const put = (split: Split) => opts.store.putTable(rowsToTable(bySplit[split], schema), { kind: 'dataset', name: `${project.name}/${split}` });
  return {
    train: await put('train'),
    dev: await put('dev'),
    test: await put('test'),
    quarantine,
    stats: { ...c.stats },
    perSource: [...c.perSource.values()],
  };
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel !== '' && !rel.startsWith('..') && !path.isAbsolute(rel);
}

/** Pick the reader for one new file of a project (continual learning). */
async function readerForFile(project: ProjectSpec, file: string, opts: IngestOptions, limits: ReaderLimits): Promise<{ label: string; items: AsyncGenerator<ReadItem> }> {
  const baseDir = opts.baseDir ?? process.cwd();
  const display = path.basename(file);
  let spec: SourceSpec | undefined = typeof opts.source === 'number' ? project.sources[opts.source] : opts.source;
  if (typeof opts.source === 'number' && !spec) throw new SourceError(`project ${project.name} has no source #${opts.source}`);
  // A file inside a directory/brown source's folder belongs to that source (label from its folder).
  const candidates = spec ? [spec] : project.sources;
  for (const s of candidates) {
    if (s.format !== 'directory' && s.format !== 'brown') continue;
    let root: string;
    try {
      root = resolveSourcePath(s.path, baseDir, sourceLabel(s));
    } catch {
      continue;
    }
    if (!isInside(root, file)) continue;
    const rel = path.relative(root, file).split(path.sep).join('/');
    if (s.format === 'brown') return { label: sourceLabel(s), items: readBrownFile(file, `${s.path}/${rel}`, { tagset: s.tagset ?? 'universal' }, limits) };
    return { label: sourceLabel(s), items: readDirectoryFile(root, rel, s, compileLabelRules(s.labelFromFolder, sourceLabel(s)), limits) };
  }
  const ext = path.extname(file).toLowerCase();
  const byExt = ({ '.csv': 'csv', '.json': 'json', '.jsonl': 'jsonl', '.ndjson': 'jsonl', '.conll': 'conll' } as Record<string, string>)[ext];
  spec ??= project.sources.find((s) => s.format === byExt) ?? project.sources.find((s) => s.format !== 'directory' && s.format !== 'brown');
  const format = byExt ?? spec?.format;
  const label = `ingest:${display}`;
  switch (format) {
    case 'csv': {
      const s = spec?.format === 'csv' ? spec : undefined;
      return { label, items: readCsvFile(file, display, { textColumn: s?.textColumn ?? 'text', labelColumn: s ? s.labelColumn : 'label', delimiter: s?.delimiter ?? ',', labelMap: s?.labelMap }, limits) };
    }
    case 'json':
    case 'jsonl': {
      const s = spec?.format === 'json' || spec?.format === 'jsonl' ? spec : undefined;
      const o = { textField: s?.textField ?? 'text', labelField: s ? s.labelField : 'label', labelMap: s?.labelMap };
      return { label, items: format === 'jsonl' ? readJsonlFile(file, display, o, limits) : readJsonArrayFile(file, display, o, limits) };
    }
    case 'conll': {
      const s = spec?.format === 'conll' ? spec : undefined;
      return { label, items: readConllFile(file, display, { tokenColumn: s?.tokenColumn ?? 0, tagColumn: s?.tagColumn ?? -1 }, limits) };
    }
    case 'brown':
      return { label, items: readBrownFile(file, display, { tagset: spec?.format === 'brown' ? (spec.tagset ?? 'universal') : 'universal' }, limits) };
    default:
      throw new SourceError(`cannot tell how to read ${file} for project ${project.name}: give opts.source`);
  }
}

/**
 * Continual-learning path: one new file → a dataset artifact of its new rows (all splits in one table, `split` set
 * by the same hash rule as collectProject, so a record lands where it always would) + quarantine + stats.
 * Same validation, dedup (also against `knownIds`) and maxBadShare rule as collectProject (maxRecords is not applied).
 * An empty file gives empty artifacts, not an error.
 */
export async function ingestFile(projectInput: ProjectSpec, file: string, store: ArtifactStore, opts: IngestOptions = {}): Promise<IngestResult> {
  const project = ProjectSpec.parse(projectInput);
  const abs = resolveSourcePath(file, opts.baseDir ?? process.cwd(), `ingest:${file}`);
  const st = await fs.stat(abs).catch(() => null);
  if (!st?.isFile()) throw new SourceError(`ingest: ${abs} is not a readable file`);
  const limits = limitsOf(opts);
  const c = new Collector(project, opts.knownIds);
  const { label, items } = await readerForFile(project, abs, opts, limits);
  for await (const item of items) c.add(item, label);
  const kept = c.finish(undefined);
  // eslint-disable-next-line no-control-regex
  const base = `${project.name}/ingest/${path.basename(abs).replace(/[\u0000-\u001f\u007f]/g, '_').slice(0, 120)}`;
  const quarantine = await writeQuarantine(store, project, c.quarantine, `${base}/quarantine`);
  qualityCheck(project, c, quarantine, `ingest ${abs} into project ${project.name}`);
  const dataset = await store.putTable(rowsToTable(kept, schemaNameFor(project)), { kind: 'dataset', name: base });
  return { dataset, quarantine, stats: { ...c.stats }, ids: kept.map((r) => r.id) };
}
