import { createHash } from 'node:crypto';

/** Lower-case hex sha256 of a string (UTF-8) or bytes. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/**
 * Canonical JSON: object keys sorted (code-unit order), no whitespace, `undefined` members dropped (as JSON.stringify
 * does). Rejects values JSON cannot represent faithfully (NaN, ±Infinity, bigint, functions, symbols, cycles), so two
 * equal configs always hash the same and different ones never collide through lossy encoding.
 */
export function canonicalJson(value: unknown): string {
  const seen = new Set<object>();
  const walk = (v: unknown, at: string): string | undefined => {
    if (v === null) return 'null';
    switch (typeof v) {
      case 'string':
        return JSON.stringify(v);
      case 'boolean':
        return v ? 'true' : 'false';
      case 'number':
        if (!Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number at ${at}`);
        return JSON.stringify(v);
      case 'undefined':
      case 'function':
      case 'symbol':
        if (typeof v === 'undefined') return undefined;
        throw new Error(`canonicalJson: cannot encode a ${typeof v} at ${at}`);
      case 'bigint':
        throw new Error(`canonicalJson: cannot encode a bigint at ${at}`);
      case 'object': {
        const o = v as object;
        if (seen.has(o)) throw new Error(`canonicalJson: cycle at ${at}`);
        seen.add(o);
        try {
          const maybe = o as { toJSON?: () => unknown };
          if (typeof maybe.toJSON === 'function') return walk(maybe.toJSON(), at);
          if (Array.isArray(o)) return `[${o.map((x, i) => walk(x, `${at}[${i}]`) ?? 'null').join(',')}]`;
          const parts: string[] = [];
          for (const k of Object.keys(o).sort()) {
            const s = walk((o as Record<string, unknown>)[k], `${at}.${k}`);
            if (s !== undefined) parts.push(`${JSON.stringify(k)}:${s}`);
          }
          return `{${parts.join(',')}}`;
        } finally {
          seen.delete(o);
        }
      }
    }
    throw new Error(`canonicalJson: unsupported value at ${at}`);
  };
  const out = walk(value, '$');
  if (out === undefined) throw new Error('canonicalJson: top-level value is undefined');
  return out;
}
