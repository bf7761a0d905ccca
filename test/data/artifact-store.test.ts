import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import * as arrow from 'apache-arrow';
import { ArtifactStore, ArtifactCorruptError, ArtifactMissingError, ArtifactRefError } from '../../data/artifact-store.ts';
import { broadloomHome } from '../../data/home.ts';
import { rowsToTable, tableToRows } from '../../data/arrow-rows.ts';
import { sha256Hex } from '../../data/hash.ts';
import { listAll, tmpDir, tmpStore } from './helpers.ts';

test('putBytes/getBytes round trip, content addressing and idempotence', async () => {
  const { store } = tmpStore();
  const bytes = new TextEncoder().encode('hello artifacts');
  const ref = await store.putBytes(bytes, { kind: 'blob', name: 'greeting' });
  const sha = sha256Hex(bytes);
  assert.equal(ref.sha256, sha);
  assert.equal(ref.uri, `artifact://sha256/${sha}`);
  assert.equal(ref.bytes, bytes.byteLength);
  assert.equal(ref.kind, 'blob');
  assert.equal(store.pathOf(ref), path.join(store.root, sha.slice(0, 2), sha));
  assert.deepEqual(Buffer.from(await store.getBytes(ref)), Buffer.from(bytes));
  const again = await store.putBytes(bytes, { kind: 'blob', name: 'greeting' });
  assert.deepEqual(again, ref);
  assert.equal(await store.has(ref), true);
  assert.equal(await store.has(ref, { verify: true }), true);
  assert.equal(listAll(store.root).length, 1);
});

test('putJson is canonical (key order does not matter); putTable fills rows + columns', async () => {
  const { store } = tmpStore();
  const a = await store.putJson({ b: 1, a: [1, 2] }, { kind: 'report', name: 'r' });
  const b = await store.putJson({ a: [1, 2], b: 1 }, { kind: 'report', name: 'r' });
  assert.equal(a.sha256, b.sha256);
  assert.deepEqual(await store.getJson(a), { a: [1, 2], b: 1 });

  const rows = [
    { id: 'x', text: 'one', label: 'pos', source: 's', split: 'train' },
    { id: 'y', text: 'two', label: null, source: 's', split: 'test' },
  ];
  const ref = await store.putTable(rowsToTable(rows, 'text'), { kind: 'dataset', name: 'demo/train' });
  assert.equal(ref.rows, 2);
  assert.deepEqual(ref.columns?.map((c) => c.name), ['id', 'text', 'label', 'source', 'split']);
  assert.equal(ref.columns?.[0]?.type, 'Utf8');
  const t = await store.getTable(ref);
  assert.ok(t instanceof arrow.Table);
  assert.deepEqual(tableToRows(t), rows);
  // Arrow IPC *file* format starts with the ARROW1 magic.
  assert.equal(Buffer.from((await store.getBytes(ref)).subarray(0, 6)).toString(), 'ARROW1');
});

test('missing and corrupt artifacts give clear errors', async () => {
  const { store } = tmpStore();
  const ref = await store.putBytes(new TextEncoder().encode('precious'), { kind: 'model', name: 'enc' });
  const p = store.pathOf(ref);
  fs.writeFileSync(p, 'tampered');
  await assert.rejects(store.getBytes(ref), (e: Error) => {
    assert.ok(e instanceof ArtifactCorruptError);
    assert.match(e.message, new RegExp(`^artifact enc \\(${ref.sha256}\\) is corrupt: sha256 mismatch`));
    return true;
  });
  assert.equal(await store.has(ref, { verify: true }), false);
  // re-putting the same bytes repairs the damaged copy
  await store.putBytes(new TextEncoder().encode('precious'), { kind: 'model', name: 'enc' });
  assert.equal(Buffer.from(await store.getBytes(ref)).toString(), 'precious');
  fs.rmSync(p);
  assert.equal(await store.has(ref), false);
  await assert.rejects(store.getBytes(ref), (e: Error) => {
    assert.ok(e instanceof ArtifactMissingError);
    assert.equal(e.message, `artifact enc (${ref.sha256}) is missing from the store at ${p}: restore it or re-run the stage that produced it`);
    return true;
  });
});

