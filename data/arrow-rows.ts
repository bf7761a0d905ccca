import * as arrow from 'apache-arrow';
import { QuarantineRow, TextRow, TokenRow } from '../schemas/rows.ts';

/** Which row schema a table holds; stored in the Arrow schema metadata under `broadloom.schema`. */
export type RowSchemaName = 'text' | 'token' | 'quarantine' | 'generic';
export const SCHEMA_METADATA_KEY = 'broadloom.schema';

export type FlatValue = string | number | boolean | null | string[];
export type FlatRecord = Record<string, FlatValue>;

type ColKind = 'utf8' | 'float64' | 'int32' | 'bool' | 'list<utf8>';

const listUtf8 = () => new arrow.List(new arrow.Field('item', new arrow.Utf8(), false));

function typeOf(kind: ColKind): arrow.DataType {
  switch (kind) {
    case 'utf8':
      return new arrow.Utf8();
    case 'float64':
      return new arrow.Float64();
    case 'int32':
      return new arrow.Int32();
    case 'bool':
      return new arrow.Bool();
    case 'list<utf8>':
      return listUtf8();
  }
}

interface ColDef {
  name: string;
  kind: ColKind;
  nullable: boolean;
}

const FIXED: Record<Exclude<RowSchemaName, 'generic'>, ColDef[]> = {
  text: [
    { name: 'id', kind: 'utf8', nullable: false },
    { name: 'text', kind: 'utf8', nullable: false },
    { name: 'label', kind: 'utf8', nullable: true },
    { name: 'source', kind: 'utf8', nullable: false },
    { name: 'split', kind: 'utf8', nullable: false },
  ],
  token: [
    { name: 'id', kind: 'utf8', nullable: false },
    { name: 'tokens', kind: 'list<utf8>', nullable: false },
    { name: 'tags', kind: 'list<utf8>', nullable: true },
    { name: 'source', kind: 'utf8', nullable: false },
    { name: 'split', kind: 'utf8', nullable: false },
  ],
  quarantine: [
    { name: 'source', kind: 'utf8', nullable: false },
    { name: 'row', kind: 'int32', nullable: false },
    { name: 'field', kind: 'utf8', nullable: false },
    { name: 'reason', kind: 'utf8', nullable: false },
    { name: 'raw', kind: 'utf8', nullable: false },
  ],
};

const ZOD = { text: TextRow, token: TokenRow, quarantine: QuarantineRow } as const;

/** The Arrow schema for a fixed row schema (empty tables keep their columns). */
export function arrowSchemaFor(name: Exclude<RowSchemaName, 'generic'>): arrow.Schema {
  return buildSchema(FIXED[name], name);
}

function buildSchema(cols: ColDef[], name: RowSchemaName): arrow.Schema {
  return new arrow.Schema(
    cols.map((c) => new arrow.Field(c.name, typeOf(c.kind), c.nullable)),
    new Map([[SCHEMA_METADATA_KEY, name]]),
  );
}

function kindOfValue(v: FlatValue, col: string, row: number): ColKind | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return 'utf8';
  if (typeof v === 'number') return 'float64';
  if (typeof v === 'boolean') return 'bool';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string')) return 'list<utf8>';
  throw new Error(`rowsToTable: column "${col}" row ${row + 1} holds an unsupported value (${JSON.stringify(v)?.slice(0, 80)}); allowed: string, number, boolean, null, string[]`);
}

function inferColumns(rows: readonly Record<string, unknown>[]): ColDef[] {
  const cols = new Map<string, ColDef & { seen: boolean }>();
  rows.forEach((r, i) => {
    for (const [k, v] of Object.entries(r)) {
      if (!cols.has(k)) cols.set(k, { name: k, kind: 'utf8', nullable: i > 0, seen: false });
      const c = cols.get(k)!;
      const kind = kindOfValue(v as FlatValue, k, i);
      if (kind === null) c.nullable = true;
      else if (!c.seen) {
        c.kind = kind;
        c.seen = true;
      } else if (c.kind !== kind) throw new Error(`rowsToTable: column "${k}" mixes ${c.kind} and ${kind} (row ${i + 1})`);
    }
  });
  for (const c of cols.values()) if (rows.some((r) => !(c.name in r))) c.nullable = true;
  return [...cols.values()].map(({ name, kind, nullable }) => ({ name, kind, nullable }));
}

/**
 * Rows → Arrow table, in order. Fixed schemas (`text`, `token`, `quarantine`) validate every row against the shared
 * zod schema first; `generic` infers flat columns (string/number/boolean/null/string[]).
 */
