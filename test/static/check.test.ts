import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkFiles, runCheck, type Diagnostic } from '../../pipelines/static/check.ts';
import { makeFixture, REPO, type Fixture } from './fixture.ts';

const errors = (ds: Diagnostic[]) => ds.filter((d) => d.severity === 'error');
const where = (d: Diagnostic) => ({ file: d.file, line: d.line, column: d.column, code: d.code });

function pipelineWith(stages: string, activities = '', extra = ''): string {
  return `
import { z } from 'zod';
import { definePipeline, defineActivity } from './dsl.ts';
${extra}
export default definePipeline({
  name: 'bad',
  projects: [{ name: 'alpha', task: { kind: 'sequence-classification', labels: ['a', 'b'] }, sources: [] }],
  stages: [
${stages}
  ],
  activities: {
${activities}
  },
});
`;
}

describe('checkFiles', () => {
  let fx: Fixture;
  before(() => { fx = makeFixture(); });
  after(() => fx.dispose());

  it('the fixture pipeline is clean', () => {
    assert.deepEqual(checkFiles([fx.path('pipelines/p.ts')], { root: fx.root }), []);
  });

  it('reports a cycle at the `after` element that closes it', () => {
    const file = fx.write('pipelines/cycle.ts', pipelineWith(`
    { id: 'x', activity: 'collect', after: ['alpha.label', 'z'] },
    { id: 'y', activity: 'collect', after: ['x'] },
    { id: 'z', activity: 'collect', after: ['y'] },`));
    const ds = errors(checkFiles([file], { root: fx.root }));
    assert.equal(ds.length, 1, JSON.stringify(ds));
    const { line, column } = fx.pos('pipelines/cycle.ts', "'z'] }");
    assert.deepEqual(where(ds[0]!), { file, line, column, code: 'cycle' });
    assert.match(ds[0]!.message, /cycle: (x → y → z → x|y → z → x → y|z → x → y → z)/);
  });

  it('reports an unknown stage at the offending `after` element', () => {
    const file = fx.write('pipelines/unknown-stage.ts', pipelineWith(`
    { id: 'x', activity: 'collect', after: ['alpha.label', 'alpha.lable'] },`));
    const ds = errors(checkFiles([file], { root: fx.root }));
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.deepEqual(where(ds[0]!), { file, ...fx.pos('pipelines/unknown-stage.ts', "'alpha.lable'"), code: 'unknown-stage' });
  });

  it('reports an activity registered nowhere, at the stage\'s `activity`', () => {
    const file = fx.write('pipelines/unknown-activity.ts', pipelineWith(`
    { id: 'x', activity: 'collect', after: ['alpha.label'] },
    { id: 'y', activity: 'featurise', after: ['x'] },
    { id: 'w', activity: 'mine', after: ['x'] },`, `    mine: async () => ({ outputs: {}, summary: '' }),`));
    const ds = errors(checkFiles([file], { root: fx.root }));
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.deepEqual(where(ds[0]!), { file, ...fx.pos('pipelines/unknown-activity.ts', "'featurise'"), code: 'unknown-activity' });
  });

  it('reports a producer whose declared output does not satisfy the consumer\'s input', () => {
    const file = fx.write('pipelines/schema.ts', pipelineWith(`
    { id: 'stats', activity: 'countRows', after: ['alpha.collect'] },
    { id: 'ok', activity: 'needsCount', after: ['stats'] },
    { id: 'report', activity: 'needsName', after: ['alpha.label', 'stats'] },`, `
    countRows: defineActivity({ output: Counts }, async () => ({ outputs: {}, summary: '' })),
    needsCount: defineActivity({ input: z.object({ count: z.number() }) }, async () => ({ outputs: {}, summary: '' })),
    needsName: defineActivity({ input: NeedsName }, async () => ({ outputs: {}, summary: '' })),`,
    `const Counts = z.object({ count: z.number(), name: z.number() });
const NeedsName = z.object({ name: z.string(), count: z.number().optional() });`));
    const ds = errors(checkFiles([file], { root: fx.root }));
    assert.equal(ds.length, 1, JSON.stringify(ds));
    assert.deepEqual(where(ds[0]!), { file, ...fx.pos('pipelines/schema.ts', "'stats'] },\n  ],"), code: 'schema-mismatch' });
    assert.match(ds[0]!.message, /"name": number is not assignable to string/);
  });

  it('reports Math.random() and other nondeterminism in workflow code with line:column', () => {
    const rel = 'workflows/wf.ts';
    const file = fx.write(rel, `import { sleep } from '@temporalio/workflow';
import type { StageSpec } from '../schemas/stage.ts';
import { helper } from './helper.ts';
import { readFileSync } from 'node:fs';
import { collect } from '../activities/collect.ts';
import type * as acts from '../activities/index.ts';
import { msToNumber } from '@temporalio/common/lib/time.js';

export async function wf(s: StageSpec): Promise<number> {
  await sleep('1s');
  const r = Math.random();
  const home = process.env.HOME;
  return msToNumber('1s') + helper(r) + Date.now() + (home ? 1 : 0) + readFileSync.length + collect.length + s.id.length;
}
`);
    fx.write('workflows/helper.ts', 'export const helper = (x: number) => x * 2;\n');
    const ds = checkFiles([fx.path('workflows')], { root: fx.root });
    const errs = errors(ds).map(where);
    assert.deepEqual(errs, [
      { file, ...fx.pos(rel, "'node:fs'"), code: 'workflow-import' },
      { file, ...fx.pos(rel, "'../activities/collect.ts'"), code: 'workflow-import' },
      { file, ...fx.pos(rel, 'Math.random'), code: 'nondeterministic' },
      { file, ...fx.pos(rel, 'process.env'), code: 'nondeterministic' },
    ]);
    // Date.now() is replay-safe inside Temporal's sandbox: a warning, an error when strict.
    const warn = ds.filter((d) => d.severity === 'warning').map(where);
    assert.deepEqual(warn, [{ file, ...fx.pos(rel, 'Date.now'), code: 'nondeterministic' }]);
    assert.equal(errors(checkFiles([file], { root: fx.root, strict: true })).length, 5);
  });

  it('runCheck prints file:line:column lines and exits non-zero on errors', () => {
    let text = '';
    const rc = runCheck([fx.path('workflows/wf.ts')], { write: (s: string) => { text += s; } }, { root: fx.root });
    assert.equal(rc, 1);
    const at = fx.pos('workflows/wf.ts', 'Math.random');
    assert.match(text, new RegExp(`wf\\.ts:${at.line}:${at.column}: error nondeterministic: \`Math\\.random\\(\\)\``));
    assert.match(text, /4 errors, 1 warning\n$/);
    assert.equal(runCheck([fx.path('pipelines/p.ts')], { write: () => true }, { root: fx.root }), 0);
  });

  it("the repository's own examples and workflows have no errors", () => {
    const files = [
      ...readdirSync(join(REPO, 'pipelines/examples')).filter((f) => f.endsWith('.ts')).map((f) => join(REPO, 'pipelines/examples', f)),
      join(REPO, 'workflows'),
    ];
    const ds = checkFiles(files);
    assert.deepEqual(errors(ds), []);
  });
});
