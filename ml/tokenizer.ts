/**
 * Lower-cased BERT-style WordPiece tokenizer.
 *
 * - Pre-tokenization = BERT's BasicTokenizer: clean control chars, whitespace split, CJK chars split,
 *   lower-case + accent stripping (NFD, drop combining marks), punctuation split.
 * - Encoding = greedy longest-match-first WordPiece with `##` continuation (max 100 chars per word).
 * - Vocabulary training = the WordPiece trainer of HF `tokenizers` (BPE-style merges over `##`-marked
 *   sub-words, most frequent pair first), made deterministic: ties broken by the smaller pair id.
 * - Special tokens: [PAD]=0, [UNK]=1, [CLS]=2, [SEP]=3, [MASK]=4 in vocabularies we train (an imported
 *   vocab.txt, e.g. BERT's with [UNK]=100, keeps its own ids).
 * - Serialises to a vocab.txt-compatible list (one token per line, id = line number) and to a
 *   Hugging Face `tokenizer.json`; our encoding matches `@huggingface/tokenizers` on that JSON (tested).
 */
import { createHash } from 'node:crypto';

export const SPECIAL_TOKENS = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]'] as const;
export const PAD_ID = 0;
export const UNK_ID = 1;
export const CLS_ID = 2;
export const SEP_ID = 3;
export const MASK_ID = 4;
/** Label index ignored by the loss and by metrics (PyTorch's convention). */
export const IGNORE_INDEX = -100;
const MAX_CHARS_PER_WORD = 100;

export interface Encoding {
  ids: number[];
  attentionMask: number[];
  tokenTypeIds: number[];
  tokens: string[];
  /** True when the input did not fit into maxLength and was cut. */
  truncated: boolean;
}

export interface WordEncoding extends Encoding {
  /** For each token: index of the word it came from, null for [CLS]/[SEP]. */
  wordIds: (number | null)[];
  /** Label id on the first sub-token of each word, IGNORE_INDEX elsewhere (only when labels were given). */
  labels: number[];
  /** Number of words that fit (the rest were truncated). */
  wordsKept: number;
}

export interface TokenizerJSON {
  kind: 'wordpiece';
  lowercase: boolean;
  vocab: string[];
  sha256: string;
}

export interface TrainTokenizerOptions {
  vocabSize: number;
  lowercase?: boolean;
  /** Pairs seen fewer times are not merged (default 2). */
  minFrequency?: number;
  /** Keep at most this many distinct characters (most frequent first; default 1000). */
  limitAlphabet?: number;
}

/* ------------------------------------------------------------------ basic tokenizer */

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || /\p{Zs}/u.test(c);
}
function isControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return /\p{Cc}|\p{Cf}/u.test(c);
}
function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /\p{P}/u.test(c);
}
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

/** BERT BasicTokenizer: returns the pre-tokenized words (already normalised). */
export function basicTokenize(text: string, lowercase = true): string[] {
  let cleaned = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
    if (isWhitespace(c)) cleaned += ' ';
    else if (isCjk(cp)) cleaned += ` ${c} `;
    else cleaned += c;
  }
  const out: string[] = [];
  for (let word of cleaned.split(' ')) {
    if (!word) continue;
    if (lowercase) word = word.toLowerCase().normalize('NFD').replace(/\p{Mn}/gu, '');
    let cur = '';
    for (const c of word) {
      if (isPunctuation(c)) {
        if (cur) out.push(cur);
        out.push(c);
        cur = '';
      } else cur += c;
    }
    if (cur) out.push(cur);
  }
  return out;
}

/* ------------------------------------------------------------------ tokenizer */

export class WordPieceTokenizer {
  readonly vocab: readonly string[];
  readonly lowercase: boolean;
  readonly sha256: string;
  private readonly index: Map<string, number>;
  /** Special token ids: 0..4 for vocabularies we train; looked up for imported (e.g. HF BERT) vocabularies. */
  readonly padId: number;
  readonly unkId: number;
  readonly clsId: number;
  readonly sepId: number;
  readonly maskId: number;
  private readonly cache = new Map<string, number[]>();

  constructor(vocab: readonly string[], lowercase = true) {
    this.vocab = Object.freeze([...vocab]);
    this.lowercase = lowercase;
    this.index = new Map();
    vocab.forEach((t, i) => {
      if (this.index.has(t)) throw new Error(`duplicate vocab token ${JSON.stringify(t)} at line ${i}`);
      this.index.set(t, i);
    });
    const special = (t: string) => {
      const id = this.index.get(t);
      if (id === undefined) throw new Error(`vocabulary lacks the special token ${t}`);
      return id;
    };
    this.padId = special('[PAD]');
    this.unkId = special('[UNK]');
    this.clsId = special('[CLS]');
    this.sepId = special('[SEP]');
    this.maskId = special('[MASK]');
    this.sha256 = createHash('sha256').update(this.toVocabTxt()).digest('hex');
  }

