/** Dependency-graph checks shared by the compiler and the static reader. Pure functions, no I/O. */

export interface GraphNode {
  id: string;
  after: readonly string[];
}

/** Ids that appear more than once. */
export function duplicateIds(nodes: readonly GraphNode[]): string[] {
  const seen = new Set<string>();
  const dups = new Set<string>();
  for (const n of nodes) (seen.has(n.id) ? dups : seen).add(n.id);
  return [...dups];
}

/** `after` references that name no node, as [node index, after index, missing id]. */
export function unknownReferences(nodes: readonly GraphNode[]): Array<[number, number, string]> {
  const ids = new Set(nodes.map((n) => n.id));
  const out: Array<[number, number, string]> = [];
  nodes.forEach((n, i) => n.after.forEach((dep, j) => { if (!ids.has(dep)) out.push([i, j, dep]); }));
  return out;
}

/** One cycle as the list of ids along it (first id repeated at the end), or null if the graph is acyclic. */
export function findCycle(nodes: readonly GraphNode[]): string[] | null {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | null => {
    const s = state.get(id);
    if (s === 'done') return null;
    if (s === 'visiting') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'visiting');
    stack.push(id);
    for (const dep of byId.get(id)?.after ?? []) {
      if (!byId.has(dep)) continue;
      const c = visit(dep);
      if (c) return c;
    }
    stack.pop();
    state.set(id, 'done');
    return null;
  };
  for (const n of nodes) {
    const c = visit(n.id);
    // The walk follows `after` edges (consumer → producer); report the cycle in run order.
    if (c) return c.reverse();
  }
  return null;
}

/** Ids in an order where every node comes after the nodes it runs after (stable for equal rank). */
export function topologicalOrder(nodes: readonly GraphNode[]): string[] {
  const remaining = new Map(nodes.map((n) => [n.id, new Set(n.after)]));
  const order: string[] = [];
  while (remaining.size) {
    const ready = [...remaining].filter(([, deps]) => [...deps].every((d) => !remaining.has(d))).map(([id]) => id);
    if (!ready.length) throw new Error(`cycle among stages: ${[...remaining.keys()].join(', ')}`);
    for (const id of ready) { order.push(id); remaining.delete(id); }
  }
  return order;
}

/** The given ids and every node that (transitively) runs after one of them. */
export function descendants(nodes: readonly GraphNode[], from: readonly string[]): Set<string> {
  const out = new Set(from);
  let grew = true;
  while (grew) {
    grew = false;
    for (const n of nodes) if (!out.has(n.id) && n.after.some((d) => out.has(d))) { out.add(n.id); grew = true; }
  }
  return out;
}

/** The given ids and every node they (transitively) run after. */
export function ancestors(nodes: readonly GraphNode[], of: readonly string[]): Set<string> {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const out = new Set<string>();
  const stack = [...of];
  while (stack.length) {
    const id = stack.pop()!;
    if (out.has(id)) continue;
    out.add(id);
    stack.push(...(byId.get(id)?.after ?? []));
  }
  return out;
}