test('a write failing half-way leaves neither the artifact nor a temp file', async () => {
  const dir = tmpDir();
  const root = path.join(dir, 'artifacts');
  let calls = 0;
  const store = new ArtifactStore({
    root,
    writeHook: ({ phase }) => {
      if (phase === 'chunk' && ++calls === 2) throw new Error('disk on fire');
    },
  });
  const big = new Uint8Array(3 * (1 << 20) + 17).map((_, i) => i % 251);
  await assert.rejects(store.putBytes(big, { kind: 'blob' }), /disk on fire/);
  const sha = sha256Hex(big);
  assert.equal(fs.existsSync(path.join(root, sha.slice(0, 2), sha)), false);
  assert.deepEqual(listAll(root), [], 'no partial artifact and no temp file left behind');

  // failure just before the rename (data fully written + fsynced) also leaves nothing
  const store2 = new ArtifactStore({ root, writeHook: ({ phase }) => { if (phase === 'beforeRename') throw new Error('crash'); } });
  await assert.rejects(store2.putBytes(big, { kind: 'blob' }), /crash/);
  assert.deepEqual(listAll(root), []);

  // a stream that throws mid-way
  const plain = new ArtifactStore({ root });
  async function* chunks() {
    yield new Uint8Array(1000);
    yield new Uint8Array(1000);
    throw new Error('source stream broke');
  }
  await assert.rejects(plain.putStream(chunks(), { kind: 'blob' }), /source stream broke/);
  assert.deepEqual(listAll(root), []);
  // and a good stream lands under its hash
  const ok = await plain.putStream([new Uint8Array([1, 2]), new Uint8Array([3])], { kind: 'blob' });
  assert.equal(ok.sha256, sha256Hex(new Uint8Array([1, 2, 3])));
  assert.deepEqual(listAll(root), [path.join(ok.sha256.slice(0, 2), ok.sha256)]);
});

test('path traversal, NUL bytes and forged refs are refused', async () => {
  const { store } = tmpStore();
  const bytes = new Uint8Array([1]);
  for (const name of ['../../etc/passwd', '/etc/passwd', 'a/../../b', 'x\0y', 'line\nbreak', '..']) {
    await assert.rejects(store.putBytes(bytes, { kind: 'blob', name }), ArtifactRefError, `name ${JSON.stringify(name)}`);
  }
  const ref = await store.putBytes(bytes, { kind: 'blob', name: 'ok/name' });
  const forged = [
    { ...ref, uri: 'artifact://sha256/../../etc/passwd' },
    { ...ref, uri: 'file:///etc/passwd' },
    { ...ref, uri: `artifact://sha256/${ref.sha256}\0` },
    { ...ref, sha256: '../../../../etc/passwd' },
    { ...ref, uri: `artifact://sha256/${'0'.repeat(64)}` },
    { ...ref, name: '../../etc/passwd' },
  ];
  for (const f of forged) await assert.rejects(store.getBytes(f as never), ArtifactRefError, JSON.stringify(f));
  assert.throws(() => store.pathOf('../../etc/passwd'), ArtifactRefError);
});

test('default root follows BROADLOOM_HOME', () => {
  assert.equal(broadloomHome({ BROADLOOM_HOME: '/srv/bl' }, '/x'), '/srv/bl');
  assert.equal(broadloomHome({}, '/work/p'), '/work/p/.broadloom');
  const saved = process.env['BROADLOOM_HOME'];
  process.env['BROADLOOM_HOME'] = '/tmp/bl-home-test';
  try {
    assert.equal(new ArtifactStore().root, '/tmp/bl-home-test/artifacts');
  } finally {
    if (saved === undefined) delete process.env['BROADLOOM_HOME'];
    else process.env['BROADLOOM_HOME'] = saved;
  }
});

test('concurrent puts of the same bytes are safe and leave one file', async () => {
  const { store } = tmpStore();
  const bytes = new Uint8Array(2 << 20).map((_, i) => (i * 7) % 256);
  const refs = await Promise.all(Array.from({ length: 8 }, () => store.putBytes(bytes, { kind: 'checkpoint' })));
  assert.equal(new Set(refs.map((r) => r.uri)).size, 1);
  assert.deepEqual(listAll(store.root), [path.join(refs[0]!.sha256.slice(0, 2), refs[0]!.sha256)]);
  assert.equal((await store.getBytes(refs[0]!)).byteLength, bytes.byteLength);
});
