import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { accuracy, binaryF1, classificationReport, extractSpans, leastConfident, macroF1, spanF1, tokenAccuracy } from '../../ml/metrics.ts';

const close = (a: number, b: number, eps = 1e-9) => assert.ok(Math.abs(a - b) < eps, `${a} != ${b}`);

describe('classification metrics', () => {
  // gold: a a a b b c ; pred: a a b b c c
  const gold = ['a', 'a', 'a', 'b', 'b', 'c'];
  const pred = ['a', 'a', 'b', 'b', 'c', 'c'];
  it('accuracy', () => close(accuracy(gold, pred), 4 / 6));
  it('per-class P/R/F1, macro-F1 and confusion matrix (hand computed)', () => {
    const r = classificationReport(gold, pred, ['a', 'b', 'c']);
    // a: tp2 fp0 fn1 -> P1 R2/3 F0.8 ; b: tp1 fp1 fn1 -> .5 .5 .5 ; c: tp1 fp1 fn0 -> .5 1 2/3
    close(r.perClass.a!.precision, 1);
    close(r.perClass.a!.recall, 2 / 3);
    close(r.perClass.a!.f1, 0.8);
    close(r.perClass.b!.f1, 0.5);
    close(r.perClass.c!.precision, 0.5);
    close(r.perClass.c!.recall, 1);
    close(r.perClass.c!.f1, 2 / 3);
    close(r.macroF1, (0.8 + 0.5 + 2 / 3) / 3);
    assert.deepEqual(r.confusion, [
      [2, 1, 0],
      [0, 1, 1],
      [0, 0, 1],
    ]);
    assert.equal(r.perClass.a!.support, 3);
  });
  it('a class never predicted nor present counts 0 in macro-F1 when listed', () => {
    close(macroF1(['a', 'b'], ['a', 'b'], ['a', 'b', 'z']), 2 / 3);
    close(macroF1(['a', 'b'], ['a', 'b']), 1);
  });
  it('binary F1 for a positive label', () => {
    const r = binaryF1(['spam', 'ham', 'spam', 'ham'], ['spam', 'spam', 'ham', 'ham'], 'spam');
    close(r.precision, 0.5);
    close(r.recall, 0.5);
    close(r.f1, 0.5);
    assert.equal(binaryF1(['ham'], ['ham'], 'spam').f1, 0); // no positives anywhere: 0 by convention
  });
  it('rejects labels outside the set and length mismatches', () => {
    assert.throws(() => classificationReport(['a'], ['q'], ['a', 'b']), /"q"/);
    assert.throws(() => accuracy(['a'], []), /1 items/);
  });
  it('least-confident ordering', () => assert.deepEqual(leastConfident([0.9, 0.5, 0.7, 0.5], 3), [1, 3, 2]));
});

describe('token metrics (conlleval semantics)', () => {
  it('token accuracy', () => close(tokenAccuracy([['A', 'B'], ['C']], [['A', 'X'], ['C']]), 2 / 3));
  it('extracts BIO spans', () => {
    assert.deepEqual(extractSpans(['B-PER', 'I-PER', 'O', 'B-LOC']), [
      { type: 'PER', start: 0, end: 1 },
      { type: 'LOC', start: 3, end: 3 },
    ]);
  });
  it('I- without B- starts a span; a type change splits spans', () => {
    assert.deepEqual(extractSpans(['O', 'I-PER', 'I-PER', 'I-LOC', 'B-LOC', 'I-LOC']), [
      { type: 'PER', start: 1, end: 2 },
      { type: 'LOC', start: 3, end: 3 },
      { type: 'LOC', start: 4, end: 5 },
    ]);
    assert.deepEqual(extractSpans(['B-PER', 'B-PER']), [
      { type: 'PER', start: 0, end: 0 },
      { type: 'PER', start: 1, end: 1 },
    ]);
    assert.deepEqual(extractSpans(['I-MISC']), [{ type: 'MISC', start: 0, end: 0 }]);
  });
  it('span P/R/F1 hand computed', () => {
    const gold = [
      ['B-PER', 'I-PER', 'O', 'B-LOC'],
      ['B-ORG', 'O'],
    ];
    const pred = [
      ['B-PER', 'I-PER', 'O', 'O'], // PER correct, LOC missed
      ['B-ORG', 'B-ORG'], // ORG correct, one spurious ORG
    ];
    const r = spanF1(gold, pred);
    assert.equal(r.gold, 3);
    assert.equal(r.predicted, 3);
    assert.equal(r.correct, 2);
    close(r.precision, 2 / 3);
    close(r.recall, 2 / 3);
    close(r.f1, 2 / 3);
    close(r.perType.LOC!.recall, 0);
    close(r.perType.ORG!.precision, 0.5);
  });
  it('boundary errors count as wrong', () => {
    const r = spanF1([['B-PER', 'I-PER']], [['B-PER', 'O']]);
    assert.equal(r.correct, 0);
    assert.equal(r.f1, 0);
  });
  it('empty predictions give precision = recall = F1 = 0', () => {
    const r = spanF1([['B-PER', 'O']], [['O', 'O']]);
    assert.equal(r.predicted, 0);
    assert.equal(r.precision, 0);
    assert.equal(r.recall, 0);
    assert.equal(r.f1, 0);
    assert.equal(spanF1([['O']], [['O']]).f1, 0);
  });
  it('I- continuing a B- of the same type joins it', () => {
    const r = spanF1([['B-PER', 'I-PER']], [['I-PER', 'I-PER']]);
    assert.equal(r.correct, 1);
    close(r.f1, 1);
  });
});
