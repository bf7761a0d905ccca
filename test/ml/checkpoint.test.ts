import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import * as tf from '@tensorflow/tfjs';
import {
  TaskHead,
  createPredictor,
  decodeSafetensors,
  encodeSafetensors,
  importHuggingFaceBert,
  loadModel,
  predictSequences,
  predictTokens,
  readHeadInfo,
  saveHead,
  saveModel,
  sha256,
  trainMultiTask,
  Rng,
} from '../../ml/index.ts';
import type { TrainResult } from '../../ml/index.ts';
import { UNIVERSAL_TAGS, loadBrown, loadSentiment } from './fixtures.ts';

const BACKEND = (process.env.BROADLOOM_BACKEND ?? 'wasm') as 'wasm' | 'cpu';

describe('safetensors', () => {
  it('round-trips tensors and metadata with an 8-byte aligned header', () => {
    const t = { 'a.weight': { shape: [2, 3], data: Float32Array.from([1, -2, 3.5, 4, 5, 6]) }, b: { shape: [1], data: Float32Array.from([7]) } };
    const bytes = encodeSafetensors(t, { hello: 'world' });
    const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
    assert.equal((8 + n) % 8, 0);
    const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
    assert.deepEqual(header['a.weight'], { dtype: 'F32', shape: [2, 3], data_offsets: [0, 24] });
    const back = decodeSafetensors(bytes);
    assert.deepEqual(back.metadata, { hello: 'world' });
    assert.deepEqual(back.tensors, t);
  });
  it('reads F16 and BF16 tensors as float32', () => {
    const header = JSON.stringify({ h: { dtype: 'F16', shape: [2], data_offsets: [0, 4] }, b: { dtype: 'BF16', shape: [1], data_offsets: [4, 6] } });
    const hb = new TextEncoder().encode(header);
    const bytes = new Uint8Array(8 + hb.length + 6);
    const dv = new DataView(bytes.buffer);
    dv.setBigUint64(0, BigInt(hb.length), true);
    bytes.set(hb, 8);
    dv.setUint16(8 + hb.length, 0x3c00, true); // 1.0
    dv.setUint16(8 + hb.length + 2, 0xc000, true); // -2.0
    dv.setUint16(8 + hb.length + 4, 0x4040, true); // bf16 3.0
    const { tensors } = decodeSafetensors(bytes);
    assert.deepEqual(Array.from(tensors.h!.data), [1, -2]);
    assert.deepEqual(Array.from(tensors.b!.data), [3]);
  });
});

