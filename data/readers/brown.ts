import fs from 'node:fs/promises';
import path from 'node:path';
import type { z } from 'zod';
import type { BrownSource } from '../../schemas/source.ts';
import { clip, limitsOf, readLines, resolveSourcePath, SourceError } from './common.ts';
import type { ReadContext, ReaderLimits, ReadItem } from './common.ts';

/** Accepts the schema input (defaults optional) as well as parsed specs. */
export type BrownSourceSpec = z.input<typeof BrownSource>;

/** The 12 universal POS tags (Petrov, Das & McDonald 2012). */
export const UNIVERSAL_TAGS = ['NOUN', 'VERB', 'ADJ', 'ADV', 'PRON', 'DET', 'ADP', 'NUM', 'CONJ', 'PRT', '.', 'X'] as const;
export type UniversalTag = (typeof UNIVERSAL_TAGS)[number];

const BASE: Record<string, UniversalTag> = {};
const put = (tag: UniversalTag, names: string) => {
  for (const n of names.split(/\s+/)) if (n) BASE[n] = tag;
};
put('.', `. , : ; ( ) -- ' '' \` \`\` ! ?`);
put('ADV', '* abl ql qlp rb rbr rbt rn wql wrb');
put('DET', 'abn abx ap at dt dti dts dtx ex wdt');
put('VERB', 'be bed bedz beg bem ben ber bez do dod doz hv hvd hvg hvn hvz md vb vbd vbg vbn vbz');
put('CONJ', 'cc');
put('ADP', 'cs in');
put('NUM', 'cd od');
put('ADJ', 'jj jjr jjs jjt');
put('NOUN', 'nn nns np nps nr nrs');
put('PRON', 'pn pp$ pp$$ ppl ppls ppo pps ppss wp$ wpo wps');
put('PRT', 'rp to');
put('X', 'fw uh nil');

/**
 * Map a Brown tag to the universal tag set: lower-cased; compound tags (`nn+bez`, `ppss+md`) use their first part;
 * `fw-` prefixes and `-tl`/`-hl`/`-nc` suffixes are stripped; a trailing `*` (negated verb, `don't`) is stripped
 * (`*` alone, "not", is ADV); possessive `$` on nouns (`nn$`, `np$`) is stripped. Unknown tags map to `X`.
 */
export function brownToUniversal(tag: string): UniversalTag {
  let t = tag.toLowerCase().trim();
  if (t === '') return 'X';
  if (BASE[t]) return BASE[t]!;
  if (t.includes('+')) t = t.split('+')[0]!;
  if (t.startsWith('fw-')) t = t.slice(3);
  for (let changed = true; changed; ) {
    changed = false;
    for (const suf of ['-tl', '-hl', '-nc']) {
      if (t.endsWith(suf) && t.length > suf.length) {
        t = t.slice(0, -suf.length);
        changed = true;
      }
    }
  }
  if (BASE[t]) return BASE[t]!;
  if (t.length > 1 && t.endsWith('*')) t = t.slice(0, -1);
  if (BASE[t]) return BASE[t]!;
  while (t.length > 1 && t.endsWith('$')) {
    t = t.slice(0, -1);
    if (BASE[t]) return BASE[t]!;
  }
  if (/^(vb|be|hv|do)/.test(t)) return 'VERB';
  if (/^n[nrp]/.test(t)) return 'NOUN';
  if (/^jj/.test(t)) return 'ADJ';
  if (/^(rb|ql)/.test(t)) return 'ADV';
  if (/^(pp|wp)/.test(t)) return 'PRON';
  return 'X';
}

export interface BrownOptions {
  tagset: 'brown' | 'universal';
}

/**
 * One Brown corpus file: one sentence per non-blank line (`word/tag word/tag ...`); a tab-indented line starts a
 * paragraph, blank lines separate paragraphs (this matches NLTK's 57,340 sentences). `row` = the line number.
 * A token that is not `word/tag` makes the sentence an error (token/tag count mismatch).
 */
export async function* readBrownFile(file: string, display: string, opts: BrownOptions, limits: ReaderLimits, maxSentences = Infinity): AsyncGenerator<ReadItem> {
  let emitted = 0;
  for await (const ln of readLines(file, limits.maxLineBytes, limits.encoding)) {
    if (emitted >= maxSentences) return;
    if (ln.error) {
      emitted++;
      yield { row: ln.line, file: display, error: ln.error };
      continue;
    }
    const line = ln.text!;
    if (line.trim() === '') continue;
    emitted++;
    const tokens: string[] = [];
    const tags: string[] = [];
    let problem: string | null = null;
    for (const wt of line.trim().split(/\s+/)) {
      const slash = wt.lastIndexOf('/');
      if (slash <= 0 || slash === wt.length - 1) {
        problem = `token/tag count mismatch: ${JSON.stringify(wt)} on line ${ln.line} is not word/tag`;
        break;
      }
      tokens.push(wt.slice(0, slash));
      const tag = wt.slice(slash + 1);
      tags.push(opts.tagset === 'universal' ? brownToUniversal(tag) : tag);
    }
    if (problem) yield { row: ln.line, file: display, error: { field: 'tags', reason: problem, raw: clip(line) } };
    else yield { row: ln.line, file: display, record: { tokens, tags } };
  }
}

/** Files of a Brown source: the file itself, or the (sorted) regular files of a directory matching filePattern. */
export async function brownFiles(root: string, filePattern: string | undefined, label: string): Promise<string[]> {
  let st;
  try {
    st = await fs.stat(root);
  } catch {
    throw new SourceError(`source ${label}: ${root} does not exist`);
  }
  if (!st.isDirectory()) return [root];
  let re: RegExp | null = null;
  if (filePattern !== undefined) {
    try {
      re = new RegExp(filePattern);
    } catch (e) {
      throw new SourceError(`source ${label}: invalid filePattern ${JSON.stringify(filePattern)}: ${(e as Error).message}`);
    }
  }
  const names = (await fs.readdir(root, { withFileTypes: true }))
    .filter((d) => d.isFile() && !d.name.startsWith('.') && (re ? re.test(d.name) : true))
    .map((d) => d.name)
    .sort();
  return names.map((n) => path.join(root, n));
}

export async function* readBrown(spec: BrownSourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  const label = `brown:${spec.path}`;
  const root = resolveSourcePath(spec.path, ctx.baseDir, label);
  const files = await brownFiles(root, spec.filePattern, label);
  const limits = limitsOf(ctx);
  let left = spec.maxSentences ?? Infinity;
  for (const f of files) {
    if (left <= 0) return;
    const display = f === root ? spec.path : `${spec.path}/${path.basename(f)}`;
    for await (const item of readBrownFile(f, display, { tagset: spec.tagset ?? 'universal' }, limits, left)) {
      left--;
      yield item;
    }
  }
}