  get size(): number {
    return this.vocab.length;
  }

  /** Deterministically train a vocabulary on texts (the projects' own training text). */
  static train(texts: Iterable<string>, opts: TrainTokenizerOptions): WordPieceTokenizer {
    const lowercase = opts.lowercase ?? true;
    return new WordPieceTokenizer(trainWordPieceVocab(texts, { ...opts, lowercase }), lowercase);
  }

  static fromVocabTxt(txt: string, lowercase = true): WordPieceTokenizer {
    const lines = txt.split('\n');
    if (lines.length && lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(lines.map((l) => l.replace(/\r$/, '')), lowercase);
  }

  static fromJSON(json: TokenizerJSON): WordPieceTokenizer {
    if (json.kind !== 'wordpiece') throw new Error(`unsupported tokenizer kind ${json.kind}`);
    const t = new WordPieceTokenizer(json.vocab, json.lowercase);
    if (json.sha256 && json.sha256 !== t.sha256) throw new Error(`tokenizer vocab sha256 mismatch: ${json.sha256} != ${t.sha256}`);
    return t;
  }

  toJSON(): TokenizerJSON {
    return { kind: 'wordpiece', lowercase: this.lowercase, vocab: [...this.vocab], sha256: this.sha256 };
  }

  /** vocab.txt content: one token per line, line number = id. */
  toVocabTxt(): string {
    return this.vocab.join('\n') + '\n';
  }

  tokenId(token: string): number | undefined {
    return this.index.get(token);
  }

  /** WordPiece of one pre-tokenized (normalised) word. */
  wordPiece(word: string): number[] {
    const hit = this.cache.get(word);
    if (hit) return hit;
    const chars = Array.from(word);
    let ids: number[] = [];
    if (chars.length > MAX_CHARS_PER_WORD) ids = [this.unkId];
    else {
      let start = 0;
      while (start < chars.length) {
        let end = chars.length;
        let found = -1;
        while (start < end) {
          const sub = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
          const id = this.index.get(sub);
          if (id !== undefined) {
            found = id;
            break;
          }
          end--;
        }
        if (found < 0) {
          ids = [this.unkId];
          break;
        }
        ids.push(found);
        start = end;
      }
    }
    if (this.cache.size < 200_000) this.cache.set(word, ids);
    return ids;
  }

  /** Text → token ids without special tokens. */
  tokenizeToIds(text: string): number[] {
    const out: number[] = [];
    for (const w of basicTokenize(text, this.lowercase)) out.push(...this.wordPiece(w));
    return out;
  }

  tokenize(text: string): string[] {
    return this.tokenizeToIds(text).map((i) => this.vocab[i]!);
  }

  /** `[CLS] text [SEP]` (or `[CLS] a [SEP] b [SEP]`), truncated to maxLength (longest-first for pairs). */
  encode(text: string, maxLength: number, pair?: string): Encoding {
    if (maxLength < 3) throw new Error('maxLength must be at least 3');
    let a = this.tokenizeToIds(text);
    let b = pair === undefined ? null : this.tokenizeToIds(pair);
    const budget = maxLength - (b ? 3 : 2);
    let truncated = false;
    if (a.length + (b?.length ?? 0) > budget) {
      truncated = true;
      if (!b) a = a.slice(0, budget);
      else {
        let la = a.length;
        let lb = b.length;
        while (la + lb > budget) {
          if (la >= lb) la--;
          else lb--;
        }
        a = a.slice(0, la);
        b = b.slice(0, lb);
      }
    }
    const ids = [this.clsId, ...a, this.sepId];
    const types = ids.map(() => 0);
    if (b) {
      ids.push(...b, this.sepId);
      types.push(...b.map(() => 1), 1);
    }
    return { ids, attentionMask: ids.map(() => 1), tokenTypeIds: types, tokens: ids.map((i) => this.vocab[i]!), truncated };
  }

  /**
   * Pre-split words (token classification): each word is basic-tokenized + word-pieced (a word that
   * yields no token becomes [UNK]); `labels[w]` goes on the word's first sub-token, IGNORE_INDEX on
   * the others and on [CLS]/[SEP]. Words that do not fit are dropped (truncated=true, see wordsKept).
   */
  encodeWords(words: readonly string[], maxLength: number, labels?: readonly number[]): WordEncoding {
    if (maxLength < 3) throw new Error('maxLength must be at least 3');
    if (labels && labels.length !== words.length)
      throw new Error(`encodeWords: ${words.length} words but ${labels.length} labels`);
    const ids = [this.clsId];
    const wordIds: (number | null)[] = [null];
    const lab = [IGNORE_INDEX];
    let truncated = false;
    let wordsKept = 0;
    for (let w = 0; w < words.length; w++) {
      let pieces: number[] = [];
      for (const bw of basicTokenize(words[w]!, this.lowercase)) pieces.push(...this.wordPiece(bw));
      if (pieces.length === 0) pieces = [this.unkId];
      if (ids.length + pieces.length > maxLength - 1) {
        truncated = true;
        break;
      }
      pieces.forEach((p, k) => {
        ids.push(p);
        wordIds.push(w);
        lab.push(k === 0 && labels ? labels[w]! : IGNORE_INDEX);
      });
      wordsKept++;
    }
    ids.push(this.sepId);
    wordIds.push(null);
    lab.push(IGNORE_INDEX);
    return {
      ids,
      attentionMask: ids.map(() => 1),
      tokenTypeIds: ids.map(() => 0),
      tokens: ids.map((i) => this.vocab[i]!),
      truncated,
      wordIds,
      labels: labels ? lab : [],
      wordsKept,
    };
  }

  decode(ids: readonly number[], skipSpecial = true): string {
    let out = '';
    for (const id of ids) {
      if (skipSpecial && (id === this.padId || id === this.clsId || id === this.sepId || id === this.maskId)) continue;
      const t = this.vocab[id] ?? '[UNK]';
      if (t.startsWith('##')) out += t.slice(2);
      else out += (out ? ' ' : '') + t;
    }
    return out;
  }

  /** A Hugging Face `tokenizer.json` equivalent to this tokenizer (BertNormalizer + BertPreTokenizer + WordPiece). */
  toHuggingFaceJSON(): Record<string, unknown> {
    const vocab: Record<string, number> = {};
    this.vocab.forEach((t, i) => (vocab[t] = i));
    const special = (t: string, id: number) => ({ id, content: t, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true });
    return {
      version: '1.0',
      truncation: null,
      padding: null,
      added_tokens: SPECIAL_TOKENS.map((t) => special(t, this.index.get(t)!)).sort((x, y) => x.id - y.id),
      normalizer: { type: 'BertNormalizer', clean_text: true, handle_chinese_chars: true, strip_accents: null, lowercase: this.lowercase },
      pre_tokenizer: { type: 'BertPreTokenizer' },
      post_processor: {
        type: 'TemplateProcessing',
        single: [{ SpecialToken: { id: '[CLS]', type_id: 0 } }, { Sequence: { id: 'A', type_id: 0 } }, { SpecialToken: { id: '[SEP]', type_id: 0 } }],
        pair: [
          { SpecialToken: { id: '[CLS]', type_id: 0 } },
          { Sequence: { id: 'A', type_id: 0 } },
          { SpecialToken: { id: '[SEP]', type_id: 0 } },
          { Sequence: { id: 'B', type_id: 1 } },
          { SpecialToken: { id: '[SEP]', type_id: 1 } },
        ],
        special_tokens: {
          '[CLS]': { id: '[CLS]', ids: [this.clsId], tokens: ['[CLS]'] },
          '[SEP]': { id: '[SEP]', ids: [this.sepId], tokens: ['[SEP]'] },
        },
      },
      decoder: { type: 'WordPiece', prefix: '##', cleanup: true },
      model: { type: 'WordPiece', unk_token: '[UNK]', continuing_subword_prefix: '##', max_input_chars_per_word: MAX_CHARS_PER_WORD, vocab },
    };
  }
}

/* ------------------------------------------------------------------ batching */

export interface PaddedBatch {
  batch: number;
  length: number;
  ids: Int32Array;
  attentionMask: Int32Array;
  tokenTypeIds: Int32Array;
}

/** Pad encodings to the longest one (or `padTo`) with [PAD]=0. */
export function padBatch(encs: readonly Pick<Encoding, 'ids' | 'tokenTypeIds'>[], padTo?: number): PaddedBatch {
  const length = padTo ?? Math.max(1, ...encs.map((e) => e.ids.length));
  const n = encs.length;
  const ids = new Int32Array(n * length);
  const attentionMask = new Int32Array(n * length);
  const tokenTypeIds = new Int32Array(n * length);
  encs.forEach((e, b) => {
    const l = Math.min(length, e.ids.length);
    for (let t = 0; t < l; t++) {
      ids[b * length + t] = e.ids[t]!;
      attentionMask[b * length + t] = 1;
      tokenTypeIds[b * length + t] = e.tokenTypeIds[t]!;
    }
  });
  return { batch: n, length, ids, attentionMask, tokenTypeIds };
}

/* ------------------------------------------------------------------ vocabulary training */

/** WordPiece vocabulary (special tokens, alphabet, then merges in order). Deterministic. */
export function trainWordPieceVocab(texts: Iterable<string>, opts: TrainTokenizerOptions): string[] {
  const lowercase = opts.lowercase ?? true;
  const minFrequency = opts.minFrequency ?? 2;
  const limitAlphabet = opts.limitAlphabet ?? 1000;
  const wordCounts = new Map<string, number>();
  for (const t of texts) for (const w of basicTokenize(t, lowercase)) wordCounts.set(w, (wordCounts.get(w) ?? 0) + 1);
  const words = [...wordCounts.keys()].sort();
  const counts = words.map((w) => wordCounts.get(w)!);

  // Alphabet: most frequent characters (ties by code point), then sorted.
  const charCounts = new Map<string, number>();
  words.forEach((w, i) => {
    for (const c of w) charCounts.set(c, (charCounts.get(c) ?? 0) + counts[i]!);
  });
  const alphabet = [...charCounts.entries()]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, limitAlphabet)
    .map(([c]) => c)
    .sort();
  const allowed = new Set(alphabet);

