import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { IGNORE_INDEX, WordPieceTokenizer, basicTokenize, padBatch, trainWordPieceVocab } from '../../ml/tokenizer.ts';
import { loadSentiment } from './fixtures.ts';

const corpus = loadSentiment('yelp').map((r) => r.text);

describe('basic tokenizer', () => {
  it('lower-cases, strips accents, splits punctuation and whitespace', () => {
    assert.deepEqual(basicTokenize("Héllo,  WORLD!! It's\tcafé-au-lait\u0000."), ['hello', ',', 'world', '!', '!', 'it', "'", 's', 'cafe', '-', 'au', '-', 'lait', '.']);
  });
  it('keeps case when lowercase=false and splits CJK characters', () => {
    assert.deepEqual(basicTokenize('Ab 中文', false), ['Ab', '中', '文']);
  });
});

describe('WordPiece', () => {
  const tok = WordPieceTokenizer.train(corpus, { vocabSize: 800 });
  it('trains a vocabulary of the requested size with special tokens first', () => {
    assert.equal(tok.size, 800);
    assert.deepEqual(tok.vocab.slice(0, 5), ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    assert.ok(tok.vocab.some((t) => t.startsWith('##')));
  });
  it('is deterministic (same text, same vocab and sha256; different order of words in a text is irrelevant to ids)', () => {
    const again = WordPieceTokenizer.train(corpus, { vocabSize: 800 });
    assert.deepEqual(again.vocab, tok.vocab);
    assert.equal(again.sha256, tok.sha256);
    assert.match(tok.sha256, /^[0-9a-f]{64}$/);
  });
  it('encodes with [CLS]/[SEP], attention mask and token types; decodes back', () => {
    const e = tok.encode('The food was great!', 32);
    assert.equal(e.ids[0], tok.clsId);
    assert.equal(e.ids[e.ids.length - 1], tok.sepId);
    assert.deepEqual(e.attentionMask, e.ids.map(() => 1));
    assert.deepEqual(e.tokenTypeIds, e.ids.map(() => 0));
    assert.equal(e.truncated, false);
    assert.equal(tok.decode(e.ids), 'the food was great !');
    const p = tok.encode('good', 32, 'bad');
    assert.deepEqual(p.tokenTypeIds.slice(-2), [1, 1]);
  });
  it('splits unknown words into word pieces and uses [UNK] for unknown characters', () => {
    const ids = tok.tokenizeToIds('unbelievablenessly');
    assert.ok(ids.length > 1 && !ids.includes(tok.unkId));
    assert.ok(tok.tokenize('ok').length >= 1);
    assert.deepEqual(tok.tokenizeToIds('☃'), [tok.unkId]);
  });
  it('truncates to maxLength and reports it', () => {
    const long = 'very '.repeat(100) + 'good';
    const e = tok.encode(long, 16);
    assert.equal(e.ids.length, 16);
    assert.equal(e.truncated, true);
    assert.equal(e.ids[15], tok.sepId);
  });
  it('aligns pre-split words: label on the first sub-token, -100 elsewhere', () => {
    const words = ['Unbelievablenessly', 'good', 'food', '.'];
    const e = tok.encodeWords(words, 64, [7, 8, 9, 10]);
    const firstOf = (w: number) => e.wordIds.indexOf(w);
    for (let w = 0; w < words.length; w++) assert.equal(e.labels[firstOf(w)], 7 + w);
    const labelled = e.labels.filter((l) => l !== IGNORE_INDEX);
    assert.deepEqual(labelled, [7, 8, 9, 10]);
    assert.equal(e.labels[0], IGNORE_INDEX);
    assert.equal(e.labels[e.labels.length - 1], IGNORE_INDEX);
    assert.ok(e.wordIds.filter((w) => w === 0).length > 1, 'first word should split into several pieces');
    assert.equal(e.wordsKept, 4);
    // empty word still gets a token
    const z = tok.encodeWords(['', 'good'], 16, [1, 2]);
    assert.deepEqual(z.labels.filter((l) => l !== IGNORE_INDEX), [1, 2]);
  });
  it('truncates word sequences at word boundaries', () => {
    const e = tok.encodeWords(Array(20).fill('good'), 8, Array(20).fill(3));
    assert.equal(e.truncated, true);
    assert.ok(e.ids.length <= 8);
    assert.equal(e.wordsKept, e.labels.filter((l) => l !== IGNORE_INDEX).length);
    assert.throws(() => tok.encodeWords(['a', 'b'], 8, [1]), /2 words but 1 labels/);
  });
  it('round-trips through JSON and vocab.txt', () => {
    const j = WordPieceTokenizer.fromJSON(JSON.parse(JSON.stringify(tok.toJSON())));
    assert.deepEqual(j.vocab, tok.vocab);
    const v = WordPieceTokenizer.fromVocabTxt(tok.toVocabTxt());
    assert.equal(v.sha256, tok.sha256);
    assert.deepEqual(v.encode('Terrible service, never again.', 32).ids, tok.encode('Terrible service, never again.', 32).ids);
    assert.throws(() => WordPieceTokenizer.fromJSON({ ...tok.toJSON(), sha256: 'x' }), /sha256/);
  });
  it('matches @huggingface/tokenizers on the exported tokenizer.json', () => {
    const hf = new Tokenizer(tok.toHuggingFaceJSON() as never, {} as never);
    for (const text of corpus.slice(0, 200).concat(['Crème brûlée, naïve café!', 'ÀÉÎ 中文 x'])) {
      const ours = tok.encode(text, 512);
      const theirs = hf.encode(text);
      assert.deepEqual(ours.ids, theirs.ids, text);
    }
  });
  it('pads batches', () => {
    const b = padBatch([tok.encode('a b c', 16), tok.encode('a', 16)]);
    assert.equal(b.length, 5);
    assert.deepEqual(Array.from(b.attentionMask), [1, 1, 1, 1, 1, 1, 1, 1, 0, 0]);
  });
  it('stops merging below minFrequency', () => {
    const v = trainWordPieceVocab(['abc abc xyz'], { vocabSize: 1000, minFrequency: 2 });
    assert.ok(v.includes('abc'));
    assert.ok(!v.includes('xyz'));
  });
});
