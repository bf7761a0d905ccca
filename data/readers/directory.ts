import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { DirectorySource } from '../../schemas/source.ts';
import { limitsOf, readWholeFile, resolveSourcePath, SourceError } from './common.ts';
import type { ReadContext, ReaderLimits, ReadItem } from './common.ts';
import { readCsvFile } from './csv.ts';
import { readJsonArrayFile, readJsonlFile } from './json.ts';
import { readConllFile } from './conll.ts';
import { emailToText } from './email.ts';

/** Accepts the schema input (defaults optional) as well as parsed specs. */
export type DirectorySourceSpec = z.input<typeof DirectorySource>;

export interface LabelRule {
  re: RegExp;
  label: string;
}

export function compileLabelRules(map: Record<string, string> | undefined, sourceLabel: string): LabelRule[] | null {
  if (!map) return null;
  return Object.entries(map).map(([pattern, label]) => {
    try {
      return { re: new RegExp(pattern), label };
    } catch (e) {
      throw new SourceError(`source ${sourceLabel}: invalid labelFromFolder pattern ${JSON.stringify(pattern)}: ${(e as Error).message}`);
    }
  });
}

/** Label of a file from its first folder under the source root (first matching rule wins, in key order). */
export function labelForFile(rules: LabelRule[] | null, relPath: string): { label: string | null } | { error: string } {
  if (!rules) return { label: null };
  const parts = relPath.split(/[\\/]/);
  if (parts.length < 2) return { error: `file is not inside a label folder (labelFromFolder needs <folder>/<file>)` };
  const folder = parts[0]!;
  for (const r of rules) if (r.re.test(folder)) return { label: r.label };
  return { error: `folder "${folder}" matches no labelFromFolder pattern` };
}

/** All regular files under `root` (recursive, sorted by relative path, hidden entries skipped, symlinks not followed). */
export async function listFiles(root: string, filePattern: RegExp | null): Promise<string[]> {
  const out: string[] = [];
  const walk = async (rel: string) => {
    const entries = await fs.readdir(path.join(root, rel), { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(r);
      else if (e.isFile() && (filePattern ? filePattern.test(e.name) : true)) out.push(r);
    }
  };
  await walk('');
  return out.sort();
}

/**
 * Read one file of a directory source. `relPath` is relative to the source root (used for the label folder and the
 * display name). Inner `text`: the whole file is one record (row 1); `email`: one record of the message's subject and
 * body text (data/readers/email.ts); other inner formats delegate to their readers.
 */
export async function* readDirectoryFile(
  root: string,
  relPath: string,
  spec: Pick<DirectorySourceSpec, 'path' | 'inner' | 'maxBytesPerFile'> & { encoding?: DirectorySourceSpec['encoding'] | undefined },
  rules: LabelRule[] | null,
  baseLimits: ReaderLimits,
): AsyncGenerator<ReadItem> {
  const limits: ReaderLimits = { ...baseLimits, encoding: spec.encoding ?? 'utf-8' };
  const display = `${spec.path.replace(/\/+$/, '')}/${relPath}`;
  const file = path.join(root, relPath);
  const lab = labelForFile(rules, relPath);
  if ('error' in lab) {
    yield { row: 1, file: display, error: { field: 'label', reason: lab.error, raw: relPath } };
    return;
  }
  const maxBytes = spec.maxBytesPerFile ?? 1_000_000;
  const inner = spec.inner ?? 'text';
  const st = await fs.stat(file);
  if (st.size > maxBytes) {
    yield { row: 1, file: display, error: { field: '(file)', reason: `file is ${st.size} bytes, over maxBytesPerFile ${maxBytes}`, raw: relPath } };
    return;
  }
  const fixedLabel = rules ? lab.label : undefined;
  switch (inner) {
    case 'text': {
      const r = await readWholeFile(file, maxBytes, limits.encoding);
      if ('error' in r) yield { row: 1, file: display, error: r.error };
      else yield { row: 1, file: display, record: { text: r.text, label: lab.label }, ...(r.latin1 ? { latin1: true as const } : {}) };
      return;
    }
    case 'email': {
      const mail = emailToText(await fs.readFile(file), limits.encoding);
      if (!mail.text) yield { row: 1, file: display, error: { field: 'text', reason: 'e-mail has no subject and no text/plain or text/html body', raw: relPath } };
      else yield { row: 1, file: display, record: { text: mail.text, label: lab.label } };
      return;
    }
    case 'csv':
      yield* readCsvFile(file, display, { textColumn: 'text', labelColumn: 'label', delimiter: ',', fixedLabel }, limits);
      return;
    case 'json':
      yield* readJsonArrayFile(file, display, { textField: 'text', labelField: 'label', fixedLabel }, limits);
      return;
    case 'jsonl':
      yield* readJsonlFile(file, display, { textField: 'text', labelField: 'label', fixedLabel }, limits);
      return;
    case 'conll':
      yield* readConllFile(file, display, { tokenColumn: 0, tagColumn: -1 }, limits);
      return;
  }
}

export function compileFilePattern(p: string | undefined, sourceLabel: string): RegExp | null {
  if (p === undefined) return null;
  try {
    return new RegExp(p);
  } catch (e) {
    throw new SourceError(`source ${sourceLabel}: invalid filePattern ${JSON.stringify(p)}: ${(e as Error).message}`);
  }
}

/**
 * A folder of files (recursive, sorted). `filePattern` filters file names (e.g. `\.txt$` to skip the spam-assassin
 * `.json` sidecars); `labelFromFolder` maps the first folder under the root to a label (regex → label).
 */
export async function* readDirectory(spec: DirectorySourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  const label = `directory:${spec.path}`;
  const root = resolveSourcePath(spec.path, ctx.baseDir, label);
  let st;
  try {
    st = await fs.stat(root);
  } catch {
    throw new SourceError(`source ${label}: ${root} does not exist`);
  }
  if (!st.isDirectory()) throw new SourceError(`source ${label}: ${root} is not a directory`);
  const rules = compileLabelRules(spec.labelFromFolder, label);
  const files = await listFiles(root, compileFilePattern(spec.filePattern, label));
  const limits = limitsOf(ctx);
  if (!['text', 'email'].includes(spec.inner ?? 'text')) {
    for (const rel of files) yield* readDirectoryFile(root, rel, spec, rules, limits);
    return;
  }
  // One record per file: read a few files ahead concurrently (I/O latency dominates), yield strictly in order.
  const load = async (rel: string): Promise<ReadItem[]> => {
    const out: ReadItem[] = [];
    for await (const it of readDirectoryFile(root, rel, spec, rules, limits)) out.push(it);
    return out;
  };
  const window: Promise<ReadItem[]>[] = [];
  let next = 0;
  const fill = () => {
    while (window.length < PREFETCH && next < files.length) {
      const p = load(files[next++]!);
      p.catch(() => {}); // surfaced when awaited, in order
      window.push(p);
    }
  };
  fill();
  while (window.length > 0) {
    const items = await window.shift()!;
    fill();
    yield* items;
  }
}

const PREFETCH = 16;