  const vocab: string[] = [...SPECIAL_TOKENS];
  const index = new Map<string, number>();
  const add = (t: string) => {
    let id = index.get(t);
    if (id === undefined) {
      id = vocab.length;
      vocab.push(t);
      index.set(t, id);
    }
    return id;
  };
  vocab.forEach((t, i) => index.set(t, i));
  // Initial symbols: every char at word start and `##char` inside words.
  const symbols: number[][] = words.map((w) => {
    const cs = Array.from(w);
    if (cs.some((c) => !allowed.has(c))) return [];
    return cs.map((c, k) => (k === 0 ? c : '##' + c)).map((s) => index.get(s) ?? -1);
  });
  const initial = new Set<string>();
  words.forEach((w) => Array.from(w).forEach((c, k) => allowed.has(c) && initial.add(k === 0 ? c : '##' + c)));
  for (const s of [...initial].sort()) add(s);
  symbols.forEach((syms, i) => {
    const cs = Array.from(words[i]!);
    if (syms.length) cs.forEach((c, k) => (syms[k] = index.get(k === 0 ? c : '##' + c)!));
  });
  if (vocab.length >= opts.vocabSize) return vocab.slice(0, Math.max(opts.vocabSize, SPECIAL_TOKENS.length));

  const SHIFT = 2 ** 21;
  const key = (a: number, b: number) => a * SHIFT + b;
  const pairCount = new Map<number, number>();
  const where = new Map<number, Set<number>>();
  const addPairs = (wi: number, sign: number) => {
    const s = symbols[wi]!;
    const c = counts[wi]! * sign;
    for (let k = 0; k + 1 < s.length; k++) {
      const p = key(s[k]!, s[k + 1]!);
      const v = (pairCount.get(p) ?? 0) + c;
      if (v <= 0) pairCount.delete(p);
      else pairCount.set(p, v);
      if (sign > 0) {
        let set = where.get(p);
        if (!set) where.set(p, (set = new Set()));
        set.add(wi);
      }
    }
  };
  symbols.forEach((_, wi) => addPairs(wi, 1));

  while (vocab.length < opts.vocabSize) {
    let best = -1;
    let bestCount = 0;
    for (const [p, c] of pairCount) {
      if (c > bestCount || (c === bestCount && p < best)) {
        best = p;
        bestCount = c;
      }
    }
    if (best < 0 || bestCount < minFrequency) break;
    const a = Math.floor(best / SHIFT);
    const b = best % SHIFT;
    const bs = vocab[b]!;
    const merged = add(vocab[a]! + (bs.startsWith('##') ? bs.slice(2) : bs));
    const ws = [...(where.get(best) ?? [])].sort((x, y) => x - y);
    where.delete(best);
    for (const wi of ws) {
      const s = symbols[wi]!;
      let has = false;
      for (let k = 0; k + 1 < s.length; k++) if (s[k] === a && s[k + 1] === b) has = true;
      if (!has) continue;
      addPairs(wi, -1);
      const ns: number[] = [];
      for (let k = 0; k < s.length; k++) {
        if (k + 1 < s.length && s[k] === a && s[k + 1] === b) {
          ns.push(merged);
          k++;
        } else ns.push(s[k]!);
      }
      symbols[wi] = ns;
      addPairs(wi, 1);
    }
    pairCount.delete(best);
  }
  return vocab;
}
