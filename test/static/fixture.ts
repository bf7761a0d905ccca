/** A small repository in a temp dir for the static reader's tests: activities, a pipeline, workflows. */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO = fileURLToPath(new URL('../..', import.meta.url));

export interface Fixture {
  root: string;
  path(rel: string): string;
  write(rel: string, text: string): string;
  read(rel: string): string;
  /** 1-based line and column of the first occurrence of `needle` in `rel`. */
  pos(rel: string, needle: string): { line: number; column: number };
  dispose(): void;
}

export function makeFixture(files: Record<string, string> = BASE): Fixture {
  const root = mkdtempSync(join(tmpdir(), 'broadloom-static-'));
  const fx: Fixture = {
    root,
    path: (rel) => join(root, rel),
    write(rel, text) {
      const p = join(root, rel);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, text);
      return p;
    },
    read: (rel) => readFileSync(join(root, rel), 'utf8'),
    pos(rel, needle) {
      const text = fx.read(rel);
      const i = text.indexOf(needle);
      if (i < 0) throw new Error(`${needle} not in ${rel}`);
      const before = text.slice(0, i).split('\n');
      return { line: before.length, column: before[before.length - 1]!.length + 1 };
    },
    dispose: () => rmSync(root, { recursive: true, force: true }),
  };
  symlinkSync(join(REPO, 'node_modules'), join(root, 'node_modules'), 'dir');
  for (const [rel, text] of Object.entries(files)) fx.write(rel, text);
  return fx;
}

export const BASE: Record<string, string> = {
  'package.json': JSON.stringify({ name: 'fixture', type: 'module', private: true }),
  'package-lock.json': JSON.stringify({ lockfileVersion: 3, packages: { '': {}, 'node_modules/zod': { version: '4.6.7' } } }),
  'tsconfig.json': JSON.stringify({
    compilerOptions: {
      target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022'], types: ['node'], strict: true,
      skipLibCheck: true, allowImportingTsExtensions: true, noEmit: true, verbatimModuleSyntax: true,
    },
    include: [],
  }),
  // A local stand-in for the DSL: the static reader recognises calls by name.
  'pipelines/dsl.ts': `
export function definePipeline<T>(def: T): T { return def; }
export function defineActivity<I, O>(schemas: { input?: I; output?: O }, fn: (input: unknown) => Promise<unknown>) {
  return Object.assign(fn, { schemas });
}
`,
  'activities/index.ts': `
// Every activity, by name.
export { defineProblem } from './define.ts';
export { collect } from './collect.ts';
export { label } from './label.ts';
export * from './train.ts';
`,
  'activities/util.ts': `
export function normalise(s: string): string {
  return s.trim().toLowerCase();
}

export function tally(votes: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of votes) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

export const SEPARATOR = '\\t';
`,
  'activities/labelling.ts': `
import { tally } from './util.ts';

export function vote(votes: string[]): string | null {
  let best: string | null = null;
  let n = 0;
  for (const [k, c] of tally(votes)) if (c > n) { best = k; n = c; }
  return best;
}
`,
  'activities/define.ts': `
export async function defineProblem(input: { stage: { id: string } }) {
  return { outputs: {}, summary: 'defined ' + input.stage.id };
}
`,
  'activities/collect.ts': `
import { z } from 'zod';
import { normalise, SEPARATOR } from './util.ts';

const Row = z.object({ text: z.string() });

export async function collect(input: { rows: string[] }) {
  const rows = input.rows.map((r) => Row.parse({ text: normalise(r) }));
  return { outputs: {}, summary: rows.map((r) => r.text).join(SEPARATOR) };
}
`,
  'activities/label.ts': `
import { vote } from './labelling.ts';

export async function label(input: { votes: string[][] }) {
  const labels = input.votes.map((v) => vote(v));
  return { outputs: {}, summary: \`labelled \${labels.length}\` };
}
`,
  'activities/train.ts': `
class Trainer {
  steps = 0;
  run(): number { return ++this.steps; }
}

export async function train() {
  const t = new Trainer();
  return { outputs: {}, summary: 'trained ' + t.run() };
}

export async function evaluate() {
  return { outputs: {}, summary: 'evaluated' };
}

export async function promote() {
  return { outputs: {}, summary: 'promoted' };
}
`,
  'pipelines/p.ts': `
import { z } from 'zod';
import { definePipeline, defineActivity } from './dsl.ts';

const Counts = z.object({ count: z.number(), project: z.string() });
const PROJECT = 'alpha';

function countOf(xs: unknown[]): number {
  return xs.length;
}

export default definePipeline({
  name: 'fixture',
  projects: [{ name: PROJECT, task: { kind: 'sequence-classification', labels: ['a', 'b'] }, sources: [] }],
  stages: [
    { id: 'stats', activity: 'countRows', after: [\`\${PROJECT}.collect\`] },
    { id: 'report', activity: 'report', after: ['stats'], options: { taskQueue: 'reports' } },
  ],
  activities: {
    countRows: defineActivity({ output: Counts }, async () => ({ outputs: {}, summary: '', facts: { count: countOf([]), project: PROJECT } })),
    report: defineActivity({ input: z.object({ count: z.number() }) }, async () => ({ outputs: {}, summary: 'report' })),
  },
  labelers: {
    short: (r: { text?: string }) => (r.text && r.text.length < 10 ? 'a' : null),
  },
});
`,
};
