import type { z } from 'zod';
import type { JsonSource } from '../../schemas/source.ts';
import { assertSourceFile, clip, limitsOf, normaliseLabel, readLines, readWholeFile, resolveSourcePath } from './common.ts';
import type { ReadContext, ReaderLimits, ReadError, ReadItem } from './common.ts';

/** Accepts the schema input (defaults optional) as well as parsed specs. */
export type JsonSourceSpec = z.input<typeof JsonSource>;

export interface JsonOptions {
  textField: string;
  labelField?: string | undefined;
  labelMap?: Record<string, string> | undefined;
  fixedLabel?: string | null | undefined;
}

/** Max bracket nesting of JSON text (strings skipped), stopping early once over `limit`. Linear, no recursion. */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inStr = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inStr = false;
    } else if (c === 0x22) inStr = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > limit) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** `a.b.c` lookup; a literal key containing dots wins over the path. */
function getField(obj: Record<string, unknown>, field: string): unknown {
  if (Object.prototype.hasOwnProperty.call(obj, field)) return obj[field];
  if (!field.includes('.')) return undefined;
  let cur: unknown = obj;
  for (const part of field.split('.')) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) return undefined;
    if (!Object.prototype.hasOwnProperty.call(cur, part)) return undefined;
    cur = (cur as Record<string, unknown>)[part];
  }
  return cur;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number' && !Number.isFinite(v)) return `non-finite number (${v})`;
  return typeof v;
}

/** Turn one parsed JSON value into a record or an error. */
export function jsonValueToItem(value: unknown, opts: JsonOptions, raw: string): { record: { text: string; label: string | null } } | { error: ReadError } {
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    return { error: { field: '(record)', reason: `expected a JSON object, got ${describe(value)}`, raw: clip(raw) } };
  const obj = value as Record<string, unknown>;
  const text = getField(obj, opts.textField);
  if (text === undefined) return { error: { field: opts.textField, reason: `missing text field "${opts.textField}"`, raw: clip(raw) } };
  if (typeof text !== 'string') return { error: { field: opts.textField, reason: `text must be a string, got ${describe(text)}`, raw: clip(raw) } };
  let label: string | null = null;
  if (opts.fixedLabel !== undefined) label = opts.fixedLabel;
  else if (opts.labelField !== undefined) {
    const l = normaliseLabel(getField(obj, opts.labelField), opts.labelMap);
    if ('error' in l) return { error: { field: opts.labelField, reason: l.error, raw: clip(raw) } };
    label = l.label;
  }
  return { record: { text, label } };
}

/** Parse JSON text with the depth guard; error reason on failure. */
function parseGuarded(text: string, maxDepth: number): { value: unknown } | { reason: string } {
  if (jsonDepthExceeds(text, maxDepth)) return { reason: `JSON nested deeper than ${maxDepth} levels` };
  try {
    return { value: JSON.parse(text) };
  } catch (e) {
    return { reason: `invalid JSON: ${(e as Error).message}` };
  }
}

/** JSON Lines: one object per line; blank lines skipped; `row` = line number. */
export async function* readJsonlFile(file: string, display: string, opts: JsonOptions, limits: ReaderLimits): AsyncGenerator<ReadItem> {
  for await (const ln of readLines(file, limits.maxLineBytes, limits.encoding)) {
    if (ln.error) {
      yield { row: ln.line, file: display, error: ln.error };
      continue;
    }
    const text = ln.text!;
    if (text.trim() === '') continue;
    const p = parseGuarded(text, limits.maxJsonDepth);
    if ('reason' in p) {
      yield { row: ln.line, file: display, error: { field: '(record)', reason: p.reason, raw: clip(text) } };
      continue;
    }
    yield { row: ln.line, file: display, ...jsonValueToItem(p.value, opts, text), ...(ln.latin1 ? { latin1: true as const } : {}) };
  }
}

/**
 * A JSON file holding an array of objects (`row` = 1-based index). A file that is not valid JSON is one error
 * (row 1, field `(file)`); nesting deeper than the limit inside one element is an error for that element.
 * A file holding a single object is treated as a one-element array.
 */
export async function* readJsonArrayFile(file: string, display: string, opts: JsonOptions, limits: ReaderLimits): AsyncGenerator<ReadItem> {
  const whole = await readWholeFile(file, limits.maxFileBytes, limits.encoding);
  if ('error' in whole) {
    yield { row: 1, file: display, error: whole.error };
    return;
  }
  const text = whole.text;
  if (text.trim() === '') return;
  let value: unknown;
  try {
    value = JSON.parse(text); // V8's JSON.parse is not recursive: deep input cannot overflow the stack here.
  } catch (e) {
    yield { row: 1, file: display, error: { field: '(file)', reason: `invalid JSON: ${(e as Error).message}`, raw: clip(text, 500) } };
    return;
  }
  const elements = Array.isArray(value) ? value : [value];
  for (let i = 0; i < elements.length; i++) {
    const el = elements[i];
    if (depthOver(el, limits.maxJsonDepth)) {
      yield { row: i + 1, file: display, error: { field: '(record)', reason: `JSON nested deeper than ${limits.maxJsonDepth} levels`, raw: '' } };
      continue;
    }
    let raw: string;
    try {
      raw = JSON.stringify(el) ?? String(el);
    } catch {
      raw = String(el);
    }
    yield { row: i + 1, file: display, ...jsonValueToItem(el, opts, raw), ...(whole.latin1 ? { latin1: true as const } : {}) };
  }
}

/** Iterative depth check (no recursion, stops as soon as the limit is passed). */
function depthOver(v: unknown, limit: number): boolean {
  const stack: [unknown, number][] = [[v, 1]];
  while (stack.length) {
    const [x, d] = stack.pop()!;
    if (x === null || typeof x !== 'object') continue;
    if (d > limit) return true;
    for (const c of Array.isArray(x) ? x : Object.values(x)) if (c !== null && typeof c === 'object') stack.push([c, d + 1]);
  }
  return false;
}

export async function* readJson(spec: JsonSourceSpec, ctx: ReadContext): AsyncGenerator<ReadItem> {
  const file = resolveSourcePath(spec.path, ctx.baseDir, `${spec.format}:${spec.path}`);
  await assertSourceFile(file, `${spec.format}:${spec.path}`);
  const opts: JsonOptions = { textField: spec.textField ?? 'text', labelField: spec.labelField, labelMap: spec.labelMap };
  const limits = limitsOf(ctx);
  if (spec.format === 'jsonl') yield* readJsonlFile(file, spec.path, opts, limits);
  else yield* readJsonArrayFile(file, spec.path, opts, limits);
}
