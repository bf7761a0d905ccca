import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ModelRegistry } from '../../data/registry.ts';
import type { ModelManifest } from '../../schemas/model.ts';
import { tmpStore } from './helpers.ts';

async function manifest(store: ReturnType<typeof tmpStore>['store'], version: string, parent: string | null): Promise<ModelManifest> {
  const enc = await store.putBytes(new TextEncoder().encode(`encoder ${version}`), { kind: 'model', name: `enc-${version}` });
  return {
    version,
    pipeline: 'demo',
    createdAt: '2026-12-04T00:00:00.000Z',
    encoder: enc,
    heads: {},
    tokenizerSha256: 'f'.repeat(64),
    backend: 'cpu',
    parent,
    lineage: { data: { sentiment: [enc.sha256] }, codeVersion: 'c1', config: {}, runId: `run-${version}` },
    metrics: { sentiment: { metric: 'accuracy', value: 0.8, examples: 10 } },
  };
}

test('register, promote, reject, lineage and the champion pointer', async () => {
  const t = tmpStore();
  const reg = new ModelRegistry('demo', { home: t.dir });
  assert.equal(await reg.champion(), null);
  assert.equal(await reg.nextVersion(), 'v0001');
  const m1 = await manifest(t.store, 'v0001', null);
  const e1 = await reg.register(m1);
  assert.equal(e1.status, 'challenger');
  assert.ok(fs.existsSync(path.join(t.dir, 'registry', 'demo', 'versions', 'v0001.json')));
  await reg.register(m1); // idempotent
  await assert.rejects(reg.register({ ...m1, backend: 'wasm' }), /already registered with a different manifest/);
  await reg.promote('v0001', { reason: 'first model', accuracy: 0.8 });
  assert.equal((await reg.champion())?.version, 'v0001');

  assert.equal(await reg.nextVersion(), 'v0002');
  await reg.register(await manifest(t.store, 'v0002', 'v0001'));
  const rej = await reg.reject('v0002', 'accuracy regressed 0.80 → 0.71 (maxRegression 0.02)');
  assert.equal(rej.status, 'rejected');
  await assert.rejects(reg.promote('v0002', { reason: 'try' }), /was rejected/);
  assert.equal((await reg.champion())?.version, 'v0001');

  await reg.register(await manifest(t.store, 'v0003', 'v0001'));
  const p3 = await reg.promote('v0003', { reason: 'beats champion on every project', gate: { sentiment: 'pass' } });
  assert.equal(p3.status, 'champion');
  assert.equal((await reg.champion())?.version, 'v0003');
  await reg.register(await manifest(t.store, 'v0004', 'v0003'));
  await reg.promote('v0004', { reason: 'better again' });

  const list = await reg.list();
  assert.deepEqual(list.map((e) => [e.version, e.status]), [
    ['v0001', 'retired'],
    ['v0002', 'rejected'],
    ['v0003', 'retired'],
    ['v0004', 'champion'],
  ]);
  assert.equal(list[0]!.reason, 'superseded by v0003');
  assert.match(list[1]!.reason, /regressed/);
  assert.deepEqual(list[3]!.decision, { reason: 'better again' });
  assert.deepEqual((await reg.lineage('v0004')).map((m) => m.version), ['v0004', 'v0003', 'v0001']);

  await assert.rejects(reg.reject('v0004', 'no'), /is the champion/);
  await assert.rejects(reg.register(await manifest(t.store, 'v0009', 'v0008')), /parent version v0008/);
  await assert.rejects(reg.get('../../etc/passwd'), /invalid model version/);
  assert.throws(() => new ModelRegistry('../evil', { home: t.dir }), /invalid pipeline name/);

  // rollback: a retired version can be promoted again
  await reg.promote('v0003', { reason: 'rollback: v0004 misbehaves in production' });
  assert.equal((await reg.champion())?.version, 'v0003');
  assert.equal((await reg.status('v0004'))?.status, 'retired');
});
