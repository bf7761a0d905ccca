import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { createRequire } from 'node:module';

export type TextRecord = { text: string; label: string | null };
export type TokenRecord = { tokens: string[]; tags: string[] | null };
export type ReadRecord = TextRecord | TokenRecord;

/** One problem with one record: kept for the quarantine, never dropped. `raw` is truncated to `RAW_MAX` chars. */
export interface ReadError {
  field: string;
  reason: string;
  raw: string;
}

/**
 * What every reader yields: exactly one of `record` or `error`. `row` is the 1-based line number where the record
 * starts (csv, jsonl, conll, brown), the 1-based element index (json array), or 1 (one file = one record).
 * `file` is a display path (the source path as written, or `<source path>/<relative file>` for directories).
 */
export interface ReadItem {
  row: number;
  file: string;
  record?: ReadRecord;
  error?: ReadError;
  /** Set when (part of) the record was not valid UTF-8 and was decoded as ISO-8859-1 (`encoding: utf-8-or-latin1`). */
  latin1?: true;
}

/** How bytes become text: strict UTF-8 (invalid → error), always ISO-8859-1, or UTF-8 falling back to ISO-8859-1. */
export type TextEncodingMode = 'utf-8' | 'latin1' | 'utf-8-or-latin1';

export interface ReaderLimits {
  /** A single line longer than this is an error (read in bounded chunks: never loaded whole). Default 1 MiB. */
  maxLineBytes: number;
  /** A multi-line record (quoted CSV field, CoNLL sentence) larger than this is an error. Default 1 MiB. */
  maxRecordBytes: number;
  /** Whole-file formats (JSON array, one-text-per-file) larger than this are an error. Default 256 MiB. */
  maxFileBytes: number;
  /** JSON nesting deeper than this is an error. Default 64. */
  maxJsonDepth: number;
  /** Text decoding (directory sources set it from their `encoding`). Default strict `utf-8`. */
  encoding: TextEncodingMode;
}

export const DEFAULT_LIMITS: ReaderLimits = {
  maxLineBytes: 1 << 20,
  maxRecordBytes: 1 << 20,
  maxFileBytes: 256 << 20,
  maxJsonDepth: 64,
  encoding: 'utf-8',
};

export interface ReadContext {
  /** Relative source paths resolve against this directory (the pipeline file's directory). */
  baseDir: string;
  limits?: Partial<ReaderLimits>;
}

export function limitsOf(ctx: { limits?: Partial<ReaderLimits> | undefined }): ReaderLimits {
  return { ...DEFAULT_LIMITS, ...(ctx.limits ?? {}) };
}

export const RAW_MAX = 2000;
export function clip(s: string, max = RAW_MAX): string {
  return s.length <= max ? s : `${s.slice(0, max)}… [${s.length - max} more chars]`;
}

/** A source's configuration is wrong (bad path, missing column, escapes its base dir): the whole source fails. */
export class SourceError extends Error {
  override name = 'SourceError';
}

const decoder = () => new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/** Strict UTF-8 decode; returns null on invalid input. Strips a leading BOM. */
export function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return decoder().decode(bytes);
  } catch {
    return null;
  }
}

