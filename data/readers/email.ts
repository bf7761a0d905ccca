/**
 * The readable text of an RFC 822 / MIME e-mail: its Subject and the text of its body, without the routing headers.
 *
 * Why: a model reads the first few dozen tokens of a record. A raw e-mail spends them on Received:/Return-Path lines,
 * so a spam classifier learns mail-server names instead of what the message says. Directory sources with
 * `inner: 'email'` store `Subject\n\nbody` instead: multipart bodies are walked, base64 and quoted-printable parts
 * decoded with their charset, text/plain preferred over text/html within multipart/alternative (HTML loses its tags,
 * scripts and entities), attachments skipped.
 *
 * The message is parsed from its bytes as a "binary" (one char per byte) string so each part can be decoded with
 * its own charset; `defaultCharset` applies to parts that name none.
 */
import { decodeText, type TextEncodingMode } from './common.ts';

export interface EmailText {
  subject: string;
  body: string;
  /** `subject` and `body` joined, as stored in the record's text. */
  text: string;
}

interface Part {
  headers: Map<string, string>;
  body: string; // binary string: one char per byte
}

/** Limits on hostile input: MIME nesting depth and number of parts walked. */
const MAX_DEPTH = 8;
const MAX_PARTS = 200;

export function emailToText(bytes: Uint8Array, defaultCharset: TextEncodingMode = 'utf-8-or-latin1'): EmailText {
  const raw = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  const top = splitPart(raw);
  const subject = collapse(decodeEncodedWords(top.headers.get('subject') ?? '', defaultCharset));
  const texts: string[] = [];
  let parts = 0;
  const walk = (p: Part, depth: number) => {
    if (++parts > MAX_PARTS) return;
    const { type, params } = contentType(p.headers.get('content-type'));
    const disposition = (p.headers.get('content-disposition') ?? '').toLowerCase();
    if (type.startsWith('multipart/') && params.boundary && depth < MAX_DEPTH) {
      const children = splitMultipart(p.body, params.boundary).map(splitPart);
      if (type === 'multipart/alternative') {
        // The same content in several forms: the plain one when there is one, else the richest (the last, RFC 2046).
        const plain = children.find((c) => contentType(c.headers.get('content-type')).type === 'text/plain');
        const chosen = plain ?? children.at(-1);
        if (chosen) walk(chosen, depth + 1);
      } else for (const child of children) walk(child, depth + 1);
      return;
    }
    if (type === 'message/rfc822' && depth < MAX_DEPTH) return walk(splitPart(transferDecode(p)), depth + 1);
    if (disposition.startsWith('attachment')) return;
    if (type !== 'text/plain' && type !== 'text/html') return;
    const decoded = decodeBytes(transferDecode(p), params.charset, defaultCharset);
    texts.push(type === 'text/html' ? htmlToText(decoded) : decoded);
  };
  walk(top, 0);
  const body = collapse(texts.join('\n'));
  return { subject, body, text: subject && body ? `${subject}\n\n${body}` : subject || body };
}

/** Headers (unfolded, lower-cased names, first occurrence wins) and body of a message or MIME part. */
function splitPart(raw: string): Part {
  const m = /\r?\n\r?\n/.exec(raw);
  const head = m ? raw.slice(0, m.index) : raw;
  const body = m ? raw.slice(m.index + m[0].length) : '';
  const headers = new Map<string, string>();
  // Not a header block at all (plain text without headers): the whole thing is the body.
  if (!/^[!-9;-~]+:/.test(head) && !/^From /.test(head)) return { headers, body: raw };
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const i = line.indexOf(':');
    if (i <= 0) continue;
    const name = line.slice(0, i).trim().toLowerCase();
    if (!headers.has(name)) headers.set(name, line.slice(i + 1).trim());
  }
  return { headers, body };
}

function contentType(value: string | undefined): { type: string; params: Record<string, string> } {
  if (!value) return { type: 'text/plain', params: {} };
  const [type, ...rest] = value.split(';');
  const params: Record<string, string> = {};
  for (const p of rest) {
    const i = p.indexOf('=');
    if (i < 0) continue;
    params[p.slice(0, i).trim().toLowerCase()] = p.slice(i + 1).trim().replace(/^"(.*)"$/, '$1');
  }
  return { type: type!.trim().toLowerCase() || 'text/plain', params };
}

