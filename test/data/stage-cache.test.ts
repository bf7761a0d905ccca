import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { StageCache, cacheKey, canonicalJson, sha256Hex } from '../../data/stage-cache.ts';
import { listAll, tmpStore } from './helpers.ts';

test('canonicalJson sorts keys recursively and rejects lossy values', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [3, { z: 1, y: 2 }], c: null }, u: undefined }), '{"a":{"c":null,"d":[3,{"y":2,"z":1}]},"b":1}');
  assert.throws(() => canonicalJson({ x: NaN }), /non-finite/);
  assert.throws(() => canonicalJson({ x: 1n }), /bigint/);
  const cyc: Record<string, unknown> = {};
  cyc['self'] = cyc;
  assert.throws(() => canonicalJson(cyc), /cycle/);
  assert.equal(sha256Hex('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

test('cacheKey is stable under key order and changes with any input', () => {
  const base = { stageId: 'collect:sentiment', config: { a: 1, b: [1, 2] }, inputHashes: ['aa', 'bb'], codeVersion: 'c1' };
  const k = cacheKey(base);
  assert.match(k, /^[0-9a-f]{64}$/);
  assert.equal(cacheKey({ ...base, config: { b: [1, 2], a: 1 } }), k);
  assert.notEqual(cacheKey({ ...base, config: { a: 2, b: [1, 2] } }), k);
  assert.notEqual(cacheKey({ ...base, inputHashes: ['bb', 'aa'] }), k);
  assert.notEqual(cacheKey({ ...base, codeVersion: 'c2' }), k);
  assert.notEqual(cacheKey({ ...base, stageId: 'collect:other' }), k);
});

test('get is a hit only while every referenced artifact exists', async () => {
  const { dir, store } = tmpStore();
  const cache = new StageCache(store, { home: dir });
  const key = cacheKey({ stageId: 's', config: {}, inputHashes: [], codeVersion: 'x' });
  const miss = await cache.get(key);
  assert.equal(miss.hit, false);
  const a = await store.putBytes(new Uint8Array([1, 2, 3]), { kind: 'dataset', name: 'p/train' });
  const b = await store.putJson({ ok: true }, { kind: 'report', name: 'p/report' });
  await cache.put(key, { outputs: { train: a }, summary: 'done', metrics: { rows: 3 }, facts: { report: b } });
  assert.ok(fs.existsSync(path.join(dir, 'cache', `${key}.json`)));
  assert.equal(listAll(path.join(dir, 'cache')).length, 1, 'no temp files left');
  const hit = await cache.get(key);
  assert.equal(hit.hit, true);
  if (hit.hit) assert.deepEqual(hit.result.outputs['train'], a);

  fs.rmSync(store.pathOf(b)); // an artifact referenced from facts disappears
  const gone = await cache.get(key);
  assert.equal(gone.hit, false);
  if (!gone.hit) assert.match(gone.reason, /p\/report .* is missing/);

  fs.writeFileSync(path.join(dir, 'cache', `${key}.json`), '{not json');
  const broken = await cache.get(key);
  assert.equal(broken.hit, false);
  if (!broken.hit) assert.match(broken.reason, /unreadable/);
});

test('cache keys cannot traverse paths', async () => {
  const { dir, store } = tmpStore();
  const cache = new StageCache(store, { home: dir });
  await assert.rejects(cache.get('../../etc/passwd'), /invalid cache key/);
  await assert.rejects(cache.put('../x', { outputs: {}, summary: '', metrics: {}, facts: {} }), /invalid cache key/);
});
