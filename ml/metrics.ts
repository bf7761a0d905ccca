/**
 * Evaluation metrics. Zero-division convention (as scikit-learn's default and conlleval): a ratio
 * with a zero denominator is 0.
 */

export interface ClassScores {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

export interface ClassificationReport {
  accuracy: number;
  macroF1: number;
  perClass: Record<string, ClassScores>;
  /** confusion[i][j] = number of examples with gold labels[i] predicted as labels[j]. */
  confusion: number[][];
  labels: string[];
  examples: number;
}

const div = (a: number, b: number) => (b === 0 ? 0 : a / b);
const f1of = (p: number, r: number) => (p + r === 0 ? 0 : (2 * p * r) / (p + r));

function checkLengths(gold: readonly unknown[], pred: readonly unknown[]) {
  if (gold.length !== pred.length) throw new Error(`gold has ${gold.length} items but predictions ${pred.length}`);
}

export function accuracy(gold: readonly string[], pred: readonly string[]): number {
  checkLengths(gold, pred);
  let ok = 0;
  gold.forEach((g, i) => (ok += g === pred[i] ? 1 : 0));
  return div(ok, gold.length);
}

/**
 * Accuracy, macro-F1, per-class P/R/F1 and confusion matrix. `labels` fixes the class set and order
 * (macro-F1 averages over it); without it, the sorted union of gold and predicted labels is used.
 */
export function classificationReport(gold: readonly string[], pred: readonly string[], labels?: readonly string[]): ClassificationReport {
  checkLengths(gold, pred);
  const ls = labels ? [...labels] : [...new Set([...gold, ...pred])].sort();
  const idx = new Map(ls.map((l, i) => [l, i]));
  for (const l of [...gold, ...pred]) if (!idx.has(l)) throw new Error(`label "${l}" is not in the label set`);
  const confusion = ls.map(() => ls.map(() => 0));
  gold.forEach((g, i) => confusion[idx.get(g)!]![idx.get(pred[i]!)!]!++);
  const perClass: Record<string, ClassScores> = {};
  let f1sum = 0;
  ls.forEach((l, i) => {
    const tp = confusion[i]![i]!;
    const support = confusion[i]!.reduce((a, b) => a + b, 0);
    const predicted = confusion.reduce((a, row) => a + row[i]!, 0);
    const precision = div(tp, predicted);
    const recall = div(tp, support);
    const f1 = f1of(precision, recall);
    perClass[l] = { precision, recall, f1, support };
    f1sum += f1;
  });
  return { accuracy: accuracy(gold, pred), macroF1: div(f1sum, ls.length), perClass, confusion, labels: ls, examples: gold.length };
}

export function macroF1(gold: readonly string[], pred: readonly string[], labels?: readonly string[]): number {
  return classificationReport(gold, pred, labels).macroF1;
}

/** Precision/recall/F1 of one positive class (binary F1). */
export function binaryF1(gold: readonly string[], pred: readonly string[], positive: string): ClassScores {
  checkLengths(gold, pred);
  let tp = 0;
  let fp = 0;
  let fn = 0;
  gold.forEach((g, i) => {
    const p = pred[i];
    if (p === positive && g === positive) tp++;
    else if (p === positive) fp++;
    else if (g === positive) fn++;
  });
  const precision = div(tp, tp + fp);
  const recall = div(tp, tp + fn);
  return { precision, recall, f1: f1of(precision, recall), support: tp + fn };
}

/* ------------------------------------------------------------------ token tasks */

/** Fraction of tokens whose tag is right, over all sentences. */
export function tokenAccuracy(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): number {
  checkLengths(gold, pred);
  let ok = 0;
  let n = 0;
  gold.forEach((g, s) => {
    const p = pred[s]!;
    if (p.length !== g.length) throw new Error(`sentence ${s}: ${g.length} gold tags but ${p.length} predicted`);
    g.forEach((t, i) => {
      n++;
      if (t === p[i]) ok++;
    });
  });
  return div(ok, n);
}

export interface Span {
  type: string;
  /** First token (inclusive). */
  start: number;
  /** Last token (inclusive). */
  end: number;
}

function splitTag(tag: string): [string, string] {
  if (tag === 'O' || tag === '') return ['O', ''];
  const m = /^([BIES])[-_](.+)$/.exec(tag);
  if (m) return [m[1]!, m[2]!];
  return ['I', tag]; // a bare type acts as I-type (conlleval -r style)
}

function endOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if (prevTag === 'E' || prevTag === 'S') return true;
  if ((prevTag === 'B' || prevTag === 'I') && (tag === 'B' || tag === 'S' || tag === 'O')) return true;
  return prevTag !== 'O' && prevType !== type;
}