/** Decode per `encoding`; null when strict UTF-8 fails. `latin1` marks a fallback decode. */
export function decodeText(bytes: Uint8Array, encoding: TextEncodingMode): { text: string; latin1?: true } | null {
  if (encoding === 'latin1') return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') };
  const t = decodeUtf8(bytes);
  if (t !== null) return { text: t };
  if (encoding === 'utf-8-or-latin1') return { text: Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1'), latin1: true };
  return null;
}

/** A printable preview of undecodable bytes (latin1, so every byte shows). */
export function bytesPreview(bytes: Uint8Array, max = 200): string {
  return Buffer.from(bytes.subarray(0, max)).toString('latin1') + (bytes.byteLength > max ? '…' : '');
}

function isInside(parent: string, child: string): boolean {
  const rel = path.relative(parent, child);
  return rel === '' || (!rel.startsWith('..') && !path.isAbsolute(rel));
}

function findPackageRoot(name: string, baseDir: string, sourceLabel: string): string {
  // createRequire honours the normal node_modules lookup from baseDir; packages whose `exports` hide package.json fall
  // back to walking node_modules folders ourselves.
  const req = createRequire(path.join(baseDir, '__broadloom_resolve__.js'));
  try {
    return path.dirname(req.resolve(`${name}/package.json`));
  } catch {
    for (const dir of req.resolve.paths(name) ?? []) {
      const candidate = path.join(dir, name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    }
  }
  throw new SourceError(`source ${sourceLabel}: npm package "${name}" is not installed (looked from ${baseDir})`);
}

/**
 * Resolve a source path. `package:<npm-name>/<path>` (scoped names too) resolves inside the installed package and may
 * not leave it; a relative path resolves against `baseDir` and may not leave it (`../` tricks, symlinks pointing out);
 * an absolute path is taken as is (the schema allows absolute paths). NUL bytes are refused.
 */
export function resolveSourcePath(p: string, baseDir: string, sourceLabel = p): string {
  if (typeof p !== 'string' || p.length === 0) throw new SourceError(`source ${sourceLabel}: empty path`);
  if (p.includes('\0')) throw new SourceError(`source ${JSON.stringify(sourceLabel)}: path contains a NUL byte`);
  const base = path.resolve(baseDir);
  if (p.startsWith('package:')) {
    const spec = p.slice('package:'.length);
    const m = /^((?:@[a-z0-9][\w.~-]*\/)?[a-z0-9][\w.~-]*)(?:\/(.*))?$/i.exec(spec);
    if (!m) throw new SourceError(`source ${sourceLabel}: invalid package path ${JSON.stringify(p)} (expected package:<npm-name>/<path>)`);
    const name = m[1]!;
    const rest = m[2] ?? '';
    if (path.isAbsolute(rest)) throw new SourceError(`source ${sourceLabel}: path inside package must be relative`);
    const root = findPackageRoot(name, base, sourceLabel);
    const full = path.resolve(root, rest);
    if (!isInside(root, full)) throw new SourceError(`source ${sourceLabel}: path traversal: ${JSON.stringify(p)} escapes package "${name}"`);
    const realRoot = safeRealpath(root);
    const real = safeRealpath(full);
    if (real && realRoot && !isInside(realRoot, real)) throw new SourceError(`source ${sourceLabel}: path traversal: ${JSON.stringify(p)} leaves package "${name}" through a symlink`);
    return full;
  }
  if (path.isAbsolute(p)) return path.normalize(p);
  const full = path.resolve(base, p);
  if (!isInside(base, full)) throw new SourceError(`source ${sourceLabel}: path traversal: ${JSON.stringify(p)} escapes the base directory ${base}`);
  const realBase = safeRealpath(base);
  const real = safeRealpath(full);
  if (real && realBase && !isInside(realBase, real)) throw new SourceError(`source ${sourceLabel}: path traversal: ${JSON.stringify(p)} leaves the base directory through a symlink`);
  return full;
}

function safeRealpath(p: string): string | null {
  try {
    return fs.realpathSync(p);
  } catch {
    return null;
  }
}

export interface Line {
  /** 1-based line number. */
  line: number;
  text?: string;
  /** Set when the line is too long or not UTF-8 (`text` is then absent). */
  error?: ReadError;
  /** The line was decoded as ISO-8859-1 after failing UTF-8. */
  latin1?: true;
}

/**
 * Stream a file's lines with bounded memory: a line longer than `maxLineBytes` is reported (with a preview) and
 * skipped up to its newline. Lines are strictly UTF-8 decoded; `\r\n` and `\n` both end a line; a leading BOM is
 * dropped. The final line is yielded even without a trailing newline (but an empty last line is not).
 */
export async function* readLines(file: string, maxLineBytes: number, encoding: TextEncodingMode = 'utf-8'): AsyncGenerator<Line> {
  const stream = fs.createReadStream(file, { highWaterMark: 64 * 1024 });
  let parts: Buffer[] = [];
  let partBytes = 0;
  let tooLong = false;
  let preview: Buffer | null = null;
  let lineNo = 0;
  let first = true;
  const finish = (): Line => {
    lineNo++;
    if (tooLong) {
      const l: Line = {
        line: lineNo,
        error: { field: '(line)', reason: `line ${lineNo} is longer than the ${maxLineBytes}-byte limit`, raw: clip(bytesPreview(preview ?? Buffer.alloc(0))) },
      };
      tooLong = false;
      preview = null;
      parts = [];
      partBytes = 0;
      return l;
    }
    let buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, partBytes);
    parts = [];
    partBytes = 0;
    if (buf.length > 0 && buf[buf.length - 1] === 0x0d) buf = buf.subarray(0, buf.length - 1);
    if (first) {
      first = false;
      if (encoding !== 'latin1' && buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) buf = buf.subarray(3);
    }
    const d = decodeText(buf, encoding);
    if (d === null) return { line: lineNo, error: { field: '(encoding)', reason: `line ${lineNo} is not valid UTF-8`, raw: clip(bytesPreview(buf)) } };
    return d.latin1 ? { line: lineNo, text: d.text, latin1: true } : { line: lineNo, text: d.text };
  };
  const append = (b: Buffer) => {
    if (b.length === 0) return;
    if (tooLong) return;
    if (partBytes + b.length > maxLineBytes) {
      tooLong = true;
      preview = Buffer.concat([...parts, b]).subarray(0, 200);
      parts = [];
      partBytes = 0;
      return;
    }
    parts.push(b);
    partBytes += b.length;
  };
  try {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      let start = 0;
      for (;;) {
        const nl = chunk.indexOf(0x0a, start);
        if (nl === -1) {
          append(chunk.subarray(start));
          break;
        }
        append(chunk.subarray(start, nl));
        yield finish();
        start = nl + 1;
      }
    }
    if (partBytes > 0 || tooLong) yield finish();
  } finally {
    stream.destroy();
  }
}