function splitMultipart(body: string, boundary: string): string[] {
  const delim = `--${boundary}`;
  const out: string[] = [];
  let current: string[] | null = null;
  for (const line of body.split(/\r?\n/)) {
    if (line.startsWith(delim)) {
      if (current) out.push(current.join('\n'));
      if (line.slice(delim.length).startsWith('--')) return out; // closing delimiter
      current = [];
    } else current?.push(line);
  }
  if (current) out.push(current.join('\n'));
  return out;
}

/** Undo the part's Content-Transfer-Encoding; the result is still a binary string. */
function transferDecode(p: Part): string {
  const cte = (p.headers.get('content-transfer-encoding') ?? '').trim().toLowerCase();
  if (cte === 'base64') return Buffer.from(p.body.replace(/[^A-Za-z0-9+/=]/g, ''), 'base64').toString('latin1');
  if (cte === 'quoted-printable') return decodeQuotedPrintable(p.body);
  return p.body;
}

function decodeQuotedPrintable(s: string): string {
  return s.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Decode a binary string in `charset` (falling back to the source's default when it is missing or unknown). */
function decodeBytes(binary: string, charset: string | undefined, fallback: TextEncodingMode): string {
  const bytes = Buffer.from(binary, 'latin1');
  const cs = charset?.trim().toLowerCase();
  if (cs && cs !== 'us-ascii' && cs !== 'ascii') {
    try {
      return new TextDecoder(cs).decode(bytes);
    } catch {
      // unknown charset label: use the source's default below
    }
  }
  return decodeText(bytes, fallback === 'utf-8' ? 'utf-8-or-latin1' : fallback)!.text;
}

/** RFC 2047 encoded words in headers: =?charset?B|Q?text?= */
function decodeEncodedWords(value: string, fallback: TextEncodingMode): string {
  return value
    .replace(/(\?=)\s+(=\?)/g, '$1$2') // whitespace between adjacent encoded words is not part of the text
    .replace(/=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g, (_, charset: string, enc: string, text: string) => {
      // Q is quoted-printable with "_" for a space.
      const binary = enc.toUpperCase() === 'B' ? Buffer.from(text, 'base64').toString('latin1') : decodeQuotedPrintable(text.replace(/_/g, ' '));
      return decodeBytes(binary, charset.replace(/\*.*$/, ''), fallback);
    });
}

const ENTITIES: Record<string, string> = { nbsp: ' ', amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", copy: '©', reg: '®' };

/**
 * Text of an HTML body. Comments and script/style/head elements are cut with a forward scan (an unclosed one runs to
 * the end, as in a browser) rather than lazy regexes, which go quadratic on hostile input with many unclosed tags.
 */
export function htmlToText(html: string): string {
  return dropHidden(html)
    .replace(/<(br|p|div|tr|li|h[1-6])\b[^<>]*>/gi, '\n')
    .replace(/<[^<>]*>/g, ' ') // [^<>]: a stray "<" cannot make the scan quadratic
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (m, e: string) => {
      if (e[0] === '#') {
        const code = e[1] === 'x' || e[1] === 'X' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10);
        return code > 0 && code < 0x110000 ? String.fromCodePoint(code) : ' ';
      }
      return ENTITIES[e.toLowerCase()] ?? m;
    });
}

function dropHidden(html: string): string {
  const lower = html.toLowerCase();
  const open = /<!--|<(script|style|head)\b/g;
  let out = '';
  let at = 0;
  // Each search starts where the last element ended (lastIndex), so every character is scanned a bounded number of times.
  for (let m = open.exec(lower); m; m = open.exec(lower)) {
    out += html.slice(at, m.index) + ' ';
    const comment = m[0] === '<!--';
    const end = lower.indexOf(comment ? '-->' : `</${m[1]}`, m.index + m[0].length);
    if (end < 0) return out;
    const gt = comment ? end + 2 : lower.indexOf('>', end);
    at = gt < 0 ? lower.length : gt + 1;
    open.lastIndex = at;
  }
  return out + html.slice(at);
}

/** Collapse runs of spaces and blank lines; the tokenizer does not need layout. */
function collapse(s: string): string {
  return s
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ ?\r?\n ?/g, '\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}