describe('model checkpoints', () => {
  let r: TrainResult;
  const texts = loadSentiment('imdb').slice(0, 40).map((x) => x.text);
  const sentences = loadBrown(2, 60).slice(40).map((x) => x.tokens);
  before(async () => {
    r = await trainMultiTask({
      encoder: { layers: 1, hidden: 32, heads: 2, maxLength: 32, pooling: 'cls', tokenizer: { vocabSize: 400 } },
      training: { steps: 6, batchSize: 8, evalEvery: 3, seed: 5, backend: BACKEND },
      tasks: [
        { name: 'sentiment', kind: 'sequence-classification', labels: ['neg', 'pos'], train: loadSentiment('yelp').slice(0, 100), dev: loadSentiment('yelp').slice(100, 130) },
        { name: 'pos', kind: 'token-classification', labels: [...UNIVERSAL_TAGS], train: loadBrown(2, 40), dev: [] },
      ],
    });
  });

  it('save → load → predict gives identical outputs (sequence and token heads)', async () => {
    const a = r.save();
    assert.equal(a.manifest.format, 'broadloom.bert/1');
    assert.equal(a.manifest.tokenizer.vocabSha256, r.model.tokenizer.sha256);
    assert.equal(a.manifest.encoderSha256, sha256(a.encoder));
    assert.deepEqual(Object.keys(a.manifest.heads), ['pos', 'sentiment']);
    assert.deepEqual(a.manifest.heads.pos!.labels, [...UNIVERSAL_TAGS]);
    // through JSON + bytes, as an artifact store would
    const manifest = JSON.parse(JSON.stringify(a.manifest));
    const loaded = loadModel({ encoder: a.encoder.slice(), tokenizer: a.tokenizer.slice(), heads: { pos: a.heads.pos!.slice(), sentiment: a.heads.sentiment!.slice() }, manifest });
    const before = tf.memory().numTensors;
    const p1 = predictSequences(r.model, 'sentiment', texts, { batchSize: 16 });
    const p2 = predictSequences(loaded, 'sentiment', texts, { batchSize: 7 });
    assert.deepEqual(p2, p1);
    assert.equal(tf.memory().numTensors, before, 'prediction must not leak tensors');
    const t1 = predictTokens(r.model, 'pos', sentences);
    const t2 = predictTokens(loaded, 'pos', sentences);
    assert.deepEqual(t2, t1);
    assert.equal(t1[0]!.labels.length, sentences[0]!.length);
    // A sentence longer than the encoder's window is tagged in consecutive windows: every word gets a label, and
    // the words of the second window are tagged exactly as they are when that part is tagged on its own.
    const long = [...sentences[0]!, ...sentences[1]!, ...sentences[0]!, ...sentences[1]!, ...sentences[0]!].slice(0, 80);
    const [lp] = predictTokens(r.model, 'pos', [long], { maxLength: 16 });
    assert.ok(lp!.windows > 1, `windows ${lp!.windows}`);
    assert.equal(lp!.truncated, false);
    assert.ok(lp!.labels.every((l) => l !== null));
    const firstWindow = r.model.tokenizer.encodeWords(long, 16).wordsKept;
    const [rest] = predictTokens(r.model, 'pos', [long.slice(firstWindow)], { maxLength: 16 });
    assert.deepEqual(lp!.labels.slice(firstWindow), rest!.labels);
    assert.ok(p1.every((p) => Math.abs(p.probabilities.reduce((x, y) => x + y, 0) - 1) < 1e-5));
    const predictor = await createPredictor(a, { backend: BACKEND });
    assert.deepEqual(predictor.predictSequences('sentiment', texts), p1);
    predictor.dispose();
    assert.throws(() => predictSequences(loaded, 'nope', ['x']), /no head for project "nope"/);
  });

  it('stores each head separately: adding a project leaves the other artifacts byte-identical', () => {
    const a = r.save();
    const extra = TaskHead.create({ project: 'spam', kind: 'sequence-classification', labels: ['ham', 'spam'], hidden: 32 }, new Rng(1));
    r.model.heads.set('spam', extra);
    const b = saveModel(r.model);
    r.model.heads.delete('spam');
    assert.deepEqual(b.encoder, a.encoder);
    assert.deepEqual(b.heads.sentiment, a.heads.sentiment);
    assert.equal(b.manifest.heads.sentiment!.sha256, a.manifest.heads.sentiment!.sha256);
    assert.deepEqual(readHeadInfo(saveHead(extra)), { project: 'spam', kind: 'sequence-classification', labels: ['ham', 'spam'], hidden: 32 });
    // a subset of heads loads too
    const onlySpam = loadModel({ encoder: b.encoder, tokenizer: b.tokenizer, heads: { spam: b.heads.spam! } });
    assert.deepEqual([...onlySpam.heads.keys()], ['spam']);
    assert.throws(() => loadModel({ encoder: a.encoder, tokenizer: new TextEncoder().encode('[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n'), heads: {} }), /vocab/);
  });

  it('imports a Hugging Face BERT checkpoint (config.json + vocab.txt + safetensors, [out,in] Linear weights)', () => {
    const tensors = r.model.encoder.exportTensors();
    assert.deepEqual(tensors['encoder.layer.0.intermediate.dense.weight']!.shape, [128, 32]); // HF [out, in]
    assert.deepEqual(tensors['embeddings.word_embeddings.weight']!.shape, [400, 32]);
    const hf: Record<string, { shape: number[]; data: Float32Array }> = {};
    for (const [k, v] of Object.entries(tensors)) hf['bert.' + k] = v;
    const c = r.model.encoder.config;
    const config = { vocab_size: c.vocabSize, hidden_size: c.hidden, num_hidden_layers: c.layers, num_attention_heads: c.heads, intermediate_size: c.intermediate, max_position_embeddings: c.maxLength, type_vocab_size: 2, hidden_act: 'gelu', layer_norm_eps: 1e-12 };
    const imported = importHuggingFaceBert(config, r.model.tokenizer.toVocabTxt(), encodeSafetensors(hf), { pooling: 'cls' });
    imported.heads.set('sentiment', r.model.heads.get('sentiment')!);
    assert.deepEqual(predictSequences(imported, 'sentiment', texts), predictSequences(r.model, 'sentiment', texts));
    imported.encoder.dispose();
  });
});
