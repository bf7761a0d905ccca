import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { pipelineGraph, renderDot, renderMermaid, runGraph } from '../../pipelines/static/graph.ts';
import broad from '../../pipelines/examples/broad.ts';
import { checkFiles } from '../../pipelines/static/check.ts';
import { lintMermaidFlowchart } from './mermaid-lint.ts';
import { makeFixture, REPO } from './fixture.ts';

const BROAD = join(REPO, 'pipelines/examples/broad.ts');

describe('pipelineGraph', () => {
  it("reads broad.ts's DAG without running it, equal to the runtime spec", () => {
    const g = pipelineGraph(BROAD);
    assert.equal(g.name, broad.spec.name);
    assert.deepEqual(g.problems, []);
    assert.deepEqual(g.nodes, broad.spec.stages.map((s) => ({
      id: s.id, activity: s.activity, taskQueue: s.options.taskQueue, ...(s.project !== undefined ? { project: s.project } : {}),
    })));
    assert.deepEqual(g.edges, broad.spec.stages.flatMap((s) => s.after.map((d) => [d, s.id])));
    assert.deepEqual(g.projects, [
      { name: 'sentiment', taskKind: 'sequence-classification' },
      { name: 'spam', taskKind: 'sequence-classification' },
      { name: 'pos', taskKind: 'token-classification' },
    ]);
  });

  it('renders valid Mermaid: a subgraph per project, the shared train stage highlighted, queues shown', () => {
    const g = pipelineGraph(BROAD);
    const m = lintMermaidFlowchart(renderMermaid(g));
    assert.equal(m.nodes.size, broad.spec.stages.length);
    assert.equal(m.edges.length, g.edges.length);
    assert.equal(m.subgraphs.size, 3);
    for (const members of m.subgraphs.values()) assert.equal(members.length, 4);
    assert.deepEqual(m.classes.get('shared'), ['n_train']);
    assert.match(m.nodes.get('n_train')!, /queue: training/);
    assert.match(m.nodes.get('n_sentiment_collect')!, /queue: broadloom/);
    // Edges are the spec's edges, through the id mapping.
    const ids = new Map([...m.nodes.keys()].map((k) => [m.nodes.get(k)!.split('<br/>')[0]!, k]));
    assert.deepEqual(m.edges, g.edges.map(([a, b]) => [ids.get(a), ids.get(b)]));
  });

  it('renders DOT with clusters and every edge', () => {
    const dot = renderDot(pipelineGraph(BROAD));
    assert.match(dot, /^digraph "broad" \{\n/);
    assert.equal((dot.match(/subgraph cluster_/g) ?? []).length, 3);
    assert.equal((dot.match(/ -> /g) ?? []).length, broad.spec.stages.reduce((n, s) => n + s.after.length, 0));
    assert.match(dot, /"train" \[.*fillcolor="#fde68a"/);
    assert.equal((dot.match(/\{/g) ?? []).length, (dot.match(/\}/g) ?? []).length);
  });

  it('follows spreads, imported constants and custom stages with their queues', () => {
    const fx = makeFixture();
    try {
      fx.write('pipelines/names.ts', "export const NAMES = ['alpha', 'beta'] as const;\nexport const REPORT = { id: 'report', activity: 'report' };\n");
      const file = fx.write('pipelines/spread.ts', `
import { definePipeline } from './dsl.ts';
import { NAMES, REPORT } from './names.ts';
const base = { task: { kind: 'token-classification', labels: ['x', 'y'] }, sources: [] };
const extra = [{ ...REPORT, after: ['train', 'stats'], options: { taskQueue: 'reports' } }];
export default definePipeline({
  name: 'spread',
  projects: [{ ...base, name: NAMES[0] ?? 'never' }, { name: 'beta', ...base }, { ...base, name: process.env.P ?? 'gamma' }],
  stages: [{ id: 'stats', activity: 'countRows', project: 'beta', after: ['beta.collect'] }, ...extra],
});
`);
      const g = pipelineGraph(file);
      assert.deepEqual(g.projects.map((p) => p.name), ['alpha', 'beta']);
      // A name read from the environment cannot be known statically: reported, not guessed.
      assert.equal(g.problems.length, 1);
      assert.equal(g.problems[0]!.line, fx.pos('pipelines/spread.ts', 'name: process.env.P').line);
      assert.equal(g.problems[0]!.severity, 'warning');
      assert.deepEqual(g.nodes.slice(-2), [
        { id: 'stats', activity: 'countRows', project: 'beta', taskQueue: 'broadloom' },
        { id: 'report', activity: 'report', taskQueue: 'reports' },
      ]);
      assert.deepEqual(g.edges.slice(-3), [['beta.collect', 'stats'], ['train', 'report'], ['stats', 'report']]);
      lintMermaidFlowchart(renderMermaid(g));
    } finally { fx.dispose(); }
  });

  it('custom stages with the real DSL and defineActivity: the static DAG equals the runtime one', async () => {
    const fx = makeFixture();
    try {
      const file = fx.write('pipelines/real.ts', `
import { z } from 'zod';
import { definePipeline, task, sources, stage, stageIds } from '${REPO}pipelines/index.ts';
import { defineActivity } from '${REPO}pipelines/static/define-activity.ts';

const Counts = z.object({ count: z.number() });
const names = ['alpha', 'beta'] as const;
const common = { task: task.tokens(['x', 'y']), sources: [sources.jsonl('data/a.jsonl')] };

export default definePipeline({
  name: 'real',
  projects: [{ name: names[0], ...common }, { ...common, name: 'beta' }],
  stages: [
    stage({ id: 'stats', activity: 'countRows', project: 'beta', after: [stageIds.collect('beta')] }),
    { id: 'report', activity: 'report', after: [stageIds.promote, 'stats'], options: { taskQueue: 'reports' } },
  ],
  activities: {
    countRows: defineActivity({ output: Counts }, async () => ({ outputs: {}, summary: '', metrics: {}, facts: { count: 1 } })),
    report: defineActivity({ input: Counts }, async () => ({ outputs: {}, summary: '', metrics: {}, facts: {} })),
  },
});
`);
      const runtime = ((await import(file)) as { default: typeof broad }).default;
      const g = pipelineGraph(file);
      assert.deepEqual(g.problems, []);
      assert.deepEqual(g.nodes, runtime.spec.stages.map((s) => ({
        id: s.id, activity: s.activity, taskQueue: s.options.taskQueue, ...(s.project !== undefined ? { project: s.project } : {}),
      })));
      assert.deepEqual(g.edges, runtime.spec.stages.flatMap((s) => s.after.map((d) => [d, s.id])));
      assert.equal(typeof runtime.activities['countRows'], 'function');
      assert.deepEqual(checkFiles([file]), []);
      // The same file with a producer that no longer satisfies the consumer.
      fx.write('pipelines/real.ts', fx.read('pipelines/real.ts').replace('count: z.number() })', 'count: z.string() })').replace("output: Counts", "output: z.object({ count: z.boolean() })"));
      assert.deepEqual(checkFiles([file]).map((d) => d.code), ['schema-mismatch']);
    } finally { fx.dispose(); }
  });

  it('reads pipeline factories through the call that makes the exported pipeline', () => {
    const fx = makeFixture();
    try {
      const file = fx.write('pipelines/factory.ts', `
import { definePipeline } from './dsl.ts';
export function make(n: string, queue = 'gpu') {
  const label = \`\${n}.label\`;
  return definePipeline({
    name: n,
    projects: [{ name: n, task: { kind: 'sequence-classification', labels: ['a', 'b'] }, sources: [] }],
    stages: [{ id: 'extra', activity: 'collect', after: [label], options: { taskQueue: queue } }],
  });
}
export const other = make('beta', 'cpu');
export default make('alpha');
`);
      const g = pipelineGraph(file);
      assert.deepEqual(g.problems, []);
      assert.equal(g.name, 'alpha');
      assert.deepEqual(g.nodes.at(-1), { id: 'extra', activity: 'collect', taskQueue: 'gpu' });
      assert.deepEqual(g.edges.at(-1), ['alpha.label', 'extra']);
    } finally { fx.dispose(); }
  });

  it('runGraph writes the chosen format', () => {
    let out = '';
    assert.equal(runGraph(BROAD, 'dot', { write: (s: string) => { out += s; } }), 0);
    assert.match(out, /^digraph/);
    out = '';
    assert.equal(runGraph(BROAD, 'mermaid', { write: (s: string) => { out += s; } }), 0);
    assert.match(out, /^flowchart TD\n/);
  });
});