/** Read a whole file with a size cap, strictly decoded. */
export async function readWholeFile(
  file: string,
  maxBytes: number,
  encoding: TextEncodingMode = 'utf-8',
): Promise<{ text: string; latin1?: true } | { error: ReadError }> {
  const st = await fsp.stat(file);
  if (st.size > maxBytes) return { error: { field: '(file)', reason: `file is ${st.size} bytes, over the ${maxBytes}-byte limit`, raw: '' } };
  const bytes = await fsp.readFile(file);
  const d = decodeText(bytes, encoding);
  if (d === null) {
    return { error: { field: '(encoding)', reason: `file is not valid UTF-8 (at byte ${firstBadUtf8(bytes)})`, raw: clip(bytesPreview(bytes)) } };
  }
  if (encoding !== 'latin1' && !d.latin1 && d.text.charCodeAt(0) === 0xfeff) d.text = d.text.slice(1);
  return d;
}

/** Offset of the first invalid UTF-8 sequence (approximate: the start of the line holding it). */
function firstBadUtf8(bytes: Uint8Array): number {
  let lineStart = 0;
  for (let i = 0; i <= bytes.length; i++) {
    if (i === bytes.length || bytes[i] === 0x0a) {
      if (decodeUtf8(bytes.subarray(lineStart, i)) === null) return lineStart;
      lineStart = i + 1;
    }
  }
  return 0;
}

/** Label normalisation shared by the text readers: strings/finite numbers/booleans, mapped through labelMap. */
export function normaliseLabel(
  raw: unknown,
  labelMap: Record<string, string> | undefined,
): { label: string | null } | { error: string } {
  if (raw === undefined || raw === null) return { label: null };
  let s: string;
  if (typeof raw === 'string') s = raw.trim();
  else if (typeof raw === 'number') {
    if (!Number.isFinite(raw)) return { error: `label is a non-finite number (${raw})` };
    s = String(raw);
  } else if (typeof raw === 'boolean') s = String(raw);
  else return { error: `label must be a string or number, got ${Array.isArray(raw) ? 'array' : typeof raw}` };
  if (s === '') return { label: null };
  if (labelMap && Object.prototype.hasOwnProperty.call(labelMap, s)) return { label: labelMap[s]! };
  return { label: s };
}

/** A single-file source must exist and be a regular file; otherwise a SourceError naming the source. */
export async function assertSourceFile(file: string, sourceLabel: string): Promise<void> {
  let st;
  try {
    st = await fsp.stat(file);
  } catch (e) {
    throw new SourceError(`source ${sourceLabel}: ${file} does not exist or cannot be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
  }
  if (!st.isFile()) throw new SourceError(`source ${sourceLabel}: ${file} is not a regular file`);
}