function startOfChunk(prevTag: string, tag: string, prevType: string, type: string): boolean {
  if ((prevTag === 'E' || prevTag === 'S' || prevTag === 'O') && (tag === 'E' || tag === 'I')) return true;
  if (tag === 'B' || tag === 'S') return true;
  return tag !== 'O' && prevType !== type;
}

/** Spans of a BIO/IOB2 (also IOBES) tag sequence with conlleval semantics (an I- after O or another type starts a span). */
export function extractSpans(tags: readonly string[]): Span[] {
  const spans: Span[] = [];
  let prevTag = 'O';
  let prevType = '';
  let start = -1;
  for (let i = 0; i <= tags.length; i++) {
    const [tag, type] = i < tags.length ? splitTag(tags[i]!) : ['O', ''];
    if (start >= 0 && endOfChunk(prevTag, tag, prevType, type)) {
      spans.push({ type: prevType, start, end: i - 1 });
      start = -1;
    }
    if (startOfChunk(prevTag, tag, prevType, type)) start = i;
    prevTag = tag;
    prevType = type;
  }
  return spans;
}

export interface SpanReport {
  precision: number;
  recall: number;
  f1: number;
  predicted: number;
  gold: number;
  correct: number;
  perType: Record<string, ClassScores & { predicted: number; correct: number }>;
}

/** Span-level (exact match of type and boundaries) micro P/R/F1, as conlleval / seqeval. */
export function spanF1(gold: readonly (readonly string[])[], pred: readonly (readonly string[])[]): SpanReport {
  checkLengths(gold, pred);
  const types = new Map<string, { gold: number; predicted: number; correct: number }>();
  const t = (k: string) => {
    let v = types.get(k);
    if (!v) types.set(k, (v = { gold: 0, predicted: 0, correct: 0 }));
    return v;
  };
  let g = 0;
  let p = 0;
  let c = 0;
  gold.forEach((gs, s) => {
    const ps = pred[s]!;
    if (ps.length !== gs.length) throw new Error(`sentence ${s}: ${gs.length} gold tags but ${ps.length} predicted`);
    const gSpans = extractSpans(gs);
    const pSpans = extractSpans(ps);
    const key = (x: Span) => `${x.type}\u0000${x.start}\u0000${x.end}`;
    const gKeys = new Set(gSpans.map(key));
    for (const x of gSpans) t(x.type).gold++;
    for (const x of pSpans) {
      t(x.type).predicted++;
      if (gKeys.has(key(x))) {
        t(x.type).correct++;
        c++;
      }
    }
    g += gSpans.length;
    p += pSpans.length;
  });
  const perType: SpanReport['perType'] = {};
  for (const k of [...types.keys()].sort()) {
    const v = types.get(k)!;
    const precision = div(v.correct, v.predicted);
    const recall = div(v.correct, v.gold);
    perType[k] = { precision, recall, f1: f1of(precision, recall), support: v.gold, predicted: v.predicted, correct: v.correct };
  }
  const precision = div(c, p);
  const recall = div(c, g);
  return { precision, recall, f1: f1of(precision, recall), predicted: p, gold: g, correct: c, perType };
}

/** Index of the `k` least-confident items (lowest max-probability first; ties by index). */
export function leastConfident(confidences: readonly number[], k: number): number[] {
  return confidences
    .map((c, i) => [c, i] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1])
    .slice(0, k)
    .map(([, i]) => i);
}