export function rowsToTable(rows: readonly Record<string, unknown>[], schemaName: RowSchemaName): arrow.Table {
  let cols: ColDef[];
  if (schemaName === 'generic') cols = inferColumns(rows);
  else {
    cols = FIXED[schemaName];
    const z = ZOD[schemaName];
    rows.forEach((r, i) => {
      const p = z.safeParse(r);
      if (!p.success) throw new Error(`rowsToTable(${schemaName}): row ${i + 1} is invalid: ${p.error.issues.map((x) => `${x.path.join('.')}: ${x.message}`).join('; ')}`);
    });
  }
  const schema = buildSchema(cols, schemaName);
  if (rows.length === 0) return new arrow.Table(schema);
  const vectors: Record<string, arrow.Vector> = {};
  for (const c of cols) {
    const values = rows.map((r) => {
      const v = r[c.name];
      return v === undefined ? null : v;
    });
    vectors[c.name] =
      c.kind === 'utf8'
        ? arrow.makeVector(utf8Data(values as (string | null)[]))
        : c.kind === 'list<utf8>'
          ? arrow.makeVector(listUtf8Data(values as (string[] | null)[]))
          : arrow.vectorFromArray(values as never[], typeOf(c.kind));
  }
  // Table(schema, columns) keeps the schema (nullability + metadata) and copes with multi-chunk vectors.
  return new arrow.Table(schema, vectors as never);
}

/** Validity bitmap (LSB first) or undefined when nothing is null. */
function validity(values: readonly unknown[]): { nullCount: number; nullBitmap: Uint8Array | undefined } {
  let nullCount = 0;
  for (const v of values) if (v === null) nullCount++;
  if (nullCount === 0) return { nullCount, nullBitmap: undefined };
  const bitmap = new Uint8Array(((values.length + 63) >> 6) << 3);
  values.forEach((v, i) => {
    if (v !== null) bitmap[i >> 3]! |= 1 << (i & 7);
  });
  return { nullCount, nullBitmap: bitmap };
}

/** Utf8 column built in one pass into one buffer (arrow's generic builder is ~5x slower and GC-heavy). */
function utf8Data(values: readonly (string | null)[]): arrow.Data<arrow.Utf8> {
  const n = values.length;
  const valueOffsets = new Int32Array(n + 1);
  let total = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v !== null && v !== undefined) total += Buffer.byteLength(v, 'utf8');
    if (total > 0x7fffffff) throw new Error('rowsToTable: a string column is over 2 GiB; split the table');
    valueOffsets[i + 1] = total;
  }
  const data = Buffer.allocUnsafe(total);
  let pos = 0;
  for (const v of values) if (v !== null && v !== undefined) pos += data.write(v, pos, 'utf8');
  const { nullCount, nullBitmap } = validity(values);
  return arrow.makeData({ type: new arrow.Utf8(), length: n, nullCount, nullBitmap, valueOffsets, data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) });
}

function listUtf8Data(values: readonly (string[] | null)[]): arrow.Data<arrow.List<arrow.Utf8>> {
  const n = values.length;
  const valueOffsets = new Int32Array(n + 1);
  const flat: string[] = [];
  for (let i = 0; i < n; i++) {
    const v = values[i];
    if (v) for (const x of v) flat.push(x);
    valueOffsets[i + 1] = flat.length;
  }
  const { nullCount, nullBitmap } = validity(values);
  return arrow.makeData({ type: listUtf8(), length: n, nullCount, nullBitmap, valueOffsets, child: utf8Data(flat) });
}

function toPlain(v: unknown): unknown {
  if (v === null || v === undefined) return null;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'object' && v !== null && 'toArray' in v && typeof (v as { toArray: unknown }).toArray === 'function') {
    return Array.from((v as { toArray(): ArrayLike<unknown> }).toArray(), toPlain);
  }
  return v;
}

/** The `broadloom.schema` a table was written with (`generic` when absent). */
export function tableSchemaName(table: arrow.Table): RowSchemaName {
  const n = table.schema.metadata.get(SCHEMA_METADATA_KEY);
  return n === 'text' || n === 'token' || n === 'quarantine' ? n : 'generic';
}

/** Arrow table → plain rows, in order (lists → string[], int64 → number, nulls → null). */
export function tableToRows<T = Record<string, FlatValue>>(table: arrow.Table): T[] {
  const names = table.schema.fields.map((f) => f.name);
  const children = names.map((n) => table.getChild(n)!);
  const out: T[] = new Array(table.numRows);
  for (let i = 0; i < table.numRows; i++) {
    const r: Record<string, unknown> = {};
    names.forEach((n, j) => {
      r[n] = toPlain(children[j]!.get(i));
    });
    out[i] = r as T;
  }
  return out;
}
