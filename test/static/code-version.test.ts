import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { stageCodeDetails, stageCodeVersions } from '../../pipelines/static/code-version.ts';
import { join } from 'node:path';
import broad from '../../pipelines/examples/broad.ts';
import { makeFixture, REPO, type Fixture } from './fixture.ts';

const STAGES = ['alpha.define', 'alpha.collect', 'alpha.label', 'train', 'alpha.evaluate', 'promote', 'stats', 'report'];

function changed(a: Record<string, string>, b: Record<string, string>): string[] {
  return Object.keys(b).filter((k) => a[k] !== b[k]).sort();
}

describe('stageCodeVersions', () => {
  let fx: Fixture;
  let pipeline: string;
  const keys = () => stageCodeVersions(pipeline, { root: fx.root });

  before(() => { fx = makeFixture(); pipeline = fx.path('pipelines/p.ts'); });
  after(() => fx.dispose());

  it('gives every stage a sha256 key and follows helpers across files', () => {
    const k = keys();
    assert.deepEqual(Object.keys(k), STAGES);
    for (const v of Object.values(k)) assert.match(v, /^[0-9a-f]{64}$/);
    const d = stageCodeDetails(pipeline, { root: fx.root });
    assert.equal(d['alpha.label']!.from, 'repository');
    const labelUnits = d['alpha.label']!.units;
    assert.deepEqual(labelUnits.slice(0, 3), ['activities/label.ts#label', 'activities/labelling.ts#vote', 'activities/util.ts#tally']);
    assert.match(labelUnits[3]!, /^pipelines\/p\.ts#ArrowFunction@/); // the `short` labeler
    assert.equal(labelUnits.length, 4);
    assert.deepEqual(d['alpha.collect']!.units, ['activities/collect.ts#Row', 'activities/collect.ts#collect', 'activities/util.ts#SEPARATOR', 'activities/util.ts#normalise']);
    assert.deepEqual(d['alpha.collect']!.packages, ['zod@4.6.7']);
    assert.ok(d['train']!.units.includes('activities/train.ts#Trainer'));
    assert.equal(d['stats']!.from, 'pipeline');
    assert.ok(d['stats']!.units.includes('pipelines/p.ts#countOf'));
    // Stages with different code differ; the same activity shares its version.
    assert.notEqual(k['alpha.collect'], k['alpha.label']);
  });

  it('a helper two calls away from label changes the label key only', () => {
    const k0 = keys();
    fx.write('activities/util.ts', fx.read('activities/util.ts').replace('(m.get(v) ?? 0) + 1', '(m.get(v) ?? 0) + 2'));
    const k1 = keys();
    assert.deepEqual(changed(k0, k1), ['alpha.label']);
    assert.equal(k1['alpha.collect'], k0['alpha.collect']);
  });

  it('a helper used by collect changes collect only', () => {
    const k0 = keys();
    fx.write('activities/util.ts', fx.read('activities/util.ts').replace('s.trim().toLowerCase()', 's.trim().toUpperCase()'));
    assert.deepEqual(changed(k0, keys()), ['alpha.collect']);
  });

  it('comments and formatting change no key', () => {
    const k0 = keys();
    fx.write('activities/util.ts', `/** Utilities, now documented. */
export function normalise(s: string): string
{
  // trim first, then case
  return s.trim( ).toUpperCase( ) // same code
}


export function tally(votes: string[],): Map<string, number> {
  const m = new Map<string, number>()
  for (const v of votes)
    m.set(v, (m.get(v) ?? 0) + 2) /* same */
  return m
}
export const SEPARATOR = "\\t";
`);
    fx.write('activities/label.ts', fx.read('activities/label.ts').replace('export async', '/** Labels. */\nexport   async').replace(/;/g, ''));
    fx.write('pipelines/p.ts', fx.read('pipelines/p.ts').replace('return xs.length;', 'return xs.length // how many\n'));
    assert.deepEqual(changed(k0, keys()), []);
  });

  it('inline activities and labelers are code of their stages; the pipeline config is not', () => {
    const k0 = keys();
    fx.write('pipelines/p.ts', fx.read('pipelines/p.ts').replace('return xs.length', 'return xs.length + 0'));
    const k1 = keys();
    assert.deepEqual(changed(k0, k1), ['stats']);
    fx.write('pipelines/p.ts', fx.read('pipelines/p.ts').replace('r.text.length < 10', 'r.text.length < 12'));
    const k2 = keys();
    assert.deepEqual(changed(k1, k2), ['alpha.label']);
    fx.write('pipelines/p.ts', fx.read('pipelines/p.ts').replace("summary: 'report'", "summary: 'the report'"));
    const k3 = keys();
    assert.deepEqual(changed(k2, k3), ['report']);
    fx.write('pipelines/p.ts', fx.read('pipelines/p.ts').replace("name: 'fixture'", "name: 'fixture2'"));
    assert.deepEqual(changed(k3, keys()), []);
  });

  it('a class method reached through an instance invalidates its users', () => {
    const k0 = keys();
    fx.write('activities/train.ts', fx.read('activities/train.ts').replace('++this.steps', 'this.steps += 2'));
    assert.deepEqual(changed(k0, keys()), ['train']);
  });

  it('a new helper module reached through a new import is followed', () => {
    const k0 = keys();
    fx.write('activities/extra.ts', 'export const BONUS = 1;\n');
    fx.write('activities/train.ts', `import { BONUS } from './extra.ts';\n${fx.read('activities/train.ts').replace("'evaluated'", "'evaluated' + BONUS")}`);
    const k1 = keys();
    assert.deepEqual(changed(k0, k1), ['alpha.evaluate']);
    fx.write('activities/extra.ts', 'export const BONUS = 2;\n');
    assert.deepEqual(changed(k1, keys()), ['alpha.evaluate']);
  });

  it('a package version change invalidates the stages that import it', () => {
    const k0 = keys();
    // The lockfile is read once per process; a fresh root sees the new version.
    const fx2 = makeFixture();
    try {
      fx2.write('package-lock.json', JSON.stringify({ packages: { 'node_modules/zod': { version: '4.6.8' } } }));
      const base = stageCodeVersions(fx2.path('pipelines/p.ts'), { root: fx2.root });
      const fx3 = makeFixture();
      try {
        const other = stageCodeVersions(fx3.path('pipelines/p.ts'), { root: fx3.root });
        // collect imports zod; the custom stages' defineActivity schemas use it too.
        assert.deepEqual(changed(base, other), ['alpha.collect', 'report', 'stats']);
      } finally { fx3.dispose(); }
    } finally { fx2.dispose(); }
    assert.ok(k0);
  });
});

describe("stageCodeVersions on the repository's example", () => {
  it('versions every stage of broad.ts, stably', () => {
    const file = join(REPO, 'pipelines/examples/broad.ts');
    const a = stageCodeVersions(file);
    assert.deepEqual(Object.keys(a), broad.spec.stages.map((s) => s.id));
    for (const v of Object.values(a)) assert.match(v, /^[0-9a-f]{64}$/);
    // Same activity, same code: the three projects' collect stages share a version.
    assert.equal(a['sentiment.collect'], a['spam.collect']);
    assert.deepEqual(stageCodeVersions(file), a);
  });
});
