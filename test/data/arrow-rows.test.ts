import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as arrow from 'apache-arrow';
import { rowsToTable, tableToRows, tableSchemaName, arrowSchemaFor } from '../../data/arrow-rows.ts';

const roundTrip = (t: arrow.Table) => arrow.tableFromIPC(arrow.tableToIPC(t, 'file'));

test('TokenRow tables use List<Utf8> and round-trip in order', () => {
  const rows = [
    { id: 'b', tokens: ['The', 'cat'], tags: ['DET', 'NOUN'], source: 'f', split: 'train' },
    { id: 'a', tokens: ['Hi'], tags: null, source: 'f', split: 'dev' },
    { id: 'ü', tokens: ['naïve', '日本語', '🙂', 'x'], tags: ['ADJ', 'NOUN', 'X', 'X'], source: 'é/ф', split: 'test' },
  ];
  const t = roundTrip(rowsToTable(rows, 'token'));
  assert.equal(String(t.schema.fields[1]?.type), 'List<Utf8>');
  assert.equal(tableSchemaName(t), 'token');
  assert.deepEqual(tableToRows(t), rows);
});

test('QuarantineRow and TextRow validate against the shared zod schemas', () => {
  const q = [{ source: 'x.csv', row: 7, field: 'label', reason: 'unknown label "meh"', raw: 'a,meh' }];
  assert.deepEqual(tableToRows(roundTrip(rowsToTable(q, 'quarantine'))), q);
  assert.throws(() => rowsToTable([{ id: 'x', text: '', label: null, source: 's', split: 'train' }], 'text'), /empty text/);
  assert.throws(() => rowsToTable([{ id: 'x', tokens: ['a', 'b'], tags: ['X'], source: 's', split: 'train' }], 'token'), /token\/tag count mismatch/);
  const texts = [
    { id: '1', text: 'Grüße 🙂', label: null, source: 's', split: 'train' },
    { id: '2', text: 'x', label: 'pos', source: 's', split: 'dev' },
  ];
  assert.deepEqual(tableToRows(roundTrip(rowsToTable(texts, 'text'))), texts);
  const empty = roundTrip(rowsToTable([], 'text'));
  assert.equal(empty.numRows, 0);
  assert.deepEqual(empty.schema.fields.map((f) => f.name), arrowSchemaFor('text').fields.map((f) => f.name));
});

test('generic flat records: string/number/boolean/null/string[]', () => {
  const rows = [
    { s: 'a', n: 1.5, b: true, l: ['x', 'y'], z: null },
    { s: null, n: -2, b: false, l: [], z: null },
    { s: 'c', n: 0, b: null, l: null },
  ];
  const back = tableToRows(roundTrip(rowsToTable(rows, 'generic')));
  assert.deepEqual(back, [
    { s: 'a', n: 1.5, b: true, l: ['x', 'y'], z: null },
    { s: null, n: -2, b: false, l: [], z: null },
    { s: 'c', n: 0, b: null, l: null, z: null },
  ]);
  assert.throws(() => rowsToTable([{ a: 1 }, { a: 'x' }], 'generic'), /mixes/);
  assert.throws(() => rowsToTable([{ a: { nested: 1 } } as never], 'generic'), /unsupported/);
});
