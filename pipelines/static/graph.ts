/**
 * The pipeline DAG as data, read statically from a pipeline file, and its renderings: Mermaid (`flowchart TD`, one
 * subgraph per project, the shared `train` stage highlighted, task queues shown) and Graphviz DOT.
 */
import { stageIds, TRAINING_QUEUE } from '../compile.ts';
import { extractPipeline, type StaticPipeline } from './extract.ts';
import { findRepoRoot, formatDiagnostic, type Diagnostic } from './project.ts';

export interface GraphNodeData {
  id: string;
  activity: string;
  project?: string;
  taskQueue: string;
}

export interface PipelineGraph {
  name?: string;
  projects: Array<{ name: string; taskKind?: string }>;
  /** In spec order: the generated project stages first, then the custom ones. */
  nodes: GraphNodeData[];
  /** `[from, to]`: `to` runs after `from`. */
  edges: Array<[string, string]>;
  /** What could not be read statically. */
  problems: Diagnostic[];
}

export function graphOf(p: StaticPipeline): PipelineGraph {
  return {
    ...(p.name !== undefined ? { name: p.name } : {}),
    projects: p.projects.map((x) => ({ name: x.name, ...(x.taskKind ? { taskKind: x.taskKind } : {}) })),
    nodes: p.stages.map((s) => ({ id: s.id, activity: s.activity, taskQueue: s.taskQueue, ...(s.project !== undefined ? { project: s.project } : {}) })),
    edges: p.stages.flatMap((s) => s.after.map((dep) => [dep, s.id] as [string, string])),
    problems: p.problems,
  };
}

/** The DAG of the (first) pipeline defined in `file`, without executing the file. */
export function pipelineGraph(file: string, opts: { root?: string } = {}): PipelineGraph {
  return graphOf(extractPipeline(file, opts.root ?? findRepoRoot(file)));
}

/** Mermaid ids: letters, digits and `_` only, unique. */
function idMaker(): (raw: string) => string {
  const used = new Map<string, string>();
  const taken = new Set<string>();
  return (raw) => {
    const known = used.get(raw);
    if (known) return known;
    const base = `n_${raw.replace(/[^A-Za-z0-9_]/g, '_')}`;
    let id = base;
    for (let i = 2; taken.has(id); i++) id = `${base}_${i}`;
    used.set(raw, id);
    taken.add(id);
    return id;
  };
}

/** Text safe inside a quoted Mermaid label. */
function mermaidText(s: string): string {
  return s.replace(/&/g, '#amp;').replace(/"/g, '#quot;').replace(/</g, '#lt;').replace(/>/g, '#gt;');
}

const isShared = (n: GraphNodeData) => n.id === stageIds.train && n.project === undefined;

export function renderMermaid(g: PipelineGraph): string {
  const id = idMaker();
  const lines = ['flowchart TD'];
  const node = (n: GraphNodeData, indent: string) => {
    const label = `${mermaidText(n.id)}<br/><small>${mermaidText(n.activity)} · queue: ${mermaidText(n.taskQueue)}</small>`;
    // The shared stage gets the subroutine shape, the others a rounded box.
    lines.push(isShared(n) ? `${indent}${id(n.id)}[["${label}"]]` : `${indent}${id(n.id)}("${label}")`);
  };
  const projectNames = [...new Set([...g.projects.map((p) => p.name), ...g.nodes.flatMap((n) => (n.project ? [n.project] : []))])];
  projectNames.forEach((name, i) => {
    const members = g.nodes.filter((n) => n.project === name);
    if (!members.length) return;
    const kind = g.projects.find((p) => p.name === name)?.taskKind;
    lines.push(`  subgraph project_${i}["${mermaidText(kind ? `${name} (${kind})` : name)}"]`);
    for (const n of members) node(n, '    ');
    lines.push('  end');
  });
  for (const n of g.nodes) if (n.project === undefined) node(n, '  ');
  const declared = new Set(g.nodes.map((n) => n.id));
  for (const [from, to] of g.edges) {
    if (!declared.has(from)) { lines.push(`  ${id(from)}["${mermaidText(`${from} (unknown)`)}"]`); declared.add(from); }
    lines.push(`  ${id(from)} --> ${id(to)}`);
  }
  lines.push('  classDef shared fill:#fde68a,stroke:#b45309,stroke-width:3px');
  lines.push('  classDef training stroke:#7c3aed,stroke-width:2px');
  const shared = g.nodes.filter(isShared).map((n) => id(n.id));
  const training = g.nodes.filter((n) => !isShared(n) && n.taskQueue === TRAINING_QUEUE).map((n) => id(n.id));
  if (shared.length) lines.push(`  class ${shared.join(',')} shared`);
  if (training.length) lines.push(`  class ${training.join(',')} training`);
  return `${lines.join('\n')}\n`;
}

const dotString = (s: string) => `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;

export function renderDot(g: PipelineGraph): string {
  const lines = [`digraph ${dotString(g.name ?? 'pipeline')} {`, '  rankdir=TB;', '  node [shape=box, style=rounded, fontname="Helvetica"];'];
  const node = (n: GraphNodeData, indent: string) => {
    const label = `${n.id}\\n${n.activity} · queue: ${n.taskQueue}`;
    const attrs = [`label="${label.replace(/"/g, '\\"')}"`];
    if (isShared(n)) attrs.push('shape=box3d', 'style="filled,bold"', 'fillcolor="#fde68a"', 'color="#b45309"', 'penwidth=2');
    else if (n.taskQueue === TRAINING_QUEUE) attrs.push('color="#7c3aed"', 'penwidth=2');
    lines.push(`${indent}${dotString(n.id)} [${attrs.join(', ')}];`);
  };
  const projectNames = [...new Set([...g.projects.map((p) => p.name), ...g.nodes.flatMap((n) => (n.project ? [n.project] : []))])];
  projectNames.forEach((name, i) => {
    const members = g.nodes.filter((n) => n.project === name);
    if (!members.length) return;
    const kind = g.projects.find((p) => p.name === name)?.taskKind;
    lines.push(`  subgraph cluster_${i} {`, `    label=${dotString(kind ? `${name} (${kind})` : name)};`, '    style=rounded;');
    for (const n of members) node(n, '    ');
    lines.push('  }');
  });
  for (const n of g.nodes) if (n.project === undefined) node(n, '  ');
  for (const [from, to] of g.edges) lines.push(`  ${dotString(from)} -> ${dotString(to)};`);
  lines.push('}');
  return `${lines.join('\n')}\n`;
}

export type GraphFormat = 'mermaid' | 'dot' | 'json';

export function renderGraph(g: PipelineGraph, format: GraphFormat = 'mermaid'): string {
  if (format === 'dot') return renderDot(g);
  if (format === 'json') return `${JSON.stringify({ name: g.name, nodes: g.nodes, edges: g.edges }, null, 2)}\n`;
  return renderMermaid(g);
}

export interface Output {
  write(chunk: string): unknown;
}

/**
 * `broadloom graph <file> [--format dot]`: writes the rendering to `out`, warnings about unreadable parts to `err`
 * (stderr by default). Returns the exit code: 0, or 1 if the file defines no pipeline.
 */
export function runGraph(file: string, format: GraphFormat = 'mermaid', out: Output = process.stdout, err: Output = process.stderr): number {
  let g: PipelineGraph;
  try {
    g = pipelineGraph(file);
  } catch (e) {
    err.write(`${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  for (const d of g.problems) err.write(`${formatDiagnostic(d)}\n`);
  out.write(renderGraph(g, format));
  return 0;
}
