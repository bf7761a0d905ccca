/**
 * A structural validator for the subset of Mermaid flowchart syntax the renderer emits (mermaid itself needs a
 * DOM). Every line must be one of: the header, `subgraph id["label"]`, `end`, a node `id(shape "label")`, an edge
 * `a --> b`, `classDef`, `class`, or a `%%` comment; ids are unique and declared before use in edges; subgraphs
 * balance; labels are quoted and contain no raw quotes.
 */
const ID = '[A-Za-z_][A-Za-z0-9_]*';
const LABEL = '"[^"]*"';
const SHAPES = [['\\[\\[', '\\]\\]'], ['\\(\\[', '\\]\\)'], ['\\[', '\\]'], ['\\(', '\\)'], ['\\{', '\\}'], ['\\(\\(', '\\)\\)']];
const NODE = new RegExp(`^(${ID})(?:${SHAPES.map(([o, c]) => `${o}${LABEL}${c}`).join('|')})$`);
const SUBGRAPH = new RegExp(`^subgraph (${ID})\\[${LABEL}\\]$`);
const EDGE = new RegExp(`^(${ID}) --> (${ID})$`);
const CLASSDEF = new RegExp(`^classDef ${ID} [a-z-]+:[^\\s,]+(?:,[a-z-]+:[^\\s,]+)*$`);
const CLASS = new RegExp(`^class ${ID}(?:,${ID})* ${ID}$`);
const RESERVED = new Set(['end', 'subgraph', 'graph', 'flowchart', 'class', 'classDef', 'style', 'click', 'linkStyle']);

export interface MermaidFlowchart {
  nodes: Map<string, string>;
  edges: Array<[string, string]>;
  subgraphs: Map<string, string[]>;
  classes: Map<string, string[]>;
}

export function lintMermaidFlowchart(text: string): MermaidFlowchart {
  const lines = text.replace(/\n$/, '').split('\n');
  if (!/^flowchart (TD|TB|BT|LR|RL)$/.test(lines[0] ?? '')) throw new Error(`line 1: expected "flowchart TD", got ${JSON.stringify(lines[0])}`);
  const nodes = new Map<string, string>();
  const edges: Array<[string, string]> = [];
  const subgraphs = new Map<string, string[]>();
  const classes = new Map<string, string[]>();
  const classDefs = new Set<string>();
  const open: string[] = [];
  lines.slice(1).forEach((raw, i) => {
    const n = i + 2;
    const line = raw.trim();
    const fail = (why: string) => { throw new Error(`line ${n}: ${why}: ${JSON.stringify(raw)}`); };
    if (!line || line.startsWith('%%')) return;
    let m: RegExpMatchArray | null;
    if ((m = line.match(SUBGRAPH))) {
      if (subgraphs.has(m[1]!) || nodes.has(m[1]!)) fail('duplicate id');
      subgraphs.set(m[1]!, []);
      open.push(m[1]!);
    } else if (line === 'end') {
      if (!open.pop()) fail('`end` without subgraph');
    } else if ((m = line.match(EDGE))) {
      for (const id of [m[1]!, m[2]!]) if (!nodes.has(id)) fail(`edge to undeclared node ${id}`);
      edges.push([m[1]!, m[2]!]);
    } else if ((m = line.match(NODE))) {
      const id = m[1]!;
      if (RESERVED.has(id)) fail('reserved word as id');
      if (nodes.has(id) || subgraphs.has(id)) fail('duplicate id');
      const label = line.slice(id.length).match(/"([^"]*)"/)![1]!;
      nodes.set(id, label);
      const sg = open[open.length - 1];
      if (sg) subgraphs.get(sg)!.push(id);
    } else if (CLASSDEF.test(line)) {
      classDefs.add(line.split(' ')[1]!);
    } else if (CLASS.test(line)) {
      const [, ids, cls] = line.split(' ');
      if (!classDefs.has(cls!)) fail(`class ${cls} not defined`);
      for (const id of ids!.split(',')) if (!nodes.has(id)) fail(`class on undeclared node ${id}`);
      classes.set(cls!, ids!.split(','));
    } else fail('not a flowchart statement');
  });
  if (open.length) throw new Error(`unclosed subgraph ${open.join(', ')}`);
  return { nodes, edges, subgraphs, classes };
}
